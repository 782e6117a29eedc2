// What every part of the embedded launcher shares: its error, the server's URL, and waiting for the server to answer.
import * as fs from "node:fs/promises"
import { Clock, Effect, Schema } from "effect"
import { acceptsLogin } from "../probe.js"

export class EmbeddedPostgresError extends Schema.TaggedError<EmbeddedPostgresError>()("EmbeddedPostgresError", {
  reason: Schema.Literal("Binaries", "User", "DataDir", "Initdb", "Locale", "PortInUse", "Start", "InUse"),
  dataDir: Schema.String,
  message: Schema.String
}) {}

export const READY_TIMEOUT_MS = 30_000

export const urlFor = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`

/** Polls until `url` accepts a login, `timeoutMs` passes, or `keepTrying` says the server is gone. */
export const waitForLogin = (url: string, timeoutMs: number, keepTrying: () => boolean) =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    for (;;) {
      if (yield* acceptsLogin(url, 1_000)) return true
      if (!keepTrying() || (yield* Clock.currentTimeMillis) >= deadline) return false
      yield* Effect.sleep("40 millis")
    }
  })

/** Whether `file` exists (and is reachable by this process). */
export const exists = (file: string): Promise<boolean> =>
  fs.access(file).then(
    () => true,
    () => false
  )
