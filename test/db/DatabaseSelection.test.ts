// selectDatabase: DATABASE_URL first and unprobed, then the fallbacks in order; one shared embedded server stands in for "local".
import { existsSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import { selectDatabase, throwawayDataDir } from "../../src/db/DatabaseSelection.js"
import * as EmbeddedPostgres from "../../src/db/EmbeddedPostgres.js"
import { query } from "./helpers.js"

class Shared extends Context.Tag("test/db/SharedEmbeddedServer")<Shared, EmbeddedPostgres.EmbeddedServer>() {}

const SharedLive = Layer.scoped(
  Shared,
  Effect.suspend(() => EmbeddedPostgres.start({ dataDir: throwawayDataDir(), persistent: false }))
)

/** A TCP server that accepts connections and never speaks, counting who knocked. */
const silentServer = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly connections: () => number; readonly close: () => void }>((resume) => {
    let connections = 0
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      connections++
      sockets.add(socket)
      socket.on("error", () => {})
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      resume(
        Effect.succeed({
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          connections: () => connections,
          close: () => {
            for (const socket of sockets) socket.destroy()
            server.close()
          }
        })
      )
    })
  }),
  (server) => Effect.sync(server.close)
)

/** A data folder path that must never come into existence. */
const unusedDir = () =>
  path.join(os.tmpdir(), `mas-pg-never-created-${process.pid}-${Math.random().toString(36).slice(2)}`)

/** A port nothing listens on. */
const refusedUrl = Effect.async<string>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(`postgres://postgres@127.0.0.1:${port}/postgres`)))
  })
})

/** Runs with exactly these environment variables, whatever the test process has. */
const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

layer(SharedLive, { timeout: "60 seconds" })("selectDatabase", (it) => {
  it.scoped("DATABASE_URL is used as given, without probing it or any fallback", () =>
    Effect.gen(function* () {
      const silent = yield* silentServer
      const neverCreated = unusedDir()
      const selected = yield* selectDatabase({
        fallbacks: ["local", "embedded"],
        embedded: { dataDir: neverCreated, persistent: false },
        localUrl: silent.url
      }).pipe(withEnv({ DATABASE_URL: silent.url }))
      expect(selected).toEqual({ url: silent.url, source: "env" })
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      expect(silent.connections()).toBe(0)
      expect(existsSync(neverCreated)).toBe(false)
    })
  )

  it.scoped("local is chosen when it accepts a login", () =>
    Effect.gen(function* () {
      const shared = yield* Shared
      const selected = yield* selectDatabase({
        fallbacks: ["local", "embedded"],
        embedded: { dataDir: unusedDir(), persistent: false },
        localUrl: shared.url
      }).pipe(withEnv({}))
      expect(selected).toEqual({ url: shared.url, source: "local" })
    })
  )

  it.scoped("an empty DATABASE_URL counts as unset", () =>
    Effect.gen(function* () {
      const shared = yield* Shared
      const selected = yield* selectDatabase({
        fallbacks: ["local"],
        embedded: { dataDir: shared.dataDir, persistent: false },
        localUrl: shared.url
      }).pipe(withEnv({ DATABASE_URL: "" }))
      expect(selected.source).toBe("local")
    })
  )

  it.scoped("embedded is used, and local never contacted, when local is not in the list", () =>
    Effect.gen(function* () {
      const shared = yield* Shared
      const silent = yield* silentServer
      // The shared server's folder: the launcher finds it running and shares it.
      const selected = yield* selectDatabase({
        fallbacks: ["embedded"],
        embedded: { dataDir: shared.dataDir, persistent: false },
        localUrl: silent.url
      }).pipe(withEnv({}))
      expect(selected).toEqual({ url: shared.url, source: "embedded" })
      expect(silent.connections()).toBe(0)
      expect(yield* query<{ one: number }>(selected.url, "SELECT 1 AS one")).toEqual([{ one: 1 }])
    })
  )

  it.scoped("a local server that refuses, or accepts but never answers, is given up within about a second", () =>
    Effect.gen(function* () {
      const shared = yield* Shared
      const refused = yield* refusedUrl
      const a = yield* selectDatabase({
        fallbacks: ["local", "embedded"],
        embedded: { dataDir: shared.dataDir, persistent: false },
        localUrl: refused
      }).pipe(withEnv({}))
      expect(a).toEqual({ url: shared.url, source: "embedded" })

      const silent = yield* silentServer
      const started = performance.now()
      const b = yield* selectDatabase({
        fallbacks: ["local", "embedded"],
        embedded: { dataDir: shared.dataDir, persistent: false },
        localUrl: silent.url
      }).pipe(withEnv({}))
      const elapsed = performance.now() - started
      expect(b).toEqual({ url: shared.url, source: "embedded" })
      expect(silent.connections()).toBe(1)
      expect(elapsed).toBeGreaterThanOrEqual(900)
      expect(elapsed).toBeLessThan(3_000)
    })
  )

  it.scoped("with no DATABASE_URL and nothing to fall back on, the error says so", () =>
    Effect.gen(function* () {
      const refused = yield* refusedUrl
      const error = yield* Effect.flip(
        selectDatabase({
          fallbacks: ["local"],
          embedded: { dataDir: unusedDir(), persistent: false },
          localUrl: refused
        }).pipe(withEnv({}))
      )
      expect(error._tag).toBe("DatabaseSelectionError")
      expect(error.message).toContain("DATABASE_URL is not set")
      expect(error.message).toContain("local")
    })
  )
})
