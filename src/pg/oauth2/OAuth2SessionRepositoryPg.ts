// OAuth2SessionRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries assembled from fragments.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Either, Layer, Schema } from "effect"
import { finishOAuth2Session, OAuth2Session } from "../../model/oauth2/session.js"
import { generateUlid, maxUlidAt, minUlidAt, UlidFromUuid, ulidToUuid } from "../../model/Ulid.js"
import { deviceToScopeTokens } from "../../model/values.js"
import {
  checkOAuth2SessionFilter,
  type OAuth2SessionFilter,
  OAuth2SessionRepository,
  oAuth2SessionWithDerivedMethods
} from "../../storage/oauth2/OAuth2SessionRepository.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { checkScope } from "../../storage/common/limits.js"
import { optionalEntity, ScopeListColumn } from "../../rows/common.js"
import { newOAuth2SessionRow, OAuth2SessionRow, oauth2SessionFromRow } from "../../rows/oauth2/session.js"
import {
  BatchActivityParams,
  batchActivityText,
  clearInactiveIpsText,
  recordBatchActivity
} from "../common/activity.js"
import { timestampCleanup, TimestampCleanupParams, TimestampCleanupRow } from "../common/cleanup.js"
import { listPage } from "../common/pagination.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { browserSessionFilterFragment } from "../user/BrowserSessionRepositoryPg.js"
import { recordUserAgentWith, setHumanNameWith } from "../../storage/common/sessionLabels.js"
import { countFilteredWith, finishBulkWith } from "../common/filteredSessions.js"

const columns = [
  "oauth2_sessions.oauth2_session_id",
  "oauth2_sessions.user_id",
  "oauth2_sessions.user_session_id",
  "oauth2_sessions.oauth2_client_id",
  "oauth2_sessions.scope_list",
  "oauth2_sessions.created_at",
  "oauth2_sessions.finished_at",
  "oauth2_sessions.user_agent",
  "oauth2_sessions.last_active_at",
  "oauth2_sessions.last_active_ip",
  "oauth2_sessions.human_name"
].join(", ")

const q = repositoryQueries({
  prefix: "oauth2Session",
  table: "oauth2_sessions",
  idColumn: "oauth2_session_id",
  row: OAuth2SessionRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM oauth2_sessions WHERE oauth2_sessions.oauth2_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text:
      `INSERT INTO oauth2_sessions (oauth2_session_id, user_id, user_session_id, oauth2_client_id, scope_list, created_at) ` +
      `VALUES ($1, $2, $3, $4, $5, $6)`,
    params: Schema.Tuple(
      UlidFromUuid,
      Schema.NullOr(UlidFromUuid),
      Schema.NullOr(UlidFromUuid),
      UlidFromUuid,
      ScopeListColumn,
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  // Guarded: of concurrent finishers only one touches the row; a row finished meanwhile is a RowsAffectedError.
  finish: {
    text: `UPDATE oauth2_sessions SET finished_at = $2 WHERE oauth2_session_id = $1 AND finished_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  recordBatchActivity: {
    text: batchActivityText("oauth2_sessions", "oauth2_session_id"),
    params: BatchActivityParams,
    row: NoRows
  },
  recordUserAgent: {
    text: `UPDATE oauth2_sessions SET user_agent = $2 WHERE oauth2_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.String),
    row: NoRows
  },
  setHumanName: {
    text: `UPDATE oauth2_sessions SET human_name = $2 WHERE oauth2_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.NullOr(Schema.String)),
    row: NoRows
  },
  // Rows sharing a finished_at are taken in id order, so a batch boundary inside them is the same on both backends.
  // The tokens go in the statement itself; the grants exchanged into a session go by their foreign keys' cascade.
  cleanupFinished: {
    text: [
      "WITH to_delete AS (",
      "SELECT oauth2_sessions.oauth2_session_id FROM oauth2_sessions",
      "WHERE oauth2_sessions.finished_at IS NOT NULL",
      "AND ($1::timestamptz IS NULL OR oauth2_sessions.finished_at >= $1)",
      "AND oauth2_sessions.finished_at < $2",
      "ORDER BY oauth2_sessions.finished_at ASC, oauth2_sessions.oauth2_session_id ASC",
      "LIMIT $3",
      "FOR UPDATE OF oauth2_sessions",
      "), deleted_refresh_tokens AS (",
      "DELETE FROM oauth2_refresh_tokens USING to_delete",
      "WHERE oauth2_refresh_tokens.oauth2_session_id = to_delete.oauth2_session_id",
      "), deleted_access_tokens AS (",
      "DELETE FROM oauth2_access_tokens USING to_delete",
      "WHERE oauth2_access_tokens.oauth2_session_id = to_delete.oauth2_session_id",
      "), deleted AS (",
      "DELETE FROM oauth2_sessions USING to_delete",
      "WHERE oauth2_sessions.oauth2_session_id = to_delete.oauth2_session_id",
      "RETURNING oauth2_sessions.finished_at",
      ")",
      "SELECT COUNT(*) AS count, MAX(deleted.finished_at) AS last FROM deleted"
    ].join(" "),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  },
  cleanupInactiveIps: {
    text: clearInactiveIpsText("oauth2_sessions", "oauth2_session_id"),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  }
})

const dynamic = q.dynamic({
  list: "OAuth2 sessions matching an OAuth2SessionFilter, one keyset page",
  count: "number of OAuth2 sessions matching an OAuth2SessionFilter",
  finishBulk: "stamps finished_at on the OAuth2 sessions matching an OAuth2SessionFilter"
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

/**
 * The filter over `oauth2_sessions` (unaliased, so it serves SELECT, COUNT and UPDATE alike). The scope and device
 * criteria are array operators the GIN index on `scope_list` serves: containment (`@>`) and overlap (`&&`).
 */
export const oauth2SessionFilterFragment = (sql: SqlClient.SqlClient, filter: OAuth2SessionFilter): Fragment => {
  const clauses: Array<Fragment> = []
  if (filter.user !== undefined) clauses.push(sql`oauth2_sessions.user_id = ${ulidToUuid(filter.user)}`)
  if (filter.anyUser === true) clauses.push(sql`oauth2_sessions.user_id IS NOT NULL`)
  if (filter.anyUser === false) clauses.push(sql`oauth2_sessions.user_id IS NULL`)
  if (filter.browserSession !== undefined)
    clauses.push(sql`oauth2_sessions.user_session_id = ${ulidToUuid(filter.browserSession)}`)
  if (filter.browserSessionFilter !== undefined) {
    clauses.push(
      sql`oauth2_sessions.user_session_id IN (SELECT user_sessions.user_session_id FROM user_sessions WHERE ${browserSessionFilterFragment(sql, filter.browserSessionFilter)})`
    )
  }
  if (filter.device !== undefined) {
    clauses.push(
      Either.match(deviceToScopeTokens(filter.device), {
        onLeft: () => sql`FALSE`,
        onRight: (tokens) => sql`oauth2_sessions.scope_list && ${[...tokens]}::text[]`
      })
    )
  }
  if (filter.client !== undefined) clauses.push(sql`oauth2_sessions.oauth2_client_id = ${ulidToUuid(filter.client)}`)
  if (filter.clients !== undefined) {
    clauses.push(sql`oauth2_sessions.oauth2_client_id = ANY(${filter.clients.map(ulidToUuid)}::uuid[])`)
  }
  if (filter.clientKind !== undefined) {
    const staticClients = sql`SELECT oauth2_clients.oauth2_client_id FROM oauth2_clients WHERE oauth2_clients.is_static`
    clauses.push(
      filter.clientKind === "static"
        ? sql`oauth2_sessions.oauth2_client_id IN (${staticClients})`
        : sql`oauth2_sessions.oauth2_client_id NOT IN (${staticClients})`
    )
  }
  if (filter.state === "active") clauses.push(sql`oauth2_sessions.finished_at IS NULL`)
  if (filter.state === "finished") clauses.push(sql`oauth2_sessions.finished_at IS NOT NULL`)
  if (filter.scope !== undefined) clauses.push(sql`oauth2_sessions.scope_list @> ${[...filter.scope]}::text[]`)
  if (filter.lastActiveBefore !== undefined)
    clauses.push(sql`oauth2_sessions.last_active_at < ${filter.lastActiveBefore}`)
  if (filter.lastActiveAfter !== undefined)
    clauses.push(sql`oauth2_sessions.last_active_at > ${filter.lastActiveAfter}`)
  if (filter.createdBefore !== undefined) {
    clauses.push(sql`oauth2_sessions.oauth2_session_id < ${ulidToUuid(minUlidAt(filter.createdBefore))}`)
  }
  if (filter.createdAfter !== undefined) {
    clauses.push(sql`oauth2_sessions.oauth2_session_id > ${ulidToUuid(maxUlidAt(filter.createdAfter))}`)
  }
  return sql.and(clauses)
}

const toSession = optionalEntity(oauth2SessionFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return oAuth2SessionWithDerivedMethods({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toSession),

    add: (client, user, browserSession, scope) =>
      Effect.gen(function* () {
        yield* checkScope("scope", scope)
        const at = yield* now
        const row = newOAuth2SessionRow(client, user, browserSession, scope, yield* generateUlid, at)
        yield* db.add.affectedOne(
          row.oauth2_session_id,
          row.user_id,
          row.user_session_id,
          row.oauth2_client_id,
          row.scope_list,
          row.created_at
        )
        return oauth2SessionFromRow(row)
      }),

    finish: (session) =>
      guardedTransition({
        transition: (at) => finishOAuth2Session(session, at),
        write: (at) => db.finish.affectedOne(session.id, at)
      }),

    finishBulk: finishBulkWith(sql, {
      check: checkOAuth2SessionFilter,
      query: dynamic.finishBulk,
      fragment: oauth2SessionFilterFragment,
      update: (at, where) => sql`UPDATE oauth2_sessions SET finished_at = ${at} WHERE ${where}`
    }),

    list: (filter, pagination) =>
      dynamic.list.run(
        Effect.gen(function* () {
          yield* checkOAuth2SessionFilter(filter)
          const page = yield* listPage<object>(sql, {
            select: sql`SELECT ${sql.unsafe(columns)} FROM oauth2_sessions`,
            filter: oauth2SessionFilterFragment(sql, filter),
            idColumn: sql`oauth2_sessions.oauth2_session_id`,
            pagination,
            cursorOf: q.cursorOf
          })
          return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), oauth2SessionFromRow))
        })
      ),

    count: countFilteredWith(sql, {
      check: checkOAuth2SessionFilter,
      query: dynamic.count,
      fragment: oauth2SessionFilterFragment,
      from: () => sql`oauth2_sessions`
    }),

    recordBatchActivity: (activity) => recordBatchActivity(db.recordBatchActivity, activity),

    recordUserAgent: recordUserAgentWith(OAuth2Session, db.recordUserAgent.affectedOne),
    setHumanName: setHumanNameWith(OAuth2Session, db.setHumanName.affectedOne),

    cleanupFinished: timestampCleanup(db.cleanupFinished),
    cleanupInactiveIps: timestampCleanup(db.cleanupInactiveIps)
  })
})

export const layer: Layer.Layer<OAuth2SessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  OAuth2SessionRepository,
  Effect.map(make, traced("oauth2Session"))
)
