#!/usr/bin/env node
// Program entry point: runs the CLI, printing refusals as one clear line and exiting non-zero.
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Logger, Option } from "effect"
import { cli } from "./commands.js"

/**
 * An error's message, followed by its cause's when that adds something: a SqlError only says "PgClient: Failed to
 * connect", and the reason (refused, unknown database, bad password) is in the driver error it wraps.
 */
const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const cause: unknown = error.cause
  if (!(cause instanceof Error)) return error.message
  const code = (cause as { readonly code?: unknown }).code
  const reason = cause.message !== "" ? cause.message : typeof code === "string" ? code : ""
  return reason === "" || error.message.includes(reason) ? error.message : `${error.message}: ${reason}`
}

const describe = (cause: Cause.Cause<unknown>): Option.Option<string> => {
  if (Cause.isInterruptedOnly(cause)) return Option.none()
  return Option.match(Cause.failureOption(cause), {
    onNone: () => Option.some(Cause.pretty(cause)),
    onSome: (error) =>
      ValidationError.isValidationError(error)
        ? Option.none() // @effect/cli has already printed the usage error
        : Option.some(`error: ${messageOf(error)}`)
  })
}

const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.tapErrorCause((cause) => Option.match(describe(cause), { onNone: () => Effect.void, onSome: Console.error })),
  Effect.provide(NodeContext.layer),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true })))
)

// disablePrettyLogger: runMain would otherwise swap the default logger for a stdout pretty logger before the
// program starts, so the Logger.replace above would find nothing to replace and every log line would be printed
// twice, once on stdout among the program's output.
NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
