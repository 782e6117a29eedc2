// The migrator's data shapes, shared by the history SQL, the pure evaluation and the service.
import type { Option } from "effect"

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

/** A `_sqlx_migrations` row as read (every column decoded from text). */
export interface HistoryRow {
  readonly version: bigint
  readonly description: string
  readonly installedOn: Date
  readonly success: boolean
  readonly checksum: Uint8Array
  readonly executionTimeNs: bigint
}
