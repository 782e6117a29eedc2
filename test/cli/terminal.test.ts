// Colours: the NO_COLOR / FORCE_COLOR conventions, ANSI styles stripped from the console's plain streams, exit codes.
import { HelpDoc, ValidationError } from "@effect/cli"
import { expect, it } from "@effect/vitest"
import { Console, Effect, Exit, FiberId } from "effect"
import { command } from "../../src/cli/commands.js"
import { DatabaseUnreachable } from "../../src/cli/database.js"
import { ExitCode, exitCodeOf } from "../../src/cli/exitCodes.js"
import { colorsEnabled, plainConsole } from "../../src/cli/terminal.js"
import { ChecksumMismatch } from "../../src/migrate/Migrator.js"

const tty = { isTTY: true }
const pipe = { isTTY: false }

it("colours: a terminal yes, a pipe no; NO_COLOR (non-empty) off; FORCE_COLOR wins, except 0 / false", () => {
  expect(colorsEnabled(tty, {})).toBe(true)
  expect(colorsEnabled(pipe, {})).toBe(false)
  expect(colorsEnabled({}, {})).toBe(false)
  expect(colorsEnabled(tty, { TERM: "dumb" })).toBe(false)
  expect(colorsEnabled(tty, { NO_COLOR: "1" })).toBe(false)
  expect(colorsEnabled(tty, { NO_COLOR: "" })).toBe(true)
  expect(colorsEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true)
  expect(colorsEnabled(pipe, { FORCE_COLOR: "" })).toBe(true)
  expect(colorsEnabled(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(true)
  expect(colorsEnabled(tty, { FORCE_COLOR: "0" })).toBe(false)
  expect(colorsEnabled(tty, { FORCE_COLOR: "false" })).toBe(false)
})

it.effect("plainConsole strips styles from the streams without colours only", () =>
  Effect.gen(function* () {
    const seen: Array<[string, ReadonlyArray<unknown>]> = []
    const base = {
      ...(yield* Effect.console),
      log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void seen.push(["log", args])),
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void seen.push(["error", args]))
    } as Console.Console
    const styled = "\x1b[0;1mUSAGE\x1b[0m"
    const outOnly = plainConsole(base, { stdout: false, stderr: true })
    yield* outOnly.log(styled, 42)
    yield* outOnly.error(styled)
    expect(seen).toEqual([
      ["log", ["USAGE", 42]],
      ["error", [styled]]
    ])
  })
)

it("exit codes: 0 done, help or interrupted; 1 a refusal or a defect; 2 a usage error; 3 no database", () => {
  const fail = (error: unknown) => exitCodeOf(Exit.fail(error))
  expect(exitCodeOf(Exit.void)).toBe(ExitCode.Ok)
  expect(exitCodeOf(Exit.interrupt(FiberId.none))).toBe(ExitCode.Ok)
  expect(fail(ValidationError.helpRequested(command.descriptor))).toBe(ExitCode.Ok)
  const refusal = new ChecksumMismatch({ version: 1n, description: "a", fileChecksum: "00", appliedChecksum: "11" })
  expect(fail(refusal)).toBe(ExitCode.Failed)
  expect(exitCodeOf(Exit.die(new Error("bug")))).toBe(ExitCode.Failed)
  expect(fail(ValidationError.invalidValue(HelpDoc.p("Expected one of the following cases")))).toBe(ExitCode.Usage)
  expect(fail(new DatabaseUnreachable({ url: "postgres://x", reason: "refused" }))).toBe(ExitCode.Unreachable)
  expect([ExitCode.Ok, ExitCode.Failed, ExitCode.Usage, ExitCode.Unreachable]).toEqual([0, 1, 2, 3])
})
