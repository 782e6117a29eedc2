// The sqlx-compatible migrator: `_sqlx_migrations` history, advisory lock, validation, apply, info, startup wiring.
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Layer, Option, type Scope } from "effect"
import { shippedMigrationsDir } from "../paths.js"
import { allowedAlternateChecksums, allowedMissing } from "./allowed.js"
import {
  ChecksumMismatch,
  DirtyMigration,
  type MigrateError,
  MigrationDatabaseError,
  MigrationFailed,
  OutOfOrderMigrations,
  PendingMigrations,
  StoredChecksumTooShort
} from "./errors.js"
import { refuseInvalidIndexes } from "./InvalidIndexes.js"
import { migrationLockKey } from "./LockKey.js"
import { loadMigrations, type Migration, refuseByteOrderMarks, toHex } from "./MigrationSource.js"

export * from "./errors.js"

export type MigrationState =
  | "applied"
  | "pending"
  | "changed-accepted"
  | "changed-refused"
  | "missing-allowed"
  | "missing"
  | "out-of-order"
  | "dirty"

export interface MigrationStatus {
  readonly version: bigint
  readonly description: string
  readonly state: MigrationState
  readonly installedOn: Option.Option<Date>
  readonly executionTimeNs: Option.Option<bigint>
  readonly fileChecksum: Option.Option<Uint8Array>
  readonly appliedChecksum: Option.Option<Uint8Array>
}

export interface MigratorConfig {
  /** The folder of `<VERSION>_<description>.sql` files. */
  readonly source: string
  readonly allowedMissing: ReadonlyArray<bigint>
  readonly allowedAlternateChecksums: ReadonlyArray<{ readonly version: bigint; readonly prefix: string }>
  /** Pending versions lower than the highest applied one: applied with a warning, or refused. */
  readonly outOfOrder: "warn" | "error"
}

export interface MigrationRef {
  readonly version: bigint
  readonly description: string
}

export interface AppliedMigration extends MigrationRef {
  /** What was written to `execution_time`. */
  readonly durationNs: bigint
}

export interface RunReport {
  readonly dryRun: boolean
  /** Migrations applied by this run, in order (always empty for a dry run). */
  readonly applied: ReadonlyArray<AppliedMigration>
  /** What this run applies, or would apply when `dryRun`. */
  readonly planned: ReadonlyArray<MigrationRef>
  /** Pending migrations left alone because they are above `targetVersion`. */
  readonly skipped: ReadonlyArray<MigrationRef>
  /** Pending versions lower than the highest applied one (found before this run applied anything). */
  readonly outOfOrder: ReadonlyArray<bigint>
}

export interface ValidationReport {
  /** Number of rows in `_sqlx_migrations` (0 when the table does not exist). */
  readonly appliedCount: number
  readonly pending: ReadonlyArray<MigrationRef>
  readonly outOfOrder: ReadonlyArray<bigint>
  /** Applied versions without a file; `allowed` when listed in `allowedMissing`. */
  readonly unknown: ReadonlyArray<MigrationRef & { readonly allowed: boolean }>
  /** Applied versions whose file changed, accepted through `allowedAlternateChecksums`. */
  readonly acceptedChanges: ReadonlyArray<bigint>
}

export interface MigratorService {
  /** Read-only: every file and every history row with its state; no table → everything pending. */
  readonly info: Effect.Effect<ReadonlyArray<MigrationStatus>, MigrateError>
  /** Read-only validation of the history against the files (design §3); warnings go to `Effect.logWarning`. */
  readonly validate: Effect.Effect<ValidationReport, MigrateError>
  /** Validates, then applies the pending migrations (≤ `targetVersion` if given) under the lock, on one connection. */
  readonly run: (options?: {
    readonly dryRun?: boolean | undefined
    readonly targetVersion?: bigint | undefined
  }) => Effect.Effect<RunReport, MigrateError>
  /** The history row of `version`, if any. */
  readonly appliedChecksum: (
    version: bigint
  ) => Effect.Effect<
    Option.Option<{ readonly version: bigint; readonly description: string; readonly checksum: Uint8Array }>,
    MigrateError
  >
}

// ---------------------------------------------------------------------------------------------------------------
// SQL on the dedicated connection

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
  readonly code?: string
  readonly detail?: string
  readonly hint?: string
  readonly position?: string
  readonly where?: string
}

/** The Postgres error text (message, SQLSTATE, detail, hint, and the line in `sqlText` when positioned). */
export const postgresErrorText = (error: SqlError, sqlText?: string): string => {
  const cause = error.cause
  if (!(cause instanceof Error)) return error.message
  const pg = cause as PgErrorFields
  const parts = [pg.message ?? cause.message]
  if (pg.code) parts[0] += ` (SQLSTATE ${pg.code})`
  if (pg.position && sqlText !== undefined) {
    const offset = Number(pg.position) - 1
    if (Number.isInteger(offset) && offset >= 0) {
      parts.push(`at line ${sqlText.slice(0, offset).split("\n").length}`)
    }
  }
  if (pg.detail) parts.push(`detail: ${pg.detail}`)
  if (pg.hint) parts.push(`hint: ${pg.hint}`)
  if (pg.where) parts.push(`where: ${pg.where}`)
  return parts.join("; ")
}

const infra = (operation: string) => (error: SqlError) =>
  new MigrationDatabaseError({ operation, cause: postgresErrorText(error) })

/**
 * Raw text on the reserved connection, bypassing the client's name transforms. With no parameters it goes through
 * pg's simple protocol, so a multi-statement migration file runs in one call.
 */
const exec = (conn: Connection, text: string, params: ReadonlyArray<unknown> = []) =>
  conn.execute(text, params, undefined) as Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError>

interface HistoryRow {
  readonly version: bigint
  readonly description: string
  readonly installedOn: Date
  readonly success: boolean
  readonly checksum: Uint8Array
  readonly executionTimeNs: bigint
}

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

const UNDEFINED_TABLE = "42P01"

const isUndefinedTable = (error: SqlError) =>
  error.cause instanceof Error && (error.cause as PgErrorFields).code === UNDEFINED_TABLE

// Every column is cast to text so the client's type parsers (BIGINT as string or bigint, bytea…) do not matter.
// Read optimistically (a missing table means nothing applied): validation at startup costs one round trip.
const readHistory = (conn: Connection): Effect.Effect<ReadonlyArray<HistoryRow>, MigrationDatabaseError> =>
  Effect.gen(function*() {
    const rows = yield* exec(
      conn,
      `SELECT version::text AS version, description,
              (extract(epoch FROM installed_on) * 1000)::bigint::text AS installed_ms,
              success::text AS success, encode(checksum, 'hex') AS checksum, execution_time::text AS execution_time
         FROM ${HISTORY_TABLE} ORDER BY version`
    ).pipe(
      Effect.catchIf(isUndefinedTable, () => Effect.succeed([])),
      Effect.mapError(infra("reading the migration history"))
    )
    return rows.map((row): HistoryRow => ({
      version: BigInt(row.version as string),
      description: row.description as string,
      installedOn: new Date(Number(row.installed_ms as string)),
      success: row.success === "true",
      checksum: new Uint8Array(Buffer.from(row.checksum as string, "hex")),
      executionTimeNs: BigInt(row.execution_time as string)
    }))
  })

const LOCK_FIRST_WAIT_MS = 250
const LOCK_MAX_WAIT_MS = 5_000

/**
 * `pg_try_advisory_lock` polled with back-off, never the blocking form: a session blocked on the lock would stall
 * a `CREATE INDEX CONCURRENTLY` run by the holder. Each successful attempt registers the unlock in the scope
 * atomically, so failure or interruption at any later point releases it.
 */
const acquireLock = (conn: Connection, key: bigint, database: string) =>
  Effect.gen(function*() {
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

const insertHistory = (conn: Connection, migration: Migration, durationNs: bigint) =>
  exec(
    conn,
    `INSERT INTO ${HISTORY_TABLE} (version, description, success, checksum, execution_time)
     VALUES ($1::bigint, $2, TRUE, $3, $4::bigint)`,
    [migration.version.toString(), migration.description, Buffer.from(migration.checksum), durationNs.toString()]
  )

// Durations come from the monotonic high-resolution timer rather than the Clock service: they are measurements of
// real work, and a TestClock would record 0.
const nowNs = Effect.sync(() => process.hrtime.bigint())

const applyOne = (conn: Connection, migration: Migration): Effect.Effect<AppliedMigration, MigrationFailed> => {
  const failed = (cause: string) =>
    new MigrationFailed({ version: migration.version, description: migration.description, path: migration.path, cause })
  const ref = { version: migration.version, description: migration.description }
  if (migration.noTransaction) {
    return Effect.gen(function*() {
      const started = yield* nowNs
      yield* exec(conn, migration.sql).pipe(Effect.mapError((e) => failed(postgresErrorText(e, migration.sql))))
      const durationNs = (yield* nowNs) - started
      yield* insertHistory(conn, migration, durationNs).pipe(
        Effect.mapError((e) =>
          failed(`the migration ran (outside a transaction) but its history row could not be written: ${
            postgresErrorText(e)
          }`)
        )
      )
      return { ...ref, durationNs }
    })
  }
  return Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const started = yield* nowNs
      yield* exec(conn, "BEGIN").pipe(Effect.mapError((e) => failed(postgresErrorText(e))))
      const exit = yield* Effect.exit(restore(Effect.gen(function*() {
        yield* exec(conn, migration.sql).pipe(Effect.mapError((e) => failed(postgresErrorText(e, migration.sql))))
        const durationNs = (yield* nowNs) - started
        yield* insertHistory(conn, migration, durationNs).pipe(
          Effect.mapError((e) => failed(`writing the history row: ${postgresErrorText(e)}`))
        )
        return durationNs
      })))
      if (exit._tag === "Failure") {
        yield* exec(conn, "ROLLBACK").pipe(Effect.ignore)
        return yield* Effect.failCause(exit.cause)
      }
      // a failed COMMIT (e.g. a deferred constraint) has already rolled back
      yield* exec(conn, "COMMIT").pipe(Effect.mapError((e) => failed(`COMMIT: ${postgresErrorText(e)}`)))
      return { ...ref, durationNs: exit.value }
    })
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Validation: a pure comparison of files and history rows

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

const ALTERNATE_PREFIX_BYTES = 16

interface Evaluation {
  readonly statuses: ReadonlyArray<MigrationStatus>
  /** Dirty rows first, then refused checksums, in version order: the first one is what fails. */
  readonly errors: ReadonlyArray<DirtyMigration | ChecksumMismatch | StoredChecksumTooShort>
  readonly unknown: ReadonlyArray<MigrationRef & { readonly allowed: boolean }>
  readonly acceptedChanges: ReadonlyArray<bigint>
  readonly pending: ReadonlyArray<Migration>
  readonly outOfOrder: ReadonlyArray<bigint>
  readonly latestApplied: Option.Option<bigint>
  readonly appliedCount: number
}

const evaluate = (
  files: ReadonlyArray<Migration>,
  rows: ReadonlyArray<HistoryRow>,
  config: MigratorConfig
): Evaluation => {
  const fileByVersion = new Map(files.map((m) => [m.version, m]))
  const rowByVersion = new Map(rows.map((r) => [r.version, r]))
  const latestApplied = rows.reduce<Option.Option<bigint>>(
    (max, r) => (Option.isSome(max) && max.value >= r.version ? max : Option.some(r.version)),
    Option.none()
  )
  const statuses: Array<MigrationStatus> = []
  const dirty: Array<DirtyMigration> = []
  const refused: Array<ChecksumMismatch | StoredChecksumTooShort> = []
  const unknown: Array<MigrationRef & { allowed: boolean }> = []
  const acceptedChanges: Array<bigint> = []
  const pending: Array<Migration> = []
  const outOfOrder: Array<bigint> = []

  const versions = [...new Set([...fileByVersion.keys(), ...rowByVersion.keys()])].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0
  )
  for (const version of versions) {
    const file = Option.fromNullable(fileByVersion.get(version))
    const row = Option.fromNullable(rowByVersion.get(version))
    const description = Option.isSome(file) ? file.value.description : Option.isSome(row) ? row.value.description : ""
    const status = (state: MigrationState): MigrationStatus => ({
      version,
      description,
      state,
      installedOn: Option.map(row, (r) => r.installedOn),
      executionTimeNs: Option.map(row, (r) => r.executionTimeNs),
      fileChecksum: Option.map(file, (f) => f.checksum),
      appliedChecksum: Option.map(row, (r) => r.checksum)
    })
    if (Option.isNone(row)) {
      const isOutOfOrder = Option.isSome(latestApplied) && version < latestApplied.value
      pending.push(Option.getOrThrow(file))
      if (isOutOfOrder) outOfOrder.push(version)
      statuses.push(status(isOutOfOrder ? "out-of-order" : "pending"))
      continue
    }
    const applied = row.value
    if (!applied.success) {
      dirty.push(new DirtyMigration({ version, description }))
      statuses.push(status("dirty"))
      continue
    }
    if (Option.isNone(file)) {
      const allowed = config.allowedMissing.includes(version)
      unknown.push({ version, description, allowed })
      statuses.push(status(allowed ? "missing-allowed" : "missing"))
      continue
    }
    if (bytesEqual(file.value.checksum, applied.checksum)) {
      statuses.push(status("applied"))
      continue
    }
    if (applied.checksum.length < ALTERNATE_PREFIX_BYTES) {
      refused.push(new StoredChecksumTooShort({ version, appliedChecksum: toHex(applied.checksum) }))
      statuses.push(status("changed-refused"))
      continue
    }
    const prefix = toHex(applied.checksum.subarray(0, ALTERNATE_PREFIX_BYTES))
    const accepted = config.allowedAlternateChecksums.some(
      (entry) => entry.version === version && entry.prefix.toLowerCase() === prefix
    )
    if (accepted) {
      acceptedChanges.push(version)
      statuses.push(status("changed-accepted"))
    } else {
      refused.push(
        new ChecksumMismatch({
          version,
          description,
          fileChecksum: toHex(file.value.checksum),
          appliedChecksum: toHex(applied.checksum)
        })
      )
      statuses.push(status("changed-refused"))
    }
  }
  return {
    statuses,
    errors: [...dirty, ...refused],
    unknown,
    acceptedChanges,
    pending,
    outOfOrder,
    latestApplied,
    appliedCount: rows.length
  }
}

/** Logs what validation tolerates and fails on the first thing it refuses. */
const enforce = (evaluation: Evaluation, config: MigratorConfig) =>
  Effect.gen(function*() {
    for (const missing of evaluation.unknown) {
      const text = `applied migration ${missing.version} (${missing.description}) has no file in ${config.source}`
      if (missing.allowed) yield* Effect.logDebug(`${text}; listed in allowedMissing`)
      else yield* Effect.logWarning(`${text}; an older program may be running against a newer database`)
    }
    for (const version of evaluation.acceptedChanges) {
      yield* Effect.logDebug(`applied migration ${version} changed since; accepted by allowedAlternateChecksums`)
    }
    if (evaluation.errors.length > 0) return yield* evaluation.errors[0]!
    if (evaluation.outOfOrder.length > 0 && Option.isSome(evaluation.latestApplied)) {
      const error = new OutOfOrderMigrations({
        versions: evaluation.outOfOrder,
        latestApplied: evaluation.latestApplied.value
      })
      if (config.outOfOrder === "error") return yield* error
      yield* Effect.logWarning(error.message)
    }
  })

const refOf = (m: Migration): MigrationRef => ({ version: m.version, description: m.description })

// ---------------------------------------------------------------------------------------------------------------
// The service

const make = (config: MigratorConfig) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const reserve: Effect.Effect<Connection, MigrationDatabaseError, Scope.Scope> = sql.reserve.pipe(
      Effect.mapError(infra("connecting"))
    )

    const readOnly = <A, E>(f: (conn: Connection) => Effect.Effect<A, E>) =>
      Effect.scoped(Effect.flatMap(reserve, f))

    // the files are read while the history query is in flight: startup validation pays for the slower of the two
    const snapshot = Effect.map(
      Effect.all([loadMigrations(config.source), readOnly(readHistory)], { concurrency: 2 }),
      ([files, rows]) => evaluate(files, rows, config)
    )

    const info: MigratorService["info"] = Effect.map(snapshot, (e) => e.statuses)

    const validate: MigratorService["validate"] = Effect.gen(function*() {
      const evaluation = yield* snapshot
      yield* enforce(evaluation, config)
      return {
        appliedCount: evaluation.appliedCount,
        pending: evaluation.pending.map(refOf),
        outOfOrder: evaluation.outOfOrder,
        unknown: evaluation.unknown,
        acceptedChanges: evaluation.acceptedChanges
      }
    })

    const run: MigratorService["run"] = (options) =>
      Effect.scoped(Effect.gen(function*() {
        const dryRun = options?.dryRun ?? false
        const target = options?.targetVersion
        // every file is parsed and linted before the database is touched
        const files = yield* loadMigrations(config.source)
        yield* refuseByteOrderMarks(files)
        const conn = yield* reserve
        if (!dryRun) {
          const [row] = yield* exec(conn, "SELECT current_database() AS name").pipe(
            Effect.mapError(infra("reading the database name"))
          )
          const database = row!.name as string
          // session settings changed by migrations must not leak into the pool; registered first, so it runs
          // after the unlock (DISCARD ALL would also drop the lock, and the unlock would then warn)
          yield* Effect.addFinalizer(() => exec(conn, "DISCARD ALL").pipe(Effect.ignore))
          yield* acquireLock(conn, migrationLockKey(database), database)
          // checked and created under the lock, so two migrators racing on an empty database cannot both create it
          if (!(yield* historyTableExists(conn))) {
            yield* exec(conn, CREATE_HISTORY_TABLE).pipe(Effect.mapError(infra("creating the history table")))
          }
        }
        const evaluation = evaluate(files, yield* readHistory(conn), config)
        yield* enforce(evaluation, config)
        const planned = evaluation.pending.filter((m) => target === undefined || m.version <= target)
        const skipped = evaluation.pending.filter((m) => target !== undefined && m.version > target)
        // before anything is applied, so a refused run changes nothing (a dry run reports it too)
        yield* refuseInvalidIndexes(conn, planned)
        const applied: Array<AppliedMigration> = []
        if (!dryRun) {
          for (const migration of planned) {
            const done = yield* applyOne(conn, migration)
            yield* Effect.logInfo(
              `applied migration ${done.version} (${done.description}) in ${Number(done.durationNs / 1000n) / 1000} ms`
            )
            applied.push(done)
          }
        }
        const report: RunReport = {
          dryRun,
          applied,
          planned: planned.map(refOf),
          skipped: skipped.map(refOf),
          outOfOrder: evaluation.outOfOrder
        }
        return report
      }))

    const appliedChecksum: MigratorService["appliedChecksum"] = (version) =>
      readOnly((conn) =>
        Effect.gen(function*() {
          const rows = yield* exec(
            conn,
            `SELECT description, encode(checksum, 'hex') AS checksum FROM ${HISTORY_TABLE} WHERE version = $1::bigint`,
            [version.toString()]
          ).pipe(
            Effect.catchIf(isUndefinedTable, () => Effect.succeed([])),
            Effect.mapError(infra("reading the migration history"))
          )
          return Option.map(Option.fromNullable(rows[0]), (row) => ({
            version,
            description: row.description as string,
            checksum: new Uint8Array(Buffer.from(row.checksum as string, "hex"))
          }))
        })
      )

    const service: MigratorService = { info, validate, run, appliedChecksum }
    return service
  })

export class Migrator extends Context.Tag("Migrator")<Migrator, MigratorService>() {
  /** The shipped migrations, the reviewed lists of `allowed.ts`, out-of-order versions applied with a warning. */
  static readonly defaultConfig: MigratorConfig = {
    source: shippedMigrationsDir,
    allowedMissing,
    allowedAlternateChecksums,
    outOfOrder: "warn"
  }

  static layer(config: MigratorConfig): Layer.Layer<Migrator, never, SqlClient.SqlClient> {
    return Layer.effect(Migrator, make(config))
  }
}

const emptyRunReport: RunReport = { dryRun: false, applied: [], planned: [], skipped: [], outOfOrder: [] }

/**
 * Startup: with `migrate`, applies everything pending (the run validates the history under the lock before
 * applying, so a refused history fails startup before any change); without, validates and refuses to start while
 * anything is pending.
 */
export const migrateOnStartup = (options: { readonly migrate: boolean }): Effect.Effect<RunReport, MigrateError, Migrator> =>
  Effect.gen(function*() {
    const migrator = yield* Migrator
    if (options.migrate) return yield* migrator.run()
    const report = yield* migrator.validate
    if (report.pending.length > 0) {
      return yield* new PendingMigrations({ versions: report.pending.map((m) => m.version) })
    }
    return emptyRunReport
  })
