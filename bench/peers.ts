// Benchmark (a′): the four (a) calls written with Kysely, Drizzle ORM and @effect/sql's SqlSchema, returning what our repository returns.
import { randomBytes } from "node:crypto"
import { SqlClient, SqlSchema } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { asc, eq, sql as drizzleSql } from "drizzle-orm"
import { drizzle } from "drizzle-orm/node-postgres"
import { boolean, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core"
import { Clock, Effect, ManagedRuntime, Option, Redacted, Schema } from "effect"
import { Kysely, PostgresDialect } from "kysely"
import type pg from "pg"
import { generateUlid, ulidAt, ulidToUuid, UlidFromUuid, uuidToUlid, type Ulid } from "../src/model/Ulid.js"
import type { User } from "../src/model/user.js"
import { UserRow, userFromRow } from "../src/rows/user/user.js"
import { Page, type Pagination } from "../src/storage/common/Pagination.js"

/** The calls of (a), as each peer offers them: the repository's arguments in, the repository's values out. */
export interface UserCalls {
  readonly lookup: (id: Ulid) => Promise<Option.Option<User>>
  readonly findByUsername: (username: string) => Promise<Option.Option<User>>
  readonly add: (username: string) => Promise<User>
  readonly list: (pagination: Pagination) => Promise<Page<User>>
}

/** The same calls as Effects, for the peer that is itself an Effect library. */
export interface UserEffects {
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<User>, unknown>
  readonly findByUsername: (username: string) => Effect.Effect<Option.Option<User>, unknown>
  readonly add: (username: string) => Effect.Effect<User, unknown>
  readonly list: (pagination: Pagination) => Effect.Effect<Page<User>, unknown>
}

/** A row as the drivers return it (uuid text, Dates), before it becomes our entity. */
interface DriverUserRow {
  readonly user_id: string
  readonly username: string
  readonly created_at: Date
  readonly locked_at: Date | null
  readonly deactivated_at: Date | null
  readonly can_request_admin: boolean
  readonly is_guest: boolean
}

const columns = [
  "user_id",
  "username",
  "created_at",
  "locked_at",
  "deactivated_at",
  "can_request_admin",
  "is_guest"
] as const

// What a hand-written mapper does: no Schema, just the uuid turned into a ULID and the entity built.
const toUser = (row: DriverUserRow): User =>
  userFromRow({ ...row, user_id: Option.getOrThrow(uuidToUlid(row.user_id)) })

// Both backends pick the exact-case row among the LOWER() matches, so the peers do too.
const exactMatch = <R extends { readonly username: string }>(
  rows: ReadonlyArray<R>,
  username: string
): Option.Option<R> =>
  rows.length === 1 ? Option.some(rows[0]!) : Option.fromNullable(rows.find((r) => r.username === username))

// A ULID as the repository makes one (time, then 80 random bits), so every side inserts at the index's right edge.
const newUser = () => {
  const at = new Date()
  const id = ulidAt(at.getTime(), randomBytes(10))
  return { id, uuid: ulidToUuid(id), at }
}

const addedUser = (id: Ulid, username: string, at: Date): User =>
  userFromRow({
    user_id: id,
    username,
    created_at: at,
    locked_at: null,
    deactivated_at: null,
    can_request_admin: false,
    is_guest: false
  })

const page = (users: ReadonlyArray<User>, pagination: Pagination): Page<User> =>
  Page.process(users, pagination, (u) => u.id)

const expectOne = (affected: bigint | number | null | undefined, username: string) => {
  if (affected === undefined || affected === null || Number(affected) !== 1) {
    throw new Error(`adding ${username} touched ${String(affected)} rows, not 1`)
  }
}

interface KyselyDatabase {
  users: DriverUserRow
}

/** Kysely with its PostgresDialect on `pool`; queries are built and compiled on every call, as Kysely is used. */
export const kyselyCalls = (pool: pg.Pool): UserCalls => {
  const db = new Kysely<KyselyDatabase>({ dialect: new PostgresDialect({ pool }) })
  return {
    lookup: async (id) =>
      Option.map(
        Option.fromNullable(
          await db.selectFrom("users").select(columns).where("user_id", "=", ulidToUuid(id)).executeTakeFirst()
        ),
        toUser
      ),
    findByUsername: async (username) =>
      Option.map(
        exactMatch(
          await db
            .selectFrom("users")
            .select(columns)
            .where((eb) => eb(eb.fn("lower", ["username"]), "=", eb.fn("lower", [eb.val(username)])))
            .execute(),
          username
        ),
        toUser
      ),
    add: async (username) => {
      const { id, uuid, at } = newUser()
      const result = await db
        .insertInto("users")
        .values({
          user_id: uuid,
          username,
          created_at: at,
          locked_at: null,
          deactivated_at: null,
          can_request_admin: false,
          is_guest: false
        })
        .onConflict((oc) => oc.column("username").doNothing())
        .executeTakeFirst()
      expectOne(result.numInsertedOrUpdatedRows, username)
      return addedUser(id, username, at)
    },
    list: async (pagination) =>
      page(
        (await db.selectFrom("users").select(columns).orderBy("user_id", "asc").limit(pagination.limit).execute()).map(
          toUser
        ),
        pagination
      )
  }
}

const users = pgTable("users", {
  user_id: uuid("user_id").primaryKey(),
  username: text("username").notNull(),
  created_at: timestamp("created_at", { withTimezone: true }).notNull(),
  locked_at: timestamp("locked_at", { withTimezone: true }),
  deactivated_at: timestamp("deactivated_at", { withTimezone: true }),
  can_request_admin: boolean("can_request_admin").notNull(),
  is_guest: boolean("is_guest").notNull()
})

/** Drizzle ORM's node-postgres driver on `pool`, with the query builder as its guide shows it (no `.prepare()`). */
export const drizzleCalls = (pool: pg.Pool): UserCalls => {
  const db = drizzle({ client: pool })
  return {
    lookup: async (id) =>
      Option.map(
        Option.fromNullable(
          (
            await db
              .select()
              .from(users)
              .where(eq(users.user_id, ulidToUuid(id)))
          )[0]
        ),
        toUser
      ),
    findByUsername: async (username) =>
      Option.map(
        exactMatch(
          await db
            .select()
            .from(users)
            .where(drizzleSql`lower(${users.username}) = lower(${username})`),
          username
        ),
        toUser
      ),
    add: async (username) => {
      const { id, uuid, at } = newUser()
      const result = await db
        .insert(users)
        .values({
          user_id: uuid,
          username,
          created_at: at,
          locked_at: null,
          deactivated_at: null,
          can_request_admin: false,
          is_guest: false
        })
        .onConflictDoNothing({ target: users.username })
      expectOne(result.rowCount, username)
      return addedUser(id, username, at)
    },
    list: async (pagination) =>
      page((await db.select().from(users).orderBy(asc(users.user_id)).limit(pagination.limit)).map(toUser), pagination)
  }
}

const columnList = columns.join(", ")

/**
 * @effect/sql's own way: `SqlSchema.findOne`/`findAll`/`void` with our row Schema. It runs on @effect/sql-pg's stock
 * client on purpose (not on the repository's client), since the point is what @effect/sql alone costs.
 */
export const sqlSchemaRuntime = (url: string, poolSize: number) =>
  ManagedRuntime.make(PgClient.layer({ url: Redacted.make(url), maxConnections: poolSize }))

export const sqlSchemaEffects: Effect.Effect<UserEffects, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const lookup = SqlSchema.findOne({
    Request: UlidFromUuid,
    Result: UserRow,
    execute: (id) => sql`SELECT ${sql.unsafe(columnList)} FROM users WHERE user_id = ${id}`
  })
  const findByUsername = SqlSchema.findAll({
    Request: Schema.String,
    Result: UserRow,
    execute: (username) => sql`SELECT ${sql.unsafe(columnList)} FROM users WHERE LOWER(username) = LOWER(${username})`
  })
  const add = SqlSchema.void({
    Request: Schema.Struct({ user_id: UlidFromUuid, username: Schema.String, created_at: Schema.DateFromSelf }),
    execute: (r) =>
      sql`INSERT INTO users (${sql.unsafe(columnList)}) VALUES (${r.user_id}, ${r.username}, ${r.created_at}, NULL, NULL, FALSE, FALSE) ON CONFLICT (username) DO NOTHING`
  })
  const list = SqlSchema.findAll({
    Request: Schema.Number,
    Result: UserRow,
    execute: (limit) => sql`SELECT ${sql.unsafe(columnList)} FROM users ORDER BY user_id ASC LIMIT ${limit}`
  })
  return {
    lookup: (id) => Effect.map(lookup(id), Option.map(userFromRow)),
    findByUsername: (username) =>
      Effect.map(findByUsername(username), (rows) => Option.map(exactMatch(rows, username), userFromRow)),
    // SqlSchema.void reports no row count, so unlike the others this side cannot check that one row went in.
    add: (username) =>
      Effect.gen(function* () {
        const at = new Date(yield* Clock.currentTimeMillis)
        const id = yield* generateUlid
        yield* add({ user_id: id, username, created_at: at })
        return addedUser(id, username, at)
      }),
    list: (pagination) =>
      Effect.map(list(pagination.limit), (rows) =>
        page(
          rows.map((r) => userFromRow(r)),
          pagination
        )
      )
  }
})
