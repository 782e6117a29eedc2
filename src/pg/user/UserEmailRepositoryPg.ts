// UserEmailRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { completeUserEmailAuthentication, type UserEmailAuthentication } from "../../model/user.js"
import { generateUlid, type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { refusedTransition } from "../../storage/common/errors.js"
import { checkCleanupLimit, checkMaxBytes, checkWellFormed, EMAIL_MAX_BYTES } from "../../storage/common/limits.js"
import { expiryAfter, now } from "../../storage/common/time.js"
import { optionalEntity } from "../../rows/common.js"
import {
  onlyMatch,
  pickCaseVariant,
  UserEmailAuthenticationCodeRow,
  userEmailAuthenticationCodeFromRow,
  UserEmailAuthenticationRow,
  userEmailAuthenticationFromRow,
  UserEmailRow,
  userEmailFromRow
} from "../../rows/user/userEmail.js"
import {
  checkUserEmailFilter,
  type UserEmailFilter,
  UserEmailRepository
} from "../../storage/user/UserEmailRepository.js"
import { lowerEqualsCriterion } from "../common/filters.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { countQuery, filter, filteredStatement, pageQuery, piece } from "../dynamic.js"

const emailColumns = "user_email_id, user_id, email, created_at"
const authenticationColumns =
  "user_email_authentication_id, user_session_id, user_registration_id, email, created_at, completed_at"
const codeColumns = "user_email_authentication_code_id, user_email_authentication_id, code, created_at, expires_at"

const q = repositoryQueries({ prefix: "userEmail", table: "user_emails", idColumn: "user_email_id", row: UserEmailRow })

// The authentications and their codes are the rows of other tables, under the same prefix: a builder each, so that
// an inconsistency error names the authentication or code row.
const authentications = repositoryQueries({
  prefix: "userEmail",
  table: "user_email_authentications",
  idColumn: "user_email_authentication_id",
  row: UserEmailAuthenticationRow
})
const codes = repositoryQueries({
  prefix: "userEmail",
  table: "user_email_authentication_codes",
  idColumn: "user_email_authentication_code_id",
  row: UserEmailAuthenticationCodeRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${emailColumns} FROM user_emails WHERE user_email_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // Every case variant of the user's address; pickCaseVariant chooses among them, as memory does.
  find: {
    text: `SELECT ${emailColumns} FROM user_emails WHERE user_id = $1 AND LOWER(email) = LOWER($2) ORDER BY user_email_id`,
    params: Schema.Tuple(UlidFromUuid, Schema.String)
  },
  // Two rows are enough to tell "exactly one" from "several".
  findByEmail: {
    text: `SELECT ${emailColumns} FROM user_emails WHERE LOWER(email) = LOWER($1) ORDER BY user_email_id LIMIT 2`,
    params: Schema.Tuple(Schema.String)
  },
  // COLLATE "C": code-point order whatever the database's collation, the order memory reproduces; the id orders
  // the same address added twice (addresses are not unique).
  all: {
    text: `SELECT ${emailColumns} FROM user_emails WHERE user_id = $1 ORDER BY email COLLATE "C" ASC, user_email_id ASC`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text: `INSERT INTO user_emails (${emailColumns}) VALUES ($1, $2, $3, $4)`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf),
    row: NoRows
  },
  // Recovery tickets of the address go with it (ON DELETE CASCADE).
  remove: {
    text: `DELETE FROM user_emails WHERE user_email_id = $1`,
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows
  }
})

const authenticationStatements = authentications.statements({
  // One statement for both owners (browser session or registration): exactly one of them is set by the callers.
  addAuthentication: {
    text: `INSERT INTO user_email_authentications (${authenticationColumns}) VALUES ($1, $2, $3, $4, $5, NULL)`,
    params: Schema.Tuple(
      UlidFromUuid,
      Schema.NullOr(UlidFromUuid),
      Schema.NullOr(UlidFromUuid),
      Schema.String,
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  lookupAuthentication: {
    text: `SELECT ${authenticationColumns} FROM user_email_authentications WHERE user_email_authentication_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // Guarded (storage rule: Transitions): a row completed meanwhile is left alone and reported by the affected-row count.
  // Both complete… methods run this one statement: their proofs are not stored.
  completeAuthentication: {
    text: `UPDATE user_email_authentications SET completed_at = $2 WHERE user_email_authentication_id = $1 AND completed_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // Codes go with their authentication (ON DELETE CASCADE) and registrations pointing at it are
  // unlinked (ON DELETE SET NULL), all in this one statement.
  cleanupAuthentications: {
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
  }
})

const codeStatements = codes.statements({
  addAuthenticationCode: {
    text: `INSERT INTO user_email_authentication_codes (${codeColumns}) VALUES ($1, $2, $3, $4, $5)`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf, Schema.DateFromSelf),
    row: NoRows
  },
  findAuthenticationCode: {
    text: `SELECT ${codeColumns} FROM user_email_authentication_codes WHERE user_email_authentication_id = $1 AND code = $2`,
    params: Schema.Tuple(UlidFromUuid, Schema.String)
  }
})

/** The UserEmailFilter over `user_emails` (unaliased, so it serves SELECT, COUNT and DELETE alike). */
export const userEmailFilter = filter<UserEmailFilter>()(
  "UserEmailFilter",
  {
    user: piece("user_emails.user_id = $1", Schema.Tuple(UlidFromUuid)),
    email: lowerEqualsCriterion("user_emails.email")
  },
  (f, use) => [f.user !== undefined && use.user(f.user), f.email !== undefined && use.email(f.email)]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "user emails matching a UserEmailFilter, one keyset page",
    row: UserEmailRow,
    select: `SELECT ${emailColumns} FROM user_emails`,
    slots: { filter: userEmailFilter },
    where: "filter",
    keyset: "user_emails.user_email_id"
  }),
  count: countQuery({
    description: "number of user emails matching a UserEmailFilter",
    from: "user_emails",
    slots: { filter: userEmailFilter },
    where: "filter"
  }),
  removeBulk: filteredStatement({
    description: "delete the user emails matching a UserEmailFilter",
    text: "DELETE FROM user_emails",
    params: Schema.Tuple(),
    row: NoRows,
    slots: { filter: userEmailFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, authenticationStatements, codeStatements, dynamic)

const toEmail = optionalEntity(userEmailFromRow)
const toAuthentication = optionalEntity(userEmailAuthenticationFromRow)
const toCode = optionalEntity(userEmailAuthenticationCodeFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, { ...statements, ...authenticationStatements, ...codeStatements })

  const addAuthenticationFor = (email: string, userSessionId: Ulid | null, userRegistrationId: Ulid | null) =>
    Effect.gen(function* () {
      yield* checkWellFormed({ email })
      const at = yield* now
      const id = yield* generateUlid
      yield* db.addAuthentication.affectedOne(id, userSessionId, userRegistrationId, email, at)
      return userEmailAuthenticationFromRow({
        user_email_authentication_id: id,
        user_session_id: userSessionId,
        user_registration_id: userRegistrationId,
        email,
        created_at: at,
        completed_at: null
      })
    })

  const complete = (authentication: UserEmailAuthentication) =>
    Effect.gen(function* () {
      const at = yield* now
      const completed = yield* refusedTransition(completeUserEmailAuthentication(authentication, at))
      yield* db.completeAuthentication.affectedOne(authentication.id, at)
      return completed
    })

  return UserEmailRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toEmail),

    find: (user, email) =>
      Effect.zipRight(
        checkWellFormed({ email }),
        Effect.flatMap(db.find.all(user.id, email), (rows) => toEmail(pickCaseVariant(rows, email)))
      ),

    findByEmail: (email) =>
      Effect.zipRight(
        checkWellFormed({ email }),
        Effect.flatMap(db.findByEmail.all(email), (rows) => toEmail(onlyMatch(rows)))
      ),

    all: (user) => Effect.map(db.all.all(user.id), (rows) => rows.map(userEmailFromRow)),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), userEmailFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkUserEmailFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    add: (user, email) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email })
        yield* checkMaxBytes("email", email, EMAIL_MAX_BYTES)
        const at = yield* now
        const id = yield* generateUlid
        yield* db.add.affectedOne(id, user.id, email, at)
        return userEmailFromRow({ user_email_id: id, user_id: user.id, email, created_at: at })
      }),

    remove: (userEmail) => db.remove.affectedOne(userEmail.id),

    removeBulk: (filter) =>
      Effect.zipRight(
        checkUserEmailFilter(filter),
        Effect.suspend(() => dynamic.removeBulk.rowCount(sql, { filter }))
      ),

    addAuthenticationForSession: (email, session) => addAuthenticationFor(email, session.id, null),

    addAuthenticationForRegistration: (email, registration) => addAuthenticationFor(email, null, registration.id),

    addAuthenticationCode: (duration, authentication, code) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ code })
        const at = yield* now
        const expiresAt = yield* expiryAfter(at, duration)
        const id = yield* generateUlid
        yield* db.addAuthenticationCode.affectedOne(id, authentication.id, code, at, expiresAt)
        return userEmailAuthenticationCodeFromRow({
          user_email_authentication_code_id: id,
          user_email_authentication_id: authentication.id,
          code,
          created_at: at,
          expires_at: expiresAt
        })
      }),

    lookupAuthentication: (id) => Effect.flatMap(db.lookupAuthentication.one(id), toAuthentication),

    findAuthenticationCode: (authentication, code) =>
      Effect.zipRight(
        checkWellFormed({ code }),
        Effect.flatMap(db.findAuthenticationCode.one(authentication.id, code), toCode)
      ),

    completeAuthenticationWithCode: (authentication) => complete(authentication),

    completeAuthenticationWithUpstream: (authentication) => complete(authentication),

    cleanupAuthentications: (since, until, limit) =>
      Effect.gen(function* () {
        const size = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanupAuthentications.all(Option.getOrNull(since), until, size)
        return CleanupResult.fromKeys(deleted.map((r) => r.user_email_authentication_id))
      })
  })
})

export const layer: Layer.Layer<UserEmailRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserEmailRepository,
  Effect.map(make, traced("userEmail"))
)
