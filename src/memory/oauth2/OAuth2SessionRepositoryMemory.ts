// OAuth2SessionRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer } from "effect"
import { finishOAuth2Session, OAuth2Session } from "../../model/oauth2/session.js"
import { generateUlid, maxUlidAt, minUlidAt } from "../../model/Ulid.js"
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
import { optionalEntity } from "../../rows/common.js"
import { newOAuth2SessionRow, OAuth2SessionRow, oauth2SessionFromRow } from "../../rows/oauth2/session.js"
import type { BrowserSessionRow } from "../../rows/user/browserSession.js"
import { clearInactiveIps, recordBatchActivity } from "../common/activity.js"
import { timestampCleanup } from "../common/cleanup.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { matchesBrowserSession } from "../user/BrowserSessionRepositoryMemory.js"
import { recordUserAgentWith, setHumanNameWith } from "../../storage/common/sessionLabels.js"

const SESSIONS = "oauth2_sessions"

/**
 * The twin of the PostgreSQL declared filter (oauth2SessionFilter); the clients and browser sessions it looks
 * at are read from the same state. Exported for the filters that nest it (app sessions).
 */
export const matchesOAuth2Session = (db: Database, filter: OAuth2SessionFilter) => {
  const createdBefore = filter.createdBefore === undefined ? undefined : minUlidAt(filter.createdBefore)
  const createdAfter = filter.createdAfter === undefined ? undefined : maxUlidAt(filter.createdAfter)
  const clients = filter.clients === undefined ? undefined : new Set<string>(filter.clients)
  // A device that cannot be encoded matches nothing (PostgreSQL: FALSE).
  const deviceTokens =
    filter.device === undefined
      ? undefined
      : Either.getOrElse(deviceToScopeTokens(filter.device), (): ReadonlyArray<string> => [])
  const staticClients =
    filter.clientKind === undefined
      ? undefined
      : new Set(
          db
            .rows<Row>("oauth2_clients")
            .filter((r) => r.is_static === true)
            .map((r) => r.oauth2_client_id)
        )
  const browserSessions =
    filter.browserSessionFilter === undefined
      ? undefined
      : new Set(
          db
            .rows<BrowserSessionRow>("user_sessions")
            .filter(matchesBrowserSession(db, filter.browserSessionFilter))
            .map((r) => r.user_session_id)
        )
  const scope = filter.scope
  return (row: OAuth2SessionRow): boolean =>
    (filter.user === undefined || row.user_id === filter.user) &&
    (filter.anyUser === undefined || (row.user_id !== null) === filter.anyUser) &&
    (filter.browserSession === undefined || row.user_session_id === filter.browserSession) &&
    (browserSessions === undefined || (row.user_session_id !== null && browserSessions.has(row.user_session_id))) &&
    (deviceTokens === undefined || deviceTokens.some((t) => row.scope_list.includes(t as never))) &&
    (filter.client === undefined || row.oauth2_client_id === filter.client) &&
    (clients === undefined || clients.has(row.oauth2_client_id)) &&
    (staticClients === undefined || staticClients.has(row.oauth2_client_id) === (filter.clientKind === "static")) &&
    (filter.state !== "active" || row.finished_at === null) &&
    (filter.state !== "finished" || row.finished_at !== null) &&
    (scope === undefined || scope.every((t) => row.scope_list.includes(t))) &&
    (filter.lastActiveBefore === undefined ||
      (row.last_active_at !== null && row.last_active_at.getTime() < filter.lastActiveBefore.getTime())) &&
    (filter.lastActiveAfter === undefined ||
      (row.last_active_at !== null && row.last_active_at.getTime() > filter.lastActiveAfter.getTime())) &&
    (createdBefore === undefined || row.oauth2_session_id < createdBefore) &&
    (createdAfter === undefined || row.oauth2_session_id > createdAfter)
}

const sessionId = (row: OAuth2SessionRow) => row.oauth2_session_id

const toSession = optionalEntity(oauth2SessionFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const sessions = memoryTable(store, { table: SESSIONS, idColumn: "oauth2_session_id", row: OAuth2SessionRow })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none.
  const select = (filter: OAuth2SessionFilter) =>
    store.read((db) => sessions.rows(db).filter(matchesOAuth2Session(db, filter)))

  return oAuth2SessionWithDerivedMethods({
    lookup: (id) => Effect.flatMap(sessions.get(id), toSession),

    add: (client, user, browserSession, scope) =>
      Effect.gen(function* () {
        yield* checkScope("scope", scope)
        const at = yield* now
        // the row holds a private copy of the scope, as a database holds its own
        const row = newOAuth2SessionRow(client, user, browserSession, scope, yield* generateUlid, at)
        yield* sessions.insert(row)
        return oauth2SessionFromRow(row)
      }),

    // `… AND finished_at IS NULL`, as PostgreSQL's guarded statement: a stored row already finished is a RowsAffectedError.
    finish: (session) =>
      guardedTransition({
        transition: (at) => finishOAuth2Session(session, at),
        write: (at) =>
          sessions.updateGuarded(
            session.id,
            (row) => row.finished_at === null,
            (row) => ({ ...row, finished_at: at })
          )
      }),

    // One write: the clients and browser sessions the filter looks at are read from the state it updates.
    finishBulk: (filter) =>
      Effect.gen(function* () {
        yield* checkOAuth2SessionFilter(filter)
        const at = yield* now
        return yield* store.write((db) =>
          db.updateWhere(SESSIONS, matchesOAuth2Session(db, filter) as (row: Row) => boolean, (row) => ({
            ...row,
            finished_at: at
          }))
        )
      }),

    list: (filter, pagination) =>
      Effect.zipRight(
        Effect.zipRight(checkOAuth2SessionFilter(filter), checkCursors(pagination)),
        Effect.flatMap(select(filter), (rows) =>
          paginate(rows, pagination, (r) => r.oauth2_session_id).tryMap((row) =>
            Either.map(sessions.decode(row), oauth2SessionFromRow)
          )
        )
      ),

    count: (filter) =>
      Effect.zipRight(
        checkOAuth2SessionFilter(filter),
        Effect.flatMap(select(filter), (rows) => toSafeCountOrFail(rows.length))
      ),

    recordBatchActivity: (activity) => recordBatchActivity(sessions, sessionId, activity),

    recordUserAgent: recordUserAgentWith(OAuth2Session, (id, userAgent) =>
      sessions.updateOne(id, (row) => ({ ...row, user_agent: userAgent }))
    ),
    setHumanName: setHumanNameWith(OAuth2Session, (id, humanName) =>
      sessions.updateOne(id, (row) => ({ ...row, human_name: humanName }))
    ),

    cleanupFinished: timestampCleanup(store, sessions, {
      key: (r) => r.finished_at,
      id: sessionId,
      // As the PostgreSQL statement: refresh tokens, then access tokens, then the sessions, whose grants go by the
      // cascade.
      apply: (db, ids) => {
        const ofBatch = (r: Row) => ids.has(r.oauth2_session_id)
        return Either.gen(function* () {
          const [, withoutRefresh] = yield* db.deleteWhere("oauth2_refresh_tokens", ofBatch)
          const [, withoutAccess] = yield* withoutRefresh.deleteWhere("oauth2_access_tokens", ofBatch)
          return yield* withoutAccess.deleteWhere(SESSIONS, ofBatch)
        })
      }
    }),

    cleanupInactiveIps: clearInactiveIps(store, sessions, sessionId)
  })
})

export const layer: Layer.Layer<OAuth2SessionRepository, never, MemoryStore> = Layer.effect(
  OAuth2SessionRepository,
  make
)
