// CompatSessionRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { CompatSession, finishCompatSession } from "../../model/compat.js"
import { generateUlid, maxUlidAt, minUlidAt, UlidFromUuid } from "../../model/Ulid.js"
import {
  checkCompatSessionFilter,
  type CompatSessionFilter,
  CompatSessionRepository
} from "../../storage/compat/CompatSessionRepository.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { optionalEntity } from "../../rows/common.js"
import {
  COMPAT_SESSIONS,
  compatSessionColumns,
  compatSessionFromRow,
  CompatSessionRow,
  compatSessionWithLogin,
  newCompatSessionRow
} from "../../rows/compat/compatSession.js"
import { COMPAT_SSO_LOGINS, compatSsoLoginColumnNames, CompatSsoLoginRow } from "../../rows/compat/compatSsoLogin.js"
import { rowDecoder } from "../../rows/decode.js"
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
import { browserSessionFilter } from "../user/BrowserSessionRepositoryPg.js"
import { recordUserAgentWith, setHumanNameWith } from "../../storage/common/sessionLabels.js"

const columns = compatSessionColumns.join(", ")

const q = repositoryQueries({
  prefix: "compatSession",
  table: COMPAT_SESSIONS,
  idColumn: "compat_session_id",
  row: CompatSessionRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM compat_sessions WHERE compat_sessions.compat_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text:
      "INSERT INTO compat_sessions (compat_session_id, user_id, device_id, user_session_id, created_at, is_synapse_admin, human_name) " +
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      Schema.String,
      Schema.NullOr(UlidFromUuid),
      Schema.DateFromSelf,
      Schema.Boolean,
      Schema.NullOr(Schema.String)
    ),
    row: NoRows
  },
  // Guarded: of concurrent finishers only one touches the row; a row finished meanwhile is a RowsAffectedError.
  finish: {
    text: "UPDATE compat_sessions SET finished_at = $2 WHERE compat_session_id = $1 AND finished_at IS NULL",
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  recordBatchActivity: {
    text: batchActivityText("compat_sessions", "compat_session_id"),
    params: BatchActivityParams,
    row: NoRows
  },
  recordUserAgent: {
    text: "UPDATE compat_sessions SET user_agent = $2 WHERE compat_session_id = $1",
    params: Schema.Tuple(UlidFromUuid, Schema.String),
    row: NoRows
  },
  setHumanName: {
    text: "UPDATE compat_sessions SET human_name = $2 WHERE compat_session_id = $1",
    params: Schema.Tuple(UlidFromUuid, Schema.NullOr(Schema.String)),
    row: NoRows
  },
  // Rows sharing a finished_at are taken in id order, so a batch boundary inside them is the same on both backends.
  // Refresh tokens go before the access tokens they reference; the SSO logins exchanged into the sessions go too.
  cleanupFinished: {
    text: [
      "WITH to_delete AS (",
      "SELECT compat_sessions.compat_session_id FROM compat_sessions",
      "WHERE compat_sessions.finished_at IS NOT NULL",
      "AND ($1::timestamptz IS NULL OR compat_sessions.finished_at >= $1)",
      "AND compat_sessions.finished_at < $2",
      "ORDER BY compat_sessions.finished_at ASC, compat_sessions.compat_session_id ASC",
      "LIMIT $3",
      "FOR UPDATE OF compat_sessions",
      "), deleted_refresh_tokens AS (",
      "DELETE FROM compat_refresh_tokens USING to_delete",
      "WHERE compat_refresh_tokens.compat_session_id = to_delete.compat_session_id",
      "), deleted_access_tokens AS (",
      "DELETE FROM compat_access_tokens USING to_delete",
      "WHERE compat_access_tokens.compat_session_id = to_delete.compat_session_id",
      "), deleted_sso_logins AS (",
      "DELETE FROM compat_sso_logins USING to_delete",
      "WHERE compat_sso_logins.compat_session_id = to_delete.compat_session_id",
      "), deleted AS (",
      "DELETE FROM compat_sessions USING to_delete",
      "WHERE compat_sessions.compat_session_id = to_delete.compat_session_id",
      "RETURNING compat_sessions.finished_at",
      ")",
      "SELECT COUNT(*) AS count, MAX(deleted.finished_at) AS last FROM deleted"
    ].join(" "),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  },
  cleanupInactiveIps: {
    text: clearInactiveIpsText("compat_sessions", "compat_session_id"),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  }
})

/** The paired login's columns, selected as `login_<column>` from the lateral subquery `login`. */
const LOGIN_PREFIX = "login_"
const loginColumns = compatSsoLoginColumnNames.map((c) => `login.${c} AS ${LOGIN_PREFIX}${c}`).join(", ")

// At most one login per session (the lowest id), so a session is one edge even if several logins were exchanged into it.
const listSelect = [
  `SELECT ${columns}, ${loginColumns} FROM compat_sessions`,
  `LEFT JOIN LATERAL (SELECT ${compatSsoLoginColumnNames.map((c) => `compat_sso_logins.${c}`).join(", ")}`,
  "FROM compat_sso_logins WHERE compat_sso_logins.compat_session_id = compat_sessions.compat_session_id",
  "ORDER BY compat_sso_logins.compat_sso_login_id LIMIT 1) AS login ON TRUE"
].join(" ")

// Every login column may be NULL: the lateral join finds no login for a session none was exchanged into.
const prefixedNullableLoginFields = Object.fromEntries(
  Object.entries(CompatSsoLoginRow.from.fields).map(([c, schema]) => [`${LOGIN_PREFIX}${c}`, Schema.NullOr(schema)])
)

const loginExchangedInto =
  "EXISTS (SELECT 1 FROM compat_sso_logins WHERE compat_sso_logins.compat_session_id = compat_sessions.compat_session_id)"

/**
 * The filter over `compat_sessions` (unaliased, so it serves SELECT, COUNT and UPDATE alike, and the nested
 * compat-session criteria of other repositories' filters). The auth type is an EXISTS over the logins exchanged into
 * the session, whatever the statement joins.
 */
export const compatSessionFilter = filter<CompatSessionFilter>()(
  "CompatSessionFilter",
  {
    user: piece("compat_sessions.user_id = $1", Schema.Tuple(UlidFromUuid)),
    browserSession: piece("compat_sessions.user_session_id = $1", Schema.Tuple(UlidFromUuid)),
    browserSessionFilter: nested(
      "compat_sessions.user_session_id IN (SELECT user_sessions.user_session_id FROM user_sessions WHERE ",
      browserSessionFilter,
      ")"
    ),
    active: piece("compat_sessions.finished_at IS NULL"),
    finished: piece("compat_sessions.finished_at IS NOT NULL"),
    hasSsoLogin: piece(loginExchangedInto),
    hasNoSsoLogin: piece(`NOT ${loginExchangedInto}`),
    device: piece("compat_sessions.device_id = $1", Schema.Tuple(Schema.String)),
    ...lastActiveCriteria("compat_sessions"),
    ...createdCriteria("compat_sessions.compat_session_id")
  },
  (f, use) => [
    f.user !== undefined && use.user(f.user),
    f.browserSession !== undefined && use.browserSession(f.browserSession),
    f.browserSessionFilter !== undefined && use.browserSessionFilter(f.browserSessionFilter),
    f.state === "active" && use.active(),
    f.state === "finished" && use.finished(),
    f.authType === "sso_login" && use.hasSsoLogin(),
    f.authType === "unknown" && use.hasNoSsoLogin(),
    f.device !== undefined && use.device(f.device.id),
    f.lastActiveBefore !== undefined && use.lastActiveBefore(f.lastActiveBefore),
    f.lastActiveAfter !== undefined && use.lastActiveAfter(f.lastActiveAfter),
    f.createdBefore !== undefined && use.createdBefore(minUlidAt(f.createdBefore)),
    f.createdAfter !== undefined && use.createdAfter(maxUlidAt(f.createdAfter))
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description:
      "compat sessions matching a CompatSessionFilter, each with the SSO login exchanged into it, one keyset page",
    row: Schema.Struct({ ...CompatSessionRow.fields, ...prefixedNullableLoginFields }),
    select: listSelect,
    slots: { filter: compatSessionFilter },
    where: "filter",
    keyset: "compat_sessions.compat_session_id"
  }),
  count: countQuery({
    description: "number of compat sessions matching a CompatSessionFilter",
    from: "compat_sessions",
    slots: { filter: compatSessionFilter },
    where: "filter"
  }),
  finishBulk: stampQuery({
    description: "stamps finished_at on the compat sessions matching a CompatSessionFilter",
    table: "compat_sessions",
    column: "finished_at",
    filter: compatSessionFilter
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const decodeLogin = rowDecoder(CompatSsoLoginRow, COMPAT_SSO_LOGINS, "compat_sso_login_id")

/** The login part of a listed raw row, unprefixed and decoded as a `compat_sso_logins` row (none when no login joined). */
const pairedLogin = (raw: object) => {
  const record = raw as Record<string, unknown>
  if (record[`${LOGIN_PREFIX}compat_sso_login_id`] === null) return Either.right(Option.none())
  const login = Object.fromEntries(compatSsoLoginColumnNames.map((c) => [c, record[`${LOGIN_PREFIX}${c}`]]))
  return Either.map(decodeLogin(login), Option.some)
}

const listedPair = (raw: object) =>
  Either.gen(function* () {
    const session = yield* q.decodeRow(raw)
    const login = yield* pairedLogin(raw)
    return yield* compatSessionWithLogin(session, login)
  })

const toSession = optionalEntity(compatSessionFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return CompatSessionRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toSession),

    add: (user, device, browserSession, isSynapseAdmin, humanName) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ device: device.id, humanName: Option.getOrNull(humanName) })
        const at = yield* now
        const row = newCompatSessionRow(
          user,
          device,
          browserSession,
          isSynapseAdmin,
          humanName,
          yield* generateUlid,
          at
        )
        yield* db.add.affectedOne(
          row.compat_session_id,
          row.user_id,
          device.id,
          row.user_session_id,
          row.created_at,
          row.is_synapse_admin,
          row.human_name
        )
        return compatSessionFromRow(row)
      }),

    finish: (session) =>
      guardedTransition({
        transition: (at) => finishCompatSession(session, at),
        write: (at) => db.finish.affectedOne(session.id, at)
      }),

    finishBulk: (filter) => Effect.zipRight(checkCompatSessionFilter(filter), dynamic.finishBulk.stamp(sql, filter)),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkCompatSessionFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap(listedPair)
      }),

    count: (filter) =>
      Effect.zipRight(
        checkCompatSessionFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    recordBatchActivity: (activity) => recordBatchActivity(db.recordBatchActivity, activity),

    recordUserAgent: recordUserAgentWith(CompatSession, db.recordUserAgent.affectedOne),
    setHumanName: setHumanNameWith(CompatSession, db.setHumanName.affectedOne),

    cleanupFinished: timestampCleanup(db.cleanupFinished),
    cleanupInactiveIps: timestampCleanup(db.cleanupInactiveIps)
  })
})

export const layer: Layer.Layer<CompatSessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  CompatSessionRepository,
  Effect.map(make, traced("compatSession"))
)
