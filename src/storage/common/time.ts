// The current instant as the repositories see it: Effect's Clock, whole milliseconds (so timestamptz round-trips exactly).
import { Clock, Effect } from "effect"

export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))
