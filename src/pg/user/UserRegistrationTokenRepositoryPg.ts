// UserRegistrationTokenRepository on PostgreSQL: its declared static queries, plus the filter and page queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { copy } from "../../model/common.js"
import {
  revokeUserRegistrationToken,
  setUserRegistrationTokenExpiry,
  setUserRegistrationTokenUsageLimit,
  unrevokeUserRegistrationToken,
  UserRegistrationToken,
  useUserRegistrationToken
} from "../../model/user.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  USER_REGISTRATION_TOKENS,
  UserRegistrationTokenRow,
  userRegistrationTokenFromRow
} from "../../rows/user/userRegistrationToken.js"
import { refusedTransition, RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import {
  checkExpiry,
  checkUsageLimit,
  checkWellFormed,
  counterOutOfRange,
  MAX_INT4
} from "../../storage/common/limits.js"
import {
  type UserRegistrationTokenFilter,
  UserRegistrationTokenRepository
} from "../../storage/user/UserRegistrationTokenRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { countQuery, filter, pageQuery, piece } from "../dynamic.js"

const columns =
  "user_registration_token_id, token, usage_limit, times_used, created_at, last_used_at, expires_at, revoked_at"
const NullableDate = Schema.NullOr(Schema.DateFromSelf)

const q = repositoryQueries({
  prefix: "userRegistrationToken",
  table: USER_REGISTRATION_TOKENS,
  idColumn: "user_registration_token_id",
  row: UserRegistrationTokenRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM user_registration_tokens WHERE user_registration_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM user_registration_tokens WHERE token = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // No ON CONFLICT: the catalogue does not make a duplicate token idempotent, so it is a DriverError (storage rule: Conflicts).
  add: {
    text: `INSERT INTO user_registration_tokens (${columns}) VALUES ($1, $2, $3, 0, $4, NULL, $5, NULL)`,
    params: Schema.Tuple(UlidFromUuid, Schema.String, Schema.NullOr(Schema.Number), Schema.DateFromSelf, NullableDate),
    row: NoRows
  },
  // The increment happens in the database (concurrent uses all count). The guard refuses a revoked row,
  // and the bound keeps INTEGER overflow from becoming a driver error that would doom the transaction.
  useToken: {
    text: `UPDATE user_registration_tokens SET times_used = times_used + 1, last_used_at = $2 WHERE user_registration_token_id = $1 AND revoked_at IS NULL AND times_used < ${MAX_INT4} RETURNING times_used`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: Schema.Struct({ times_used: Schema.Number })
  },
  // Only when the guarded update touched nothing: tells a full counter (InvalidOperationError) from a revoked or missing row.
  "useToken.refusal": {
    text: `SELECT times_used, revoked_at FROM user_registration_tokens WHERE user_registration_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid),
    row: Schema.Struct({ times_used: Schema.Number, revoked_at: NullableDate })
  },
  revoke: {
    text: `UPDATE user_registration_tokens SET revoked_at = $2 WHERE user_registration_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  unrevoke: {
    text: `UPDATE user_registration_tokens SET revoked_at = NULL WHERE user_registration_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows
  },
  setExpiry: {
    text: `UPDATE user_registration_tokens SET expires_at = $2 WHERE user_registration_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid, NullableDate),
    row: NoRows
  },
  setUsageLimit: {
    text: `UPDATE user_registration_tokens SET usage_limit = $2 WHERE user_registration_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.NullOr(Schema.Number)),
    row: NoRows
  }
})

const hasBeenUsed = "times_used > 0"
const isRevoked = "revoked_at IS NOT NULL"
const isExpired = "expires_at IS NOT NULL AND expires_at <= $1"
const isValid =
  "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) AND (usage_limit IS NULL OR times_used < usage_limit)"
const At = Schema.Tuple(Schema.DateFromSelf)

/**
 * The UserRegistrationTokenFilter over `user_registration_tokens`, judged at the filter's `now`. Each criterion is a
 * total boolean (no NULL), so its negation selects exactly the other rows; memory's `matches` mirrors it.
 */
export const userRegistrationTokenFilter = filter<UserRegistrationTokenFilter>()(
  "UserRegistrationTokenFilter",
  {
    hasBeenUsed: piece(hasBeenUsed),
    hasNotBeenUsed: piece(`NOT (${hasBeenUsed})`),
    isRevoked: piece(isRevoked),
    isNotRevoked: piece(`NOT (${isRevoked})`),
    isExpired: piece(isExpired, At),
    isNotExpired: piece(`NOT (${isExpired})`, At),
    isValid: piece(isValid, At),
    isNotValid: piece(`NOT (${isValid})`, At)
  },
  (f, use) => [
    f.hasBeenUsed === true && use.hasBeenUsed(),
    f.hasBeenUsed === false && use.hasNotBeenUsed(),
    f.isRevoked === true && use.isRevoked(),
    f.isRevoked === false && use.isNotRevoked(),
    f.isExpired === true && use.isExpired(f.now),
    f.isExpired === false && use.isNotExpired(f.now),
    f.isValid === true && use.isValid(f.now),
    f.isValid === false && use.isNotValid(f.now)
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "registration tokens matching a UserRegistrationTokenFilter, one keyset page",
    row: UserRegistrationTokenRow,
    select: `SELECT ${columns} FROM user_registration_tokens`,
    slots: { filter: userRegistrationTokenFilter },
    where: "filter",
    keyset: "user_registration_tokens.user_registration_token_id"
  }),
  count: countQuery({
    description: "number of registration tokens matching a UserRegistrationTokenFilter",
    from: "user_registration_tokens",
    slots: { filter: userRegistrationTokenFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const toEntity = optionalEntity(userRegistrationTokenFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return UserRegistrationTokenRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toEntity),

    findByToken: (token) =>
      Effect.zipRight(checkWellFormed({ token }), Effect.flatMap(db.findByToken.one(token), toEntity)),

    add: (token, usageLimit, expiresAt) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ token })
        yield* checkUsageLimit(usageLimit)
        yield* checkExpiry(expiresAt)
        const at = yield* now
        const id = yield* generateUlid
        yield* db.add.affectedOne(id, token, Option.getOrNull(usageLimit), at, Option.getOrNull(expiresAt))
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
        const updated = yield* db.useToken.one(token.id, at)
        if (Option.isSome(updated)) return copy(UserRegistrationToken, used, { timesUsed: updated.value.times_used })
        const stored = yield* db["useToken.refusal"].one(token.id)
        if (Option.isSome(stored) && stored.value.revoked_at === null && stored.value.times_used >= MAX_INT4) {
          return yield* Effect.fail(counterOutOfRange(stored.value.times_used))
        }
        return yield* Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))
      }),

    revoke: (token) =>
      Effect.gen(function* () {
        const at = yield* now
        const revoked = yield* refusedTransition(revokeUserRegistrationToken(token, at))
        yield* db.revoke.affectedOne(token.id, at)
        return revoked
      }),

    unrevoke: (token) =>
      Effect.gen(function* () {
        const unrevoked = yield* refusedTransition(unrevokeUserRegistrationToken(token))
        yield* db.unrevoke.affectedOne(token.id)
        return unrevoked
      }),

    setExpiry: (token, expiresAt) =>
      Effect.gen(function* () {
        yield* checkExpiry(expiresAt)
        yield* db.setExpiry.affectedOne(token.id, Option.getOrNull(expiresAt))
        return setUserRegistrationTokenExpiry(token, expiresAt)
      }),

    setUsageLimit: (token, usageLimit) =>
      Effect.gen(function* () {
        yield* checkUsageLimit(usageLimit)
        yield* db.setUsageLimit.affectedOne(token.id, Option.getOrNull(usageLimit))
        return setUserRegistrationTokenUsageLimit(token, usageLimit)
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), userRegistrationTokenFromRow))
      }),

    count: (filter) => dynamic.count.count(sql, { filter })
  })
})

export const layer: Layer.Layer<UserRegistrationTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserRegistrationTokenRepository,
  Effect.map(make, traced("userRegistrationToken"))
)
