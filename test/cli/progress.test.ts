// Progress of slow migrations: nothing for a fast one; a slow one's line rewritten on a terminal, log lines on a pipe.
import { expect, it } from "@effect/vitest"
import { Effect, Logger, Option, TestClock } from "effect"
import type { MigrationProgress } from "../../src/migrate/Migrator.js"
import { progressReporter, withProgress } from "../../src/cli/progress.js"

const migration = { version: 20261125000003n, description: "add index" }
const started = (index: number): MigrationProgress => ({ _tag: "Started", index, total: 2, migration })
const finished = (index: number, ms: number): MigrationProgress => ({
  _tag: "Finished",
  index,
  total: 2,
  migration: { ...migration, durationNs: BigInt(ms) * 1_000_000n }
})

const terminal = () => {
  const writes: Array<string> = []
  return { writes, terminal: Option.some((text: string) => Effect.sync(() => void writes.push(text))) }
}

it.effect("a terminal: nothing under a second, then the line rewritten each second and ended when it is done", () =>
  Effect.gen(function* () {
    const { writes, terminal: output } = terminal()
    const reporter = yield* progressReporter({ terminal: output })

    yield* reporter.onProgress(started(1))
    yield* TestClock.adjust("900 millis")
    yield* reporter.onProgress(finished(1, 900))
    expect(writes).toEqual([])

    yield* reporter.onProgress(started(2))
    yield* TestClock.adjust("2500 millis")
    yield* reporter.onProgress(finished(2, 2500))
    expect(writes).toEqual([
      "\r\x1b[Kmigration 2/2 20261125000003 (add index) running for 1 s",
      "\r\x1b[Kmigration 2/2 20261125000003 (add index) running for 2 s",
      "\r\x1b[Kmigration 2/2 20261125000003 (add index) applied in 2.50 s\n"
    ])
    // stopped: no more lines
    yield* TestClock.adjust("5 seconds")
    expect(writes).toHaveLength(3)
  })
)

it.effect("a run that fails during a shown migration ends the terminal's line and stops showing it", () =>
  Effect.gen(function* () {
    const { writes, terminal: output } = terminal()
    const failed = yield* withProgress({ terminal: output }, (onProgress) =>
      onProgress(started(1)).pipe(
        Effect.zipRight(TestClock.adjust("1500 millis")),
        Effect.zipRight(Effect.fail("migration failed"))
      )
    ).pipe(Effect.flip)
    expect(failed).toBe("migration failed")
    yield* TestClock.adjust("5 seconds")
    expect(writes).toEqual(["\r\x1b[Kmigration 1/2 20261125000003 (add index) running for 1 s", "\n"])
  })
)

it.effect("a pipe: log lines, the running one every 10 s, no carriage return", () =>
  Effect.gen(function* () {
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${(Array.isArray(message) ? message : [message]).join(" ")}`)
    })
    yield* Effect.gen(function* () {
      const reporter = yield* progressReporter({ terminal: Option.none() })
      yield* reporter.onProgress(started(1))
      yield* TestClock.adjust("12 seconds")
      yield* reporter.onProgress(finished(1, 12_000))
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    expect(logs).toEqual([
      "INFO migration 1/2 20261125000003 (add index) running for 1 s",
      "INFO migration 1/2 20261125000003 (add index) running for 11 s",
      "INFO migration 1/2 20261125000003 (add index) applied in 12.00 s"
    ])
  })
)
