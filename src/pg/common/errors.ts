// Driver failures as the repositories report them: an @effect/sql SqlError becomes a DriverError with its SQLSTATE and constraint.
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Predicate } from "effect"
import { DriverError } from "../../storage/common/errors.js"

const SQLSTATE = /^[0-9A-Z]{5}$/

// pg's DatabaseError carries `code` (SQLSTATE) and `constraint`; node's own errors carry codes like
// ECONNREFUSED, which the pattern rejects. The chain is short: SqlError → driver error (→ cause).
const findDriverField = (cause: unknown, field: "code" | "constraint", accept: (s: string) => boolean) => {
  let current: unknown = cause
  for (let depth = 0; depth < 4 && Predicate.isObject(current); depth++) {
    const value = (current as Record<string, unknown>)[field]
    if (typeof value === "string" && accept(value)) return Option.some(value)
    current = (current as { cause?: unknown }).cause
  }
  return Option.none<string>()
}

/** The SQLSTATE of a driver failure (`"23505"` for a unique violation, …), when the server sent one. */
export const sqlStateOf = (cause: unknown): Option.Option<string> =>
  findDriverField(cause, "code", (s) => SQLSTATE.test(s))

/** Maps an `@effect/sql` error to `DriverError`, keeping the `SqlError` itself as the cause. */
export const fromSqlError = (error: SqlError): DriverError => {
  const sqlState = sqlStateOf(error.cause)
  return new DriverError({
    cause: error,
    sqlState,
    constraint: Option.isSome(sqlState) ? findDriverField(error.cause, "constraint", () => true) : Option.none()
  })
}

/** Turns every `SqlError` of an effect into a `DriverError`, leaving other errors alone. */
export const mapSqlError = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError> | DriverError, R> =>
  Effect.mapError(self, (e) => (e instanceof SqlError ? fromSqlError(e) : (e as Exclude<E, SqlError>)))
