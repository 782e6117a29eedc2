// The in-memory database service: one Database value behind a lock, with units of work that roll back to a snapshot.
import { Context, Effect, Either, Exit, FiberRef, Layer, Option, Ref } from "effect"
import { DriverError, SqlState } from "../storage/common/errors.js"
import { abortOnDriverError, currentUnitOfWork, runUnitOfWork } from "../storage/common/UnitOfWork.js"
import { Database } from "./Database.js"
import { tables } from "./schema.js"

export interface MemoryStoreShape {
  /** Reads the current state (inside a unit of work: its own uncommitted state). */
  readonly read: <A>(f: (db: Database) => A) => Effect.Effect<A, DriverError>
  /**
   * Applies `f` atomically. `f` returns the result and the new state, or an error that changes
   * nothing; a `DriverError` dooms the surrounding unit of work, as a constraint violation does in PostgreSQL.
   */
  readonly write: <A, E>(
    f: (db: Database) => Either.Either<readonly [A, Database], E>
  ) => Effect.Effect<A, E | DriverError>
  /** Runs `effect` as one unit of work: all of it or, on failure or interruption, nothing. */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DriverError, R>
}

export class MemoryStore extends Context.Tag("memory/MemoryStore")<MemoryStore, MemoryStoreShape>() {}

const inFailedTransaction = new DriverError({
  cause: new Error("current transaction is aborted, commands ignored until end of transaction block"),
  sqlState: Option.some(SqlState.InFailedSqlTransaction),
  constraint: Option.none()
})

/**
 * Units of work are serialised by one permit, held for a unit's whole run: the simplest isolation
 * that is never weaker than PostgreSQL's, and what makes a snapshot restore safe on rollback.
 * Statements outside a unit take the permit for their own duration only.
 */
export const make = Effect.gen(function* () {
  const state = yield* Ref.make(Database.empty(tables))
  const permit = yield* Effect.makeSemaphore(1)
  // Whether the current fiber runs inside a unit of work of THIS store (holding its permit).
  const holding = FiberRef.unsafeMake(false)

  const guarded = <A, E>(body: Effect.Effect<A, E>): Effect.Effect<A, E | DriverError> =>
    Effect.gen(function* () {
      if (!(yield* FiberRef.get(holding))) return yield* permit.withPermits(1)(body)
      const unit = yield* FiberRef.get(currentUnitOfWork)
      if (Option.isSome(unit) && Option.isSome(yield* Ref.get(unit.value.aborted))) {
        return yield* Effect.fail(inFailedTransaction)
      }
      return yield* body
    })

  const read = <A>(f: (db: Database) => A) => guarded(Effect.map(Ref.get(state), f))

  const write = <A, E>(f: (db: Database) => Either.Either<readonly [A, Database], E>) =>
    guarded(
      Effect.flatten(
        Ref.modify(state, (db): readonly [Either.Either<A, E>, Database] => {
          const result = f(db)
          return Either.isRight(result)
            ? [Either.right(result.right[0]), result.right[1]]
            : [Either.left(result.left), db]
        })
      )
    ).pipe(abortOnDriverError)

  /** Restores the state taken before `effect` unless it succeeds: a transaction or a savepoint. */
  const withRollback = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const snapshot = yield* Ref.get(state)
        const exit = yield* Effect.exit(restore(effect))
        if (Exit.isFailure(exit)) yield* Ref.set(state, snapshot)
        return yield* exit
      })
    )

  const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      if (yield* FiberRef.get(holding)) return yield* runUnitOfWork<A, E, R, never, never>(effect, withRollback) // nested: a savepoint
      return yield* permit.withPermits(1)(
        runUnitOfWork<A, E, R, never, never>(Effect.locally(effect, holding, true), withRollback)
      )
    })

  return MemoryStore.of({ read, write, transaction })
})

/** A fresh, empty in-memory database. */
export const layer: Layer.Layer<MemoryStore> = Layer.effect(MemoryStore, make)
