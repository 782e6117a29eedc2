// What a `postmaster.pid` left in a data folder means: nothing usable, a stale file to clear, or a live server to share.
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect, Option } from "effect"
import { EmbeddedPostgresError, READY_TIMEOUT_MS, urlFor, waitForLogin } from "./common.js"

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
    // Line 1 is the postmaster's pid, line 4 its port, line 8 its status (the layout PostgreSQL writes).
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
export const inspectExisting = (dataDir: string) =>
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
