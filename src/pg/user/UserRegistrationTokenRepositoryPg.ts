// UserRegistrationTokenRepository on PostgreSQL: declared static queries, plus the filter and page queries assembled from fragments.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Layer, Option, Schema } from "effect"
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
import { expectRowsAffected, refusedTransition, RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import {
  checkExpiry,
  checkUsageLimit,
  counterOutOfRange,
  MAX_INT4,
  USER_REGISTRATION_TOKENS,
  UserRegistrationTokenRow,
  userRegistrationTokenFromRow
} from "../../rows/user/userRegistrationToken.js"
import {
  type UserRegistrationTokenFilter,
  UserRegistrationTokenRepository
} from "../../storage/user/UserRegistrationTokenRepository.js"
import { countRows } from "../common/count.js"
import { listPage } from "../common/pagination.js"
import { dynamicQuery, rowDecoder, runDynamic, staticQuery, uuidCursor } from "../query.js"
import { traced } from "../common/tracing.js"

const table = USER_REGISTRATION_TOKENS
const idColumn = "user_registration_token_id"
const columns =
  "user_registration_token_id, token, usage_limit, times_used, created_at, last_used_at, expires_at, revoked_at"
const NullableDate = Schema.NullOr(Schema.DateFromSelf)

const lookup = staticQuery({
  name: "userRegistrationToken.lookup",
  table,
  idColumn,
  text: `SELECT ${columns} FROM user_registration_tokens WHERE user_registration_token_id = $1`,
  params: Schema.Tuple(UlidFromUuid),
  row: UserRegistrationTokenRow
})

const findByToken = staticQuery({
  name: "userRegistrationToken.findByToken",
  table,
  idColumn,
  text: `SELECT ${columns} FROM user_registration_tokens WHERE token = $1`,
  params: Schema.Tuple(Schema.String),
  row: UserRegistrationTokenRow
})

// No ON CONFLICT: the catalogue does not make a duplicate token idempotent, so it is a DriverError (§1.8).
const add = staticQuery({
  name: "userRegistrationToken.add",
  table,
  text: `INSERT INTO user_registration_tokens (${columns}) VALUES ($1, $2, $3, 0, $4, NULL, $5, NULL)`,
  params: Schema.Tuple(UlidFromUuid, Schema.String, Schema.NullOr(Schema.Number), Schema.DateFromSelf, NullableDate),
  row: Schema.Struct({})
})

// The increment happens in the database (concurrent uses all count). The guard refuses a revoked row,
// and the bound keeps INTEGER overflow from becoming a driver error that would doom the transaction.
const useToken = staticQuery({
  name: "userRegistrationToken.useToken",
  table,
  text: `UPDATE user_registration_tokens SET times_used = times_used + 1, last_used_at = $2 WHERE user_registration_token_id = $1 AND revoked_at IS NULL AND times_used < ${MAX_INT4} RETURNING times_used`,
  params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
  row: Schema.Struct({ times_used: Schema.Number })
})

// Only when the guarded update touched nothing: tells a full counter (InvalidOperationError) from a revoked or missing row.
const useTokenRefusal = staticQuery({
  name: "userRegistrationToken.useToken.refusal",
  table,
  text: `SELECT times_used, revoked_at FROM user_registration_tokens WHERE user_registration_token_id = $1`,
  params: Schema.Tuple(UlidFromUuid),
  row: Schema.Struct({ times_used: Schema.Number, revoked_at: NullableDate })
})

const revoke = staticQuery({
  name: "userRegistrationToken.revoke",
  table,
  text: `UPDATE user_registration_tokens SET revoked_at = $2 WHERE user_registration_token_id = $1`,
  params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
  row: Schema.Struct({})
})

const unrevoke = staticQuery({
  name: "userRegistrationToken.unrevoke",
  table,
  text: `UPDATE user_registration_tokens SET revoked_at = NULL WHERE user_registration_token_id = $1`,
  params: Schema.Tuple(UlidFromUuid),
  row: Schema.Struct({})
})

const setExpiry = staticQuery({
  name: "userRegistrationToken.setExpiry",
  table,
  text: `UPDATE user_registration_tokens SET expires_at = $2 WHERE user_registration_token_id = $1`,
  params: Schema.Tuple(UlidFromUuid, NullableDate),
  row: Schema.Struct({})
})

const setUsageLimit = staticQuery({
  name: "userRegistrationToken.setUsageLimit",
  table,
  text: `UPDATE user_registration_tokens SET usage_limit = $2 WHERE user_registration_token_id = $1`,
  params: Schema.Tuple(UlidFromUuid, Schema.NullOr(Schema.Number)),
  row: Schema.Struct({})
})

const decodeRow = rowDecoder(UserRegistrationTokenRow, table, idColumn)

const list = dynamicQuery({
  name: "userRegistrationToken.list",
  table,
  description: "registration tokens matching a UserRegistrationTokenFilter, one keyset page"
})
const count = dynamicQuery({
  name: "userRegistrationToken.count",
  table,
  description: "number of registration tokens matching a UserRegistrationTokenFilter"
})

// Each criterion is a total boolean (no NULL), so its negation selects exactly the other rows; memory's `matches` mirrors it.
const filterFragment = (sql: SqlClient.SqlClient, filter: UserRegistrationTokenFilter): Fragment => {
  const at = filter.now
  const clauses: Array<Fragment> = []
  const test = (wanted: boolean | undefined, condition: Fragment) => {
    if (wanted !== undefined) clauses.push(wanted ? condition : sql`NOT ${condition}`)
  }
  test(filter.hasBeenUsed, sql`(times_used > 0)`)
  test(filter.isRevoked, sql`(revoked_at IS NOT NULL)`)
  test(filter.isExpired, sql`(expires_at IS NOT NULL AND expires_at <= ${at})`)
  test(
    filter.isValid,
    sql`(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${at}) AND (usage_limit IS NULL OR times_used < usage_limit))`
  )
  return sql.and(clauses)
}

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const provide = Effect.provideService(SqlClient.SqlClient, sql)

  const decodeOne = (rows: Option.Option<UserRegistrationTokenRow>) =>
    Option.match(rows, {
      onNone: () => Effect.succeed(Option.none<UserRegistrationToken>()),
      onSome: (row) => Effect.map(userRegistrationTokenFromRow(row), Option.some)
    })

  return UserRegistrationTokenRepository.of({
    lookup: (id) => provide(Effect.flatMap(lookup.one(id), decodeOne)),

    findByToken: (token) => provide(Effect.flatMap(findByToken.one(token), decodeOne)),

    add: (token, usageLimit, expiresAt) =>
      provide(
        Effect.gen(function* () {
          yield* checkUsageLimit(usageLimit)
          yield* checkExpiry(expiresAt)
          const at = yield* now
          const id = yield* generateUlid
          yield* add
            .affected(id, token, Option.getOrNull(usageLimit), at, Option.getOrNull(expiresAt))
            .pipe(Effect.flatMap(expectRowsAffected(1)))
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
        })
      ),

    useToken: (token) =>
      provide(
        Effect.gen(function* () {
          const at = yield* now
          if (token.timesUsed >= MAX_INT4) return yield* Effect.fail(counterOutOfRange(token.timesUsed))
          const used = yield* refusedTransition(useUserRegistrationToken(token, at))
          const updated = yield* useToken.one(token.id, at)
          if (Option.isSome(updated)) return copy(UserRegistrationToken, used, { timesUsed: updated.value.times_used })
          const stored = yield* useTokenRefusal.one(token.id)
          if (Option.isSome(stored) && stored.value.revoked_at === null && stored.value.times_used >= MAX_INT4) {
            return yield* Effect.fail(counterOutOfRange(stored.value.times_used))
          }
          return yield* Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))
        })
      ),

    revoke: (token) =>
      provide(
        Effect.gen(function* () {
          const at = yield* now
          const revoked = yield* refusedTransition(revokeUserRegistrationToken(token, at))
          yield* revoke.affectedOne(token.id, at)
          return revoked
        })
      ),

    unrevoke: (token) =>
      provide(
        Effect.gen(function* () {
          const unrevoked = yield* refusedTransition(unrevokeUserRegistrationToken(token))
          yield* unrevoke.affectedOne(token.id)
          return unrevoked
        })
      ),

    setExpiry: (token, expiresAt) =>
      provide(
        Effect.gen(function* () {
          yield* checkExpiry(expiresAt)
          yield* setExpiry.affectedOne(token.id, Option.getOrNull(expiresAt))
          return setUserRegistrationTokenExpiry(token, expiresAt)
        })
      ),

    setUsageLimit: (token, usageLimit) =>
      provide(
        Effect.gen(function* () {
          yield* checkUsageLimit(usageLimit)
          yield* setUsageLimit
            .affected(token.id, Option.getOrNull(usageLimit))
            .pipe(Effect.flatMap(expectRowsAffected(1)))
          return setUserRegistrationTokenUsageLimit(token, usageLimit)
        })
      ),

    list: (filter, pagination) =>
      provide(
        runDynamic(
          list,
          Effect.gen(function* () {
            const page = yield* listPage<object>({
              select: sql`SELECT ${sql.unsafe(columns)} FROM user_registration_tokens`,
              filter: filterFragment(sql, filter),
              idColumn: sql`user_registration_token_id`,
              pagination,
              cursorOf: uuidCursor(idColumn)
            })
            return yield* page.tryMap((raw) => Effect.flatMap(decodeRow(raw), userRegistrationTokenFromRow))
          })
        )
      ),

    count: (filter) =>
      provide(runDynamic(count, countRows({ from: sql`user_registration_tokens`, filter: filterFragment(sql, filter) })))
  })
})

export const layer: Layer.Layer<UserRegistrationTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserRegistrationTokenRepository,
  Effect.map(make, traced("userRegistrationToken"))
)
