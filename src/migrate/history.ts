// The SQL the migrator runs on its dedicated connection: the `_sqlx_migrations` table, the advisory lock, applying a file.
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Option } from "effect"
import { MigrationDatabaseError, MigrationFailed } from "./errors.js"
import { type Migration, toHex } from "./MigrationSource.js"
import type { AppliedMigration, HistoryRow } from "./types.js"
import { sqlStateOf } from "../pg/common/errors.js"

const HISTORY_TABLE = "_sqlx_migrations"

const CREATE_HISTORY_TABLE = `CREATE TABLE ${HISTORY_TABLE} (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
)`

interface PgErrorFields {
  readonly message?: string
  readonly detail?: string
  readonly hint?: string
  readonly position?: string
  readonly where?: string
}

/**
 * The Postgres error text (message, SQLSTATE, detail, hint, and the line in `sqlText` when positioned; `sqlText`
 * started `textOffset` characters into what was sent).
 */
export const postgresErrorText = (error: SqlError, sqlText?: string, textOffset = 0): string => {
  const cause = error.cause
  if (!(cause instanceof Error)) return error.message
  const pg = cause as PgErrorFields
  const parts = [pg.message ?? cause.message]
  const code = sqlStateOf(cause)
  if (Option.isSome(code)) parts[0] += ` (SQLSTATE ${code.value})`
  if (pg.position && sqlText !== undefined) {
    const offset = Number(pg.position) - 1 - textOffset
    if (Number.isInteger(offset) && offset >= 0) {
      parts.push(`at line ${sqlText.slice(0, offset).split("\n").length}`)
    }
  }
  if (pg.detail) parts.push(`detail: ${pg.detail}`)
  if (pg.hint) parts.push(`hint: ${pg.hint}`)
  if (pg.where) parts.push(`where: ${pg.where}`)
  return parts.join("; ")
}

export const infra = (operation: string) => (error: SqlError) =>
  new MigrationDatabaseError({ operation, cause: postgresErrorText(error) })

/**
 * Raw text on the reserved connection, bypassing the client's name transforms. With no parameters it goes through
 * pg's simple protocol, so a multi-statement migration file runs in one call.
 */
export const exec = (conn: Connection, text: string, params: ReadonlyArray<unknown> = []) =>
  conn.execute(text, params, undefined) as Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>

const historyTableExists = (conn: Connection) =>
  exec(
    conn,
    `SELECT EXISTS (
       SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '${HISTORY_TABLE}'
     )::text AS present`
  ).pipe(
    Effect.map((rows) => rows[0]?.present === "true"),
    Effect.mapError(infra("reading the migration history"))
  )

/** Must run under the lock, so two migrators racing on an empty database cannot both create it. */
export const ensureHistoryTable = (conn: Connection) =>
  Effect.gen(function* () {
    if (yield* historyTableExists(conn)) return
    yield* exec(conn, CREATE_HISTORY_TABLE).pipe(Effect.mapError(infra("creating the history table")))
  })

export const currentDatabase = (conn: Connection) =>
  exec(conn, "SELECT current_database() AS name").pipe(
    Effect.map((rows) => rows[0]!.name as string),
    Effect.mapError(infra("reading the database name"))
  )

/** Resets what migrations may have changed in the session, so it does not leak into the pool; never fails. */
export const discardSession = (conn: Connection) => exec(conn, "DISCARD ALL").pipe(Effect.ignore)

const UNDEFINED_TABLE = "42P01"

const isUndefinedTable = (error: SqlError) => Option.contains(sqlStateOf(error.cause), UNDEFINED_TABLE)

// A missing table means nothing applied: reading optimistically keeps startup validation at one round trip.
const readHistoryRows = (conn: Connection, text: string, params: ReadonlyArray<unknown> = []) =>
  exec(conn, text, params).pipe(
    Effect.catchIf(isUndefinedTable, () => Effect.succeed([])),
    Effect.mapError(infra("reading the migration history"))
  )

const bytesFromHex = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"))

/** The history rows and a digest of all their columns, by which a later read can skip receiving them again. */
export interface History {
  readonly digest: string
  readonly rows: ReadonlyArray<HistoryRow>
}

// Every column is cast to text so the client's type parsers (BIGINT as string or bigint, bytea…) do not matter. The
// server digests the whole table, and when that matches the digest of the rows the caller holds, sends only it: a
// repeated validation then decodes one row instead of one per migration (a few ms for a thousand). md5 of the rows'
// text: it only tells whether rows this process read are still there (whoever can write the table can write any
// checksum into it anyway), and unlike a bytea digest it needs no encoding conversion.
const READ_HISTORY = `WITH d AS (
    SELECT md5(coalesce(string_agg(t::text, ';' ORDER BY t.version), '')) AS digest FROM ${HISTORY_TABLE} t
  )
  SELECT d.digest, h.version::text AS version, h.description,
         (extract(epoch FROM h.installed_on) * 1000)::bigint::text AS installed_ms, h.success::text AS success,
         encode(h.checksum, 'hex') AS checksum, h.execution_time::text AS execution_time
    FROM d LEFT JOIN ${HISTORY_TABLE} h ON d.digest IS DISTINCT FROM $1 ORDER BY h.version`

export const readHistory = (conn: Connection, known?: History): Effect.Effect<History, MigrationDatabaseError> =>
  readHistoryRows(conn, READ_HISTORY, [known?.digest ?? null]).pipe(
    Effect.map((rows): History => {
      const digest = rows[0]?.digest as string | undefined
      if (digest === undefined) return { digest: "", rows: [] }
      if (digest === known?.digest) return known
      return {
        digest,
        rows: rows.flatMap((row): Array<HistoryRow> =>
          row.version === null
            ? []
            : [
                {
                  version: BigInt(row.version as string),
                  description: row.description as string,
                  installedOn: new Date(Number(row.installed_ms as string)),
                  success: row.success === "true",
                  checksum: bytesFromHex(row.checksum as string),
                  executionTimeNs: BigInt(row.execution_time as string)
                }
              ]
        )
      }
    })
  )

/** The history row of `version`, if any (none when the table does not exist). */
export const readAppliedChecksum = (conn: Connection, version: bigint) =>
  readHistoryRows(
    conn,
    `SELECT description, encode(checksum, 'hex') AS checksum FROM ${HISTORY_TABLE} WHERE version = $1::bigint`,
    [version.toString()]
  ).pipe(
    Effect.map((rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({
        version,
        description: row.description as string,
        checksum: bytesFromHex(row.checksum as string)
      }))
    )
  )

const LOCK_FIRST_WAIT_MS = 250
const LOCK_MAX_WAIT_MS = 5_000

/**
 * `pg_try_advisory_lock` polled with back-off, never the blocking form: a session blocked on the lock would stall
 * a `CREATE INDEX CONCURRENTLY` run by the holder. Each successful attempt registers the unlock in the scope
 * atomically, so failure or interruption at any later point releases it.
 */
export const acquireLock = (conn: Connection, key: bigint, database: string) =>
  Effect.gen(function* () {
    const attempt = Effect.acquireRelease(
      exec(conn, "SELECT pg_try_advisory_lock($1::bigint)::text AS locked", [key.toString()]).pipe(
        Effect.map((rows) => rows[0]?.locked === "true"),
        Effect.mapError(infra("taking the migration lock"))
      ),
      (locked) =>
        locked
          ? exec(conn, "SELECT pg_advisory_unlock($1::bigint)", [key.toString()]).pipe(
              Effect.catchAll((error) =>
                Effect.logWarning(`could not release the migration lock: ${postgresErrorText(error)}`)
              ),
              Effect.asVoid
            )
          : Effect.void
    )
    let waitMs = LOCK_FIRST_WAIT_MS
    while (!(yield* attempt)) {
      yield* Effect.logInfo(
        `waiting for the migration lock on database ${database} (advisory lock ${key}, held by another session); ` +
          `retrying in ${waitMs} ms`
      )
      yield* Effect.sleep(Duration.millis(waitMs))
      waitMs = Math.min(waitMs * 2, LOCK_MAX_WAIT_MS)
    }
  })

// Values inlined, so the statement can share a simple-protocol message with COMMIT. As hex, because no session
// setting a migration may leave behind (standard_conforming_strings, client_encoding) changes how it reads.
const historyInsert = (migration: Migration, durationNs: bigint) =>
  `INSERT INTO ${HISTORY_TABLE} (version, description, success, checksum, execution_time)
   VALUES (${migration.version}::bigint, convert_from(decode('${Buffer.from(migration.description).toString("hex")}', 'hex'), 'UTF8'),
           TRUE, decode('${toHex(migration.checksum)}', 'hex'), ${durationNs}::bigint)`

// A transactional file goes out as one message with its BEGIN. PostgreSQL parses the whole string before running
// any of it, so a syntax error anywhere in the file leaves no transaction open either.
const BEGIN = "BEGIN;\n"

// Durations come from the monotonic high-resolution timer rather than the Clock service: they are measurements of
// real work, and a TestClock would record 0.
const nowNs = Effect.sync(() => process.hrtime.bigint())

export const applyOne = (conn: Connection, migration: Migration): Effect.Effect<AppliedMigration, MigrationFailed> => {
  const failed = (cause: string) =>
    new MigrationFailed({ version: migration.version, description: migration.description, path: migration.path, cause })
  const ref = { version: migration.version, description: migration.description }
  if (migration.noTransaction) {
    return Effect.gen(function* () {
      const started = yield* nowNs
      yield* exec(conn, migration.sql).pipe(Effect.mapError((e) => failed(postgresErrorText(e, migration.sql))))
      const durationNs = (yield* nowNs) - started
      yield* exec(conn, historyInsert(migration, durationNs)).pipe(
        Effect.mapError((e) =>
          failed(
            `the migration ran (outside a transaction) but its history row could not be written: ${postgresErrorText(
              e
            )}`
          )
        )
      )
      return { ...ref, durationNs }
    })
  }
  // ROLLBACK after any failure; after a failed COMMIT there is nothing left to roll back, which PostgreSQL only warns of
  const rollBack = exec(conn, "ROLLBACK").pipe(Effect.ignore)
  return Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const started = yield* nowNs
      const ran = yield* Effect.exit(
        restore(
          exec(conn, BEGIN + migration.sql).pipe(
            Effect.mapError((e) => failed(postgresErrorText(e, migration.sql, BEGIN.length)))
          )
        )
      )
      if (ran._tag === "Failure") return yield* Effect.zipRight(rollBack, Effect.failCause(ran.cause))
      const durationNs = (yield* nowNs) - started
      // one message: a failed INSERT makes PostgreSQL skip the COMMIT; a failed COMMIT (a deferred constraint, say)
      // has rolled back
      yield* exec(conn, `${historyInsert(migration, durationNs)};\nCOMMIT`).pipe(
        Effect.catchAll((e) =>
          Effect.zipRight(
            rollBack,
            Effect.fail(failed(`writing the history row and committing: ${postgresErrorText(e)}`))
          )
        )
      )
      return { ...ref, durationNs }
    })
  )
}
