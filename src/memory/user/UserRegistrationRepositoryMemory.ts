// UserRegistrationRepository in memory: the same rows, guards and cascades as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option, Schema } from "effect"
import { PasswordVersion } from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import type { Json } from "../../model/values.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { DriverError, InvalidOperationError, RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkCleanupLimit, checkWellFormed, hasLoneSurrogate } from "../../storage/common/limits.js"
import { normaliseUrl } from "../../storage/common/url.js"
import { optionalEntity } from "../../rows/common.js"
import {
  USER_REGISTRATIONS,
  userRegistrationFromRow,
  UserRegistrationRow,
  type UserRegistrationRow as Row
} from "../../rows/user/userRegistration.js"
import { UserRegistrationRepository } from "../../storage/user/UserRegistrationRepository.js"
import type { Database } from "../Database.js"
import { requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

const table = USER_REGISTRATIONS

const jsonbError = (sqlState: string, message: string) =>
  Either.left(
    new DriverError({ cause: new Error(message), sqlState: Option.some(sqlState), constraint: Option.none() })
  )

/**
 * What jsonb input refuses in a value the driver sends as JSON text: a NUL character (22P05) or an
 * unpaired surrogate (22P02), in keys as in values.
 */
export const checkJsonb = (value: Json): Either.Either<void, DriverError> => {
  const strings: Array<string> = []
  const walk = (v: Json): void => {
    if (typeof v === "string") strings.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === "object" && v !== null) {
      for (const [k, inner] of Object.entries(v)) {
        strings.push(k)
        walk(inner)
      }
    }
  }
  walk(value)
  for (const s of strings) {
    if (s.includes("\u0000"))
      return jsonbError("22P05", "unsupported Unicode escape sequence: \\u0000 cannot be converted to text")
    if (hasLoneSurrogate(s))
      return jsonbError("22P02", "invalid input syntax for type json: unpaired Unicode surrogate")
  }
  return Either.void
}

const toEntity = optionalEntity(userRegistrationFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const registrations = memoryTable(store, { table, idColumn: "user_registration_id", row: UserRegistrationRow })

  /**
   * A guarded setter: bad parameter text fails first (PostgreSQL rejects it while binding), then the
   * row must exist and still be pending, else RowsAffectedError; the stored row is returned. One write,
   * as the one UPDATE … RETURNING of PostgreSQL: the table handle has no guarded update that returns the row.
   */
  const guardedUpdate = (id: Row["user_registration_id"], patch: Partial<Row>) =>
    store
      .write((db) =>
        Either.gen(function* () {
          yield* db.checkValues(patch)
          const current = db.get<Row>(table, id)
          if (Option.isNone(current) || current.value.completed_at !== null) {
            return yield* Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
          }
          const next: Database = yield* db.update(table, id, (row) => ({ ...row, ...patch }))
          return [Option.getOrThrow(next.get<Row>(table, id)), next] as const
        })
      )
      .pipe(Effect.flatMap(registrations.decode), Effect.map(userRegistrationFromRow))

  return UserRegistrationRepository.of({
    lookup: (id) => Effect.flatMap(registrations.get(id), toEntity),

    add: (username, ipAddress, userAgent, postAuthAction) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ username, userAgent: Option.getOrNull(userAgent) })
        const at = yield* now
        const id = yield* generateUlid
        const row: Row = {
          user_registration_id: id,
          ip_address: Option.getOrNull(ipAddress),
          user_agent: Option.getOrNull(userAgent),
          // A private copy, as a database holds its own; a JSON null is stored as SQL NULL, as in PostgreSQL.
          post_auth_action: Option.match(postAuthAction, {
            onNone: () => null,
            onSome: (j) => JSON.parse(JSON.stringify(j))
          }),
          username,
          display_name: null,
          terms_url: null,
          email_authentication_id: null,
          user_registration_token_id: null,
          upstream_oauth_authorization_session_id: null,
          hashed_password: null,
          hashed_password_version: null,
          created_at: at,
          completed_at: null
        }
        // One write, not the table handle's insert: PostgreSQL refuses NUL in text parameters while binding and the
        // action's jsonb only while running, and the handle has no step between its text check and the insert.
        yield* store.write((db) =>
          Either.gen(function* () {
            yield* db.checkValues(row)
            if (Option.isSome(postAuthAction)) yield* checkJsonb(postAuthAction.value)
            return [undefined, yield* db.insert(table, row)] as const
          })
        )
        return userRegistrationFromRow(row)
      }),

    setDisplayName: (registration, displayName) =>
      Effect.zipRight(checkWellFormed({ displayName }), guardedUpdate(registration.id, { display_name: displayName })),
    setTermsUrl: (registration, termsUrl) =>
      Effect.zipRight(
        checkWellFormed({ termsUrl }),
        Effect.flatMap(normaliseUrl("termsUrl", termsUrl), (url) => guardedUpdate(registration.id, { terms_url: url }))
      ),
    setEmailAuthentication: (registration, authentication) =>
      guardedUpdate(registration.id, { email_authentication_id: authentication.id }),
    setPassword: (registration, hashedPassword, version) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ hashedPassword })
        yield* Schema.decodeUnknown(PasswordVersion)(version).pipe(
          Effect.mapError((cause) => new InvalidOperationError({ cause: Option.some(cause) }))
        )
        return yield* guardedUpdate(registration.id, {
          hashed_password: hashedPassword,
          hashed_password_version: version
        })
      }),
    setRegistrationToken: (registration, token) =>
      guardedUpdate(registration.id, { user_registration_token_id: token.id }),
    setUpstreamOAuthAuthorizationSession: (registration, upstreamSession) =>
      guardedUpdate(registration.id, { upstream_oauth_authorization_session_id: upstreamSession.id }),
    complete: (registration) => Effect.flatMap(now, (at) => guardedUpdate(registration.id, { completed_at: at })),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        yield* checkCleanupLimit(limit)
        // PostgreSQL's statement encodes since and until to uuid, refusing a malformed id before anything is sent.
        yield* requireUlid(...Option.toArray(since), until)
        // One write, as PostgreSQL's one statement: the table handle's deleteWhere has no ORDER BY … LIMIT.
        return yield* store.write((db) => {
          const doomed = registrations
            .rows(db)
            .filter(
              (r) => (Option.isNone(since) || r.user_registration_id > since.value) && r.user_registration_id <= until
            )
            .slice(0, limit)
            .map((r) => r.user_registration_id)
          const ids = new Set<string>(doomed)
          // Deleting applies the ON DELETE rules: the registrations' email authentications (and codes) cascade.
          return Either.map(
            db.deleteWhere(table, (r) => ids.has(r.user_registration_id as string)),
            ([, next]) => [CleanupResult.fromKeys(doomed), next] as const
          )
        })
      })
  })
})

export const layer: Layer.Layer<UserRegistrationRepository, never, MemoryStore> = Layer.effect(
  UserRegistrationRepository,
  make
)
