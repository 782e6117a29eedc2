// The program's exit codes, and the runMain teardown that turns how the program ended into one of them.
import { ValidationError } from "@effect/cli"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, Exit, Option } from "effect"

export const ExitCode = {
  /** Done (also `--help`, `--version`, and a stop asked for by Ctrl-C or SIGTERM, as Effect's runMain has it). */
  Ok: 0,
  /** The operation was refused or failed: validation refused the history, a migration failed, pending migrations under `--no-migrate`, a refused server locale, a defect. */
  Failed: 1,
  /** The command line was wrong (unknown command or option, bad value): nothing was done. */
  Usage: 2,
  /** The database could not be reached: connection refused or timed out, unknown database, bad password, or the embedded server did not start. */
  Unreachable: 3
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** Failures that mean no database could be reached (the tags of src/cli/database.ts and src/db/DatabaseSelection.ts). */
const unreachableTags: ReadonlySet<string> = new Set(["DatabaseUnreachable", "DatabaseSelectionError"])

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : undefined

/** The exit code of a failed program's first failure (a defect alone is a failure). */
export const exitCodeOfCause = (cause: Cause.Cause<unknown>): ExitCode => {
  if (Cause.isInterruptedOnly(cause)) return ExitCode.Ok
  return Option.match(Cause.failureOption(cause), {
    onNone: () => ExitCode.Failed,
    onSome: (error) => {
      if (ValidationError.isValidationError(error)) {
        // --help and --version are successes in @effect/cli; anything else it refuses is a usage error
        return ValidationError.isHelpRequested(error) ? ExitCode.Ok : ExitCode.Usage
      }
      const tag = tagOf(error)
      return tag !== undefined && unreachableTags.has(tag) ? ExitCode.Unreachable : ExitCode.Failed
    }
  })
}

export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): ExitCode =>
  Exit.isSuccess(exit) ? ExitCode.Ok : exitCodeOfCause(exit.cause)

/** For `NodeRuntime.runMain(…, { teardown })`: Effect's default teardown knows only 0 and 1. */
export const teardown: Teardown = (exit, onExit) => onExit(exitCodeOf(exit))
