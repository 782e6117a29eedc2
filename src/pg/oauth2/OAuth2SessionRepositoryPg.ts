// OAuth2SessionRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Schema } from "effect"
import { finishOAuth2Session, OAuth2Session } from "../../model/oauth2/session.js"
import { generateUlid, maxUlidAt, minUlidAt, UlidFromUuid } from "../../model/Ulid.js"
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
import { createdCriteria, lastActiveCriteria } from "../common/filters.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { countQuery, filter, nested, pageQuery, piece, stampQuery } from "../dynamic.js"
import { browserSessionFilter } from "../user/BrowserSessionRepositoryPg.js"
import { recordUserAgentWith, setHumanNameWith } from "../../storage/common/sessionLabels.js"

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

const staticClients = "SELECT oauth2_clients.oauth2_client_id FROM oauth2_clients WHERE oauth2_clients.is_static"

/**
 * The filter over `oauth2_sessions` (unaliased, so it serves SELECT, COUNT and UPDATE alike, and the nested
 * OAuth2-session criteria of other repositories' filters). The scope and device criteria are array operators the GIN
 * index on `scope_list` serves: containment (`@>`) and overlap (`&&`).
 */
export const oauth2SessionFilter = filter<OAuth2SessionFilter>()(
  "OAuth2SessionFilter",
  {
    user: piece("oauth2_sessions.user_id = $1", Schema.Tuple(UlidFromUuid)),
    anyUser: piece("oauth2_sessions.user_id IS NOT NULL"),
    noUser: piece("oauth2_sessions.user_id IS NULL"),
    browserSession: piece("oauth2_sessions.user_session_id = $1", Schema.Tuple(UlidFromUuid)),
    browserSessionFilter: nested(
      "oauth2_sessions.user_session_id IN (SELECT user_sessions.user_session_id FROM user_sessions WHERE ",
      browserSessionFilter,
      ")"
    ),
    // either of the device's two scope tokens
    device: piece("oauth2_sessions.scope_list && $1::text[]", Schema.Tuple(Schema.Array(Schema.String))),
    // a device that cannot be encoded as a scope token: no session's scope can hold it
    unencodableDevice: piece("FALSE"),
    client: piece("oauth2_sessions.oauth2_client_id = $1", Schema.Tuple(UlidFromUuid)),
    // one array parameter, so the text does not depend on how many clients are given (none matches nothing)
    clients: piece("oauth2_sessions.oauth2_client_id = ANY($1::uuid[])", Schema.Tuple(Schema.Array(UlidFromUuid))),
    staticClient: piece(`oauth2_sessions.oauth2_client_id IN (${staticClients})`),
    dynamicClient: piece(`oauth2_sessions.oauth2_client_id NOT IN (${staticClients})`),
    active: piece("oauth2_sessions.finished_at IS NULL"),
    finished: piece("oauth2_sessions.finished_at IS NOT NULL"),
    scope: piece("oauth2_sessions.scope_list @> $1::text[]", Schema.Tuple(Schema.Array(Schema.String))),
    ...lastActiveCriteria("oauth2_sessions"),
    ...createdCriteria("oauth2_sessions.oauth2_session_id")
  },
  (f, use) => {
    const deviceTokens = f.device === undefined ? undefined : deviceToScopeTokens(f.device)
    return [
      f.user !== undefined && use.user(f.user),
      f.anyUser === true && use.anyUser(),
      f.anyUser === false && use.noUser(),
      f.browserSession !== undefined && use.browserSession(f.browserSession),
      f.browserSessionFilter !== undefined && use.browserSessionFilter(f.browserSessionFilter),
      deviceTokens !== undefined &&
        Either.match(deviceTokens, {
          onLeft: () => use.unencodableDevice(),
          onRight: (tokens) => use.device([...tokens])
        }),
      f.client !== undefined && use.client(f.client),
      f.clients !== undefined && use.clients(f.clients),
      f.clientKind === "static" && use.staticClient(),
      f.clientKind === "dynamic" && use.dynamicClient(),
      f.state === "active" && use.active(),
      f.state === "finished" && use.finished(),
      f.scope !== undefined && use.scope([...f.scope]),
      f.lastActiveBefore !== undefined && use.lastActiveBefore(f.lastActiveBefore),
      f.lastActiveAfter !== undefined && use.lastActiveAfter(f.lastActiveAfter),
      f.createdBefore !== undefined && use.createdBefore(minUlidAt(f.createdBefore)),
      f.createdAfter !== undefined && use.createdAfter(maxUlidAt(f.createdAfter))
    ]
  }
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "OAuth2 sessions matching an OAuth2SessionFilter, one keyset page",
    row: OAuth2SessionRow,
    select: `SELECT ${columns} FROM oauth2_sessions`,
    slots: { filter: oauth2SessionFilter },
    where: "filter",
    keyset: "oauth2_sessions.oauth2_session_id"
  }),
  count: countQuery({
    description: "number of OAuth2 sessions matching an OAuth2SessionFilter",
    from: "oauth2_sessions",
    slots: { filter: oauth2SessionFilter },
    where: "filter"
  }),
  finishBulk: stampQuery({
    description: "stamps finished_at on the OAuth2 sessions matching an OAuth2SessionFilter",
    table: "oauth2_sessions",
    column: "finished_at",
    filter: oauth2SessionFilter
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

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

    finishBulk: (filter) => Effect.zipRight(checkOAuth2SessionFilter(filter), dynamic.finishBulk.stamp(sql, filter)),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkOAuth2SessionFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), oauth2SessionFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkOAuth2SessionFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

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
