// Counts in memory follow the same safe-integer rule as PostgreSQL's.
import { Effect, Option } from "effect"
import { InvalidOperationError } from "../../storage/common/errors.js"

export const toSafeCountOrFail = (n: number): Effect.Effect<number, InvalidOperationError> =>
  Number.isSafeInteger(n) && n >= 0
    ? Effect.succeed(n)
    : Effect.fail(new InvalidOperationError({ cause: Option.some(`Count ${n} is not a non-negative safe integer`) }))
