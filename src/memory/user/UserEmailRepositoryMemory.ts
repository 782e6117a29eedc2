// UserEmailRepository in memory: the same rows, rules and errors as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { completeUserEmailAuthentication, type UserEmailAuthentication } from "../../model/user.js"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { refusedTransition } from "../../storage/common/errors.js"
import { checkCleanupLimit, checkMaxBytes, checkWellFormed, EMAIL_MAX_BYTES } from "../../storage/common/limits.js"
import { compareCodePoints, lowerEmail } from "../../storage/common/filters.js"
import { expiryAfter, now } from "../../storage/common/time.js"
import { optionalEntity } from "../../rows/common.js"
import {
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
import {
  checkUserEmailFilter,
  type UserEmailFilter,
  UserEmailRepository
} from "../../storage/user/UserEmailRepository.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { rejectNul } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

/** The one place the filter is interpreted: list, count and removeBulk select the same rows. */
const matches = (filter: UserEmailFilter) => {
  const email = filter.email === undefined ? undefined : lowerEmail(filter.email)
  return (row: UserEmailRow): boolean =>
    (filter.user === undefined || row.user_id === filter.user) &&
    (email === undefined || lowerEmail(String(row.email)) === email)
}

const toEmail = optionalEntity(userEmailFromRow)
const toAuthentication = optionalEntity(userEmailAuthenticationFromRow)
const toCode = optionalEntity(userEmailAuthenticationCodeFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  // Rows are read through the type side of the row schemas: a planted row PostgreSQL would reject fails here alike.
  const emails = memoryTable(store, { table: "user_emails", idColumn: "user_email_id", row: UserEmailRow })
  const authentications = memoryTable(store, {
    table: "user_email_authentications",
    idColumn: "user_email_authentication_id",
    row: UserEmailAuthenticationRow
  })
  const codes = memoryTable(store, {
    table: "user_email_authentication_codes",
    idColumn: "user_email_authentication_code_id",
    row: UserEmailAuthenticationCodeRow
  })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none.
  const selectEmails = (filter: UserEmailFilter) =>
    Effect.zipRight(
      rejectNul(filter.email),
      store.read((db) => emails.rows(db).filter(matches(filter)))
    )

  // As PostgreSQL's LIMIT 2: only the first two matches (id order) are read and decoded.
  const firstTwoByEmail = (email: string) =>
    Effect.flatMap(selectEmails({ email }), (rows) => Either.all(rows.slice(0, 2).map(emails.decode)))

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
      yield* authentications.insert(row)
      return userEmailAuthenticationFromRow(row)
    })

  const complete = (authentication: UserEmailAuthentication) =>
    Effect.gen(function* () {
      const at = yield* now
      const completed = yield* refusedTransition(completeUserEmailAuthentication(authentication, at))
      // The same guard as the SQL: only a stored row whose completed_at is still null is touched.
      yield* exactlyOne(
        authentications.updateWhere(
          (row) => row.user_email_authentication_id === authentication.id && row.completed_at === null,
          (row) => ({ ...row, completed_at: at })
        )
      )
      return completed
    })

  return UserEmailRepository.of({
    lookup: (id) => Effect.flatMap(emails.get(id), toEmail),

    find: (user, email) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email })
        const wanted = lowerEmail(email)
        const rows = yield* emails.select((r) => r.user_id === user.id && lowerEmail(String(r.email)) === wanted, email)
        return yield* toEmail(pickCaseVariant(rows, email))
      }),

    findByEmail: (email) =>
      Effect.zipRight(
        checkWellFormed({ email }),
        Effect.flatMap(firstTwoByEmail(email), (rows) => toEmail(onlyMatch(rows)))
      ),

    all: (user) =>
      Effect.map(
        emails.select((r) => r.user_id === user.id),
        (rows) => [...rows].sort((a, b) => compareCodePoints(a.email, b.email)).map(userEmailFromRow)
      ),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        yield* checkCursors(pagination)
        const rows = yield* selectEmails(filter)
        const page = paginate(rows, pagination, (r) => r.user_email_id)
        return yield* page.tryMap((r) => Either.map(emails.decode(r), userEmailFromRow))
      }),

    count: (filter) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        const rows = yield* selectEmails(filter)
        return yield* toSafeCountOrFail(rows.length)
      }),

    add: (user, email) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email })
        yield* checkMaxBytes("email", email, EMAIL_MAX_BYTES)
        const at = yield* now
        const id = yield* generateUlid
        const row: UserEmailRow = { user_email_id: id, user_id: user.id, email, created_at: at }
        yield* emails.insert(row)
        return userEmailFromRow(row)
      }),

    // Recovery tickets of the address go with it (ON DELETE CASCADE).
    remove: (userEmail) => exactlyOne(emails.deleteWhere((r) => r.user_email_id === userEmail.id)),

    removeBulk: (filter) =>
      Effect.gen(function* () {
        yield* checkUserEmailFilter(filter)
        yield* rejectNul(filter.email)
        return yield* emails.deleteWhere(matches(filter))
      }),

    addAuthenticationForSession: (email, session) => addAuthenticationFor(email, session.id, null),

    addAuthenticationForRegistration: (email, registration) => addAuthenticationFor(email, null, registration.id),

    addAuthenticationCode: (duration, authentication, code) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ code })
        const at = yield* now
        const expiresAt = yield* expiryAfter(at, duration)
        const id = yield* generateUlid
        const row: UserEmailAuthenticationCodeRow = {
          user_email_authentication_code_id: id,
          user_email_authentication_id: authentication.id,
          code,
          created_at: at,
          expires_at: expiresAt
        }
        yield* codes.insert(row)
        return userEmailAuthenticationCodeFromRow(row)
      }),

    lookupAuthentication: (id) => Effect.flatMap(authentications.get(id), toAuthentication),

    // Every matching code is decoded and the first kept, as PostgreSQL's `one` does with the rows it reads.
    findAuthenticationCode: (authentication, code) =>
      Effect.zipRight(
        checkWellFormed({ code }),
        Effect.flatMap(
          codes.select((r) => r.user_email_authentication_id === authentication.id && r.code === code, code),
          (rows) => toCode(Option.fromNullable(rows[0]))
        )
      ),

    completeAuthenticationWithCode: (authentication) => complete(authentication),

    completeAuthenticationWithUpstream: (authentication) => complete(authentication),

    // The batch is chosen from the state it deletes from, in one write (the SQL's FOR UPDATE).
    cleanupAuthentications: (since, until, limit) =>
      Effect.gen(function* () {
        const size = yield* checkCleanupLimit(limit)
        const ids = yield* store.write((db) => {
          const batch = authentications
            .rows(db)
            .map((r) => r.user_email_authentication_id)
            .filter((id) => inCleanupRange(id, since, until))
            .slice(0, size)
          const deleting = new Set<unknown>(batch)
          // Codes cascade and registrations are unlinked by the schema's ON DELETE rules.
          return Either.map(
            db.deleteWhere(authentications.name, (r) => deleting.has(r.user_email_authentication_id)),
            ([, next]) => [batch, next] as const
          )
        })
        return CleanupResult.fromKeys(ids)
      })
  })
})

export const layer: Layer.Layer<UserEmailRepository, never, MemoryStore> = Layer.effect(UserEmailRepository, make)
