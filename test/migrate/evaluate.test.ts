// The pure evaluation of history rows against migration files, without a database: every state and every refusal.
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { type EvaluationConfig, evaluate, historyRefusal } from "../../src/migrate/evaluate.js"
import { checksum, type Migration, toHex } from "../../src/migrate/MigrationSource.js"
import type { HistoryRow } from "../../src/migrate/types.js"

const utf8 = (text: string) => new TextEncoder().encode(text)

const file = (version: bigint, description: string, sql: string): Migration => ({
  version,
  description,
  path: `/migrations/${version}_${description.replaceAll(" ", "_")}.sql`,
  sql,
  checksum: checksum(utf8(sql)),
  noTransaction: false
})

const INSTALLED = new Date("2026-01-02T03:04:05.678Z")

/** A history row; `applied` is the text it was applied with, or the raw stored checksum. */
const row = (
  version: bigint,
  description: string,
  applied: string | Uint8Array,
  options: { readonly success?: boolean } = {}
): HistoryRow => ({
  version,
  description,
  installedOn: INSTALLED,
  success: options.success ?? true,
  checksum: typeof applied === "string" ? checksum(utf8(applied)) : applied,
  executionTimeNs: 1234n
})

const A = "CREATE TABLE a (id int);\n"
const B = "CREATE TABLE b (id int);\n"
const C = "CREATE TABLE c (id int);\n"

const none: EvaluationConfig = { allowedMissing: [], allowedAlternateChecksums: [] }

const states = (evaluation: ReturnType<typeof evaluate>) => evaluation.statuses.map((s) => [s.version, s.state])
const tags = (evaluation: ReturnType<typeof evaluate>) => evaluation.refusals.map((e) => [e._tag, e.version])
const prefixOf = (text: string) => toHex(checksum(utf8(text))).slice(0, 32)

describe("evaluate", () => {
  it("an applied file: state applied, nothing pending or refused, both checksums and the row's times kept", () => {
    const e = evaluate([file(1n, "create a", A)], [row(1n, "create a", A)], none)
    expect(states(e)).toEqual([[1n, "applied"]])
    expect(e.refusals).toEqual([])
    expect(e.pending).toEqual([])
    expect(e.outOfOrder).toEqual([])
    expect(e.appliedCount).toBe(1)
    expect(e.latestApplied).toEqual(Option.some(1n))
    const [status] = e.statuses
    expect(status!.installedOn).toEqual(Option.some(INSTALLED))
    expect(status!.executionTimeNs).toEqual(Option.some(1234n))
    expect(Option.map(status!.fileChecksum, toHex)).toEqual(Option.some(toHex(checksum(utf8(A)))))
    expect(Option.map(status!.appliedChecksum, toHex)).toEqual(Option.some(toHex(checksum(utf8(A)))))
  })

  it("no history: every file pending, in version order, none out of order", () => {
    const files = [file(2n, "create b", B), file(1n, "create a", A)]
    const e = evaluate(files, [], none)
    expect(states(e)).toEqual([
      [1n, "pending"],
      [2n, "pending"]
    ])
    expect(e.pending.map((m) => m.version)).toEqual([1n, 2n])
    expect(e.outOfOrder).toEqual([])
    expect(e.latestApplied).toEqual(Option.none())
    expect(e.appliedCount).toBe(0)
    const [status] = e.statuses
    expect(status!.installedOn).toEqual(Option.none())
    expect(status!.appliedChecksum).toEqual(Option.none())
  })

  it("a pending file below the highest applied version is out of order; one above it is pending", () => {
    const files = [file(1n, "create a", A), file(2n, "create b", B), file(3n, "create c", C), file(4n, "d", "--\n")]
    const e = evaluate(files, [row(1n, "create a", A), row(3n, "create c", C)], none)
    expect(states(e)).toEqual([
      [1n, "applied"],
      [2n, "out-of-order"],
      [3n, "applied"],
      [4n, "pending"]
    ])
    expect(e.pending.map((m) => m.version)).toEqual([2n, 4n])
    expect(e.outOfOrder).toEqual([2n])
    expect(e.latestApplied).toEqual(Option.some(3n))
    expect(e.refusals).toEqual([])
  })

  it("a changed file is refused with a ChecksumMismatch naming both checksums", () => {
    const edited = A + "-- edited\n"
    const e = evaluate([file(1n, "create a", edited)], [row(1n, "create a", A)], none)
    expect(states(e)).toEqual([[1n, "changed-refused"]])
    expect(e.refusals).toHaveLength(1)
    const error = e.refusals[0]!
    expect(error._tag).toBe("ChecksumMismatch")
    expect(error).toMatchObject({
      version: 1n,
      description: "create a",
      fileChecksum: toHex(checksum(utf8(edited))),
      appliedChecksum: toHex(checksum(utf8(A)))
    })
    expect(e.acceptedChanges).toEqual([])
  })

  it("a changed file whose stored prefix is listed (any case) is accepted; an entry for another version is not", () => {
    const files = [file(1n, "create a", A + "-- edited\n")]
    const rows = [row(1n, "create a", A)]
    const accepted = evaluate(files, rows, {
      ...none,
      allowedAlternateChecksums: [{ version: 1n, prefix: prefixOf(A).toUpperCase() }]
    })
    expect(states(accepted)).toEqual([[1n, "changed-accepted"]])
    expect(accepted.acceptedChanges).toEqual([1n])
    expect(accepted.refusals).toEqual([])

    const otherVersion = evaluate(files, rows, {
      ...none,
      allowedAlternateChecksums: [{ version: 2n, prefix: prefixOf(A) }]
    })
    expect(states(otherVersion)).toEqual([[1n, "changed-refused"]])
    expect(tags(otherVersion)).toEqual([["ChecksumMismatch", 1n]])
    // the prefix is of the applied text, not of the new file
    const newPrefix = evaluate(files, rows, {
      ...none,
      allowedAlternateChecksums: [{ version: 1n, prefix: prefixOf(A + "-- edited\n") }]
    })
    expect(tags(newPrefix)).toEqual([["ChecksumMismatch", 1n]])
  })

  it("an applied version without a file is missing, or missing-allowed when listed; neither is refused", () => {
    const rows = [row(1n, "create a", A), row(2n, "create b", B)]
    const missing = evaluate([file(1n, "create a", A)], rows, none)
    expect(states(missing)).toEqual([
      [1n, "applied"],
      [2n, "missing"]
    ])
    expect(missing.unknown).toEqual([{ version: 2n, description: "create b", allowed: false }])
    expect(missing.refusals).toEqual([])
    expect(missing.statuses[1]!.fileChecksum).toEqual(Option.none())

    const allowed = evaluate([file(1n, "create a", A)], rows, { ...none, allowedMissing: [2n] })
    expect(states(allowed)).toEqual([
      [1n, "applied"],
      [2n, "missing-allowed"]
    ])
    expect(allowed.unknown).toEqual([{ version: 2n, description: "create b", allowed: true }])
  })

  it("a success = false row is dirty and refused, whether its file is unchanged, changed or gone", () => {
    const files = [file(1n, "create a", A), file(2n, "create b", B + "-- edited\n")]
    const rows = [
      row(1n, "create a", A, { success: false }),
      row(2n, "create b", B, { success: false }),
      row(3n, "create c", C, { success: false })
    ]
    const e = evaluate(files, rows, { ...none, allowedMissing: [3n] })
    expect(states(e)).toEqual([
      [1n, "dirty"],
      [2n, "dirty"],
      [3n, "dirty"]
    ])
    expect(tags(e)).toEqual([
      ["DirtyMigration", 1n],
      ["DirtyMigration", 2n],
      ["DirtyMigration", 3n]
    ])
    expect(e.refusals[2]).toMatchObject({ description: "create c" })
    expect(e.unknown).toEqual([])
  })

  it("a stored checksum shorter than 16 bytes is refused even if an entry is listed for the version", () => {
    const short = new Uint8Array([1, 2])
    const e = evaluate([file(1n, "create a", A)], [row(1n, "create a", short)], {
      ...none,
      allowedAlternateChecksums: [{ version: 1n, prefix: "0102" }]
    })
    expect(states(e)).toEqual([[1n, "changed-refused"]])
    expect(e.refusals).toHaveLength(1)
    expect(e.refusals[0]!._tag).toBe("StoredChecksumTooShort")
    expect(e.refusals[0]).toMatchObject({ version: 1n, appliedChecksum: "0102" })
    expect(e.acceptedChanges).toEqual([])
  })
})

const hexOf = (text: string) => toHex(checksum(utf8(text)))

describe("historyRefusal", () => {
  it("nothing refused: none; tolerated states (missing, accepted, out of order) refuse nothing", () => {
    const files = [file(1n, "create a", A + "--\n"), file(2n, "create b", B)]
    const rows = [row(1n, "create a", A), row(3n, "create c", C)]
    const e = evaluate(files, rows, { ...none, allowedAlternateChecksums: [{ version: 1n, prefix: prefixOf(A) }] })
    expect(states(e)).toEqual([
      [1n, "changed-accepted"],
      [2n, "out-of-order"],
      [3n, "missing"]
    ])
    expect(historyRefusal(e)).toEqual(Option.none())
  })

  it("one refusal is raised as itself, so its tag and fields stay those of its kind", () => {
    const e = evaluate([file(1n, "create a", A + "--\n")], [row(1n, "create a", A)], none)
    const refused = Option.getOrThrow(historyRefusal(e))
    expect(refused).toBe(e.refusals[0])
    expect(refused._tag).toBe("ChecksumMismatch")
  })

  it("two changed files and a dirty row: all three in one MigrationHistoryRefused, one line each", () => {
    const editedA = A + "-- edited\n"
    const editedC = C + "-- edited too\n"
    const files = [file(1n, "create a", editedA), file(2n, "create b", B), file(3n, "create c", editedC)]
    const rows = [row(1n, "create a", A), row(2n, "create b", B, { success: false }), row(3n, "create c", C)]
    const e = evaluate(files, rows, none)
    expect(states(e)).toEqual([
      [1n, "changed-refused"],
      [2n, "dirty"],
      [3n, "changed-refused"]
    ])
    // dirty rows first: they need repair by hand before anything else
    expect(tags(e)).toEqual([
      ["DirtyMigration", 2n],
      ["ChecksumMismatch", 1n],
      ["ChecksumMismatch", 3n]
    ])

    const refused = Option.getOrThrow(historyRefusal(e))
    expect(refused._tag).toBe("MigrationHistoryRefused")
    if (refused._tag !== "MigrationHistoryRefused") return
    expect(refused.refusals.map((r) => [r._tag, r.version])).toEqual(tags(e))
    const lines = refused.message.split("\n")
    expect(lines).toHaveLength(4)
    expect(lines[0]).toBe("3 applied migrations are refused:")
    expect(lines[1]).toContain("migration 2 (create b) is recorded as failed")
    expect(lines[2]).toContain("migration 1 (create a)")
    expect(lines[2]).toContain(hexOf(A))
    expect(lines[2]).toContain(hexOf(editedA))
    expect(lines[3]).toContain("migration 3 (create c)")
    expect(lines[3]).toContain(hexOf(C))
    expect(lines[3]).toContain(hexOf(editedC))
  })

  it("a too-short stored checksum is listed with the others", () => {
    const files = [file(1n, "create a", A), file(2n, "create b", B + "--\n")]
    const rows = [row(1n, "create a", new Uint8Array([1, 2])), row(2n, "create b", B)]
    const refused = Option.getOrThrow(historyRefusal(evaluate(files, rows, none)))
    expect(refused._tag).toBe("MigrationHistoryRefused")
    if (refused._tag !== "MigrationHistoryRefused") return
    expect(refused.refusals.map((r) => [r._tag, r.version])).toEqual([
      ["StoredChecksumTooShort", 1n],
      ["ChecksumMismatch", 2n]
    ])
    expect(refused.message.split("\n")[1]).toContain("applied migration 1 has a stored checksum of 2 bytes (0102)")
  })
})
