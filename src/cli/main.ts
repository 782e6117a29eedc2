#!/usr/bin/env node
// Program entry point: runs the CLI, printing refusals as one clear line and exiting non-zero.
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Logger, Option } from "effect"
import { cli } from "./commands.js"

const describe = (cause: Cause.Cause<unknown>): Option.Option<string> => {
  if (Cause.isInterruptedOnly(cause)) return Option.none()
  return Option.match(Cause.failureOption(cause), {
    onNone: () => Option.some(Cause.pretty(cause)),
    onSome: (error) =>
      ValidationError.isValidationError(error)
        ? Option.none() // @effect/cli has already printed the usage error
        : Option.some(`error: ${error instanceof Error ? error.message : String(error)}`)
  })
}

const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.tapErrorCause((cause) => Option.match(describe(cause), { onNone: () => Effect.void, onSome: Console.error })),
  Effect.provide(NodeContext.layer),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true })))
)

NodeRuntime.runMain(program, { disableErrorReporting: true })
