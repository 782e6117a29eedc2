// Checks on statement parameters that PostgreSQL makes before it reads any row, made the same way in memory.
import { Effect, Option } from "effect"
import { isUlid } from "../../model/Ulid.js"
import { DriverError, InvalidOperationError, SqlState } from "../../storage/common/errors.js"
import { abortOnDriverError } from "../../storage/common/UnitOfWork.js"

/**
 * PostgreSQL refuses a text parameter holding NUL (22021), reads included, and that error dooms
 * the surrounding unit of work: memory refuses the same inputs the same way.
 */
export const rejectNul = (...texts: ReadonlyArray<string | undefined>): Effect.Effect<void, DriverError> =>
  texts.some((t) => t !== undefined && t.includes("\u0000")) ? abortOnDriverError(Effect.fail(nulError())) : Effect.void

/** PostgreSQL's refusal of a text parameter holding NUL. */
export const nulError = (): DriverError =>
  new DriverError({
    cause: new Error('invalid byte sequence for encoding "UTF8": 0x00'),
    sqlState: Option.some(SqlState.InvalidByteSequence),
    constraint: Option.none()
  })

const malformedUlid = (value: string) =>
  new InvalidOperationError({ cause: Option.some(`Malformed ULID: ${JSON.stringify(value)}`) })

/**
 * PostgreSQL's statements encode a `Ulid` argument to uuid text with `UlidFromUuid`, which refuses
 * anything but canonical ULID text before the statement is sent (no row read, the unit of work
 * stays usable): memory refuses the same values the same way rather than matching nothing.
 */
export const requireUlid = (...ids: ReadonlyArray<string>): Effect.Effect<void, InvalidOperationError> => {
  const bad = ids.find((id) => !isUlid(id))
  return bad === undefined ? Effect.void : Effect.fail(malformedUlid(String(bad)))
}
