// Batched cleanups over in-memory rows, selecting what the PostgreSQL statements select (storage rule: Batched cleanup).
import { Effect, Either, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import type { DriverError, InvalidOperationError } from "../../storage/common/errors.js"
import { checkCleanupLimit } from "../../storage/common/limits.js"
import type { Database } from "../Database.js"
import type { MemoryStoreShape } from "../MemoryStore.js"
import type { MemoryTable } from "../Table.js"
import { requireUlid } from "./parameters.js"

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Timestamp key: rows whose key is set and `since <= key < until`, taken in key order then id (so a batch boundary
 * inside rows sharing a timestamp falls where PostgreSQL's `ORDER BY key, id` puts it), at most `limit`.
 */
export const timestampBatch = <Row>(
  rows: ReadonlyArray<Row>,
  options: {
    readonly key: (row: Row) => Date | null
    readonly id: (row: Row) => string
    readonly since: Option.Option<Date>
    readonly until: Date
    readonly limit: number
    /** Further conditions of the statement's selection. */
    readonly where?: (row: Row) => boolean
  }
): ReadonlyArray<Row> => {
  const { id, key, limit, since, until, where } = options
  return rows
    .filter((row) => {
      const k = key(row)
      return (
        k !== null &&
        (Option.isNone(since) || k.getTime() >= since.value.getTime()) &&
        k.getTime() < until.getTime() &&
        (where === undefined || where(row))
      )
    })
    .sort((a, b) => key(a)!.getTime() - key(b)!.getTime() || compareIds(id(a), id(b)))
    .slice(0, limit)
}

/** The result of a timestamp-keyed batch: its size and the key of its last row (the greatest). */
export const timestampCleanupResult = <Row>(
  batch: ReadonlyArray<Row>,
  key: (row: Row) => Date | null
): CleanupResult<Date> =>
  CleanupResult.make<Date>(
    batch.length,
    batch.length === 0 ? Option.none() : Option.some(key(batch[batch.length - 1]!)!)
  )

/** ULID key: rows with `since < id <= until` in id order, at most `limit` (callers check the ids with `requireUlid`). */
export const ulidBatch = <Row>(
  rows: ReadonlyArray<Row>,
  options: {
    readonly id: (row: Row) => Ulid
    readonly since: Option.Option<Ulid>
    readonly until: Ulid
    readonly limit: number
    /** Further conditions of the statement's selection. */
    readonly where?: (row: Row) => boolean
  }
): ReadonlyArray<Row> => {
  const { id, limit, since, until, where } = options
  return rows
    .filter(
      (row) =>
        (Option.isNone(since) || id(row) > since.value) && id(row) <= until && (where === undefined || where(row))
    )
    .sort((a, b) => compareIds(id(a), id(b)))
    .slice(0, limit)
}

/**
 * A timestamp-keyed cleanup method in one write, as PostgreSQL's one statement: the limit checked, the batch
 * `timestampBatch` takes from `table` (`where` judged on the state before the write, as the statement's CTE sees it),
 * then `apply` to the ids of the batch; by default their rows are deleted, with the table's ON DELETE rules.
 */
export const timestampCleanup =
  <Row>(
    store: MemoryStoreShape,
    table: MemoryTable<Row>,
    options: {
      readonly key: (row: Row) => Date | null
      readonly id: (row: Row) => string
      readonly where?: (db: Database) => (row: Row) => boolean
      readonly apply?: (
        db: Database,
        ids: ReadonlySet<unknown>
      ) => Either.Either<readonly [number, Database], DriverError>
    }
  ) =>
  (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ): Effect.Effect<CleanupResult<Date>, DriverError | InvalidOperationError> =>
    Effect.gen(function* () {
      yield* checkCleanupLimit(limit)
      const { apply, id, key, where } = options
      return yield* store.write((db) => {
        const batch = timestampBatch(table.rows(db), {
          key,
          id,
          since,
          until,
          limit,
          ...(where === undefined ? {} : { where: where(db) })
        })
        const ids = new Set<unknown>(batch.map(id))
        const applied =
          apply === undefined ? db.deleteWhere(table.name, (r) => ids.has(id(r as unknown as Row))) : apply(db, ids)
        return Either.map(applied, ([, next]) => [timestampCleanupResult(batch, key), next] as const)
      })
    })

/**
 * A ULID-keyed cleanup method in one write, as PostgreSQL's one statement: the limit checked and `since` and `until`
 * refused when malformed (the statement encodes them to uuid before anything is sent), then the rows of the batch
 * `ulidBatch` takes from `table` (`where` judged on the state before the write) deleted, with the table's ON DELETE
 * rules.
 */
export const ulidCleanup =
  <Row>(
    store: MemoryStoreShape,
    table: MemoryTable<Row>,
    id: (row: Row) => Ulid,
    where?: (db: Database) => (row: Row) => boolean
  ) =>
  (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ): Effect.Effect<CleanupResult<Ulid>, DriverError | InvalidOperationError> =>
    Effect.gen(function* () {
      const batch = yield* checkCleanupLimit(limit)
      yield* requireUlid(...Option.toArray(since), until)
      return yield* store.write((db) => {
        const doomed = ulidBatch(table.rows(db), {
          id,
          since,
          until,
          limit: batch,
          ...(where === undefined ? {} : { where: where(db) })
        }).map(id)
        const selected = new Set<string>(doomed)
        return Either.map(
          db.deleteWhere(table.name, (r) => selected.has(String(id(r as unknown as Row)))),
          ([, next]) => [CleanupResult.fromKeys(doomed), next] as const
        )
      })
    })
