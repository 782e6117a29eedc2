// Idempotent transitions as both backends write them: nothing is written when the model says nothing changed.
import { Effect, Either } from "effect"

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
