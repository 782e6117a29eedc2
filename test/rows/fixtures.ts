// Shared assertion of the stored-row tests: a state tuple refused with the column it names.
import { assert, expect } from "@effect/vitest"
import { Either, Option } from "effect"
import type { StateDecodeFailure } from "../../src/rows/state.js"

/** The decoder refused the tuple, naming `column`. */
export const inconsistent = (result: Either.Either<unknown, StateDecodeFailure>, column: string): void => {
  assert.isTrue(Either.isLeft(result), `expected an inconsistency on ${column}`)
  if (Either.isLeft(result)) {
    expect(result.left.column).toEqual(Option.some(column))
    assert.isTrue(result.left.reason.length > 0)
  }
}
