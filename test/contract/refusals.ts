// Contract-test helpers for refused arguments: values that must be refused, and a check that each attempt fails with the expected tag.
import { expect } from "@effect/vitest"
import { Effect, Either } from "effect"
import type { Ulid } from "../../src/model/Ulid.js"
import type { DatabaseError } from "../../src/storage/common/errors.js"

/**
 * Values that are not canonical ULID text, made from a stored id. Read loosely they would select its rows: PostgreSQL
 * read the first 26 characters of the longer one and ignored the bit a leading 8 adds beyond 128.
 */
export const malformedIdsLike = (id: Ulid): ReadonlyArray<Ulid> =>
  [
    "not-a-ulid",
    "",
    id.toLowerCase(),
    `${id}0`,
    `8${id.slice(1)}`,
    `${id.slice(0, 25)}U`
  ] as ReadonlyArray<string> as ReadonlyArray<Ulid>

/**
 * Runs every attempt and expects each to fail with `tag` and, when the attempt gives one, a message containing that
 * text; a mismatch names the attempt.
 */
export const expectEachToFail = <R>(
  tag: DatabaseError["_tag"],
  attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, DatabaseError, R>, string?]>
) =>
  Effect.gen(function* () {
    for (const [name, attempt, message] of attempts) {
      const result = yield* Effect.either(attempt)
      const got = Either.isLeft(result) ? result.left._tag : "success"
      const said = Either.isLeft(result) && (message === undefined || result.left.message.includes(message))
      expect([name, got, said]).toEqual([name, tag, true])
    }
  })

/** `expectEachToFail`, then `snapshot` (what the attempts could have written) reads as it did before them. */
export const expectEachToFailWithoutWriting = <R, S>(
  snapshot: Effect.Effect<unknown, unknown, S>,
  tag: DatabaseError["_tag"],
  attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, DatabaseError, R>, string?]>
) =>
  Effect.gen(function* () {
    const before = yield* snapshot
    yield* expectEachToFail(tag, attempts)
    expect(yield* snapshot).toEqual(before)
  })

/** The error of a guarded single-row write that touched no row (`toMatchObject` it). */
export const noRowAffected = { _tag: "RowsAffectedError", expected: 1, actual: 0 } as const
