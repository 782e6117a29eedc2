// Checks on statement parameters that PostgreSQL makes before it reads any row, made the same way in memory.
import { Effect, Option } from "effect"
import { DriverError, SqlState } from "../../storage/common/errors.js"
import { abortOnDriverError } from "../../storage/common/UnitOfWork.js"

/**
 * PostgreSQL refuses a text parameter holding NUL (22021), reads included, and that error dooms
 * the surrounding unit of work: memory refuses the same inputs the same way.
 */
export const rejectNul = (...texts: ReadonlyArray<string | undefined>): Effect.Effect<void, DriverError> =>
  texts.some((t) => t !== undefined && t.includes("\u0000"))
    ? abortOnDriverError(
        Effect.fail(
          new DriverError({
            cause: new Error('invalid byte sequence for encoding "UTF8": 0x00'),
            sqlState: Option.some(SqlState.InvalidByteSequence),
            constraint: Option.none()
          })
        )
      )
    : Effect.void
