// The locale a database folds case with: the UTF-8 ctype chosen for embedded clusters, and the startup check of any server.
import { execFile } from "node:child_process"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Schema } from "effect"

/**
 * The repositories compare usernames and email addresses with `LOWER()` and do the same in memory with Unicode case
 * mapping. That agrees only when the database maps case with a Unicode table: UTF-8 encoding and a UTF-8 ctype (or an
 * ICU or builtin Unicode locale), and not a Turkic one, whose dotted and dotless i map differently.
 */
export interface DatabaseLocale {
  readonly database: string
  readonly encoding: string
  readonly collate: string
  readonly ctype: string
  /** `libc`, `icu` or `builtin` (PostgreSQL 15 added the choice; older servers are libc). */
  readonly provider: "libc" | "icu" | "builtin"
  /** The ICU or builtin locale, when the provider is not libc. */
  readonly providerLocale: Option.Option<string>
}

export interface LocaleProblem {
  /** The setting at fault, as PostgreSQL names it. */
  readonly setting: "server_encoding" | "lc_ctype" | "icu_locale" | "builtin_locale"
  readonly value: string
  readonly reason: string
}

const isUtf8Codeset = (locale: string) => /\.utf-?8(@|$)/i.test(locale)
export const isCOrPosix = (locale: string) => /^(c|posix)$/i.test(locale)
/** Turkish and Azerbaijani map I to ı and İ to i, so `LOWER()` disagrees with the default Unicode mapping. */
const isTurkic = (locale: string) => /^(tr|az)([-_.@]|$)/i.test(locale)

/** What keeps this database from folding case as the repositories assume; empty when nothing does. */
export const localeProblems = (locale: DatabaseLocale): ReadonlyArray<LocaleProblem> => {
  const problems: Array<LocaleProblem> = []
  if (locale.encoding.toUpperCase() !== "UTF8") {
    problems.push({
      setting: "server_encoding",
      value: locale.encoding,
      reason:
        "text is not stored as UTF-8, so characters outside the encoding cannot be stored and LOWER() does not fold them"
    })
  }
  if (locale.provider === "libc") {
    if (isCOrPosix(locale.ctype)) {
      problems.push({
        setting: "lc_ctype",
        value: locale.ctype,
        reason: "LOWER() folds ASCII letters only, so 'ÉLODIE' does not match 'élodie'"
      })
    } else if (isTurkic(locale.ctype)) {
      problems.push({
        setting: "lc_ctype",
        value: locale.ctype,
        reason: "a Turkic locale lowers 'I' to dotless 'ı', unlike the Unicode default mapping"
      })
    }
  } else {
    const value = Option.getOrElse(locale.providerLocale, () => "")
    const setting = locale.provider === "icu" ? "icu_locale" : "builtin_locale"
    if (locale.provider === "builtin" && isCOrPosix(value)) {
      problems.push({ setting, value, reason: "the builtin C locale folds ASCII letters only" })
    } else if (isTurkic(value)) {
      problems.push({
        setting,
        value,
        reason: "a Turkic locale lowers 'I' to dotless 'ı', unlike the Unicode default mapping"
      })
    }
  }
  return problems
}

export const describeLocale = (locale: DatabaseLocale): string =>
  `encoding ${locale.encoding}, lc_collate ${locale.collate}, lc_ctype ${locale.ctype}` +
  (locale.provider === "libc"
    ? ""
    : `, ${locale.provider} locale ${Option.getOrElse(locale.providerLocale, () => "(none)")}`)

// ---------------------------------------------------------------------------------------------------------------
// Reading a server's settings

const PgDatabaseRow = Schema.Struct({
  datname: Schema.String,
  encoding: Schema.String,
  datcollate: Schema.String,
  datctype: Schema.String,
  // 'c' libc, 'i' icu, 'b' builtin; absent before PostgreSQL 15.
  datlocprovider: Schema.optional(Schema.NullOr(Schema.String)),
  // PostgreSQL 15 and 16 name the ICU locale daticulocale; 17 renamed it datlocale.
  daticulocale: Schema.optional(Schema.NullOr(Schema.String)),
  datlocale: Schema.optional(Schema.NullOr(Schema.String))
})

const providers = { c: "libc", i: "icu", b: "builtin" } as const

export class LocaleReadError extends Schema.TaggedError<LocaleReadError>()("LocaleReadError", {
  database: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `cannot read the locale of database ${this.database}: ${String(this.cause)}`
  }
}

/**
 * The locale of database `name` (default: the one the client is connected to). The row is read as JSON because the
 * catalog's columns differ between PostgreSQL versions.
 */
export const readDatabaseLocale = (name?: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ readonly row: string }>(
      `SELECT (to_jsonb(d) || jsonb_build_object('encoding', pg_encoding_to_char(d.encoding)))::text AS row
         FROM pg_database d WHERE d.datname = coalesce($1, current_database())`,
      [name ?? null]
    )
    const database = name ?? "(current)"
    if (rows.length === 0) return yield* new LocaleReadError({ database, cause: "no such database" })
    const row = yield* Schema.decodeUnknown(Schema.parseJson(PgDatabaseRow))(rows[0]!.row).pipe(
      Effect.mapError((cause) => new LocaleReadError({ database, cause }))
    )
    const provider = providers[(row.datlocprovider ?? "c") as keyof typeof providers] ?? "libc"
    return {
      database: row.datname,
      encoding: row.encoding,
      collate: row.datcollate,
      ctype: row.datctype,
      provider,
      providerLocale: Option.fromNullable(row.datlocale ?? row.daticulocale ?? null)
    } satisfies DatabaseLocale
  }).pipe(
    Effect.catchTag("SqlError", (cause: SqlError) => new LocaleReadError({ database: name ?? "(current)", cause }))
  )

// ---------------------------------------------------------------------------------------------------------------
// The startup check

export class ServerLocaleRefused extends Schema.TaggedError<ServerLocaleRefused>()("ServerLocaleRefused", {
  database: Schema.String,
  settings: Schema.String,
  problems: Schema.Array(Schema.Struct({ setting: Schema.String, value: Schema.String, reason: Schema.String }))
}) {
  override get message() {
    return (
      `database ${this.database} cannot fold case as the repositories assume (${this.settings}):\n` +
      this.problems.map((p) => `  ${p.setting} = ${p.value}: ${p.reason}`).join("\n") +
      `\nCreate the database with ENCODING 'UTF8' and a UTF-8 LC_CTYPE (e.g. CREATE DATABASE … TEMPLATE template0 ` +
      `ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'), or pass --accept-server-locale to start anyway with a warning.`
    )
  }
}

/**
 * Checks the connected database's locale: logs it, and refuses (or, with `accept`, warns) when case-insensitive
 * lookups would answer differently from the in-memory backend and from a standard server.
 */
export const checkServerLocale = (options: { readonly accept: boolean }) =>
  Effect.gen(function* () {
    const locale = yield* readDatabaseLocale()
    const problems = localeProblems(locale)
    const settings = describeLocale(locale)
    if (problems.length === 0) {
      yield* Effect.logDebug(`database ${locale.database}: ${settings}`)
      return locale
    }
    if (!options.accept) {
      return yield* new ServerLocaleRefused({ database: locale.database, settings, problems })
    }
    for (const p of problems) {
      yield* Effect.logWarning(
        `database ${locale.database}: ${p.setting} = ${p.value}: ${p.reason} (accepted with --accept-server-locale)`
      )
    }
    return locale
  })

// ---------------------------------------------------------------------------------------------------------------
// The ctype of embedded clusters

/** Tried in order: C.UTF-8 (glibc ≥ 2.35, Debian, Alpine's musl), then en_US.UTF-8 (macOS, older distributions). */
export const ctypeCandidates: ReadonlyArray<string> = ["C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8"]

const normalizeLocaleName = (name: string) => name.toLowerCase().replace(/utf-8/, "utf8")

/**
 * The first candidate among the installed locales (as `locale -a` lists them), else any installed UTF-8 locale that
 * is not Turkic; none when the list has no UTF-8 locale at all.
 */
export const pickCtype = (installed: ReadonlyArray<string>): Option.Option<string> => {
  const names = new Set(installed.map(normalizeLocaleName))
  const candidate = ctypeCandidates.find((c) => names.has(normalizeLocaleName(c)))
  if (candidate !== undefined) return Option.some(candidate)
  return Option.fromNullable(installed.find((l) => isUtf8Codeset(l) && !isTurkic(l)))
}

export class NoUtf8Locale extends Schema.TaggedError<NoUtf8Locale>()("NoUtf8Locale", {
  installed: Schema.Array(Schema.String)
}) {
  override get message() {
    return (
      `no UTF-8 locale is installed (locale -a lists ${this.installed.join(", ") || "nothing"}), so the embedded ` +
      `PostgreSQL cannot fold non-ASCII case: install one (e.g. the C.UTF-8 locale of your C library), set ` +
      `MAS_EMBEDDED_LC_CTYPE to an installed UTF-8 locale, or set DATABASE_URL`
    )
  }
}

const installedLocales = Effect.async<ReadonlyArray<string> | undefined>((resume) => {
  execFile("locale", ["-a"], { timeout: 5_000, env: { ...process.env, LC_ALL: "C" } }, (error, stdout) =>
    resume(
      Effect.succeed(
        error
          ? undefined
          : stdout
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => l.length > 0)
      )
    )
  )
})

/**
 * The lc_ctype for new embedded clusters: `MAS_EMBEDDED_LC_CTYPE` when set, else the first installed candidate.
 * Where `locale -a` is missing the first candidate is used and initdb reports it if the system lacks it.
 */
const chooseCtype = Effect.gen(function* () {
  const override = process.env.MAS_EMBEDDED_LC_CTYPE?.trim()
  if (override) {
    yield* Effect.logInfo(`embedded PostgreSQL: lc_ctype ${override} (from MAS_EMBEDDED_LC_CTYPE)`)
    return override
  }
  const installed = yield* installedLocales
  if (installed === undefined) {
    const first = ctypeCandidates[0]!
    yield* Effect.logInfo(`embedded PostgreSQL: lc_ctype ${first} (locale -a is not available to check it)`)
    return first
  }
  const chosen = pickCtype(installed)
  if (Option.isNone(chosen)) return yield* new NoUtf8Locale({ installed })
  yield* Effect.logInfo(`embedded PostgreSQL: UTF-8 encoding, lc_collate C, lc_ctype ${chosen.value}`)
  return chosen.value
})

/** Chosen once per process (and logged once); every embedded cluster this process creates uses it. */
export const embeddedCtype: Effect.Effect<string, NoUtf8Locale> = Effect.runSync(Effect.cached(chooseCtype))
