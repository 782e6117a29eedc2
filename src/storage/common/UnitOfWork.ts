// The unit-of-work bookkeeping both backends share: which unit a fiber is in, and whether a driver error has aborted it.
import { Effect, FiberRef, Option, Ref } from "effect"
import { DriverError, SqlState } from "./errors.js"

/** One running unit of work: the first driver error seen inside it, which dooms it as PostgreSQL does. */
export interface UnitOfWork {
  readonly aborted: Ref.Ref<Option.Option<DriverError>>
}

/** The unit of work the current fiber runs in (inherited by forked fibers), none outside `transaction`. */
export const currentUnitOfWork: FiberRef.FiberRef<Option.Option<UnitOfWork>> = FiberRef.unsafeMake(
  Option.none<UnitOfWork>()
)

/** Remembers a driver error in the current unit of work, if any: it can no longer commit. */
export const recordDriverError = (error: DriverError): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(currentUnitOfWork), (unit) =>
    Option.match(unit, {
      onNone: () => Effect.void,
      onSome: (u) => Ref.update(u.aborted, (current) => (Option.isSome(current) ? current : Option.some(error)))
    })
  )

/** Tags driver errors of `self` as aborting the current unit of work. */
export const abortOnDriverError = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tapError(self, (e) => (e instanceof DriverError ? recordDriverError(e) : Effect.void))

/** The error a doomed unit of work reports instead of committing (PostgreSQL's 25P02). */
export const abortedError = (cause: DriverError): DriverError =>
  new DriverError({
    cause: new Error(`current transaction is aborted by an earlier error and was rolled back: ${cause.message}`, {
      cause
    }),
    sqlState: Option.some(SqlState.InFailedSqlTransaction),
    constraint: Option.none()
  })

/**
 * Runs `effect` as a unit of work inside `begin` (the backend's transaction, which commits on
 * success and rolls back on failure or interruption). A driver error caught by the caller inside
 * the unit still dooms it: instead of a silent rollback at commit (what PostgreSQL does), the
 * unit fails with `abortedError`, so nothing is lost without the caller knowing.
 */
export const runUnitOfWork = <A, E, R, E2, R2>(
  effect: Effect.Effect<A, E, R>,
  begin: <X, Y, Z>(inner: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y | E2, Z | R2>
): Effect.Effect<A, E | E2 | DriverError, R | R2> =>
  Effect.gen(function* () {
    const aborted = yield* Ref.make(Option.none<DriverError>())
    const checked = Effect.zipLeft(
      effect,
      Effect.flatMap(
        Ref.get(aborted),
        Option.match({ onNone: () => Effect.void, onSome: (e) => Effect.fail(abortedError(e)) })
      )
    )
    return yield* begin(Effect.locally(checked, currentUnitOfWork, Option.some({ aborted })))
  })
