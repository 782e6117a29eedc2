// UserEmailRepository on PostgreSQL: declared static queries, plus the filter, page and bulk queries assembled from fragments.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { completeUserEmailAuthentication, type UserEmailAuthentication } from "../../model/user.js"
import { generateUlid, type Ulid, UlidFromUuid, ulidToUuid } from "../../model/Ulid.js"
import { checkCleanupLimit, CleanupResult } from "../../storage/common/CleanupResult.js"
import { InvalidOperationError } from "../../storage/common/errors.js"
import { checkMaxBytes, EMAIL_MAX_BYTES } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import {
  codeExpiry,
  onlyMatch,
  pickCaseVariant,
  UserEmailAuthenticationCodeRow,
  userEmailAuthenticationCodeFromRow,
  UserEmailAuthenticationRow,
  userEmailAuthenticationFromRow,
  UserEmailRow,
  userEmailFromRow
} from "../../rows/user/userEmail.js"
import { type UserEmailFilter, UserEmailRepository } from "../../storage/user/UserEmailRepository.js"
import { countRows } from "../common/count.js"
import { lowerEquals } from "../common/filters.js"
import { listPage } from "../common/pagination.js"
import { dynamicQuery, rowDecoder, runDynamic, staticQuery, uuidCursor } from "../query.js"
import { traced } from "../common/tracing.js"

const emailColumns = "user_email_id, user_id, email, created_at"
const authenticationColumns = "user_email_authentication_id, user_session_id, user_registration_id, email, created_at, completed_at"
const codeColumns = "user_email_authentication_code_id, user_email_authentication_id, code, created_at, expires_at"

const lookup = staticQuery({
  name: "userEmail.lookup",
  table: "user_emails",
  idColumn: "user_email_id",
  text: `SELECT ${emailColumns} FROM user_emails WHERE user_email_id = $1`,
  params: Schema.Tuple(UlidFromUuid),
  row: UserEmailRow
})

// Every case variant of the user's address; pickCaseVariant chooses among them, as memory does.
const find = staticQuery({
  name: "userEmail.find",
  table: "user_emails",
  idColumn: "user_email_id",
  text: `SELECT ${emailColumns} FROM user_emails WHERE user_id = $1 AND LOWER(email) = LOWER($2) ORDER BY user_email_id`,
  params: Schema.Tuple(UlidFromUuid, Schema.String),
  row: UserEmailRow
})

// Two rows are enough to tell "exactly one" from "several".
const findByEmail = staticQuery({
  name: "userEmail.findByEmail",
  table: "user_emails",
  idColumn: "user_email_id",
  text: `SELECT ${emailColumns} FROM user_emails WHERE LOWER(email) = LOWER($1) ORDER BY user_email_id LIMIT 2`,
  params: Schema.Tuple(Schema.String),
  row: UserEmailRow
})

// COLLATE "C": code-point order whatever the database's collation, the order memory reproduces.
const all = staticQuery({
  name: "userEmail.all",
  table: "user_emails",
  idColumn: "user_email_id",
  text: `SELECT ${emailColumns} FROM user_emails WHERE user_id = $1 ORDER BY email COLLATE "C" ASC`,
  params: Schema.Tuple(UlidFromUuid),
  row: UserEmailRow
})

const add = staticQuery({
  name: "userEmail.add",
  table: "user_emails",
  text: `INSERT INTO user_emails (${emailColumns}) VALUES ($1, $2, $3, $4)`,
  params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf),
  row: Schema.Struct({})
})

// Recovery tickets of the address go with it (ON DELETE CASCADE).
const remove = staticQuery({
  name: "userEmail.remove",
  table: "user_emails",
  text: `DELETE FROM user_emails WHERE user_email_id = $1`,
  params: Schema.Tuple(UlidFromUuid),
  row: Schema.Struct({})
})

// One statement for both owners (browser session or registration): exactly one of them is set by the callers.
const addAuthentication = staticQuery({
  name: "userEmail.addAuthentication",
  table: "user_email_authentications",
  text: `INSERT INTO user_email_authentications (${authenticationColumns}) VALUES ($1, $2, $3, $4, $5, NULL)`,
  params: Schema.Tuple(
    UlidFromUuid,
    Schema.NullOr(UlidFromUuid),
    Schema.NullOr(UlidFromUuid),
    Schema.String,
    Schema.DateFromSelf
  ),
  row: Schema.Struct({})
})

const addAuthenticationCode = staticQuery({
  name: "userEmail.addAuthenticationCode",
  table: "user_email_authentication_codes",
  text: `INSERT INTO user_email_authentication_codes (${codeColumns}) VALUES ($1, $2, $3, $4, $5)`,
  params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf, Schema.DateFromSelf),
  row: Schema.Struct({})
})

const lookupAuthentication = staticQuery({
  name: "userEmail.lookupAuthentication",
  table: "user_email_authentications",
  idColumn: "user_email_authentication_id",
  text: `SELECT ${authenticationColumns} FROM user_email_authentications WHERE user_email_authentication_id = $1`,
  params: Schema.Tuple(UlidFromUuid),
  row: UserEmailAuthenticationRow
})

const findAuthenticationCode = staticQuery({
  name: "userEmail.findAuthenticationCode",
  table: "user_email_authentication_codes",
  idColumn: "user_email_authentication_code_id",
  text: `SELECT ${codeColumns} FROM user_email_authentication_codes WHERE user_email_authentication_id = $1 AND code = $2`,
  params: Schema.Tuple(UlidFromUuid, Schema.String),
  row: UserEmailAuthenticationCodeRow
})

// Guarded (§1.2): a row completed meanwhile is left alone and reported by the affected-row count.
// Both complete… methods run this one statement: their proofs are not stored.
const completeAuthentication = staticQuery({
  name: "userEmail.completeAuthentication",
  table: "user_email_authentications",
  text: `UPDATE user_email_authentications SET completed_at = $2 WHERE user_email_authentication_id = $1 AND completed_at IS NULL`,
  params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
  row: Schema.Struct({})
})

// Codes go with their authentication (ON DELETE CASCADE) and registrations pointing at it are
// unlinked (ON DELETE SET NULL), all in this one statement.
const cleanupAuthentications = staticQuery({
  name: "userEmail.cleanupAuthentications",
  table: "user_email_authentications",
  text: `WITH batch AS (
  SELECT user_email_authentication_id FROM user_email_authentications
  WHERE ($1::uuid IS NULL OR user_email_authentication_id > $1::uuid) AND user_email_authentication_id <= $2
  ORDER BY user_email_authentication_id
  LIMIT $3
  FOR UPDATE
)
DELETE FROM user_email_authentications
WHERE user_email_authentication_id IN (SELECT user_email_authentication_id FROM batch)
RETURNING user_email_authentication_id`,
  params: Schema.Tuple(Schema.NullOr(UlidFromUuid), UlidFromUuid, Schema.Number),
  row: Schema.Struct({ user_email_authentication_id: UlidFromUuid })
})

const decodeEmailRow = rowDecoder(UserEmailRow, "user_emails", "user_email_id")

const list = dynamicQuery({
  name: "userEmail.list",
  table: "user_emails",
  description: "user emails matching a UserEmailFilter, one keyset page"
})
const count = dynamicQuery({ name: "userEmail.count", table: "user_emails", description: "number of user emails matching a UserEmailFilter" })
const removeBulk = dynamicQuery({
  name: "userEmail.removeBulk",
  table: "user_emails",
  description: "delete the user emails matching a UserEmailFilter"
})

const filterFragment = (sql: SqlClient.SqlClient, filter: UserEmailFilter): Fragment => {
  const clauses: Array<Fragment> = []
  if (filter.user !== undefined) clauses.push(sql`user_emails.user_id = ${ulidToUuid(filter.user)}`)
  if (filter.email !== undefined) clauses.push(lowerEquals(sql, sql`user_emails.email`, filter.email))
  return sql.and(clauses)
}

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const provide = Effect.provideService(SqlClient.SqlClient, sql)

  const addAuthenticationFor = (email: string, userSessionId: Ulid | null, userRegistrationId: Ulid | null) =>
    provide(
      Effect.gen(function* () {
        const at = yield* now
        const id = yield* generateUlid
        yield* addAuthentication.affectedOne(id, userSessionId, userRegistrationId, email, at)
        return userEmailAuthenticationFromRow({
          user_email_authentication_id: id,
          user_session_id: userSessionId,
          user_registration_id: userRegistrationId,
          email,
          created_at: at,
          completed_at: null
        })
      })
    )

  const complete = (authentication: UserEmailAuthentication) =>
    provide(
      Effect.gen(function* () {
        const at = yield* now
        const completed = yield* Either.mapLeft(
          completeUserEmailAuthentication(authentication, at),
          (refused) => new InvalidOperationError({ cause: Option.some(refused) })
        )
        yield* completeAuthentication.affectedOne(authentication.id, at)
        return completed
      })
    )

  return UserEmailRepository.of({
    lookup: (id) => provide(Effect.map(lookup.one(id), Option.map(userEmailFromRow))),

    find: (user, email) =>
      provide(Effect.map(find.all(user.id, email), (rows) => Option.map(pickCaseVariant(rows, email), userEmailFromRow))),

    findByEmail: (email) => provide(Effect.map(findByEmail.all(email), (rows) => Option.map(onlyMatch(rows), userEmailFromRow))),

    all: (user) => provide(Effect.map(all.all(user.id), (rows) => rows.map(userEmailFromRow))),

    list: (filter, pagination) =>
      provide(
        runDynamic(
          list,
          Effect.gen(function* () {
            const page = yield* listPage<object>({
              select: sql`SELECT ${sql.unsafe(emailColumns)} FROM user_emails`,
              filter: filterFragment(sql, filter),
              idColumn: sql`user_emails.user_email_id`,
              pagination,
              cursorOf: uuidCursor("user_email_id")
            })
            return yield* page.tryMap((raw) => Either.map(decodeEmailRow(raw), userEmailFromRow))
          })
        )
      ),

    count: (filter) =>
      provide(runDynamic(count, countRows({ from: sql`user_emails`, filter: filterFragment(sql, filter) }))),

    add: (user, email) =>
      provide(
        Effect.gen(function* () {
          yield* checkMaxBytes("email", email, EMAIL_MAX_BYTES)
          const at = yield* now
          const id = yield* generateUlid
          yield* add.affectedOne(id, user.id, email, at)
          return userEmailFromRow({ user_email_id: id, user_id: user.id, email, created_at: at })
        })
      ),

    remove: (userEmail) => provide(remove.affectedOne(userEmail.id)),

    removeBulk: (filter) =>
      provide(
        runDynamic(
          removeBulk,
          Effect.map(
            sql`DELETE FROM user_emails WHERE ${filterFragment(sql, filter)}`.raw,
            (result) => Number((result as { rowCount?: number | null }).rowCount ?? 0)
          )
        )
      ),

    addAuthenticationForSession: (email, session) => addAuthenticationFor(email, session.id, null),

    addAuthenticationForRegistration: (email, registration) => addAuthenticationFor(email, null, registration.id),

    addAuthenticationCode: (duration, authentication, code) =>
      provide(
        Effect.gen(function* () {
          const at = yield* now
          const expiresAt = yield* codeExpiry(at, duration)
          const id = yield* generateUlid
          yield* addAuthenticationCode.affectedOne(id, authentication.id, code, at, expiresAt)
          return userEmailAuthenticationCodeFromRow({
            user_email_authentication_code_id: id,
            user_email_authentication_id: authentication.id,
            code,
            created_at: at,
            expires_at: expiresAt
          })
        })
      ),

    lookupAuthentication: (id) =>
      provide(Effect.map(lookupAuthentication.one(id), Option.map(userEmailAuthenticationFromRow))),

    findAuthenticationCode: (authentication, code) =>
      provide(
        Effect.map(findAuthenticationCode.one(authentication.id, code), Option.map(userEmailAuthenticationCodeFromRow))
      ),

    completeAuthenticationWithCode: (authentication) => complete(authentication),

    completeAuthenticationWithUpstream: (authentication) => complete(authentication),

    cleanupAuthentications: (since, until, limit) =>
      provide(
        Effect.gen(function* () {
          const size = yield* checkCleanupLimit(limit)
          const deleted = yield* cleanupAuthentications.all(Option.getOrNull(since), until, size)
          return CleanupResult.fromKeys(deleted.map((r) => r.user_email_authentication_id))
        })
      )
  })
})

export const layer: Layer.Layer<UserEmailRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserEmailRepository,
  Effect.map(make, traced("userEmail"))
)
