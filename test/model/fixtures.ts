// Shared fixtures for the model and stored-row tests: deterministic ids and instants, and transition assertions.
import { assert, expect } from "@effect/vitest"
import { Either } from "effect"
import { InvalidTransition, type Ulid, ulidAt } from "../../src/model/index.js"

export const T0 = new Date("2022-01-16T14:40:00Z")
export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000)

let counter = 0
/** A fresh, distinct ULID (time T0 + n ms). */
export const newId = (): Ulid => {
  counter++
  return ulidAt(T0.getTime() + counter, [0, 0, 0, 0, 0, 0, 0, 0, 0, counter % 256])
}

/** The transition succeeded; returns the new value. */
export const right = <A>(result: Either.Either<A, InvalidTransition>): A => {
  if (Either.isLeft(result)) assert.fail(`unexpected ${result.left.message}`)
  return (result as Either.Right<InvalidTransition, A>).right
}

/** The transition was refused with exactly this InvalidTransition. */
export const refused = (
  result: Either.Either<unknown, InvalidTransition>,
  entity: string,
  from: string,
  transition: string
): void => {
  assert.isTrue(Either.isLeft(result), `${entity}.${transition} from ${from} should be refused`)
  if (Either.isLeft(result)) {
    assert.instanceOf(result.left, InvalidTransition)
    assert.strictEqual(result.left._tag, "InvalidTransition")
    expect({ entity: result.left.entity, from: result.left.from, transition: result.left.transition }).toEqual({
      entity,
      from,
      transition
    })
  }
}
