// Model transitions as both backends write them: checked before the write, and an idempotent one not written at all.
import { Effect, Either } from "effect"
import { type InvalidOperationError, refusedTransition } from "./errors.js"
import { checkArgumentIds } from "./filters.js"
import { now } from "./time.js"

/**
 * Writes `next` with `write` when it differs from `current`, and returns it; an idempotent transition that leaves the
 * entity as it was (the model returns the same value) writes nothing. The transitions this serves never refuse.
 */
export const writeIfChanged = <A, E, R>(
  current: A,
  next: Either.Either<A, unknown>,
  write: (next: A) => Effect.Effect<void, E, R>
): Effect.Effect<A, E, R> => {
  const moved = Either.getOrElse(next, () => current)
  return moved === current ? Effect.succeed(current) : Effect.as(write(moved), moved)
}

/**
 * A transition at `now` (read once) as the repositories run it (storage rule: Transitions): the entity arguments' ids
 * (by name) checked first, as the model's constructors would throw on a malformed one; the model's refusal an
 * InvalidOperationError with nothing written; then `write`, whose statement repeats the state the transition starts
 * from, so a row that moved on since the entity was read is a RowsAffectedError; the moved entity returned.
 */
export const guardedTransition = <A, E, R>(options: {
  readonly ids?: Readonly<Record<string, string>>
  readonly transition: (at: Date) => Either.Either<A, unknown>
  readonly write: (at: Date) => Effect.Effect<void, E, R>
}): Effect.Effect<A, E | InvalidOperationError, R> =>
  Effect.gen(function* () {
    const at = yield* now
    if (options.ids !== undefined) yield* checkArgumentIds(options.ids)
    const next = yield* refusedTransition(options.transition(at))
    yield* options.write(at)
    return next
  })
