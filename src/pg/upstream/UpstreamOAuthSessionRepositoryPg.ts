// UpstreamOAuthSessionRepository on PostgreSQL: its declared static queries, plus the filter and page queries assembled from declared pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import {
  completeUpstreamOAuthAuthorizationSession,
  consumeUpstreamOAuthAuthorizationSession
} from "../../model/upstream.js"
import { Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newUpstreamOAuthAuthorizationSessionRow,
  UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS,
  upstreamOAuthAuthorizationSessionColumnNames,
  upstreamOAuthAuthorizationSessionFromRow,
  UpstreamOAuthAuthorizationSessionRow
} from "../../rows/upstream/upstreamOAuthAuthorizationSession.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { checkCleanupLimit } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkNewUpstreamOAuthSession,
  checkUpstreamCallbackData,
  checkUpstreamOAuthSessionFilter,
  UpstreamOAuthSessionRepository
} from "../../storage/upstream/UpstreamOAuthSessionRepository.js"
import { ulidCleanupText, UlidCleanupParams } from "../common/cleanup.js"
import { traced } from "../common/tracing.js"
import { countQuery, pageQuery } from "../dynamic.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { linkedUpstreamSessionFilter } from "../user/BrowserSessionRepositoryPg.js"

// The alias the browser-session family's declared filter is written against.
const columns = upstreamOAuthAuthorizationSessionColumnNames.map((c) => `upstream.${c}`).join(", ")
const from = "upstream_oauth_authorization_sessions upstream"

const NullableString = Schema.NullOr(Schema.String)
// Sent as JSON text and cast: the driver would turn a JS array into a PostgreSQL array literal. A JSON null document
// is sent as SQL NULL, which is what the driver reads back for either.
const NullableJsonText = Schema.NullOr(Schema.parseJson(Json))

const isPending =
  "completed_at IS NULL AND consumed_at IS NULL AND unlinked_at IS NULL AND upstream_oauth_link_id IS NULL"
const isCompleted =
  "completed_at IS NOT NULL AND consumed_at IS NULL AND unlinked_at IS NULL AND upstream_oauth_link_id IS NOT NULL"

// Orphaned: tied to no browser session, and named by no authentication or registration (their foreign keys would
// otherwise forget the session they came from).
const isOrphaned = [
  "upstream_oauth_authorization_sessions.user_session_id IS NULL",
  "AND NOT EXISTS (SELECT 1 FROM user_session_authentications WHERE",
  "user_session_authentications.upstream_oauth_authorization_session_id =",
  "upstream_oauth_authorization_sessions.upstream_oauth_authorization_session_id)",
  "AND NOT EXISTS (SELECT 1 FROM user_registrations WHERE",
  "user_registrations.upstream_oauth_authorization_session_id =",
  "upstream_oauth_authorization_sessions.upstream_oauth_authorization_session_id)"
].join(" ")

const q = repositoryQueries({
  prefix: "upstreamOAuthSession",
  table: UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS,
  idColumn: "upstream_oauth_authorization_session_id",
  row: UpstreamOAuthAuthorizationSessionRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM ${from} WHERE upstream.upstream_oauth_authorization_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the state is taken (storage rule: Conflicts).
  add: {
    text:
      "INSERT INTO upstream_oauth_authorization_sessions (upstream_oauth_authorization_session_id, " +
      "upstream_oauth_provider_id, state, code_challenge_verifier, nonce, created_at) " +
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      Schema.String,
      NullableString,
      NullableString,
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  // Guarded: a session is completed once, from pending.
  completeWithLink: {
    text:
      "UPDATE upstream_oauth_authorization_sessions SET upstream_oauth_link_id = $2, completed_at = $3, " +
      "id_token = $4, id_token_claims = $5::jsonb, extra_callback_parameters = $6::jsonb, userinfo = $7::jsonb " +
      `WHERE upstream_oauth_authorization_session_id = $1 AND ${isPending}`,
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      Schema.DateFromSelf,
      NullableString,
      NullableJsonText,
      NullableJsonText,
      NullableJsonText
    ),
    row: NoRows
  },
  // Guarded: a session is consumed once, after it was completed and while its link stands.
  consume: {
    text:
      "UPDATE upstream_oauth_authorization_sessions SET consumed_at = $2, user_session_id = $3 " +
      `WHERE upstream_oauth_authorization_session_id = $1 AND ${isCompleted}`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  cleanupOrphaned: {
    text: ulidCleanupText(
      "upstream_oauth_authorization_sessions",
      "upstream_oauth_authorization_session_id",
      isOrphaned
    ),
    params: UlidCleanupParams,
    row: Schema.Struct({ upstream_oauth_authorization_session_id: UlidFromUuid })
  }
})

const dynamic = q.dynamic({
  list: pageQuery({
    description: "upstream authorization sessions matching an UpstreamOAuthSessionFilter, one keyset page",
    row: UpstreamOAuthAuthorizationSessionRow,
    select: `SELECT ${columns} FROM ${from}`,
    slots: { filter: linkedUpstreamSessionFilter },
    where: "filter",
    keyset: "upstream.upstream_oauth_authorization_session_id"
  }),
  count: countQuery({
    description: "number of upstream authorization sessions matching an UpstreamOAuthSessionFilter",
    from,
    slots: { filter: linkedUpstreamSessionFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const toSession = optionalEntity(upstreamOAuthAuthorizationSessionFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return UpstreamOAuthSessionRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toSession),

    add: (provider, state, codeChallengeVerifier, nonce) =>
      Effect.gen(function* () {
        yield* checkNewUpstreamOAuthSession(provider, state, codeChallengeVerifier, nonce)
        const at = yield* now
        const row = newUpstreamOAuthAuthorizationSessionRow(
          provider.id,
          state,
          codeChallengeVerifier,
          nonce,
          yield* generateUlid,
          at
        )
        yield* db.add.affectedOne(
          row.upstream_oauth_authorization_session_id,
          row.upstream_oauth_provider_id,
          row.state,
          row.code_challenge_verifier,
          row.nonce,
          row.created_at
        )
        return upstreamOAuthAuthorizationSessionFromRow(row)
      }),

    completeWithLink: (session, link, idToken, idTokenClaims, extraCallbackParameters, userinfo) =>
      Effect.gen(function* () {
        const data = { idToken, idTokenClaims, extraCallbackParameters, userinfo }
        yield* checkUpstreamCallbackData(data)
        // A JSON null document is stored as NULL, so the entity returned says none, as `lookup` will.
        const document = (d: Option.Option<Json>) => Option.filter(d, (value) => value !== null)
        const stored = {
          idToken,
          idTokenClaims: document(idTokenClaims),
          extraCallbackParameters: document(extraCallbackParameters),
          userinfo: document(userinfo)
        }
        return yield* guardedTransition({
          ids: { session: session.id, link: link.id },
          transition: (at) => completeUpstreamOAuthAuthorizationSession(session, at, link.id, stored),
          write: (at) =>
            db.completeWithLink.affectedOne(
              session.id,
              link.id,
              at,
              Option.getOrNull(stored.idToken),
              Option.getOrNull(stored.idTokenClaims),
              Option.getOrNull(stored.extraCallbackParameters),
              Option.getOrNull(stored.userinfo)
            )
        })
      }),

    consume: (session, browserSession) =>
      guardedTransition({
        ids: { session: session.id, browserSession: browserSession.id },
        transition: (at) => consumeUpstreamOAuthAuthorizationSession(session, at),
        write: (at) => db.consume.affectedOne(session.id, at, browserSession.id)
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUpstreamOAuthSessionFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), upstreamOAuthAuthorizationSessionFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkUpstreamOAuthSessionFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    cleanupOrphaned: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanupOrphaned.all(Option.getOrNull(since), until, batch)
        return CleanupResult.fromKeys(deleted.map((r) => r.upstream_oauth_authorization_session_id))
      })
  })
})

export const layer: Layer.Layer<UpstreamOAuthSessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  UpstreamOAuthSessionRepository,
  Effect.map(make, traced("upstreamOAuthSession"))
)
