// The DatabaseError vocabulary (messages, rows-affected check, SqlError mapping) and safe counts, against the real server.
import { describe, expect, it, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Exit, Option, Schema } from "effect"
import type { Ulid } from "../../src/model/Ulid.js"
import { toSafeCount } from "../../src/pg/common/count.js"
import { countQuery, filter, piece } from "../../src/pg/dynamic.js"
import {
  DriverError,
  expectRowsAffected,
  InconsistencyError,
  InvalidOperationError,
  isDatabaseError,
  RowsAffectedError,
  SqlState
} from "../../src/storage/common/errors.js"
import { fromSqlError, mapSqlError } from "../../src/pg/common/errors.js"
import { freshDatabaseLayer } from "../support/database.js"

const ROW = "01ARZ3NDEKTSV4RRFFQ69G5FAV" as Ulid

describe("error messages", () => {
  it("InconsistencyError names table, column and row, omitting absent parts", () => {
    expect(
      new InconsistencyError({ table: "users", column: Option.some("locked_at"), row: Option.some(ROW) }).message
    ).toBe(`Database inconsistency on table users column locked_at row ${ROW}`)
    expect(new InconsistencyError({ table: "users" }).message).toBe("Database inconsistency on table users")
    expect(new InconsistencyError({ table: "users", row: Option.some(ROW) }).message).toBe(
      `Database inconsistency on table users row ${ROW}`
    )
    expect(new InconsistencyError({ table: "oauth2_sessions", column: Option.some("scope") }).message).toBe(
      "Database inconsistency on table oauth2_sessions column scope"
    )
    const err = new InconsistencyError({ table: "t", cause: Option.some("bad") })
    expect([err._tag, err.column, err.row, err.cause]).toEqual([
      "InconsistencyError",
      Option.none(),
      Option.none(),
      Option.some("bad")
    ])
  })

  it("the other errors carry their fields", () => {
    expect(new RowsAffectedError({ expected: 1, actual: 0 }).message).toBe("Expected 1 rows to be affected, but 0 were")
    expect(new InvalidOperationError({}).cause).toEqual(Option.none())
    expect(new InvalidOperationError({ cause: Option.some(new Error("no")) }).message).toBe(
      "Invalid database operation: no"
    )
    const driver = new DriverError({ cause: new Error("boom") })
    expect([driver.sqlState, driver.constraint, driver.isUniqueViolation]).toEqual([
      Option.none(),
      Option.none(),
      false
    ])
    expect(driver.message).toBe("Database driver error: boom")
    expect([driver, new RowsAffectedError({ expected: 1, actual: 2 })].every(isDatabaseError)).toBe(true)
    expect(isDatabaseError(new Error("x"))).toBe(false)
    const memory = DriverError.constraintViolation(SqlState.UniqueViolation, "users_username_unique")
    expect([memory.sqlState, memory.constraint, memory.isUniqueViolation]).toEqual([
      Option.some("23505"),
      Option.some("users_username_unique"),
      true
    ])
  })

  it.effect("expectRowsAffected", () =>
    Effect.gen(function* () {
      yield* expectRowsAffected(1)(1)
      yield* expectRowsAffected(3)(3n)
      const err = yield* Effect.flip(expectRowsAffected(1)(0))
      expect(err).toEqual(new RowsAffectedError({ expected: 1, actual: 0 }))
    })
  )
})

describe("toSafeCount", () => {
  it("accepts non-negative safe integers in every driver form", () => {
    expect(toSafeCount("0")).toEqual(Either.right(0))
    expect(toSafeCount("42")).toEqual(Either.right(42))
    expect(toSafeCount(7)).toEqual(Either.right(7))
    expect(toSafeCount(9007199254740991n)).toEqual(Either.right(Number.MAX_SAFE_INTEGER))
  })

  it.each([["9007199254740992"], [2n ** 63n - 1n], [-1], ["-3"], [1.5], ["1e3"], [null], [undefined], ["abc"]])(
    "refuses %s",
    (value) => {
      const result = toSafeCount(value)
      expect(Either.isLeft(result) && result.left._tag).toBe("InvalidOperationError")
    }
  )
})

layer(freshDatabaseLayer())("against PostgreSQL", (it) => {
  it.effect("a unique violation maps to a DriverError exposing 23505 and the constraint", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE uniq (id int CONSTRAINT uniq_pkey PRIMARY KEY)`
      yield* sql`INSERT INTO uniq VALUES (1)`
      const raw = yield* Effect.flip(sql`INSERT INTO uniq VALUES (1)`)
      expect(raw).toBeInstanceOf(SqlError)
      const err = fromSqlError(raw)
      expect(err._tag).toBe("DriverError")
      expect(err.sqlState).toEqual(Option.some(SqlState.UniqueViolation))
      expect(err.constraint).toEqual(Option.some("uniq_pkey"))
      expect(err.isUniqueViolation).toBe(true)
      expect(err.cause).toBe(raw)
      expect(err.message).toMatch(/^Database driver error \[23505\]: .*duplicate key/)

      const syntax = yield* Effect.flip(mapSqlError(sql`SELEC 1`))
      expect(syntax.sqlState).toEqual(Option.some("42601"))
      expect(syntax.constraint).toEqual(Option.none())
      expect(syntax.isUniqueViolation).toBe(false)
    })
  )

  it.effect("mapSqlError leaves other errors and successes alone", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* mapSqlError(sql<{ one: number }>`SELECT 1 AS one`)
      expect(rows[0]!.one).toBe(1)
      const other = yield* Effect.exit(mapSqlError(Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))))
      expect(other).toEqual(Exit.fail(new RowsAffectedError({ expected: 1, actual: 0 })))
    })
  )

  it.effect("a count query counts exactly, with and without criteria; a huge bigint is refused", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE counted AS SELECT g AS n FROM generate_series(1, 25) AS g`
      const countedFilter = filter<{ readonly evenOrAbove?: number; readonly none?: true }>()(
        "CountedFilter",
        { evenOrAbove: piece("n % 2 = 0 OR n > $1", Schema.Tuple(Schema.Number)), none: piece("FALSE") },
        (f, use) => [f.evenOrAbove !== undefined && use.evenOrAbove(f.evenOrAbove), f.none === true && use.none()]
      )
      const counted = countQuery({
        description: "rows of counted",
        from: "counted",
        slots: { filter: countedFilter },
        where: "filter"
      })("test.counted", "counted")
      expect(yield* counted.count(sql, { filter: {} })).toBe(25)
      expect(yield* counted.count(sql, { filter: { evenOrAbove: 20 } })).toBe(15)
      expect(yield* counted.count(sql, { filter: { none: true } })).toBe(0)
      const [row] = yield* sql<{ count: unknown }>`SELECT (2::bigint ^ 53)::bigint + 1 AS count`
      const huge = toSafeCount(row!.count)
      expect(Either.isLeft(huge) && huge.left._tag).toBe("InvalidOperationError")
      const missing = yield* Effect.flip(
        countQuery({ description: "no table", from: "no_such_table", slots: {} })("test.missing", "x").count(sql, {})
      )
      expect(missing._tag).toBe("DriverError")
    })
  )
})
