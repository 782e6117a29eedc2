// UserRegistrationTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { copy } from "../../model/common.js"
import {
  revokeUserRegistrationToken,
  setUserRegistrationTokenExpiry,
  setUserRegistrationTokenUsageLimit,
  unrevokeUserRegistrationToken,
  UserRegistrationToken,
  useUserRegistrationToken
} from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  type DriverError,
  type InvalidOperationError,
  refusedTransition,
  RowsAffectedError
} from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import {
  checkExpiry,
  checkUsageLimit,
  checkWellFormed,
  counterOutOfRange,
  MAX_INT4
} from "../../storage/common/limits.js"
import {
  USER_REGISTRATION_TOKENS,
  UserRegistrationTokenRow,
  userRegistrationTokenFromRow
} from "../../rows/user/userRegistrationToken.js"
import {
  type UserRegistrationTokenFilter,
  UserRegistrationTokenRepository
} from "../../storage/user/UserRegistrationTokenRepository.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import type { Database } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

const table = USER_REGISTRATION_TOKENS

/** The twin of the PostgreSQL filter fragment: the same criteria, the same instant. */
const matches = (filter: UserRegistrationTokenFilter) => {
  const at = filter.now.getTime()
  const expired = (row: UserRegistrationTokenRow) => row.expires_at !== null && row.expires_at.getTime() <= at
  const valid = (row: UserRegistrationTokenRow) =>
    row.revoked_at === null && !expired(row) && (row.usage_limit === null || row.times_used < row.usage_limit)
  const test = (wanted: boolean | undefined, holds: boolean) => wanted === undefined || wanted === holds
  return (row: UserRegistrationTokenRow): boolean =>
    test(filter.hasBeenUsed, row.times_used > 0) &&
    test(filter.isRevoked, row.revoked_at !== null) &&
    test(filter.isExpired, expired(row)) &&
    test(filter.isValid, valid(row))
}

const toEntity = optionalEntity(userRegistrationTokenFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, { table, idColumn: "user_registration_token_id", row: UserRegistrationTokenRow })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none.
  const selectTokens = (filter: UserRegistrationTokenFilter) =>
    store.read((db) => tokens.rows(db).filter(matches(filter)))

  return UserRegistrationTokenRepository.of({
    lookup: (id) => Effect.flatMap(tokens.get(id), toEntity),

    findByToken: (token) =>
      Effect.zipRight(
        checkWellFormed({ token }),
        Effect.flatMap(
          tokens.find((r) => r.token === token, token),
          toEntity
        )
      ),

    add: (token, usageLimit, expiresAt) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ token })
        yield* checkUsageLimit(usageLimit)
        yield* checkExpiry(expiresAt)
        const at = yield* now
        const id = yield* generateUlid
        yield* tokens.insert({
          user_registration_token_id: id,
          token,
          usage_limit: Option.getOrNull(usageLimit),
          times_used: 0,
          created_at: at,
          last_used_at: null,
          expires_at: Option.getOrNull(expiresAt),
          revoked_at: null
        })
        return new UserRegistrationToken({
          id,
          token,
          usageLimit,
          timesUsed: 0,
          createdAt: at,
          lastUsedAt: Option.none(),
          expiresAt,
          revokedAt: Option.none()
        })
      }),

    useToken: (token) =>
      Effect.gen(function* () {
        const at = yield* now
        if (token.timesUsed >= MAX_INT4) return yield* Effect.fail(counterOutOfRange(token.timesUsed))
        const used = yield* refusedTransition(useUserRegistrationToken(token, at))
        // The same guard as the SQL statement, and the same reading of a refusal.
        const timesUsed = yield* store.write(
          (db): Either.Either<readonly [number, Database], DriverError | RowsAffectedError | InvalidOperationError> => {
            const stored = db.get<UserRegistrationTokenRow>(table, token.id)
            if (Option.isNone(stored) || stored.value.revoked_at !== null) {
              return Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
            }
            if (stored.value.times_used >= MAX_INT4) return Either.left(counterOutOfRange(stored.value.times_used))
            const next = stored.value.times_used + 1
            return Either.map(
              db.update(table, token.id, (row) => ({ ...row, times_used: next, last_used_at: at })),
              (db2) => [next, db2] as const
            )
          }
        )
        return copy(UserRegistrationToken, used, { timesUsed })
      }),

    revoke: (token) =>
      Effect.gen(function* () {
        const at = yield* now
        const revoked = yield* refusedTransition(revokeUserRegistrationToken(token, at))
        yield* tokens.updateOne(token.id, (row) => ({ ...row, revoked_at: at }))
        return revoked
      }),

    unrevoke: (token) =>
      Effect.gen(function* () {
        const unrevoked = yield* refusedTransition(unrevokeUserRegistrationToken(token))
        yield* tokens.updateOne(token.id, (row) => ({ ...row, revoked_at: null }))
        return unrevoked
      }),

    setExpiry: (token, expiresAt) =>
      Effect.gen(function* () {
        yield* checkExpiry(expiresAt)
        yield* tokens.updateOne(token.id, (row) => ({ ...row, expires_at: Option.getOrNull(expiresAt) }))
        return setUserRegistrationTokenExpiry(token, expiresAt)
      }),

    setUsageLimit: (token, usageLimit) =>
      Effect.gen(function* () {
        yield* checkUsageLimit(usageLimit)
        yield* tokens.updateOne(token.id, (row) => ({ ...row, usage_limit: Option.getOrNull(usageLimit) }))
        return setUserRegistrationTokenUsageLimit(token, usageLimit)
      }),

    list: (filter, pagination) =>
      Effect.zipRight(
        checkCursors(pagination),
        Effect.flatMap(selectTokens(filter), (rows) =>
          paginate(rows, pagination, (r) => r.user_registration_token_id).tryMap((row) =>
            Either.map(tokens.decode(row), userRegistrationTokenFromRow)
          )
        )
      ),

    count: (filter) => Effect.flatMap(selectTokens(filter), (rows) => toSafeCountOrFail(rows.length))
  })
})

export const layer: Layer.Layer<UserRegistrationTokenRepository, never, MemoryStore> = Layer.effect(
  UserRegistrationTokenRepository,
  make
)
