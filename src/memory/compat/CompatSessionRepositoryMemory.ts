// CompatSessionRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { CompatSession, finishCompatSession } from "../../model/compat.js"
import { generateUlid, maxUlidAt, minUlidAt } from "../../model/Ulid.js"
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
  compatSessionFromRow,
  CompatSessionRow,
  compatSessionWithLogin,
  newCompatSessionRow
} from "../../rows/compat/compatSession.js"
import { COMPAT_SSO_LOGINS, CompatSsoLoginRow } from "../../rows/compat/compatSsoLogin.js"
import type { BrowserSessionRow } from "../../rows/user/browserSession.js"
import { clearInactiveIps, recordBatchActivity } from "../common/activity.js"
import { timestampCleanup } from "../common/cleanup.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { rejectNul } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { matchesBrowserSession } from "../user/BrowserSessionRepositoryMemory.js"
import { recordUserAgentWith, setHumanNameWith } from "../../storage/common/sessionLabels.js"

/** The ids of the sessions some SSO login was exchanged into. */
const exchangedInto = (db: Database): ReadonlySet<string> =>
  new Set(
    db
      .rows<Row>(COMPAT_SSO_LOGINS)
      .map((r) => r.compat_session_id)
      .filter((id): id is string => typeof id === "string")
  )

/**
 * The twin of the PostgreSQL filter fragment over `compat_sessions`, for this repository and the nested criteria of
 * others; the logins and browser sessions it looks at are read from the same state.
 */
export const matchesCompatSession = (db: Database, filter: CompatSessionFilter) => {
  const createdBefore = filter.createdBefore === undefined ? undefined : minUlidAt(filter.createdBefore)
  const createdAfter = filter.createdAfter === undefined ? undefined : maxUlidAt(filter.createdAfter)
  const browserSessions =
    filter.browserSessionFilter === undefined
      ? undefined
      : new Set(
          db
            .rows<BrowserSessionRow>("user_sessions")
            .filter(matchesBrowserSession(db, filter.browserSessionFilter))
            .map((r) => r.user_session_id)
        )
  const withLogin = filter.authType === undefined ? undefined : exchangedInto(db)
  return (row: CompatSessionRow): boolean =>
    (filter.user === undefined || row.user_id === filter.user) &&
    (filter.browserSession === undefined || row.user_session_id === filter.browserSession) &&
    (browserSessions === undefined || (row.user_session_id !== null && browserSessions.has(row.user_session_id))) &&
    (filter.state !== "active" || row.finished_at === null) &&
    (filter.state !== "finished" || row.finished_at !== null) &&
    (withLogin === undefined || withLogin.has(row.compat_session_id) === (filter.authType === "sso_login")) &&
    (filter.device === undefined || row.device_id === filter.device.id) &&
    (filter.lastActiveBefore === undefined ||
      (row.last_active_at !== null && row.last_active_at.getTime() < filter.lastActiveBefore.getTime())) &&
    (filter.lastActiveAfter === undefined ||
      (row.last_active_at !== null && row.last_active_at.getTime() > filter.lastActiveAfter.getTime())) &&
    (createdBefore === undefined || row.compat_session_id < createdBefore) &&
    (createdAfter === undefined || row.compat_session_id > createdAfter)
}

const sessionId = (row: CompatSessionRow) => row.compat_session_id

const toSession = optionalEntity(compatSessionFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const sessions = memoryTable(store, { table: COMPAT_SESSIONS, idColumn: "compat_session_id", row: CompatSessionRow })
  const logins = memoryTable(store, {
    table: COMPAT_SSO_LOGINS,
    idColumn: "compat_sso_login_id",
    row: CompatSsoLoginRow
  })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none. Each session is
  // paired with the lowest-id login exchanged into it, as the lateral join takes it.
  const select = (filter: CompatSessionFilter) =>
    store.read((db) => {
      const firstLogin = new Map<string, unknown>()
      for (const login of logins.rows(db)) {
        const id = login.compat_session_id
        if (id !== null && !firstLogin.has(id)) firstLogin.set(id, login)
      }
      return sessions
        .rows(db)
        .filter(matchesCompatSession(db, filter))
        .map((row) => [row, firstLogin.get(row.compat_session_id)] as const)
    })

  const decodePair = ([session, login]: readonly [unknown, unknown]) =>
    Either.gen(function* () {
      const sessionRow = yield* sessions.decode(session)
      const loginRow = login === undefined ? Option.none() : Option.some(yield* logins.decode(login))
      return yield* compatSessionWithLogin(sessionRow, loginRow)
    })

  return CompatSessionRepository.of({
    lookup: (id) => Effect.flatMap(sessions.get(id), toSession),

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
        yield* sessions.insert(row)
        return compatSessionFromRow(row)
      }),

    // `… AND finished_at IS NULL`, as PostgreSQL's guarded statement: a stored row already finished is a RowsAffectedError.
    finish: (session) =>
      guardedTransition({
        transition: (at) => finishCompatSession(session, at),
        write: (at) =>
          sessions.updateGuarded(
            session.id,
            (row) => row.finished_at === null,
            (row) => ({ ...row, finished_at: at })
          )
      }),

    // One write: the logins and browser sessions the filter looks at are read from the state it updates.
    finishBulk: (filter) =>
      Effect.gen(function* () {
        yield* checkCompatSessionFilter(filter)
        const at = yield* now
        yield* rejectNul(filter.device?.id)
        return yield* store.write((db) =>
          db.updateWhere(COMPAT_SESSIONS, matchesCompatSession(db, filter) as (row: Row) => boolean, (row) => ({
            ...row,
            finished_at: at
          }))
        )
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkCompatSessionFilter(filter)
        yield* checkCursors(pagination)
        yield* rejectNul(filter.device?.id)
        const rows = yield* select(filter)
        return yield* paginate(rows, pagination, ([r]) => r.compat_session_id).tryMap(decodePair)
      }),

    count: (filter) =>
      Effect.gen(function* () {
        yield* checkCompatSessionFilter(filter)
        yield* rejectNul(filter.device?.id)
        const rows = yield* select(filter)
        return yield* toSafeCountOrFail(rows.length)
      }),

    recordBatchActivity: (activity) => recordBatchActivity(sessions, sessionId, activity),

    recordUserAgent: recordUserAgentWith(CompatSession, (id, userAgent) =>
      sessions.updateOne(id, (row) => ({ ...row, user_agent: userAgent }))
    ),
    setHumanName: setHumanNameWith(CompatSession, (id, humanName) =>
      sessions.updateOne(id, (row) => ({ ...row, human_name: humanName }))
    ),

    cleanupFinished: timestampCleanup(store, sessions, {
      key: (r) => r.finished_at,
      id: sessionId,
      // As the PostgreSQL statement: refresh tokens, access tokens, the SSO logins exchanged into the sessions, then
      // the sessions.
      apply: (db, ids) => {
        const ofBatch = (r: Row) => ids.has(r.compat_session_id)
        return Either.gen(function* () {
          const [, withoutRefresh] = yield* db.deleteWhere("compat_refresh_tokens", ofBatch)
          const [, withoutAccess] = yield* withoutRefresh.deleteWhere("compat_access_tokens", ofBatch)
          const [, withoutLogins] = yield* withoutAccess.deleteWhere(COMPAT_SSO_LOGINS, ofBatch)
          return yield* withoutLogins.deleteWhere(COMPAT_SESSIONS, ofBatch)
        })
      }
    }),

    cleanupInactiveIps: clearInactiveIps(store, sessions, sessionId)
  })
})

export const layer: Layer.Layer<CompatSessionRepository, never, MemoryStore> = Layer.effect(
  CompatSessionRepository,
  make
)
