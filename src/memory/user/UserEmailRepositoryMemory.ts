// UserEmailRepository in memory: the same rows, rules and errors as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { completeUserEmailAuthentication, type UserEmailAuthentication } from "../../model/user.js"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { type DriverError, type InconsistencyError, InvalidOperationError, RowsAffectedError } from "../../storage/common/errors.js"
import { checkCleanupLimit, checkMaxBytes, checkWellFormed, EMAIL_MAX_BYTES } from "../../storage/common/limits.js"
import { storedRowDecoder } from "../../storage/common/storedRow.js"
import { lowerEmail } from "../../storage/common/filters.js"
import { now } from "../../storage/common/time.js"
import {
  codeExpiry,
  compareCodePoints,
  inCleanupRange,
  onlyMatch,
  pickCaseVariant,
  UserEmailAuthenticationCodeRow,
  userEmailAuthenticationCodeFromRow,
  UserEmailAuthenticationRow,
  userEmailAuthenticationFromRow,
  UserEmailRow,
  userEmailFromRow
} from "../../rows/user/userEmail.js"
import { checkUserEmailFilter, type UserEmailFilter, UserEmailRepository } from "../../storage/user/UserEmailRepository.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import type { Database, Row } from "../Database.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"

const EMAILS = "user_emails"
const AUTHENTICATIONS = "user_email_authentications"
const CODES = "user_email_authentication_codes"

// The decoded side of the row schemas: a planted row PostgreSQL would reject fails here alike.
const emailRow = storedRowDecoder(UserEmailRow, EMAILS, "user_email_id")
const authenticationRow = storedRowDecoder(UserEmailAuthenticationRow, AUTHENTICATIONS, "user_email_authentication_id")
const codeRow = storedRowDecoder(UserEmailAuthenticationCodeRow, CODES, "user_email_authentication_code_id")

/** The one place the filter is interpreted: list, count and removeBulk select the same rows. */
const matches = (filter: UserEmailFilter) => {
  const email = filter.email === undefined ? undefined : lowerEmail(filter.email)
  return (row: Row): boolean =>
    (filter.user === undefined || row.user_id === filter.user) &&
    (email === undefined || lowerEmail(String(row.email)) === email)
}

const decodeAll = <A>(rows: ReadonlyArray<Row>, decode: (row: Row) => Either.Either<A, InconsistencyError>) =>
  Either.all(rows.map(decode))

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  /** Reads matching rows and decodes them (an undecodable row fails the read, as in PostgreSQL). */
  const select = <A>(
    table: string,
    predicate: (row: Row) => boolean,
    decode: (row: Row) => Either.Either<A, InconsistencyError>
  ) => Effect.flatten(store.read((db) => decodeAll(db.rows(table).filter(predicate), decode)))

  const getOne = <A>(table: string, id: Ulid, decode: (row: Row) => Either.Either<A, InconsistencyError>) =>
    Effect.flatten(
      store.read((db) =>
        Option.match(db.get(table, id), {
          onNone: () => Either.right(Option.none<A>()),
          onSome: (row) => Either.map(decode(row), Option.some)
        })
      )
    )

  const insert = (table: string, row: Row) =>
    store.write((db) => Either.map(db.insert(table, row), (next) => [undefined, next] as const))

  const addAuthenticationFor = (email: string, userSessionId: Ulid | null, userRegistrationId: Ulid | null) =>
    Effect.gen(function* () {
      yield* checkWellFormed({ email })
      const at = yield* now
      const id = yield* generateUlid
      const row: UserEmailAuthenticationRow = {
        user_email_authentication_id: id,
        user_session_id: userSessionId,
        user_registration_id: userRegistrationId,
        email,
        created_at: at,
        completed_at: null
      }
      yield* insert(AUTHENTICATIONS, row)
      return userEmailAuthenticationFromRow(row)
    })

  const complete = (authentication: UserEmailAuthentication) =>
    Effect.gen(function* () {
      const at = yield* now
      const completed = yield* Either.mapLeft(
        completeUserEmailAuthentication(authentication, at),
        (refused) => new InvalidOperationError({ cause: Option.some(refused) })
      )
      // The same guard as the SQL: only a stored row whose completed_at is still null is touched.
      yield* store.write((db): Either.Either<readonly [void, Database], DriverError | RowsAffectedError> => {
        const pending = Option.exists(db.get<Row>(AUTHENTICATIONS, authentication.id), (r) => r.completed_at === null)
        if (!pending) return Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
        return Either.map(
          db.update(AUTHENTICATIONS, authentication.id, (r) => ({ ...r, completed_at: at })),
          (next) => [undefined, next] as const
        )
      })
      return completed
    })

  return UserEmailRepository.of({
    lookup: (id) => Effect.zipRight(requireUlid(id), Effect.map(getOne(EMAILS, id, emailRow), Option.map(userEmailFromRow))),

    find: (user, email) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email })
        yield* rejectNul(email)
        const wanted = lowerEmail(email)
        const rows = yield* select(
          EMAILS,
          (r) => r.user_id === user.id && lowerEmail(String(r.email)) === wanted,
          emailRow
        )
        return Option.map(pickCaseVariant(rows, email), userEmailFromRow)
      }),

    findByEmail: (email) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email })
        yield* rejectNul(email)
        // As PostgreSQL's LIMIT 2: only the first two matches (id order) are read and decoded.
        const raw = yield* store.read((db) => db.rows<Row>(EMAILS).filter(matches({ email })).slice(0, 2))
        const rows = yield* decodeAll(raw, emailRow)
        return Option.map(onlyMatch(rows), userEmailFromRow)
      }),

    all: (user) =>
      Effect.map(select(EMAILS, (r) => r.user_id === user.id, emailRow), (rows) =>
        [...rows].sort((a, b) => compareCodePoints(a.email, b.email)).map(userEmailFromRow)
      ),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        yield* checkCursors(pagination)
        yield* rejectNul(filter.email)
        const rows = yield* store.read((db) => db.rows<Row>(EMAILS).filter(matches(filter)))
        // Only the rows of the page are decoded, as in PostgreSQL.
        const page = paginate(rows, pagination, (r) => r.user_email_id as Ulid)
        return yield* page.tryMap((r) => Either.map(emailRow(r), userEmailFromRow))
      }),

    count: (filter) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        yield* rejectNul(filter.email)
        const n = yield* store.read((db) => db.rows(EMAILS).filter(matches(filter)).length)
        return yield* toSafeCountOrFail(n)
      }),

    add: (user, email) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email })
        yield* checkMaxBytes("email", email, EMAIL_MAX_BYTES)
        const at = yield* now
        const id = yield* generateUlid
        const row: UserEmailRow = { user_email_id: id, user_id: user.id, email, created_at: at }
        yield* insert(EMAILS, row)
        return userEmailFromRow(row)
      }),

    remove: (userEmail) =>
      store.write((db): Either.Either<readonly [void, Database], DriverError | RowsAffectedError> =>
        Option.isNone(db.get(EMAILS, userEmail.id))
          ? Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
          : Either.map(db.delete(EMAILS, userEmail.id), (next) => [undefined, next] as const)
      ),

    removeBulk: (filter) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        yield* rejectNul(filter.email)
        return yield* store.write((db) => db.deleteWhere(EMAILS, matches(filter)))
      }),

    addAuthenticationForSession: (email, session) => addAuthenticationFor(email, session.id, null),

    addAuthenticationForRegistration: (email, registration) => addAuthenticationFor(email, null, registration.id),

    addAuthenticationCode: (duration, authentication, code) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ code })
        const at = yield* now
        const expiresAt = yield* codeExpiry(at, duration)
        const id = yield* generateUlid
        const row: UserEmailAuthenticationCodeRow = {
          user_email_authentication_code_id: id,
          user_email_authentication_id: authentication.id,
          code,
          created_at: at,
          expires_at: expiresAt
        }
        yield* insert(CODES, row)
        return userEmailAuthenticationCodeFromRow(row)
      }),

    lookupAuthentication: (id) =>
      Effect.zipRight(
        requireUlid(id),
        Effect.map(getOne(AUTHENTICATIONS, id, authenticationRow), Option.map(userEmailAuthenticationFromRow))
      ),

    findAuthenticationCode: (authentication, code) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ code })
        yield* rejectNul(code)
        const rows = yield* select(
          CODES,
          (r) => r.user_email_authentication_id === authentication.id && r.code === code,
          codeRow
        )
        return Option.map(Option.fromNullable(rows[0]), userEmailAuthenticationCodeFromRow)
      }),

    completeAuthenticationWithCode: (authentication) => complete(authentication),

    completeAuthenticationWithUpstream: (authentication) => complete(authentication),

    cleanupAuthentications: (since, until, limit) =>
      Effect.gen(function* () {
        const size = yield* checkCleanupLimit(limit)
        const ids = yield* store.write((db) => {
          const batch = db
            .rows<Row>(AUTHENTICATIONS)
            .map((r) => r.user_email_authentication_id as Ulid)
            .filter((id) => inCleanupRange(id, since, until))
            .slice(0, size)
          // Codes cascade and registrations are unlinked by the schema's ON DELETE rules.
          return Either.map(
            db.deleteWhere(AUTHENTICATIONS, (r) => batch.includes(r.user_email_authentication_id as Ulid)),
            ([, next]) => [batch, next] as const
          )
        })
        return CleanupResult.fromKeys(ids)
      })
  })
})

export const layer: Layer.Layer<UserEmailRepository, never, MemoryStore> = Layer.effect(UserEmailRepository, make)
