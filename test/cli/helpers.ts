// Shared fixtures for the CLI tests: in-process runs with captured console and logs, temp folders, child processes.
import { ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Console, Context, Effect, Either, Layer, Logger, LogLevel, Redacted } from "effect"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { cli } from "../../src/cli/commands.js"

/** The source tree's root, found from this file so the tests run from any working directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

export type Files = Readonly<Record<string, string>>

/** A temp folder (holding `files`), removed at scope end. */
export const tempDir = (prefix: string, files: Files = {}) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), `cli-test-${prefix}-`))
      for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
      return dir
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

export const writeMigration = (dir: string, name: string, content: string) =>
  Effect.promise(() => writeFile(join(dir, name), content))

export const removeMigration = (dir: string, name: string) => Effect.promise(() => unlink(join(dir, name)))

export const sha384Hex = (content: string) => createHash("sha384").update(content).digest("hex")

/** A client on a database URL, open for the current scope (to inspect or tamper with what the CLI did). */
export const clientFor = (url: string) =>
  Layer.build(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })).pipe(
    Effect.map((ctx) => ({ ctx, sql: Context.get(ctx, SqlClient.SqlClient) }))
  )

export interface LogLine {
  readonly level: string
  readonly message: string
}

export interface CliRun {
  /** `Left` holds the failure the program would print as `error: …` (or a ValidationError for usage errors). */
  readonly result: Either.Either<void, unknown>
  /** What went to `Console.log` (and the other non-error console methods), split into lines. */
  readonly stdout: ReadonlyArray<string>
  /** What went to `Console.error` / `Console.warn`. */
  readonly stderr: ReadonlyArray<string>
  readonly logs: ReadonlyArray<LogLine>
}

const textOf = (args: ReadonlyArray<unknown>) => args.map(String).join(" ")

/** A `Console` that records instead of printing; `out` and `err` collect whole writes. */
const recordingConsole = (out: Array<string>, err: Array<string>): Console.Console => {
  const toOut = (...args: ReadonlyArray<unknown>) => void out.push(textOf(args))
  const toErr = (...args: ReadonlyArray<unknown>) => void err.push(textOf(args))
  const ignore = () => {}
  const unsafe: Console.UnsafeConsole = {
    assert: (condition, ...args) => (condition ? undefined : toErr(...args)),
    clear: ignore,
    count: ignore,
    countReset: ignore,
    debug: toOut,
    dir: (item) => toOut(item),
    dirxml: toOut,
    error: toErr,
    group: ignore,
    groupCollapsed: ignore,
    groupEnd: ignore,
    info: toOut,
    log: toOut,
    table: (data) => toOut(data),
    time: ignore,
    timeEnd: ignore,
    timeLog: ignore,
    trace: toErr,
    warn: toErr
  }
  const lift =
    <Args extends ReadonlyArray<any>>(f: (...args: Args) => void) =>
    (...args: Args) =>
      Effect.sync(() => f(...args))
  return {
    [Console.TypeId]: Console.TypeId,
    assert: lift(unsafe.assert),
    clear: Effect.sync(unsafe.clear),
    count: lift(unsafe.count),
    countReset: lift(unsafe.countReset),
    debug: lift(unsafe.debug),
    dir: lift(unsafe.dir),
    dirxml: lift(unsafe.dirxml),
    error: lift(unsafe.error),
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: lift(unsafe.info),
    log: lift(unsafe.log),
    table: lift(unsafe.table),
    time: lift(unsafe.time),
    timeEnd: lift(unsafe.timeEnd),
    timeLog: lift(unsafe.timeLog),
    trace: lift(unsafe.trace),
    warn: lift(unsafe.warn),
    unsafe
  }
}

const lines = (writes: ReadonlyArray<string>) => writes.flatMap((w) => w.split("\n"))

/**
 * Runs the command line in-process, as `mas-data <args>` would, with the Node platform services, the console
 * recorded and every log line (debug and up) captured. Never fails: the program's failure is in `result`.
 */
export const runCli = (...args: ReadonlyArray<string>): Effect.Effect<CliRun> =>
  Effect.gen(function* () {
    const out: Array<string> = []
    const err: Array<string> = []
    const logs: Array<LogLine> = []
    const logger = Logger.make(({ logLevel, message }) => {
      const parts = Array.isArray(message) ? message : [message]
      logs.push({ level: logLevel.label, message: parts.map(String).join(" ") })
    })
    const result = yield* cli(["node", "mas-data", ...args]).pipe(
      Effect.provide(NodeContext.layer),
      Effect.withConsole(recordingConsole(out, err)),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.Debug),
      Effect.either
    )
    return { result, stdout: lines(out), stderr: lines(err), logs }
  })

/** The message of a failed run (what `main.ts` prints after `error: `). */
export const failureMessage = (run: CliRun): string =>
  Either.match(run.result, {
    onRight: () => {
      throw new Error(`expected the command to fail; it printed:\n${run.stdout.join("\n")}`)
    },
    onLeft: (error) => (error instanceof Error ? error.message : String(error))
  })

/** The tag of a failed run's error ("ValidationError" for any usage error), or "success". */
export const outcome = (run: CliRun): string =>
  Either.match(run.result, {
    onRight: () => "success",
    onLeft: (error) =>
      ValidationError.isValidationError(error)
        ? "ValidationError"
        : typeof error === "object" && error !== null && "_tag" in error
          ? String(error._tag)
          : String(error)
  })

/** Rows of the `migrate info` table in `stdout`, each as its cells (split on runs of two or more spaces). */
export const infoRows = (stdout: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => {
  const header = stdout.findIndex((line) => /^version +description +state +installed_on +execution_time$/.test(line))
  if (header < 0) throw new Error(`no info table in:\n${stdout.join("\n")}`)
  const rows: Array<Array<string>> = []
  for (const line of stdout.slice(header + 2)) {
    if (line.trim() === "") break
    rows.push(line.split(/ {2,}/))
  }
  return rows
}

/** `[version, description, state]` of each info row. */
export const infoStates = (stdout: ReadonlyArray<string>) =>
  infoRows(stdout).map(([version, description, state]) => [version, description, state])

export interface ProcessResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a child process to completion, collecting its output; never rejects on a non-zero exit. */
export const runProcess = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number }
): Promise<ProcessResult> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }))
  })

/**
 * The environment for a child CLI process: without the runner's DATABASE_URL (each test names its own database,
 * by flag or in `extra`), without colours, plus `extra`.
 */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const { DATABASE_URL: _ignored, ...rest } = process.env
  return { ...rest, NO_COLOR: "1", ...extra }
}
