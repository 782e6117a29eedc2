// The embedded PostgreSQL launcher on the real binaries: start as root, stop, persistence, and sharing a running server.
import { spawn, spawnSync } from "node:child_process"
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { throwawayDataDir } from "../../src/db/DatabaseSelection.js"
import * as EmbeddedPostgres from "../../src/db/EmbeddedPostgres.js"
import { expectedServerUid, portRefuses, postmasterPid, processUid, query } from "./helpers.js"

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const started = performance.now()
    const value = yield* effect
    return [value, Math.round(performance.now() - started)] as const
  })

describe("EmbeddedPostgres.start", () => {
  it.live(
    "a throw-away server runs as the unprivileged user, can be shared while it runs, and is gone after its scope",
    () =>
      Effect.gen(function* () {
        const dataDir = throwawayDataDir()
        const first = yield* Scope.make()
        const [server, ms] = yield* timed(
          EmbeddedPostgres.start({ dataDir, persistent: false }).pipe(Scope.extend(first))
        )
        console.log(`embedded PostgreSQL cold start (initdb + start, throw-away): ${ms} ms`)
        expect(server.reused).toBe(false)
        expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`)

        const [row] = yield* query<{ dir: string; fsync: string; one: number }>(
          server.url,
          "SELECT current_setting('data_directory') AS dir, current_setting('fsync') AS fsync, 1 AS one"
        )
        expect(row?.one).toBe(1)
        expect(realpathSync(row!.dir)).toBe(realpathSync(dataDir))
        expect(row?.fsync).toBe("off")
        // UTF-8 with a UTF-8 ctype, so LOWER() folds as on a standard server; byte-order collation.
        const [locale] = yield* query<{ enc: string; coll: string; ctype: string; lowered: string }>(
          server.url,
          `SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS coll, datctype AS ctype, lower('ÉLODIE İ') AS lowered
           FROM pg_database WHERE datname = current_database()`
        )
        expect(locale).toEqual({
          enc: "UTF8",
          coll: "C",
          ctype: expect.stringMatching(/\.utf-?8$/i),
          lowered: "élodie i"
        })
        expect(statSync(dataDir).uid).toBe(expectedServerUid())
        const pid = postmasterPid(dataDir)
        expect(processUid(pid)).toBe(expectedServerUid())
        if (process.getuid?.() === 0) expect(processUid(pid)).not.toBe(0)

        // A second start on the same folder shares the running server and leaves it running.
        const second = yield* Scope.make()
        const [shared, sharedMs] = yield* timed(
          EmbeddedPostgres.start({ dataDir, persistent: false }).pipe(Scope.extend(second))
        )
        console.log(`embedded PostgreSQL reuse of a running server: ${sharedMs} ms`)
        expect(shared).toEqual({ ...server, reused: true })
        yield* Scope.close(second, Exit.void)
        expect(yield* query<{ one: number }>(server.url, "SELECT 1 AS one")).toEqual([{ one: 1 }])
        expect(existsSync(dataDir)).toBe(true)

        yield* Scope.close(first, Exit.void)
        expect(yield* portRefuses(server.port)).toBe(true)
        expect(existsSync(dataDir)).toBe(false)
      })
  )

  it.live("a persistent folder keeps its data across a stop and restarts fast", () =>
    Effect.gen(function* () {
      const parent = mkdtempSync(path.join(os.tmpdir(), "mas-pg-persistent-test-"))
      // mkdtemp makes a private folder; the server user must be able to pass through it.
      chmodSync(parent, 0o755)
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(parent, { recursive: true, force: true })))
      const dataDir = path.join(parent, "data")

      const [port, coldMs] = yield* timed(
        Effect.scoped(
          Effect.gen(function* () {
            const server = yield* EmbeddedPostgres.start({ dataDir, persistent: true })
            yield* query(server.url, "CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (42)")
            const [settings] = yield* query<{ fsync: string }>(server.url, "SELECT current_setting('fsync') AS fsync")
            expect(settings?.fsync).toBe("on")
            return server.port
          })
        )
      )
      console.log(`embedded PostgreSQL persistent cold start + first use + stop: ${coldMs} ms`)
      expect(yield* portRefuses(port)).toBe(true)
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true)
      expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false)

      // A lock file left by a server that died: postgres replaces it itself.
      const deadPid = spawnSync("true").pid
      writeFileSync(
        path.join(dataDir, "postmaster.pid"),
        `${deadPid}\n${dataDir}\n0\n${port}\n/tmp\n127.0.0.1\n0 0\nready\n`
      )

      yield* Effect.scoped(
        Effect.gen(function* () {
          const [server, warmMs] = yield* timed(EmbeddedPostgres.start({ dataDir, persistent: true }))
          console.log(`embedded PostgreSQL warm start (existing cluster): ${warmMs} ms`)
          expect(server.reused).toBe(false)
          expect(warmMs).toBeLessThan(10_000)
          expect(yield* query<{ id: number }>(server.url, "SELECT id FROM kept")).toEqual([{ id: 42 }])
        })
      )
      // Persistent folders stay after the stop.
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true)
    }).pipe(Effect.scoped)
  )

  it.live(
    "a postmaster.pid naming a live PostgreSQL-named process that does not answer is refused, naming the pid and folder",
    () =>
      Effect.gen(function* () {
        const dataDir = throwawayDataDir()
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
        // A stand-in process called "postgres" that listens nowhere.
        const impostor = yield* Effect.acquireRelease(
          Effect.sync(() => {
            const file = path.join(dataDir, "postgres")
            copyFileSync("/bin/sleep", file)
            return spawn(file, ["60"], { stdio: "ignore" })
          }),
          (child) => Effect.sync(() => child.kill("SIGKILL"))
        )
        const unusedPort = 1
        writeFileSync(
          path.join(dataDir, "postmaster.pid"),
          `${impostor.pid}\n${dataDir}\n0\n${unusedPort}\n/tmp\n127.0.0.1\n0 0\nready\n`
        )
        const error = yield* Effect.flip(Effect.scoped(EmbeddedPostgres.start({ dataDir, persistent: false })))
        expect(error._tag).toBe("EmbeddedPostgresError")
        expect(error.reason).toBe("InUse")
        expect(error.message).toContain(`pid ${impostor.pid}`)
        expect(error.message).toContain(dataDir)
        // The refused folder is someone else's: it must not have been removed.
        expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(true)
      }).pipe(Effect.scoped)
  )

  it.live("a postmaster.pid naming a live process that is not PostgreSQL is stale and replaced", () =>
    Effect.gen(function* () {
      const dataDir = throwawayDataDir()
      writeFileSync(
        path.join(dataDir, "postmaster.pid"),
        `${process.pid}\n${dataDir}\n0\n1\n/tmp\n127.0.0.1\n0 0\nready\n`
      )
      const server = yield* EmbeddedPostgres.start({ dataDir, persistent: false })
      expect(server.reused).toBe(false)
      expect(postmasterPid(dataDir)).not.toBe(process.pid)
      expect(yield* query<{ one: number }>(server.url, "SELECT 1 AS one")).toEqual([{ one: 1 }])
    }).pipe(Effect.scoped)
  )
})
