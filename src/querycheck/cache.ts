// The committed query cache: one deterministic JSON file per declared query (a dynamic one holds each of its combinations), the migration fingerprint, and the generated row types.
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { join } from "node:path"
import { Effect, Either, ParseResult, Schema } from "effect"
import { loadMigrations, type Migration, type MigrationSourceError, toHex } from "../migrate/MigrationSource.js"
import { packageRoot, shippedMigrationsDir } from "../paths.js"
import type { Description } from "./describe.js"
import { driverType, tsTypeOf } from "./pgTypes.js"

/** Where the committed cache lives (source tree, not dist: the check reads it from the checkout). */
export const defaultCacheDir: string = join(packageRoot, "src", "querycheck", "cache")

/** The generated row types beside the JSON files. */
export const typesFileName = "types.ts"

const TypeFields = {
  type: Schema.String,
  kind: Schema.Literal("base", "enum", "composite", "range", "multirange", "pseudo")
}

/** A parameter as the statement's describe saw it, with the uses the null check reads (absent in entries prepared before it). */
export const ParamEntry = Schema.Struct({
  ...TypeFields,
  comparedWithEquals: Schema.optional(Schema.String),
  notNullTarget: Schema.optional(Schema.String)
})

/** A result column, with why it is (not) nullable. */
export const ColumnEntry = Schema.Struct({
  name: Schema.String,
  ...TypeFields,
  nullable: Schema.Boolean,
  reason: Schema.String
})

const Migrations = Schema.Struct({ fingerprint: Schema.String, count: Schema.Number, latest: Schema.String })

/** What a described statement records: its text (and hash, which the check compares), parameters and columns. */
const StatementFields = {
  text: Schema.String,
  textSha256: Schema.String,
  params: Schema.Array(ParamEntry),
  columns: Schema.Array(ColumnEntry)
}

/** A static query's file. */
export const CacheEntry = Schema.Struct({
  name: Schema.String,
  migrations: Migrations,
  ...StatementFields
})
export type CacheEntry = typeof CacheEntry.Type

/** One combination of a dynamic query, as `prepare` described it. */
export const CachedCombination = Schema.Struct({
  criteria: Schema.String,
  pagination: Schema.optional(Schema.String),
  ...StatementFields
})
export type CachedCombination = typeof CachedCombination.Type

/** A dynamic query's file: every combination the declaration enumerates. */
export const DynamicCacheEntry = Schema.Struct({
  name: Schema.String,
  kind: Schema.Literal("dynamic"),
  migrations: Migrations,
  combinations: Schema.Array(CachedCombination)
})
export type DynamicCacheEntry = typeof DynamicCacheEntry.Type

export const AnyCacheEntry = Schema.Union(DynamicCacheEntry, CacheEntry)
export type AnyCacheEntry = typeof AnyCacheEntry.Type

export const isDynamicEntry = (entry: AnyCacheEntry): entry is DynamicCacheEntry => "kind" in entry

export interface MigrationFingerprint {
  /** sha256 over `<version>:<sha384 hex>` lines, in version order. */
  readonly fingerprint: string
  readonly count: number
  /** The highest version, or "" when there are no migrations. */
  readonly latest: string
}

export const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

export const fingerprintOf = (migrations: ReadonlyArray<Migration>): MigrationFingerprint => ({
  fingerprint: sha256(migrations.map((m) => `${m.version}:${toHex(m.checksum)}\n`).join("")),
  count: migrations.length,
  latest: migrations.length === 0 ? "" : String(migrations[migrations.length - 1]!.version)
})

/** The fingerprint of the migrations in `dir` (default: the shipped ones). */
export const migrationFingerprint = (
  dir: string = shippedMigrationsDir
): Effect.Effect<MigrationFingerprint, MigrationSourceError> => Effect.map(loadMigrations(dir), fingerprintOf)

/** The described facts of one statement, as both kinds of entry record them. */
const statementOf = (text: string, description: Description) => ({
  text,
  textSha256: sha256(text),
  params: description.params.map((p) => ({
    type: p.type,
    kind: p.kind,
    ...(p.comparedWithEquals === undefined ? {} : { comparedWithEquals: p.comparedWithEquals }),
    ...(p.notNullTarget === undefined ? {} : { notNullTarget: p.notNullTarget })
  })),
  columns: description.columns.map((c) => ({
    name: c.name,
    type: c.type,
    kind: c.kind,
    nullable: c.nullable,
    reason: c.reason
  }))
})

export const entryOf = (
  name: string,
  text: string,
  migrations: MigrationFingerprint,
  description: Description
): CacheEntry => ({ name, migrations, ...statementOf(text, description) })

export const dynamicEntryOf = (
  name: string,
  migrations: MigrationFingerprint,
  combinations: ReadonlyArray<{
    readonly criteria: string
    readonly pagination?: string | undefined
    readonly text: string
    readonly description: Description
  }>
): DynamicCacheEntry => ({
  name,
  kind: "dynamic",
  migrations,
  combinations: combinations.map((c) => ({
    criteria: c.criteria,
    ...(c.pagination === undefined ? {} : { pagination: c.pagination }),
    ...statementOf(c.text, c.description)
  }))
})

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])])
    )
  }
  return value
}

/** Sorted keys, two-space indentation, final newline: a change to one query is a small diff. */
export const stableJson = (value: unknown): string => `${JSON.stringify(sortKeys(value), null, 2)}\n`

export const cacheFileName = (queryName: string): string => `${queryName}.json`

export class CacheReadError extends Schema.TaggedError<CacheReadError>()("CacheReadError", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `cannot read the query cache at ${this.path}: ${this.detail}`
  }
}

export class CacheWriteError extends Schema.TaggedError<CacheWriteError>()("CacheWriteError", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `cannot write the query cache at ${this.path}: ${this.detail}`
  }
}

/** One file of the cache folder: decoded, or why it could not be. */
export type CacheFile =
  | { readonly _tag: "Entry"; readonly file: string; readonly entry: AnyCacheEntry }
  | { readonly _tag: "Invalid"; readonly file: string; readonly detail: string }

const decodeEntry = Schema.decodeUnknownEither(Schema.parseJson(AnyCacheEntry))

/** Every `*.json` file of the folder (a missing folder is an empty cache). Synchronous reads: a few hundred small files. */
export const readCache = (dir: string): Effect.Effect<ReadonlyArray<CacheFile>, CacheReadError> =>
  Effect.gen(function* () {
    const names = yield* Effect.try({
      try: () =>
        fs.existsSync(dir)
          ? fs
              .readdirSync(dir)
              .filter((f) => f.endsWith(".json"))
              .sort()
          : [],
      catch: (cause) => new CacheReadError({ path: dir, detail: String(cause) })
    })
    return yield* Effect.forEach(names, (file) =>
      Effect.try({
        try: (): CacheFile => {
          const decoded = decodeEntry(fs.readFileSync(join(dir, file), "utf8"))
          return Either.isRight(decoded)
            ? { _tag: "Entry", file, entry: decoded.right }
            : { _tag: "Invalid", file, detail: ParseResult.TreeFormatter.formatErrorSync(decoded.left) }
        },
        catch: (cause) => new CacheReadError({ path: join(dir, file), detail: String(cause) })
      })
    )
  })

/** The generated `types.ts`: the driver-side row type of every cached query, for the compile-time check in `staticQuery`. */
export const typesModule = (entries: ReadonlyArray<CacheEntry>): string => {
  const lines = [
    "// Generated by `npm run query:prepare` from the query cache: the row each query returns, as node-postgres decodes it. Do not edit.",
    "",
    "/* eslint-disable */",
    "export interface CachedRows {"
  ]
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.columns.length === 0) {
      lines.push(`  ${JSON.stringify(entry.name)}: {}`)
      continue
    }
    lines.push(`  ${JSON.stringify(entry.name)}: {`)
    for (const column of entry.columns) {
      const ts = tsTypeOf(driverType(column))
      lines.push(`    readonly ${JSON.stringify(column.name)}: ${column.nullable ? `${ts} | null` : ts}`)
    }
    lines.push("  }")
  }
  lines.push("}", "")
  return lines.join("\n")
}

/** The files `prepare` would write: `<name>.json` per entry and `types.ts`. */
export const cacheContents = (entries: ReadonlyArray<AnyCacheEntry>): ReadonlyMap<string, string> => {
  const files = new Map<string, string>()
  for (const entry of entries) files.set(cacheFileName(entry.name), stableJson(entry))
  // the compile-time row check is for static queries; dynamic ones are checked by the offline check alone
  files.set(typesFileName, typesModule(entries.filter((e): e is CacheEntry => !isDynamicEntry(e))))
  return files
}

/** Writes the cache folder: exactly the given files, removing any other `*.json` (queries no longer declared). */
export const writeCache = (dir: string, files: ReadonlyMap<string, string>): Effect.Effect<void, CacheWriteError> =>
  Effect.try({
    try: () => {
      fs.mkdirSync(dir, { recursive: true })
      for (const existing of fs.readdirSync(dir)) {
        if (existing.endsWith(".json") && !files.has(existing)) fs.rmSync(join(dir, existing))
      }
      for (const [file, content] of files) {
        const path = join(dir, file)
        // unchanged files keep their mtime, so watchers and tsc incremental builds stay quiet
        if (fs.existsSync(path) && fs.readFileSync(path, "utf8") === content) continue
        fs.writeFileSync(path, content)
      }
    },
    catch: (cause) => new CacheWriteError({ path: dir, detail: String(cause) })
  })

/** The differences between the folder and the files `prepare` would write (for `prepare --check`). */
export const diffCache = (
  dir: string,
  files: ReadonlyMap<string, string>
): Effect.Effect<ReadonlyArray<string>, CacheReadError> =>
  Effect.try({
    try: () => {
      const differences: Array<string> = []
      const present = fs.existsSync(dir)
        ? fs.readdirSync(dir).filter((f) => f.endsWith(".json") || f === typesFileName)
        : []
      for (const [file, content] of files) {
        const path = join(dir, file)
        if (!fs.existsSync(path)) differences.push(`${file}: missing from the committed cache`)
        else if (fs.readFileSync(path, "utf8") !== content) differences.push(`${file}: differs from a fresh describe`)
      }
      for (const file of present) if (!files.has(file)) differences.push(`${file}: belongs to no declared query`)
      return differences.sort()
    },
    catch: (cause) => new CacheReadError({ path: dir, detail: String(cause) })
  })
