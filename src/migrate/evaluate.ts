// The pure comparison of the migration files with the history rows: each version's state, what is refused, what is pending.
import { Option } from "effect"
import {
  ChecksumMismatch,
  DirtyMigration,
  type HistoryRefusal,
  MigrationHistoryRefused,
  StoredChecksumTooShort
} from "./errors.js"
import { type Migration, toHex } from "./MigrationSource.js"
import type { HistoryRow, MigrationRef, MigrationState, MigrationStatus, MigratorConfig } from "./types.js"

// not Uint8Array.every: its callback per byte made this the most expensive step of validating 1,000 applied files
const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0

const ALTERNATE_PREFIX_BYTES = 16

const byVersion = (a: { readonly version: bigint }, b: { readonly version: bigint }) =>
  a.version < b.version ? -1 : a.version > b.version ? 1 : 0

export interface Evaluation {
  readonly statuses: ReadonlyArray<MigrationStatus>
  /** Every refused row: dirty rows first (they need repair by hand), then refused checksums, each in version order. */
  readonly refusals: ReadonlyArray<HistoryRefusal>
  readonly unknown: ReadonlyArray<MigrationRef & { readonly allowed: boolean }>
  readonly acceptedChanges: ReadonlyArray<bigint>
  readonly pending: ReadonlyArray<Migration>
  readonly outOfOrder: ReadonlyArray<bigint>
  readonly latestApplied: Option.Option<bigint>
  readonly appliedCount: number
}

/** Only the reviewed exception lists matter here; the folder and the out-of-order policy are the service's. */
export type EvaluationConfig = Pick<MigratorConfig, "allowedMissing" | "allowedAlternateChecksums">

export const evaluate = (
  files: ReadonlyArray<Migration>,
  rows: ReadonlyArray<HistoryRow>,
  config: EvaluationConfig
): Evaluation => {
  const sortedFiles = [...files].sort(byVersion)
  const sortedRows = [...rows].sort(byVersion)
  const latestApplied = Option.map(Option.fromNullable(sortedRows[sortedRows.length - 1]), (r) => r.version)
  const statuses: Array<MigrationStatus> = []
  const dirty: Array<DirtyMigration> = []
  const refused: Array<ChecksumMismatch | StoredChecksumTooShort> = []
  const unknown: Array<MigrationRef & { allowed: boolean }> = []
  const acceptedChanges: Array<bigint> = []
  const pending: Array<Migration> = []
  const outOfOrder: Array<bigint> = []

  // one walk over both version-sorted lists: maps and sets keyed by bigint cost milliseconds for 1,000 versions
  for (let fi = 0, ri = 0; fi < sortedFiles.length || ri < sortedRows.length;) {
    const nextFile = sortedFiles[fi]
    const nextRow = sortedRows[ri]
    const version =
      nextRow === undefined || (nextFile !== undefined && nextFile.version < nextRow.version)
        ? nextFile!.version
        : nextRow.version
    const file = Option.fromNullable(nextFile?.version === version ? sortedFiles[fi++] : undefined)
    const row = Option.fromNullable(nextRow?.version === version ? sortedRows[ri++] : undefined)
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
    refusals: [...dirty, ...refused],
    unknown,
    acceptedChanges,
    pending,
    outOfOrder,
    latestApplied,
    appliedCount: rows.length
  }
}

/** What validation fails with: nothing, the one refusal as itself, or all of them together. */
export const historyRefusal = (evaluation: Evaluation): Option.Option<HistoryRefusal | MigrationHistoryRefused> => {
  const [first, ...rest] = evaluation.refusals
  if (first === undefined) return Option.none()
  return Option.some(rest.length === 0 ? first : new MigrationHistoryRefused({ refusals: evaluation.refusals }))
}
