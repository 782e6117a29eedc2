// The launcher's child processes: spawned with a fixed environment (as another user when asked), run to completion, or tailed.
import { spawn, type ChildProcess } from "node:child_process"
import * as os from "node:os"
import { Effect, Option } from "effect"

export interface RunAs {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_MESSAGES: "C" })

export const spawnOptions = (runAs: Option.Option<RunAs>) => ({
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
export const run = (file: string, args: ReadonlyArray<string>, runAs: Option.Option<RunAs>) =>
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
export const tail = (child: ChildProcess, max = 40) => {
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
