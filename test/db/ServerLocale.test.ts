// The locale check: which settings break case folding, the ctype chosen for embedded clusters, and the startup check on real databases.
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Option, Redacted } from "effect"
import { type DatabaseLocale, checkServerLocale, localeProblems, pickCtype } from "../../src/db/ServerLocale.js"
import { failureMessage, outcome, runCli } from "../cli/helpers.js"
import { adminClient, adminDatabaseUrl, scopedDatabase } from "../support/database.js"
import { query } from "./helpers.js"

const libc = (ctype: string, encoding = "UTF8"): DatabaseLocale => ({
  database: "d",
  encoding,
  collate: "C",
  ctype,
  provider: "libc",
  providerLocale: Option.none()
})

const settingsAtFault = (locale: DatabaseLocale) => localeProblems(locale).map((p) => `${p.setting}=${p.value}`)

describe("localeProblems", () => {
  it("accepts UTF-8 ctypes and Unicode ICU or builtin locales", () => {
    for (const ctype of ["C.UTF-8", "C.utf8", "en_US.UTF-8", "de_DE.utf8"])
      expect(settingsAtFault(libc(ctype))).toEqual([])
    expect(settingsAtFault({ ...libc("C"), provider: "icu", providerLocale: Option.some("und") })).toEqual([])
    expect(settingsAtFault({ ...libc("C"), provider: "builtin", providerLocale: Option.some("C.UTF-8") })).toEqual([])
  })

  it("names the ASCII-only ctypes, a non-UTF-8 encoding and the Turkic locales", () => {
    expect(settingsAtFault(libc("C"))).toEqual(["lc_ctype=C"])
    expect(settingsAtFault(libc("POSIX"))).toEqual(["lc_ctype=POSIX"])
    expect(settingsAtFault(libc("C", "SQL_ASCII"))).toEqual(["server_encoding=SQL_ASCII", "lc_ctype=C"])
    expect(settingsAtFault(libc("en_US", "LATIN1"))).toEqual(["server_encoding=LATIN1"])
    expect(settingsAtFault(libc("tr_TR.UTF-8"))).toEqual(["lc_ctype=tr_TR.UTF-8"])
    expect(settingsAtFault(libc("az_AZ.utf8"))).toEqual(["lc_ctype=az_AZ.utf8"])
    expect(settingsAtFault({ ...libc("C.UTF-8"), provider: "icu", providerLocale: Option.some("tr-TR") })).toEqual([
      "icu_locale=tr-TR"
    ])
    expect(settingsAtFault({ ...libc("C.UTF-8"), provider: "builtin", providerLocale: Option.some("C") })).toEqual([
      "builtin_locale=C"
    ])
  })
})

describe("pickCtype", () => {
  it("takes the first candidate installed, else any non-Turkic UTF-8 locale, else none", () => {
    // glibc (Debian) lists the normalised name; initdb accepts either spelling.
    expect(pickCtype(["C", "C.utf8", "POSIX"])).toEqual(Option.some("C.UTF-8"))
    // macOS has no C.UTF-8.
    expect(pickCtype(["C", "POSIX", "tr_TR.UTF-8", "en_US.UTF-8"])).toEqual(Option.some("en_US.UTF-8"))
    expect(pickCtype(["C", "tr_TR.utf8", "de_DE.utf8"])).toEqual(Option.some("de_DE.utf8"))
    expect(pickCtype(["C", "POSIX", "tr_TR.UTF-8"])).toEqual(Option.none())
    expect(pickCtype([])).toEqual(Option.none())
  })
})

/** A database made from template0 with the given locale clause, on the test server, dropped at scope end. */
const databaseWith = (clause: string) =>
  Effect.gen(function* () {
    // The admin client outlives the database: scope finalizers run in reverse order.
    const admin = yield* Layer.build(adminClient)
    const db = yield* scopedDatabase({ template: "template0", prefix: "locale", clause }).pipe(Effect.provide(admin))
    return db.url
  })

const captureWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning")
        warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const result = yield* effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    return [result, warnings] as const
  })

const checkOn = (url: string, accept: boolean) =>
  checkServerLocale({ accept }).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })),
    Effect.either,
    captureWarnings
  )

describe("checkServerLocale on real databases", () => {
  it.scoped("passes the test server's own database without a warning", () =>
    Effect.gen(function* () {
      const [result, warnings] = yield* checkOn(adminDatabaseUrl(), false)
      expect(result._tag).toBe("Right")
      expect(warnings).toEqual([])
    })
  )

  it.scoped("refuses a C-ctype database, naming the setting; with accept it warns and goes on", () =>
    Effect.gen(function* () {
      const url = yield* databaseWith("ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
      // What the check is about: this database does not fold non-ASCII case.
      expect(yield* query<{ l: string }>(url, "SELECT lower('ÉLODIE') AS l")).toEqual([{ l: "Élodie" }])
      const [refused] = yield* checkOn(url, false)
      expect(refused._tag).toBe("Left")
      if (refused._tag === "Left") {
        expect(refused.left._tag).toBe("ServerLocaleRefused")
        expect(refused.left.message).toContain("lc_ctype = C: LOWER() folds ASCII letters only")
        expect(refused.left.message).toContain("--accept-server-locale")
      }
      const [accepted, warnings] = yield* checkOn(url, true)
      expect(accepted._tag).toBe("Right")
      expect(warnings).toEqual([expect.stringContaining("lc_ctype = C: LOWER() folds ASCII letters only")])
    })
  )

  it.scoped("refuses a SQL_ASCII database, naming both settings", () =>
    Effect.gen(function* () {
      const url = yield* databaseWith("ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'")
      const [refused] = yield* checkOn(url, false)
      expect(
        refused._tag === "Left" && refused.left._tag === "ServerLocaleRefused"
          ? refused.left.problems.map((p) => p.setting)
          : []
      ).toEqual(["server_encoding", "lc_ctype"])
    })
  )

  it.scoped("refuses a database whose ICU locale is Turkish", () =>
    Effect.gen(function* () {
      // ICU needs a libc ctype beside it: the server's own, which the suite's server has made UTF-8.
      const [{ ctype }] = (yield* query<{ ctype: string }>(
        adminDatabaseUrl(),
        "SELECT current_setting('lc_ctype') AS ctype"
      )) as [{ ctype: string }]
      const url = yield* databaseWith(`LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LC_COLLATE 'C' LC_CTYPE '${ctype}'`)
      expect(yield* query<{ l: string }>(url, "SELECT lower('I') AS l")).toEqual([{ l: "ı" }])
      const [refused] = yield* checkOn(url, false)
      expect(refused._tag === "Left" ? refused.left.message : "").toContain("icu_locale = tr-TR")
    })
  )

  it.scoped("start refuses such a database before touching it, and --accept-server-locale starts with a warning", () =>
    Effect.gen(function* () {
      const url = yield* databaseWith("ENCODING 'UTF8' LC_COLLATE 'POSIX' LC_CTYPE 'POSIX'")
      const refused = yield* runCli("start", "--database-url", url)
      expect(outcome(refused)).toBe("ServerLocaleRefused")
      // PostgreSQL stores POSIX as C.
      expect(failureMessage(refused)).toContain("lc_ctype = C: LOWER() folds ASCII letters only")
      // Refused before migrating: no history table was made.
      expect(yield* query(url, "SELECT 1 FROM pg_tables WHERE tablename = '_sqlx_migrations'")).toEqual([])

      const accepted = yield* runCli("start", "--database-url", url, "--accept-server-locale")
      expect(outcome(accepted)).toBe("success")
      expect(accepted.logs.filter((l) => l.level === "WARN").map((l) => l.message)).toContainEqual(
        expect.stringContaining("lc_ctype = C: LOWER() folds ASCII letters only")
      )
      expect((yield* query(url, "SELECT 1 FROM pg_tables WHERE tablename = '_sqlx_migrations'")).length).toBe(1)
    })
  )
})
