// Progress of a long migration run on stderr: a migration still running after a second is shown with n/total and its time.
import { Clock, Duration, Effect, Fiber, Option, Ref, Schedule } from "effect"
import type { MigrationProgress, MigrationRef } from "../migrate/Migrator.js"
import { formatNanos } from "./render.js"

export interface ProgressOptions {
  /**
   * Writes to a terminal, whose current line is then rewritten as the time goes by; none (a pipe, a file): each
   * report is a log line of its own.
   */
  readonly terminal: Option.Option<(text: string) => Effect.Effect<void>>
  /** How long a migration runs before it is shown (default 1 s): a fast run shows nothing but its result. */
  readonly after?: Duration.DurationInput | undefined
  /** How often it is shown again while it runs (default: every second on a terminal, every 10 s as log lines). */
  readonly every?: Duration.DurationInput | undefined
}

export interface ProgressReporter {
  readonly onProgress: (progress: MigrationProgress) => Effect.Effect<void>
  /** Stops showing the running migration (a failed run never says it finished). */
  readonly stop: Effect.Effect<void>
}

const CLEAR_LINE = "\r\x1b[K"

const label = (index: number, total: number, m: MigrationRef) =>
  `migration ${index}/${total} ${m.version} (${m.description})`

const seconds = (millis: number) => `${Math.floor(millis / 1000)} s`

interface Running {
  readonly fiber: Fiber.RuntimeFiber<unknown>
  readonly shown: Ref.Ref<boolean>
}

export const progressReporter = (options: ProgressOptions): Effect.Effect<ProgressReporter> =>
  Effect.gen(function* () {
    const after = options.after ?? Duration.seconds(1)
    const every = options.every ?? (Option.isSome(options.terminal) ? Duration.seconds(1) : Duration.seconds(10))
    const show = (line: string, final: boolean) =>
      Option.match(options.terminal, {
        onNone: () => Effect.logInfo(line),
        onSome: (write) => write(`${CLEAR_LINE}${line}${final ? "\n" : ""}`)
      })
    const current = yield* Ref.make<Option.Option<Running>>(Option.none())

    const stopCurrent = Effect.gen(function* () {
      const running = yield* Ref.getAndSet(current, Option.none())
      if (Option.isNone(running)) return false
      yield* Fiber.interrupt(running.value.fiber)
      return yield* Ref.get(running.value.shown)
    })

    const onProgress = (progress: MigrationProgress): Effect.Effect<void> =>
      Effect.gen(function* () {
        const shown = yield* stopCurrent
        const name = label(progress.index, progress.total, progress.migration)
        if (progress._tag === "Finished") {
          if (shown) yield* show(`${name} applied in ${formatNanos(progress.migration.durationNs)}`, true)
          return
        }
        const startedAt = yield* Clock.currentTimeMillis
        const flag = yield* Ref.make(false)
        const tick = Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          yield* show(`${name} running for ${seconds(now - startedAt)}`, false)
          yield* Ref.set(flag, true)
        })
        // a daemon: it lives until the migration finishes or the run stops, not as long as whoever reported it
        const fiber = yield* Effect.forkDaemon(
          Effect.sleep(after).pipe(Effect.zipRight(Effect.repeat(tick, Schedule.spaced(every))))
        )
        yield* Ref.set(current, Option.some({ fiber, shown: flag }))
      })

    const stop = Effect.gen(function* () {
      const shown = yield* stopCurrent
      // a terminal's half-written line is ended, so what follows starts on a line of its own
      if (shown && Option.isSome(options.terminal)) yield* options.terminal.value("\n")
    })
    return { onProgress, stop }
  })

/** Runs `body` with a reporter's `onProgress`, stopping it however `body` ends. */
export const withProgress = <A, E, R>(
  options: ProgressOptions,
  body: (onProgress: ProgressReporter["onProgress"]) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(progressReporter(options), (reporter) => Effect.ensuring(body(reporter.onProgress), reporter.stop))

/** The process's stderr when it is a terminal. */
export const stderrTerminal = (): ProgressOptions["terminal"] =>
  process.stderr.isTTY === true
    ? Option.some((text: string) => Effect.sync(() => void process.stderr.write(text)))
    : Option.none()
