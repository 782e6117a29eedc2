// Starting and stopping one PostgreSQL process: initdb, a free port, spawning, waiting until ready, stopping at scope end.
import { spawn, type ChildProcess } from "node:child_process"
import { rmSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Clock, Effect, ExecutionStrategy, Exit, Option, Scope } from "effect"
import { type Binaries, binPath } from "./binaries.js"
import { EmbeddedPostgresError, READY_TIMEOUT_MS, urlFor, waitForLogin } from "./common.js"
import { run, type RunAs, spawnOptions, tail } from "./process.js"

const INITDB_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 10_000

export const freePort = Effect.async<number, Error>((resume) => {
  const server = net.createServer()
  server.unref()
  server.once("error", (error) => resume(Effect.fail(error)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** For finalizers: a folder that cannot be removed is logged, not a reason to fail the release. */
export const removeFolder = (dir: string) =>
  Effect.tryPromise(() => fs.rm(dir, { recursive: true, force: true, maxRetries: 3 })).pipe(
    Effect.catchAll((error) => Effect.logWarning(`could not remove ${dir}: ${String(error.cause)}`))
  )

/** Runs `effect` in a child of the current scope that is closed at once if `effect` fails, so a failed start leaves nothing behind. */
export const allOrNothing = <A, E, R>(effect: Effect.Effect<A, E, R | Scope.Scope>) =>
  Effect.gen(function* () {
    const parent = yield* Effect.scope
    const child = yield* Scope.fork(parent, ExecutionStrategy.sequential)
    return yield* effect.pipe(
      Scope.extend(child),
      Effect.onExit((exit) => (Exit.isFailure(exit) ? Scope.close(child, exit) : Effect.void))
    )
  })

export const initdb = (
  binaries: Binaries,
  dataDir: string,
  options: { readonly persistent: boolean; readonly lcCtype: string },
  runAs: Option.Option<RunAs>
) =>
  Effect.gen(function* () {
    const { persistent } = options
    // Byte-order collation (C) for every category but the character classes, which must be UTF-8 for LOWER() to
    // fold non-ASCII letters as a standard server and the in-memory backend do.
    const args = [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C",
      `--lc-ctype=${options.lcCtype}`,
      "--no-instructions"
    ]
    if (!persistent) args.push("--no-sync")
    const result = yield* run(binPath(binaries, "initdb"), args, runAs).pipe(
      Effect.timeoutFail({
        duration: INITDB_TIMEOUT_MS,
        onTimeout: () => new Error(`initdb took more than ${INITDB_TIMEOUT_MS / 1000} s`)
      }),
      Effect.mapError(
        (cause) =>
          new EmbeddedPostgresError({ reason: "Initdb", dataDir, message: `initdb could not run: ${cause.message}` })
      )
    )
    if (result.code !== 0) {
      return yield* new EmbeddedPostgresError({
        reason: "Initdb",
        dataDir,
        message: `initdb failed (exit code ${result.code}) in ${dataDir}:\n${result.output.trim().split("\n").slice(-20).join("\n")}`
      })
    }
  })

/** SIGINT (fast shutdown), then SIGKILL if it is still running after the timeout. */
const stopChild = (server: Server) =>
  Effect.gen(function* () {
    const waitExit = (ms: number) =>
      Effect.promise(() => server.exited).pipe(
        Effect.as(true),
        Effect.timeoutTo({ duration: ms, onTimeout: () => false, onSuccess: (b) => b })
      )
    if (server.done()) return
    server.child.kill("SIGINT")
    if (yield* waitExit(STOP_TIMEOUT_MS)) return
    yield* Effect.logWarning(
      `PostgreSQL (pid ${server.child.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`
    )
    server.child.kill("SIGKILL")
    yield* waitExit(STOP_TIMEOUT_MS)
  }).pipe(Effect.withClock(Clock.make()))

interface Server {
  readonly child: ChildProcess
  /** Resolves once the process has exited, or could not be spawned at all. */
  readonly exited: Promise<void>
  readonly done: () => boolean
  /** The spawn error, if any, and the last lines the server wrote. */
  readonly output: () => string
}

/** Spawns the server on `port`, registered for stopping in the current scope, and waits until it accepts a login. */
export const launch = (options: {
  readonly binaries: Binaries
  readonly dataDir: string
  readonly port: number
  readonly persistent: boolean
  readonly settings: Readonly<Record<string, string>>
  readonly runAs: Option.Option<RunAs>
}) =>
  Effect.gen(function* () {
    const { dataDir, port, runAs } = options
    const socketDir = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          // Unix sockets need a short path the server user can write.
          const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mas-pgsock-"))
          if (Option.isSome(runAs)) await fs.chown(dir, runAs.value.uid, runAs.value.gid)
          return dir
        },
        catch: (cause) =>
          new EmbeddedPostgresError({
            reason: "Start",
            dataDir,
            message: `cannot make a socket folder: ${String(cause)}`
          })
      }),
      removeFolder
    )
    const tuning: Record<string, string> = options.persistent
      ? {}
      : {
          fsync: "off",
          full_page_writes: "off",
          synchronous_commit: "off",
          // Shared memory segments as files in the data folder, so a killed server leaves nothing in /dev/shm.
          dynamic_shared_memory_type: "mmap"
        }
    const settings = { ...tuning, ...options.settings }
    const args = ["-D", dataDir, "-p", String(port), "-h", "127.0.0.1"]
    if (process.platform !== "win32") args.push("-k", socketDir)
    for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`)

    const server = yield* Effect.acquireRelease(
      Effect.sync((): Server => {
        const child = spawn(binPath(options.binaries, "postgres"), args, spawnOptions(runAs))
        const output = tail(child)
        let spawnError: Error | undefined
        let done = false
        // A failed spawn emits "error" and never "exit".
        const exited = new Promise<void>((resolve) => {
          child.once("exit", () => resolve())
          child.once("error", (error) => {
            spawnError = error
            resolve()
          })
        }).then(() => {
          done = true
        })
        // Last resort when Node exits without closing the scope (process.exit, an uncaught exception).
        const killOnExit = () => {
          child.kill("SIGKILL")
          // Best effort: the orphaned server processes are exiting too, and may still be writing.
          const folders = options.persistent ? [socketDir] : [socketDir, dataDir]
          for (const folder of folders) {
            try {
              rmSync(folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
            } catch {
              // nothing more can be done while Node exits
            }
          }
        }
        process.on("exit", killOnExit)
        void exited.then(() => process.off("exit", killOnExit))
        return {
          child,
          exited,
          done: () => done || child.exitCode !== null || child.signalCode !== null,
          output: () => (spawnError ? `${spawnError.message}\n` : "") + output()
        }
      }),
      stopChild
    )

    const url = urlFor(port)
    const ready = yield* waitForLogin(url, READY_TIMEOUT_MS, () => !server.done())
    if (!ready) {
      const { child } = server
      const log = server.output()
      const exitedEarly = server.done()
      const portTaken = exitedEarly && /could not bind|Address already in use/i.test(log)
      return yield* new EmbeddedPostgresError({
        reason: portTaken ? "PortInUse" : "Start",
        dataDir,
        message: exitedEarly
          ? `PostgreSQL exited during startup (code ${child.exitCode ?? child.signalCode ?? "none: it did not spawn"}) in ${dataDir} on port ${port}:\n${log}`
          : `PostgreSQL did not accept a login on port ${port} within ${READY_TIMEOUT_MS / 1000} s (data folder ${dataDir}):\n${log}`
      })
    }
    return url
  })
