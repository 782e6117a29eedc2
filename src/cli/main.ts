#!/usr/bin/env node
// Program entry point: runs the CLI, printing refusals as one clear line, with colours only where a person reads them, and its exit codes.
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer, Logger, Option } from "effect"
import * as Telemetry from "../telemetry/index.js"
import { cli } from "./commands.js"
import { teardown } from "./exitCodes.js"
import { messageOf } from "./output.js"
import { plainConsoleLayer, processColors } from "./terminal.js"

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

const colors = processColors()

/** What the program runs on: the Node services, the console (plain on a pipe) and the logger (stderr). */
const runtime = Layer.mergeAll(
  NodeContext.layer,
  plainConsoleLayer(colors),
  Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true, colors: colors.stderr }))
)

// Tracing (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, nothing loaded otherwise) inside the error report, so a bad
// endpoint is reported as one `error:` line, and its scope closes (flushing the spans) before the program exits.
const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.provide(Telemetry.layer),
  Effect.tapErrorCause((cause) => Option.match(describe(cause), { onNone: () => Effect.void, onSome: Console.error })),
  Effect.provide(runtime)
)

// disablePrettyLogger: runMain would otherwise swap the default logger for a stdout pretty logger before the
// program starts, so the Logger.replace above would find nothing to replace and every log line would be printed
// twice, once on stdout among the program's output. The teardown gives the exit codes of src/cli/exitCodes.ts.
NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true, teardown })
