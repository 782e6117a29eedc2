// BrowserSessionRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { finishBrowserSession } from "../../model/user.js"
import { generateUlid, maxUlidAt, minUlidAt, UlidFromUuid } from "../../model/Ulid.js"
import {
  type BrowserSessionFilter,
  BrowserSessionRepository,
  checkBrowserSessionFilter,
  type LinkedUpstreamSessionFilter
} from "../../storage/user/BrowserSessionRepository.js"
import { refusedTransition } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { optionalEntity } from "../../rows/common.js"
import {
  AuthenticationRow,
  authenticationFromRow,
  BrowserSessionWithUserRow,
  browserSessionFromRow
} from "../../rows/user/browserSession.js"
import {
  BatchActivityParams,
  batchActivityText,
  clearInactiveIpsText,
  recordBatchActivity
} from "../common/activity.js"
import { timestampCleanup, TimestampCleanupParams, TimestampCleanupRow } from "../common/cleanup.js"
import { createdCriteria, lastActiveCriteria } from "../common/filters.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { countQuery, filter, nested, pageQuery, piece, stampQuery } from "../dynamic.js"

const sessionColumns = [
  "user_sessions.user_session_id",
  "user_sessions.user_id",
  "user_sessions.created_at",
  "user_sessions.finished_at",
  "user_sessions.user_agent",
  "user_sessions.last_active_at",
  "user_sessions.last_active_ip",
  "users.username AS user_username",
  "users.created_at AS user_created_at",
  "users.locked_at AS user_locked_at",
  "users.deactivated_at AS user_deactivated_at",
  "users.can_request_admin AS user_can_request_admin",
  "users.is_guest AS user_is_guest"
].join(", ")

const fromSessionsWithUsers = "user_sessions INNER JOIN users ON users.user_id = user_sessions.user_id"

const authenticationColumns =
  "user_session_authentication_id, user_session_id, created_at, user_password_id, upstream_oauth_authorization_session_id"

const q = repositoryQueries({
  prefix: "browserSession",
  table: "user_sessions",
  idColumn: "user_session_id",
  row: BrowserSessionWithUserRow
})

// The authentications are the rows of another table, under the same prefix: their own builder, so that an
// inconsistency error names the authentication row.
const authentications = repositoryQueries({
  prefix: "browserSession",
  table: "user_session_authentications",
  idColumn: "user_session_authentication_id",
  row: AuthenticationRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${sessionColumns} FROM ${fromSessionsWithUsers} WHERE user_sessions.user_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text: `INSERT INTO user_sessions (user_session_id, user_id, created_at, user_agent) VALUES ($1, $2, $3, $4)`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.DateFromSelf, Schema.NullOr(Schema.String)),
    row: NoRows
  },
  finish: {
    text: `UPDATE user_sessions SET finished_at = $2 WHERE user_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  recordBatchActivity: {
    text: batchActivityText("user_sessions", "user_session_id"),
    params: BatchActivityParams,
    row: NoRows
  },
  // Rows sharing a finished_at are taken in id order, so a batch boundary inside them is the same on both backends.
  cleanupFinished: {
    text: [
      "WITH to_delete AS (",
      "SELECT user_sessions.user_session_id FROM user_sessions",
      "WHERE user_sessions.finished_at IS NOT NULL",
      "AND ($1::timestamptz IS NULL OR user_sessions.finished_at >= $1)",
      "AND user_sessions.finished_at < $2",
      "AND NOT EXISTS (SELECT 1 FROM oauth2_sessions WHERE oauth2_sessions.user_session_id = user_sessions.user_session_id)",
      "AND NOT EXISTS (SELECT 1 FROM compat_sessions WHERE compat_sessions.user_session_id = user_sessions.user_session_id)",
      "ORDER BY user_sessions.finished_at ASC, user_sessions.user_session_id ASC",
      "LIMIT $3",
      "FOR UPDATE OF user_sessions",
      "), deleted_authentications AS (",
      "DELETE FROM user_session_authentications USING to_delete",
      "WHERE user_session_authentications.user_session_id = to_delete.user_session_id",
      "), deleted AS (",
      "DELETE FROM user_sessions USING to_delete",
      "WHERE user_sessions.user_session_id = to_delete.user_session_id",
      "RETURNING user_sessions.finished_at",
      ")",
      "SELECT COUNT(*) AS count, MAX(deleted.finished_at) AS last FROM deleted"
    ].join(" "),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  },
  cleanupInactiveIps: {
    text: clearInactiveIpsText("user_sessions", "user_session_id"),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  }
})

const authenticationStatements = authentications.statements({
  authenticateWithPassword: {
    text: `INSERT INTO user_session_authentications (${authenticationColumns}) VALUES ($1, $2, $3, $4, NULL)`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  // Also links the upstream authorization session to this browser session unless it is linked already: MAS does
  // that with a trigger on every insert; here one statement does it, the same write memory makes.
  authenticateWithUpstream: {
    text:
      `WITH linked AS (UPDATE upstream_oauth_authorization_sessions SET user_session_id = $2 ` +
      `WHERE upstream_oauth_authorization_session_id = $4 AND user_session_id IS NULL) ` +
      `INSERT INTO user_session_authentications (${authenticationColumns}) VALUES ($1, $2, $3, NULL, $4)`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  // The id breaks ties between authentications of the same millisecond, so both backends pick the same row.
  getLastAuthentication: {
    text:
      `SELECT ${authenticationColumns} FROM user_session_authentications WHERE user_session_id = $1 ` +
      `ORDER BY created_at DESC, user_session_authentication_id DESC LIMIT 1`,
    params: Schema.Tuple(UlidFromUuid)
  }
})

/**
 * The upstream authorization sessions a LinkedUpstreamSessionFilter selects (alias `upstream`), nested here and the
 * whole filter of the upstream session repository.
 */
export const linkedUpstreamSessionFilter = filter<LinkedUpstreamSessionFilter>()(
  "LinkedUpstreamSessionFilter",
  {
    provider: piece("upstream.upstream_oauth_provider_id = $1", Schema.Tuple(UlidFromUuid)),
    subClaim: piece("(upstream.id_token_claims ->> 'sub') = $1", Schema.Tuple(Schema.String)),
    sidClaim: piece("(upstream.id_token_claims ->> 'sid') = $1", Schema.Tuple(Schema.String))
  },
  (f, use) => [
    f.provider !== undefined && use.provider(f.provider),
    f.subClaim !== undefined && use.subClaim(f.subClaim),
    f.sidClaim !== undefined && use.sidClaim(f.sidClaim)
  ]
)

/**
 * The filter over `user_sessions` (unaliased, so it serves SELECT, COUNT and UPDATE alike, and the nested browser-session
 * criterion of other repositories' filters).
 */
export const browserSessionFilter = filter<BrowserSessionFilter>()(
  "BrowserSessionFilter",
  {
    user: piece("user_sessions.user_id = $1", Schema.Tuple(UlidFromUuid)),
    active: piece("user_sessions.finished_at IS NULL"),
    finished: piece("user_sessions.finished_at IS NOT NULL"),
    ...lastActiveCriteria("user_sessions"),
    ...createdCriteria("user_sessions.user_session_id"),
    linkedToUpstreamSessions: nested(
      "user_sessions.user_session_id IN (SELECT upstream.user_session_id FROM upstream_oauth_authorization_sessions upstream WHERE upstream.user_session_id IS NOT NULL AND (",
      linkedUpstreamSessionFilter,
      "))"
    )
  },
  (f, use) => [
    f.user !== undefined && use.user(f.user),
    f.state === "active" && use.active(),
    f.state === "finished" && use.finished(),
    f.lastActiveBefore !== undefined && use.lastActiveBefore(f.lastActiveBefore),
    f.lastActiveAfter !== undefined && use.lastActiveAfter(f.lastActiveAfter),
    f.createdBefore !== undefined && use.createdBefore(minUlidAt(f.createdBefore)),
    f.createdAfter !== undefined && use.createdAfter(maxUlidAt(f.createdAfter)),
    f.linkedToUpstreamSessions !== undefined && use.linkedToUpstreamSessions(f.linkedToUpstreamSessions)
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "browser sessions (joined with their user) matching a BrowserSessionFilter, one keyset page",
    row: BrowserSessionWithUserRow,
    select: `SELECT ${sessionColumns} FROM ${fromSessionsWithUsers}`,
    slots: { filter: browserSessionFilter },
    where: "filter",
    keyset: "user_sessions.user_session_id"
  }),
  count: countQuery({
    description: "number of browser sessions matching a BrowserSessionFilter",
    from: "user_sessions",
    slots: { filter: browserSessionFilter },
    where: "filter"
  }),
  finishBulk: stampQuery({
    description: "stamps finished_at on the browser sessions matching a BrowserSessionFilter",
    table: "user_sessions",
    column: "finished_at",
    filter: browserSessionFilter
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, authenticationStatements, dynamic)

const toSession = optionalEntity(browserSessionFromRow)
const toAuthentication = optionalEntity(authenticationFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, { ...statements, ...authenticationStatements })

  return BrowserSessionRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toSession),

    add: (user, userAgent) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ userAgent: Option.getOrNull(userAgent) })
        const at = yield* now
        const id = yield* generateUlid
        const agent = Option.getOrNull(userAgent)
        yield* db.add.affectedOne(id, user.id, at, agent)
        return browserSessionFromRow({
          user_session_id: id,
          user_id: user.id,
          created_at: at,
          finished_at: null,
          user_agent: agent,
          last_active_at: null,
          last_active_ip: null,
          user_username: user.username,
          user_created_at: user.createdAt,
          user_locked_at: Option.getOrNull(user.lockedAt),
          user_deactivated_at: Option.getOrNull(user.deactivatedAt),
          user_can_request_admin: user.canRequestAdmin,
          user_is_guest: user.isGuest
        })
      }),

    finish: (session) =>
      Effect.gen(function* () {
        const at = yield* now
        const next = yield* refusedTransition(finishBrowserSession(session, at))
        yield* db.finish.affectedOne(session.id, at)
        return next
      }),

    finishBulk: (filter) => Effect.zipRight(checkBrowserSessionFilter(filter), dynamic.finishBulk.stamp(sql, filter)),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkBrowserSessionFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), browserSessionFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkBrowserSessionFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    authenticateWithPassword: (session, password) =>
      Effect.gen(function* () {
        const at = yield* now
        const id = yield* generateUlid
        yield* db.authenticateWithPassword.affectedOne(id, session.id, at, password.id)
        return authenticationFromRow({
          user_session_authentication_id: id,
          user_session_id: session.id,
          created_at: at,
          user_password_id: password.id,
          upstream_oauth_authorization_session_id: null
        })
      }),

    authenticateWithUpstream: (session, upstreamSession) =>
      Effect.gen(function* () {
        const at = yield* now
        const id = yield* generateUlid
        yield* db.authenticateWithUpstream.affectedOne(id, session.id, at, upstreamSession.id)
        return authenticationFromRow({
          user_session_authentication_id: id,
          user_session_id: session.id,
          created_at: at,
          user_password_id: null,
          upstream_oauth_authorization_session_id: upstreamSession.id
        })
      }),

    getLastAuthentication: (session) => Effect.flatMap(db.getLastAuthentication.one(session.id), toAuthentication),

    recordBatchActivity: (activity) => recordBatchActivity(db.recordBatchActivity, activity),
    cleanupFinished: timestampCleanup(db.cleanupFinished),
    cleanupInactiveIps: timestampCleanup(db.cleanupInactiveIps)
  })
})

export const layer: Layer.Layer<BrowserSessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  BrowserSessionRepository,
  Effect.map(make, traced("browserSession"))
)
