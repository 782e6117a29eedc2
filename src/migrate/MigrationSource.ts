// Migration files → Migration records: sqlx's name rules, SHA-384 checksums, the no-transaction lint, a read cache, `add`.
import { Clock, Effect, Either } from "effect"
import { createHash } from "node:crypto"
import { type BigIntStats, readFileSync, statSync } from "node:fs"
import * as fs from "node:fs/promises"
import { join } from "node:path"
import {
  DuplicateMigrationVersion,
  InvalidMigrationDescription,
  MigrationByteOrderMark,
  InvalidMigrationName,
  MigrationReadError,
  type MigrationSourceError,
  MigrationWriteError,
  NoTransactionLintError
} from "./errors.js"
import { splitStatements } from "./StatementSplitter.js"

export {
  DuplicateMigrationVersion,
  InvalidMigrationDescription,
  InvalidMigrationName,
  MigrationReadError,
  type MigrationSourceError,
  MigrationWriteError,
  NoTransactionLintError
} from "./errors.js"

export interface Migration {
  readonly version: bigint
  readonly description: string
  readonly path: string
  readonly sql: string
  /** SHA-384 of the exact file bytes, 48 bytes. */
  readonly checksum: Uint8Array
  readonly noTransaction: boolean
}

/** SHA-384 of the exact bytes: no line-ending or BOM normalisation, so it matches sqlx and MAS. */
export const checksum = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash("sha384").update(bytes).digest())

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

const NO_TRANSACTION_MARKER = new TextEncoder().encode("-- no-transaction")

/** sqlx looks at the file's first bytes only: no BOM or leading whitespace allowed before the marker. */
export const isNoTransaction = (bytes: Uint8Array): boolean =>
  bytes.length >= NO_TRANSACTION_MARKER.length && NO_TRANSACTION_MARKER.every((b, i) => bytes[i] === b)

const MAX_BIGINT = (1n << 63n) - 1n

/** `<VERSION>_<description>.sql` → version and description (`_` → space), or why the name is refused. */
export const parseMigrationFileName = (
  fileName: string
): Either.Either<{ readonly version: bigint; readonly description: string }, string> => {
  if (!fileName.endsWith(".sql")) return Either.left("the name does not end with .sql")
  if (/\.(up|down)\.sql$/.test(fileName))
    return Either.left("reversible (.up.sql/.down.sql) migrations are not supported")
  const separator = fileName.indexOf("_")
  if (separator === -1) return Either.left("expected <VERSION>_<description>.sql")
  const versionText = fileName.slice(0, separator)
  if (!/^[0-9]+$/.test(versionText)) {
    return Either.left(`the version ${JSON.stringify(versionText)} is not an integer`)
  }
  const version = BigInt(versionText)
  if (version > MAX_BIGINT) return Either.left(`the version ${versionText} does not fit a BIGINT`)
  const description = fileName.slice(separator + 1, -".sql".length).replaceAll("_", " ")
  return Either.right({ version, description })
}

const causeText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

// One decoder for every file; ignoreBOM keeps a BOM in the text: the file runs exactly as written, as with sqlx.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

// The files as last read, per directory and name, each with the stat it was read under: a repeated load (startup
// runs, then validates and prints info; a long-lived process validates again) stats the files instead of re-reading
// and re-hashing them. A few directories at most, so temporary folders cannot pile up.
interface ReadFile {
  readonly stats: BigIntStats
  readonly migration: Migration
  /** Changed long enough before it was read that a later write must show in its stats. */
  readonly settled: boolean
}
const readFiles = new Map<string, ReadonlyMap<string, ReadFile>>()
const CACHED_DIRECTORIES = 8

const remember = (dir: string, files: ReadonlyMap<string, ReadFile>) => {
  readFiles.delete(dir)
  readFiles.set(dir, files)
  if (readFiles.size > CACHED_DIRECTORIES) readFiles.delete(readFiles.keys().next().value!)
}

// ctime cannot be set from user space (utimes, cp -p and rsync -t set it to now), and device plus inode tell a
// replaced file or a retargeted symlink from the old one.
const unchanged = (a: BigIntStats, b: BigIntStats) =>
  a.ctimeNs === b.ctimeNs && a.mtimeNs === b.mtimeNs && a.size === b.size && a.ino === b.ino && a.dev === b.dev

// Timestamps come from a clock that ticks every few milliseconds (whole seconds on some filesystems), so two writes
// of the same size within one tick leave the same stats: a file is trusted from the cache only if it was read when
// its last change was safely older than a tick (100 ms; 2 s for whole-second timestamps), as git treats racily clean
// index entries.
const settledBy = (s: BigIntStats, readStartedNs: bigint) => {
  const changedNs = s.ctimeNs > s.mtimeNs ? s.ctimeNs : s.mtimeNs
  const tickNs = changedNs % 1_000_000_000n === 0n ? 2_000_000_000n : 100_000_000n
  return changedNs + tickNs < readStartedNs
}

// Synchronous on purpose: startup validation reads every file, and for a thousand small files a plain loop of
// blocking reads costs a few milliseconds where one promise (and one fiber) per file costs tens (bench/, case c).
// The stat comes before the read, so a write in between leaves older stats, which the next load sees as a change.
const readOne = (
  path: string,
  version: bigint,
  description: string,
  previous: ReadFile | undefined,
  readStartedNs: bigint
): Either.Either<ReadFile, MigrationReadError | NoTransactionLintError> => {
  let bytes: Buffer
  let stats: BigIntStats
  try {
    stats = statSync(path, { bigint: true })
    if (previous !== undefined && unchanged(previous.stats, stats)) return Either.right(previous)
    bytes = readFileSync(path)
  } catch (cause) {
    return Either.left(new MigrationReadError({ path, cause: causeText(cause) }))
  }
  let sql: string
  try {
    sql = utf8.decode(bytes)
  } catch {
    return Either.left(new MigrationReadError({ path, cause: "the file is not valid UTF-8" }))
  }
  const noTransaction = isNoTransaction(bytes)
  if (noTransaction) {
    const statementCount = splitStatements(sql).length
    if (statementCount !== 1) return Either.left(new NoTransactionLintError({ path, statementCount }))
  }
  return Either.right({
    stats,
    migration: { version, description, path, sql, checksum: checksum(bytes), noTransaction },
    settled: settledBy(stats, readStartedNs)
  })
}

/**
 * Every `*.sql` file of `dir`, sorted by version. All names are checked (integer version, no duplicates) and every
 * `-- no-transaction` file linted before anything is returned, so a bad folder fails before touching a database.
 * Other files (README, .gitkeep) are ignored. A file unchanged since an earlier load of `dir` in this process (same
 * name, device, inode, size, mtime and ctime) is not read again.
 */
export const loadMigrations = (dir: string): Effect.Effect<ReadonlyArray<Migration>, MigrationSourceError> =>
  Effect.gen(function* () {
    // the wall clock, not the Clock service: it is compared with the filesystem's timestamps
    const readStartedNs = BigInt(Date.now()) * 1_000_000n
    // asynchronous unlike the rest: while the listing is read, Migrator's history query gets sent
    const entries = yield* Effect.tryPromise({
      try: () => fs.readdir(dir, { withFileTypes: true }),
      catch: (cause) => new MigrationReadError({ path: dir, cause: causeText(cause) })
    })
    const names = entries
      .filter((e) => e.name.endsWith(".sql") && (e.isFile() || e.isSymbolicLink()))
      .map((e) => e.name)
      .sort()
    const previous = readFiles.get(dir)
    const parsed: Array<{ version: bigint; description: string; path: string; name: string; known?: ReadFile }> = []
    for (const name of names) {
      // a name read before was parsed then
      const known = previous?.get(name)
      if (known !== undefined) {
        const { version, description, path } = known.migration
        parsed.push({ version, description, path, name, known })
        continue
      }
      const path = join(dir, name)
      const result = parseMigrationFileName(name)
      if (Either.isLeft(result)) return yield* new InvalidMigrationName({ path, reason: result.left })
      parsed.push({ version: result.right.version, description: result.right.description, path, name })
    }
    parsed.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0))
    for (let i = 1; i < parsed.length; i++) {
      if (parsed[i]!.version === parsed[i - 1]!.version) {
        const version = parsed[i]!.version
        const paths = parsed.filter((p) => p.version === version).map((p) => p.path)
        return yield* new DuplicateMigrationVersion({ version, paths })
      }
    }
    const read = new Map<string, ReadFile>()
    const migrations: Array<Migration> = []
    // a plain loop, not one yield per file: the fiber's step per file is a measurable part of a cached load
    for (const p of parsed) {
      const file = readOne(p.path, p.version, p.description, p.known, readStartedNs)
      if (Either.isLeft(file)) return yield* file.left
      if (file.right.settled) read.set(p.name, file.right)
      migrations.push(file.right.migration)
    }
    remember(dir, read)
    return migrations
  })

/**
 * Fails on the first migration whose text starts with a byte order mark. Loading keeps such files (their checksum
 * and `info` stay readable); the run refuses them before touching the database.
 */
export const refuseByteOrderMarks = (
  migrations: ReadonlyArray<Migration>
): Effect.Effect<void, MigrationByteOrderMark> => {
  const marked = migrations.find((m) => m.sql.startsWith("\ufeff"))
  return marked === undefined ? Effect.void : Effect.fail(new MigrationByteOrderMark({ path: marked.path }))
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** `YYYYMMDDhhmmss` in UTC, sqlx's version convention. */
export const timestampVersion = (millis: number): bigint => {
  const d = new Date(millis)
  return BigInt(
    `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
      `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
  )
}

const descriptionProblem = (description: string): string | undefined => {
  if (description.trim().length === 0) return "it is empty"
  if (description !== description.trim()) return "it has leading or trailing whitespace"
  if (description.includes("_")) return "it contains `_`, which the file name turns back into a space"
  if (/[/\\]/.test(description)) return "it contains a path separator"
  if (/[\u0000-\u001f\u007f]/.test(description)) return "it contains a control character"
  const back = parseMigrationFileName(`0_${description.replaceAll(" ", "_")}.sql`)
  if (Either.isLeft(back) || back.right.description !== description)
    return "it does not survive the file-name round trip"
  return undefined
}

/**
 * Creates `<YYYYMMDDhhmmss>_<description with spaces → _>.sql` in `dir` (made if missing), the version taken from
 * the Clock in UTC, and returns its path. Refuses a description that would read back differently and a version
 * already used by a file of `dir`.
 */
export const addMigration = (dir: string, description: string): Effect.Effect<string, MigrationSourceError> =>
  Effect.gen(function* () {
    const problem = descriptionProblem(description)
    if (problem !== undefined) return yield* new InvalidMigrationDescription({ description, reason: problem })
    const version = timestampVersion(yield* Clock.currentTimeMillis)
    const path = join(dir, `${version}_${description.replaceAll(" ", "_")}.sql`)
    yield* Effect.tryPromise({
      try: () => fs.mkdir(dir, { recursive: true }),
      catch: (cause) => new MigrationWriteError({ path: dir, cause: causeText(cause) })
    })
    const existing = yield* Effect.tryPromise({
      try: () => fs.readdir(dir),
      catch: (cause) => new MigrationReadError({ path: dir, cause: causeText(cause) })
    })
    const clashes = existing.filter((name) => name.endsWith(".sql") && name.startsWith(`${version}_`))
    if (clashes.length > 0) {
      return yield* new DuplicateMigrationVersion({ version, paths: [...clashes.map((n) => join(dir, n)), path] })
    }
    yield* Effect.tryPromise({
      // "wx": never overwrite a file that appeared in between
      try: () => fs.writeFile(path, `-- ${description}\n`, { flag: "wx" }),
      catch: (cause) => new MigrationWriteError({ path, cause: causeText(cause) })
    })
    return path
  })
