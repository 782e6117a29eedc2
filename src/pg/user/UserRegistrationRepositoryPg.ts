// UserRegistrationRepository on PostgreSQL: its declared static queries; every setter is one guarded UPDATE … RETURNING.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { PasswordVersion } from "../../model/user.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { Json } from "../../model/values.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { type DatabaseError, InvalidOperationError, RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkCleanupLimit, checkWellFormed } from "../../storage/common/limits.js"
import { normaliseUrl } from "../../storage/common/url.js"
import { optionalEntity } from "../../rows/common.js"
import {
  USER_REGISTRATIONS,
  UserRegistrationRow,
  userRegistrationFromRow,
  type UserRegistrationRow as Row
} from "../../rows/user/userRegistration.js"
import { UserRegistrationRepository } from "../../storage/user/UserRegistrationRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const columns =
  "user_registration_id, ip_address, user_agent, post_auth_action, username, display_name, terms_url, " +
  "email_authentication_id, user_registration_token_id, upstream_oauth_authorization_session_id, " +
  "hashed_password, hashed_password_version, created_at, completed_at"

const NullableUuid = Schema.NullOr(UlidFromUuid)

/** The guarded setter's text: the row is written only while still pending, and read back as stored. */
const guardedUpdate = (assignments: string) =>
  `UPDATE user_registrations SET ${assignments} ` +
  `WHERE user_registration_id = $1 AND completed_at IS NULL RETURNING ${columns}`

const q = repositoryQueries({
  prefix: "userRegistration",
  table: USER_REGISTRATIONS,
  idColumn: "user_registration_id",
  row: UserRegistrationRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM user_registrations WHERE user_registration_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // JSON goes as text and is cast: the driver would turn a JS array into a PostgreSQL array literal.
  add: {
    text:
      `INSERT INTO user_registrations (user_registration_id, ip_address, user_agent, post_auth_action, username, created_at) ` +
      `VALUES ($1, $2::inet, $3, $4::jsonb, $5, $6)`,
    params: Schema.Tuple(
      UlidFromUuid,
      Schema.NullOr(Schema.String),
      Schema.NullOr(Schema.String),
      Schema.NullOr(Schema.parseJson(Json)),
      Schema.String,
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  setDisplayName: {
    text: guardedUpdate("display_name = $2"),
    params: Schema.Tuple(UlidFromUuid, Schema.String)
  },
  setTermsUrl: {
    text: guardedUpdate("terms_url = $2"),
    params: Schema.Tuple(UlidFromUuid, Schema.String)
  },
  setEmailAuthentication: {
    text: guardedUpdate("email_authentication_id = $2"),
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid)
  },
  setPassword: {
    text: guardedUpdate("hashed_password = $2, hashed_password_version = $3"),
    params: Schema.Tuple(UlidFromUuid, Schema.String, Schema.Number)
  },
  setRegistrationToken: {
    text: guardedUpdate("user_registration_token_id = $2"),
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid)
  },
  setUpstreamOAuthAuthorizationSession: {
    text: guardedUpdate("upstream_oauth_authorization_session_id = $2"),
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid)
  },
  complete: {
    text: guardedUpdate("completed_at = $2"),
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf)
  },
  // ULID key (storage rule: Cleanups): `since < id <= until`; the registrations' email authentications (and their codes) go by ON DELETE CASCADE.
  cleanup: {
    text:
      `WITH doomed AS (SELECT user_registration_id FROM user_registrations ` +
      `WHERE ($1::uuid IS NULL OR user_registration_id > $1::uuid) AND user_registration_id <= $2 ` +
      `ORDER BY user_registration_id LIMIT $3) ` +
      `DELETE FROM user_registrations r USING doomed WHERE r.user_registration_id = doomed.user_registration_id ` +
      `RETURNING r.user_registration_id`,
    params: Schema.Tuple(NullableUuid, UlidFromUuid, Schema.Number),
    row: Schema.Struct({ user_registration_id: UlidFromUuid })
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toEntity = optionalEntity(userRegistrationFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  /** Exactly one row back, else the guard failed (the registration is completed or gone). */
  const storedAfter = (written: Effect.Effect<Option.Option<Row>, DatabaseError>) =>
    Effect.gen(function* () {
      const row = yield* written
      if (Option.isNone(row)) return yield* Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))
      return userRegistrationFromRow(row.value)
    })

  return UserRegistrationRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toEntity),

    add: (username, ipAddress, userAgent, postAuthAction) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ username, userAgent: Option.getOrNull(userAgent) })
        const at = yield* now
        const id = yield* generateUlid
        const row: Row = {
          user_registration_id: id,
          ip_address: Option.getOrNull(ipAddress),
          user_agent: Option.getOrNull(userAgent),
          post_auth_action: Option.getOrNull(postAuthAction),
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
        yield* db.add.affectedOne(id, row.ip_address, row.user_agent, Option.getOrNull(postAuthAction), username, at)
        // A JSON null action is stored as SQL NULL (NullOr encodes it so): the entity is what lookup will read back.
        return userRegistrationFromRow(row)
      }),

    setDisplayName: (registration, displayName) =>
      Effect.zipRight(
        checkWellFormed({ displayName }),
        storedAfter(db.setDisplayName.one(registration.id, displayName))
      ),
    setTermsUrl: (registration, termsUrl) =>
      Effect.zipRight(
        checkWellFormed({ termsUrl }),
        Effect.flatMap(normaliseUrl("termsUrl", termsUrl), (url) =>
          storedAfter(db.setTermsUrl.one(registration.id, url))
        )
      ),
    setEmailAuthentication: (registration, authentication) =>
      storedAfter(db.setEmailAuthentication.one(registration.id, authentication.id)),
    setPassword: (registration, hashedPassword, version) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ hashedPassword })
        yield* Schema.decodeUnknown(PasswordVersion)(version).pipe(
          Effect.mapError((cause) => new InvalidOperationError({ cause: Option.some(cause) }))
        )
        return yield* storedAfter(db.setPassword.one(registration.id, hashedPassword, version))
      }),
    setRegistrationToken: (registration, token) => storedAfter(db.setRegistrationToken.one(registration.id, token.id)),
    setUpstreamOAuthAuthorizationSession: (registration, upstreamSession) =>
      storedAfter(db.setUpstreamOAuthAuthorizationSession.one(registration.id, upstreamSession.id)),
    complete: (registration) => Effect.flatMap(now, (at) => storedAfter(db.complete.one(registration.id, at))),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        yield* checkCleanupLimit(limit)
        const rows = yield* db.cleanup.all(Option.getOrNull(since), until, limit)
        return CleanupResult.fromKeys(rows.map((r) => r.user_registration_id))
      })
  })
})

export const layer: Layer.Layer<UserRegistrationRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserRegistrationRepository,
  Effect.map(make, traced("userRegistration"))
)
