// Checks on arguments, made the same way by both backends before anything is sent or written: UTF-16 that has a UTF-8
// form, the length limits of indexed text, scope tokens, and the ranges of the numeric and timestamp columns.
import { Effect, Either, Option, Schema } from "effect"
import { PasswordVersion } from "../../model/user.js"
import { ActivityRecord, ScopeToken } from "../../model/values.js"
import { InvalidOperationError } from "./errors.js"

/**
 * A username is at most 255 bytes of UTF-8 (a Matrix user id's own limit). Without a limit the two backends
 * would differ: PostgreSQL refuses a btree entry over ~2.7 kB (after compression, so the cut-off depends on the
 * text) with error 54000, while memory has no such limit.
 */
export const USERNAME_MAX_BYTES = 255

/** An email address is at most 320 bytes of UTF-8 (RFC 5321: 64 for the local part, @, 255 for the domain). */
export const EMAIL_MAX_BYTES = 320

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether `text` holds a UTF-16 surrogate that is not half of a pair, which no UTF-8 text can carry. */
export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text)

/**
 * Refuses text arguments (given by name) holding an unpaired surrogate, naming the argument. node-postgres sends text
 * as UTF-8 and writes U+FFFD for such a surrogate, so PostgreSQL would store, compare and return other text than
 * memory keeps (and a lookup would match the U+FFFD spelling). Absent arguments (undefined or null) pass.
 */
export const checkWellFormed = (
  texts: Readonly<Record<string, string | null | undefined>>
): Effect.Effect<void, InvalidOperationError> => {
  for (const [name, text] of Object.entries(texts)) {
    const at = typeof text === "string" ? text.search(LONE_SURROGATE) : -1
    if (at >= 0) {
      const unit = text!.charCodeAt(at).toString(16).toUpperCase()
      return Effect.fail(
        new InvalidOperationError({
          cause: Option.some(
            `${name} holds an unpaired UTF-16 surrogate (U+${unit} at index ${at}), which has no UTF-8 form`
          )
        })
      )
    }
  }
  return Effect.void
}

/** Refuses `value` with an InvalidOperationError when its UTF-8 form is longer than `maxBytes`. */
export const checkMaxBytes = (
  what: string,
  value: string,
  maxBytes: number
): Effect.Effect<void, InvalidOperationError> => {
  const bytes = Buffer.byteLength(value, "utf8")
  return bytes <= maxBytes
    ? Effect.void
    : Effect.fail(
        new InvalidOperationError({
          cause: Option.some(`${what} is ${bytes} bytes long; at most ${maxBytes} are allowed`)
        })
      )
}

const isScopeToken = Schema.is(ScopeToken)
const isScopeList = Schema.is(Schema.Array(ScopeToken))

/**
 * Refuses a scope (an argument or a filter criterion, named by `what`) holding anything but scope tokens, as a Scope
 * built around its constructor can: PostgreSQL's parameter encoding refuses it before anything is sent, and memory
 * would store or compare it as it is.
 */
export const checkScope = (what: string, scope: ReadonlyArray<string>): Effect.Effect<void, InvalidOperationError> => {
  if (isScopeList(scope)) return Effect.void
  const bad: unknown = Array.isArray(scope) ? scope.find((token) => !isScopeToken(token)) : scope
  return Effect.fail(
    new InvalidOperationError({
      cause: Option.some(`${what} holds a token that is not a scope token: ${String(JSON.stringify(bad))}`)
    })
  )
}

/** The largest value of an `INTEGER` column: `usage_limit` and `times_used` cannot go beyond it. */
export const MAX_INT4 = 2_147_483_647

/** PostgreSQL's earliest timestamptz, 4714-11-24T00:00:00Z BC (JavaScript's latest Date is within its range). */
export const MIN_TIMESTAMPTZ = Date.UTC(-4713, 10, 24)

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0

const outOfRange = (what: string) => Either.left(new InvalidOperationError({ cause: Option.some(what) }))

/**
 * Arguments both backends refuse before writing (InvalidOperationError, nothing written): a usage
 * limit that is not an integer in `0..MAX_INT4` (PostgreSQL's INTEGER would reject or the entity
 * could not hold it) and an expiry PostgreSQL's timestamptz cannot hold (invalid Date, before 4714 BC).
 */
export const checkUsageLimit = (usageLimit: Option.Option<number>): Either.Either<void, InvalidOperationError> =>
  Option.isSome(usageLimit) && !(isCount(usageLimit.value) && usageLimit.value <= MAX_INT4)
    ? outOfRange(`usage limit must be an integer between 0 and ${MAX_INT4}, got ${usageLimit.value}`)
    : Either.void

export const checkExpiry = (expiresAt: Option.Option<Date>): Either.Either<void, InvalidOperationError> =>
  Option.isSome(expiresAt) && !(expiresAt.value.getTime() >= MIN_TIMESTAMPTZ)
    ? outOfRange(`expiry must be a valid Date from 4714-11-24 BC on, got ${String(expiresAt.value)}`)
    : Either.void

/** The next counter of `useToken` would not fit the INTEGER column. */
export const counterOutOfRange = (timesUsed: number): InvalidOperationError =>
  new InvalidOperationError({ cause: Option.some(`times_used ${timesUsed} cannot be incremented beyond ${MAX_INT4}`) })

/** Both backends refuse a version outside the column's 16-bit range before writing (memory has no CHECK constraints). */
export const checkPasswordVersion = (version: number): Effect.Effect<number, InvalidOperationError> =>
  Schema.is(PasswordVersion)(version)
    ? Effect.succeed(version)
    : Effect.fail(
        new InvalidOperationError({
          cause: Option.some(`Password version must be an integer in 0..65535, got ${version}`)
        })
      )

/**
 * The `limit` of a cleanup round, checked before any query: a negative, fractional or unsafe number
 * is an InvalidOperationError on both backends (PostgreSQL alone would reject only some of them).
 */
export const checkCleanupLimit = (limit: number): Effect.Effect<number, InvalidOperationError> =>
  checkCount("Cleanup limit", limit)

/** A count argument (named by `what`) that is not a non-negative safe integer is an InvalidOperationError. */
export const checkCount = (what: string, n: number): Effect.Effect<number, InvalidOperationError> =>
  isCount(n)
    ? Effect.succeed(n)
    : Effect.fail(new InvalidOperationError({ cause: Option.some(`${what} ${n} is not a non-negative safe integer`) }))

const isActivity = Schema.is(Schema.Array(ActivityRecord))

/**
 * Activity entries whose id is not canonical ULID text, whose instant is not a valid Date or whose IP is not a
 * canonical address are refused before anything is written, the same way on both backends and for every kind of session (the
 * batched-activity runs of src/pg/common/activity.ts and src/memory/common/activity.ts call it).
 */
export const checkActivity = (activity: ReadonlyArray<ActivityRecord>): Effect.Effect<void, InvalidOperationError> =>
  isActivity(activity)
    ? Effect.void
    : Effect.fail(
        new InvalidOperationError({
          cause: Option.some("activity holds an entry with a malformed id, an invalid instant or a non-canonical IP")
        })
      )

/**
 * Refuses a JSON document argument (named by `what`) before anything is sent or written: a value that is not JSON
 * (a non-finite number, a function, a class instance, a cycle: the parameter could not be encoded) or text holding an
 * unpaired surrogate, in member names as in values (it has no UTF-8 form; jsonb would refuse it on PostgreSQL alone).
 * NUL is left to the write, where PostgreSQL's jsonb refuses it (22P05).
 */
export const checkJsonArgument = (what: string, value: unknown): Effect.Effect<void, InvalidOperationError> => {
  const ancestors = new Set<object>()
  const problem = (v: unknown): string | undefined => {
    if (v === null || typeof v === "boolean") return undefined
    if (typeof v === "number") return Number.isFinite(v) ? undefined : "is not a JSON value"
    if (typeof v === "string") return hasLoneSurrogate(v) ? "holds an unpaired UTF-16 surrogate" : undefined
    if (typeof v !== "object") return "is not a JSON value"
    if (ancestors.has(v)) return "is not a JSON value (it holds a cycle)"
    const isArray = Array.isArray(v)
    if (!isArray) {
      const proto: unknown = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) return "is not a JSON value"
    }
    ancestors.add(v)
    try {
      for (const [key, inner] of Object.entries(v)) {
        if (!isArray && hasLoneSurrogate(key)) return "holds an unpaired UTF-16 surrogate"
        const found = problem(inner)
        if (found !== undefined) return found
      }
      return undefined
    } finally {
      ancestors.delete(v)
    }
  }
  const found = problem(value)
  return found === undefined
    ? Effect.void
    : Effect.fail(new InvalidOperationError({ cause: Option.some(`${what} ${found}`) }))
}
