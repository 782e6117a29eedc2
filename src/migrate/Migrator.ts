// The sqlx-compatible migrator service: validation policy, apply under the lock, info, and the startup wiring.
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { Context, Effect, Layer, Option, Ref, type Scope } from "effect"
import { shippedMigrationsDir } from "../paths.js"
import { allowedAlternateChecksums, allowedMissing } from "./allowed.js"
import { type MigrateError, MigrationDatabaseError, OutOfOrderMigrations, PendingMigrations } from "./errors.js"
import { type Evaluation, evaluate, historyRefusal } from "./evaluate.js"
import {
  acquireLock,
  applyOne,
  currentDatabase,
  discardSession,
  ensureHistoryTable,
  type History,
  infra,
  readAppliedChecksum,
  readHistory
} from "./history.js"
import { refuseInvalidIndexes } from "./InvalidIndexes.js"
import { migrationLockKey } from "./LockKey.js"
import { refuseUnlessSession } from "./SessionCheck.js"
import { loadMigrations, type Migration, refuseByteOrderMarks } from "./MigrationSource.js"
import type {
  AppliedMigration,
  MigrationRef,
  MigrationStatus,
  MigratorConfig,
  RunReport,
  ValidationReport
} from "./types.js"

export * from "./errors.js"
export { postgresErrorText } from "./history.js"
export type {
  AppliedMigration,
  MigrationRef,
  MigrationState,
  MigrationStatus,
  MigratorConfig,
  RunReport,
  ValidationReport
} from "./types.js"

/**
 * One step of a run, told to `RunOptions.onProgress` as it happens (`index` counts from 1 to `total`, the number of
 * migrations this run applies), so that a caller can show a long run's progress or each migration as it is done.
 */
export type MigrationProgress =
  | { readonly _tag: "Started"; readonly index: number; readonly total: number; readonly migration: MigrationRef }
  | { readonly _tag: "Finished"; readonly index: number; readonly total: number; readonly migration: AppliedMigration }

export interface RunOptions {
  readonly dryRun?: boolean | undefined
  readonly targetVersion?: bigint | undefined
  readonly onProgress?: ((progress: MigrationProgress) => Effect.Effect<void>) | undefined
}

export interface MigratorService {
  /** Read-only: every file and every history row with its state; no table → everything pending. */
  readonly info: Effect.Effect<ReadonlyArray<MigrationStatus>, MigrateError>
  /** Read-only validation of the history against the files (see "Migrations" in the README); warnings go to `Effect.logWarning`. */
  readonly validate: Effect.Effect<ValidationReport, MigrateError>
  /**
   * Validates, then applies the pending migrations (≤ `targetVersion` if given) under the lock, on one connection.
   * That connection must be a server session: through a pooler in transaction mode (PgBouncer's default for
   * applications) the run, a dry run too, is refused with `MigrationConnectionNotSession` before anything is done
   * (see SessionCheck.ts). Give the migrator a client on a direct URL instead: nothing here assumes it is the
   * application's client.
   */
  readonly run: (options?: RunOptions) => Effect.Effect<RunReport, MigrateError>
  /** The history row of `version`, if any. */
  readonly appliedChecksum: (
    version: bigint
  ) => Effect.Effect<
    Option.Option<{ readonly version: bigint; readonly description: string; readonly checksum: Uint8Array }>,
    MigrateError
  >
}

// ---------------------------------------------------------------------------------------------------------------
// Validation policy

/** Logs what validation tolerates and fails with everything it refuses. */
const enforce = (evaluation: Evaluation, config: MigratorConfig) =>
  Effect.gen(function* () {
    for (const missing of evaluation.unknown) {
      const text = `applied migration ${missing.version} (${missing.description}) has no file in ${config.source}`
      if (missing.allowed) yield* Effect.logDebug(`${text}; listed in allowedMissing`)
      else yield* Effect.logWarning(`${text}; an older program may be running against a newer database`)
    }
    for (const version of evaluation.acceptedChanges) {
      yield* Effect.logDebug(`applied migration ${version} changed since; accepted by allowedAlternateChecksums`)
    }
    const refused = historyRefusal(evaluation)
    if (Option.isSome(refused)) return yield* refused.value
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
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const reserve: Effect.Effect<Connection, MigrationDatabaseError, Scope.Scope> = sql.reserve.pipe(
      Effect.mapError(infra("connecting"))
    )

    const readOnly = <A, E>(f: (conn: Connection) => Effect.Effect<A, E>) => Effect.scoped(Effect.flatMap(reserve, f))

    // the history last read, so an unchanged one is not sent again (see readHistory)
    const lastHistory = yield* Ref.make<History | undefined>(undefined)
    const history = readOnly((conn) =>
      Ref.get(lastHistory).pipe(
        Effect.flatMap((known) => readHistory(conn, known)),
        Effect.tap((read) => Ref.set(lastHistory, read))
      )
    )

    // the files are read while the history query is in flight: startup validation pays for the slower of the two
    const snapshot = Effect.map(
      Effect.all([loadMigrations(config.source), history], { concurrency: 2 }),
      ([files, read]) => evaluate(files, read.rows, config)
    )

    const info: MigratorService["info"] = Effect.map(snapshot, (e) => e.statuses)

    const validate: MigratorService["validate"] = Effect.gen(function* () {
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
      Effect.scoped(
        Effect.gen(function* () {
          const dryRun = options?.dryRun ?? false
          const target = options?.targetVersion
          // every file is parsed and linted before the database is touched
          const files = yield* loadMigrations(config.source)
          yield* refuseByteOrderMarks(files)
          const conn = yield* reserve
          // before the lock: through a transaction-mode pooler the lock would be held by whichever server connection
          // took the statement (a dry run refuses too, as the run would)
          yield* refuseUnlessSession(sql, conn)
          if (!dryRun) {
            const database = yield* currentDatabase(conn)
            // registered first, so it runs after the unlock (DISCARD ALL would also drop the lock, and the unlock
            // would then warn)
            yield* Effect.addFinalizer(() => discardSession(conn))
            yield* acquireLock(conn, migrationLockKey(database), database)
            yield* ensureHistoryTable(conn)
          }
          const evaluation = evaluate(files, (yield* readHistory(conn)).rows, config)
          yield* enforce(evaluation, config)
          const planned = evaluation.pending.filter((m) => target === undefined || m.version <= target)
          const skipped = evaluation.pending.filter((m) => target !== undefined && m.version > target)
          // before anything is applied, so a refused run changes nothing (a dry run reports it too)
          yield* refuseInvalidIndexes(conn, planned)
          const applied: Array<AppliedMigration> = []
          if (!dryRun) {
            const onProgress = options?.onProgress ?? (() => Effect.void)
            for (const [i, migration] of planned.entries()) {
              const step = { index: i + 1, total: planned.length }
              yield* onProgress({ _tag: "Started", ...step, migration: refOf(migration) })
              const done = yield* applyOne(conn, migration)
              // debug: the caller reports what was applied (the run report, or onProgress), a log would repeat it
              yield* Effect.logDebug(
                `applied migration ${done.version} (${done.description}) in ${Number(done.durationNs / 1000n) / 1000} ms`
              )
              yield* onProgress({ _tag: "Finished", ...step, migration: done })
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
        })
      )

    const appliedChecksum: MigratorService["appliedChecksum"] = (version) =>
      readOnly((conn) => readAppliedChecksum(conn, version))

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
export const migrateOnStartup = (options: {
  readonly migrate: boolean
  readonly onProgress?: RunOptions["onProgress"]
}): Effect.Effect<RunReport, MigrateError, Migrator> =>
  Effect.gen(function* () {
    const migrator = yield* Migrator
    if (options.migrate) return yield* migrator.run({ onProgress: options.onProgress })
    const report = yield* migrator.validate
    if (report.pending.length > 0) {
      return yield* new PendingMigrations({ versions: report.pending.map((m) => m.version) })
    }
    return emptyRunReport
  })
