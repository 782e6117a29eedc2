// Text rendering for the CLI: the `migrate info` table, run reports and `migrate checksum` entries (pure, so tests can read them).
import { Option } from "effect"
import type { AppliedMigration, MigrationStatus } from "../migrate/Migrator.js"

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

/** Formats a duration in nanoseconds with a unit a person reads at a glance. */
export const formatNanos = (ns: bigint): string => {
  const n = Number(ns)
  if (n < 1_000_000) return `${(n / 1_000).toFixed(0)} µs`
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(1)} ms`
  return `${(n / 1_000_000_000).toFixed(2)} s`
}

/** Lays out rows under headers, each column as wide as its widest cell. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

/** The `migrate info` table: one row per version, known to the program or applied in the database. */
export const infoTable = (statuses: ReadonlyArray<MigrationStatus>): string =>
  statuses.length === 0
    ? "no migrations (none shipped, none applied)"
    : table(
        ["version", "description", "state", "installed_on", "execution_time"],
        statuses.map((s) => [
          s.version.toString(),
          s.description,
          s.state,
          Option.match(s.installedOn, { onNone: () => "-", onSome: (d) => d.toISOString() }),
          Option.match(s.executionTimeNs, { onNone: () => "-", onSome: formatNanos })
        ])
      )

/** How many versions are in each state, in the order the states first appear. */
export const stateCounts = (statuses: ReadonlyArray<MigrationStatus>): ReadonlyMap<string, number> => {
  const counts = new Map<string, number>()
  for (const s of statuses) counts.set(s.state, (counts.get(s.state) ?? 0) + 1)
  return counts
}

/** A one-line summary of the states in an info listing, e.g. "3 applied, 1 pending". */
export const infoSummary = (statuses: ReadonlyArray<MigrationStatus>): string =>
  [...stateCounts(statuses)].map(([state, n]) => `${n} ${state}`).join(", ") || "nothing"

/** The line `migrate run` and `start` print for each migration they applied. */
export const appliedLine = (m: AppliedMigration): string =>
  `applied ${m.version} ${m.description} (${formatNanos(m.durationNs)})`

/**
 * The entry to paste into `allowedAlternateChecksums` (src/migrate/allowed.ts) so that a database
 * which applied an earlier text of this migration is accepted.
 */
export const alternateChecksumEntry = (applied: {
  readonly version: bigint
  readonly description: string
  readonly checksum: Uint8Array
}): string =>
  [
    `  // ${applied.version} (${applied.description}): applied with an earlier text of the file; say why the edit is safe.`,
    `  // full stored checksum: ${hex(applied.checksum)}`,
    `  { version: ${applied.version}n, prefix: "${hex(applied.checksum.subarray(0, 16))}" },`
  ].join("\n")
