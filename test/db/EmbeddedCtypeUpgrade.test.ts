// A kept embedded folder made by an earlier version with the ASCII-only C ctype: moved at start with nothing lost, or refused untouched.
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { selectDatabase } from "../../src/db/DatabaseSelection.js"
import * as EmbeddedPostgres from "../../src/db/EmbeddedPostgres.js"
import { withDatabase } from "../../src/db/probe.js"
import { Migrator } from "../../src/migrate/Migrator.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { query } from "./helpers.js"

/** A kept folder (as `npm start` has) whose cluster was made with `--lc-ctype=C`, migrated, holding `seed`'s rows. */
const oldFolder = (seed: (url: string) => Effect.Effect<void, unknown>) =>
  Effect.gen(function* () {
    const parent = mkdtempSync(path.join(os.tmpdir(), "mas-pg-ctype-test-"))
    // The server user must be able to pass through the private temp folder.
    chmodSync(parent, 0o755)
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(parent, { recursive: true, force: true })))
    const dataDir = path.join(parent, "data")
    yield* Effect.scoped(
      Effect.gen(function* () {
        const server = yield* EmbeddedPostgres.start({ dataDir, persistent: true, lcCtype: "C" })
        expect(yield* query<{ lc_ctype: string }>(server.url, "SHOW lc_ctype")).toEqual([{ lc_ctype: "C" }])
        yield* Effect.flatMap(Migrator, (m) => m.run()).pipe(
          Effect.provide(Migrator.layer(Migrator.defaultConfig).pipe(Layer.provide(clientLayer(server.url)))),
          Logger.withMinimumLogLevel(LogLevel.Warning)
        )
        yield* seed(server.url)
      })
    )
    return dataDir
  })

const clientLayer = (url: string) => PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })

/** What `npm start` does with the folder: the embedded server, selected with no DATABASE_URL. */
const startOn = (dataDir: string) =>
  selectDatabase({ fallbacks: ["embedded"], embedded: { dataDir, persistent: true } }).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
  )

const onRepositories = <A, E>(url: string, body: Effect.Effect<A, E, RepositoryAccess>) =>
  body.pipe(Effect.provide(RepositoryAccessPg.layer.pipe(Layer.provide(clientLayer(url)))))

const seedUsers = (url: string) =>
  onRepositories(
    url,
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const elodie = yield* repos.users.add("ÉLODIE")
      yield* repos.userEmails.add(elodie, "Élodie@Exemple.FR")
      const ascii = yield* repos.users.add("Bob")
      yield* repos.users.lock(ascii)
      yield* repos.browserSessions.add(elodie, Option.some("Mozilla/5.0 (ünïcode)"))
      // The bug being repaired: on the C ctype a non-ASCII name does not fold.
      expect(yield* repos.users.findByUsername("élodie")).toEqual(Option.none())
    })
  )

const databases = (url: string) =>
  query<{ datname: string; datctype: string }>(url, "SELECT datname, datctype FROM pg_database ORDER BY datname")

const tableRows = (url: string) =>
  query<{ name: string; n: number }>(
    url,
    `SELECT c.relname AS name, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS n
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`
  )

describe("an embedded folder made with the C ctype", () => {
  it.live("is moved at start to a UTF-8 ctype: every row kept and verified, lookups fold, the old database kept", () =>
    Effect.gen(function* () {
      const dataDir = yield* oldFolder(seedUsers)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const selected = yield* startOn(dataDir)
          const dbs = yield* databases(selected.url)
          const kept = dbs.find((d) => d.datname.startsWith("postgres_ctype_c_"))
          expect(kept?.datctype).toBe("C")
          const postgres = dbs.find((d) => d.datname === "postgres")
          expect(postgres?.datctype).toMatch(/\.utf-?8$/i)
          // template1 (what a plain CREATE DATABASE copies) was empty, so it was given the new ctype too.
          expect(dbs.find((d) => d.datname === "template1")?.datctype).toBe(postgres?.datctype)
          expect(dbs.map((d) => d.datname).filter((n) => n.includes("_move_") || n.startsWith("template1_"))).toEqual(
            []
          )

          // Every table has the same rows as the kept original, the history table included.
          const keptUrl = withDatabase(selected.url, kept!.datname)
          const moved = yield* tableRows(selected.url)
          expect(moved).toEqual(yield* tableRows(keptUrl))
          expect(moved.find((t) => t.name === "users")?.n).toBe(2)
          expect(moved.find((t) => t.name === "_sqlx_migrations")?.n).toBeGreaterThan(10)
          const history =
            "SELECT version, installed_on, checksum, execution_time FROM _sqlx_migrations ORDER BY version"
          expect(yield* query(selected.url, history)).toEqual(yield* query(keptUrl, history))

          yield* onRepositories(
            selected.url,
            Effect.gen(function* () {
              const repos = yield* RepositoryAccess
              const found = yield* repos.users.findByUsername("élodie")
              expect(Option.map(found, (u) => u.username)).toEqual(Option.some("ÉLODIE"))
              const bob = yield* repos.users.findByUsername("BOB")
              expect(Option.map(bob, (u) => Option.isSome(u.lockedAt))).toEqual(Option.some(true))
              const email = yield* repos.userEmails.findByEmail("élodie@exemple.fr")
              expect(Option.map(email, (e) => e.email)).toEqual(Option.some("Élodie@Exemple.FR"))
              // The schema is exactly the migrated one: validation passes with nothing pending.
              const report = yield* Effect.flatMap(Migrator, (m) => m.validate).pipe(
                Effect.provide(Migrator.layer(Migrator.defaultConfig).pipe(Layer.provide(clientLayer(selected.url))))
              )
              expect(report.pending).toEqual([])
            })
          )
        })
      )

      // The next start finds nothing to do.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const selected = yield* startOn(dataDir)
          const names = (yield* databases(selected.url)).map((d) => d.datname)
          expect(names.filter((n) => n.startsWith("postgres_ctype_c_")).length).toBe(1)
        })
      )
    }).pipe(Effect.scoped)
  )

  it.live(
    "is refused, and left exactly as it was, when a move would lose something or its history is not this program's",
    () =>
      Effect.gen(function* () {
        const dataDir = yield* oldFolder((url) =>
          query(
            url,
            "CREATE TABLE notes_added_by_hand (id int PRIMARY KEY, body text); INSERT INTO notes_added_by_hand VALUES (1, 'Ünïcode')"
          )
        )
        const attempt = (expected: ReadonlyArray<string>) =>
          Effect.scoped(
            Effect.gen(function* () {
              const server = yield* EmbeddedPostgres.start({ dataDir, persistent: true })
              const before = yield* databases(server.url)
              const error = yield* Effect.flip(startOn(dataDir))
              expect(error._tag).toBe("DatabaseSelectionError")
              for (const text of expected) expect(error.message).toContain(text)
              expect(error.message).toContain("Nothing was changed")
              // No half-made database left behind, the original still C and still holding its rows.
              expect(yield* databases(server.url)).toEqual(before)
              expect(before.find((d) => d.datname === "postgres")?.datctype).toBe("C")
              expect(yield* query(server.url, "SELECT body FROM notes_added_by_hand")).toEqual([{ body: "Ünïcode" }])
            })
          )

        yield* attempt([
          "comparing the schemas",
          "Only in postgres: column notes_added_by_hand.body text; column notes_added_by_hand.id integer not null"
        ])
        // An applied migration the program does not know: the replay could not make the same schema.
        yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* EmbeddedPostgres.start({ dataDir, persistent: true })
            yield* query(
              server.url,
              "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (1, 'from elsewhere', true, '\\x00', 0)"
            )
          })
        )
        yield* attempt(["checking its migration history", "applied but unknown: 1"])
      }).pipe(Effect.scoped)
  )
})
