// The current instant as the repositories see it: Effect's Clock, whole milliseconds (so timestamptz round-trips exactly).
import { Clock, Duration, Effect, Either, Option } from "effect"
import { InvalidOperationError } from "./errors.js"

export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

/** `start + duration`, refused when it is not a representable instant (infinite or beyond Date's range). */
export const expiryAfter = (start: Date, duration: Duration.Duration): Either.Either<Date, InvalidOperationError> => {
  const millis = Duration.toMillis(duration)
  const expiresAt = new Date(start.getTime() + Math.floor(millis))
  return Number.isFinite(millis) && !Number.isNaN(expiresAt.getTime())
    ? Either.right(expiresAt)
    : Either.left(
        new InvalidOperationError({
          cause: Option.some(`Duration ${Duration.format(duration)} gives no valid expiry instant`)
        })
      )
}
