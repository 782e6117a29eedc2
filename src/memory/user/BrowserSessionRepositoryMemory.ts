// BrowserSessionRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option, Schema } from "effect"
import { finishBrowserSession } from "../../model/user.js"
import { generateUlid, maxUlidAt, minUlidAt, type Ulid } from "../../model/Ulid.js"
import {
  type BrowserSessionFilter,
  BrowserSessionRepository,
  checkBrowserSessionFilter,
  type LinkedUpstreamSessionFilter
} from "../../storage/user/BrowserSessionRepository.js"
import { type DriverError, refusedTransition } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { optionalEntity } from "../../rows/common.js"
import {
  AuthenticationRow,
  authenticationFromRow,
  BrowserSessionRow,
  BrowserSessionWithUserRow,
  browserSessionFromRow,
  joinUser
} from "../../rows/user/browserSession.js"
import { type UserRow, userToRow } from "../../rows/user/user.js"
import { clearInactiveIps, recordBatchActivity } from "../common/activity.js"
import { timestampCleanup } from "../common/cleanup.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { requireUlid } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { rowDecoder } from "../../rows/decode.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

const SESSIONS = "user_sessions"
const AUTHENTICATIONS = "user_session_authentications"
const UPSTREAM_SESSIONS = "upstream_oauth_authorization_sessions"

// Sessions are read joined with their user, as PostgreSQL selects them: the joined row is decoded whole, so a bad
// user column names the session row there as here (the sessions handle decodes only the table's own columns).
// The joined row is decoded whole, as PostgreSQL decodes the row its join returns (the type side: memory stores decoded values).
const decodeSession = rowDecoder(Schema.typeSchema(BrowserSessionWithUserRow), SESSIONS, "user_session_id")

/** jsonb's text form of a value (as `->>` prints a nested one): keys by length then bytes, `", "` and `": "` separators. */
const jsonbText = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(", ")}]`
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText((value as Record<string, unknown>)[k])}`).join(", ")}}`
  }
  return JSON.stringify(value)
}

/** PostgreSQL's `json ->> key`: the member as text, NULL when absent, JSON null, or when `json` is not an object. */
export const jsonMemberText = (json: unknown, key: string): string | null => {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null
  if (!Object.prototype.hasOwnProperty.call(json, key)) return null
  const member = (json as Record<string, unknown>)[key]
  if (member === null || member === undefined) return null
  return typeof member === "string" ? member : jsonbText(member)
}

/** The upstream authorization sessions a nested LinkedUpstreamSessionFilter selects (same criteria as the upstream port's). */
export const matchesUpstreamSession =
  (filter: LinkedUpstreamSessionFilter) =>
  (row: Row): boolean =>
    (filter.provider === undefined || row.upstream_oauth_provider_id === filter.provider) &&
    (filter.subClaim === undefined || jsonMemberText(row.id_token_claims, "sub") === filter.subClaim) &&
    (filter.sidClaim === undefined || jsonMemberText(row.id_token_claims, "sid") === filter.sidClaim)

/**
 * The twin of the PostgreSQL filter fragment; the upstream sessions it links to are read from the same state (also the
 * nested browser-session criterion of other repositories' filters).
 */
export const matchesBrowserSession = (db: Database, filter: BrowserSessionFilter) => {
  const createdBefore = filter.createdBefore === undefined ? undefined : minUlidAt(filter.createdBefore)
  const createdAfter = filter.createdAfter === undefined ? undefined : maxUlidAt(filter.createdAfter)
  const linked =
    filter.linkedToUpstreamSessions === undefined
      ? undefined
      : new Set(
          db
            .rows<Row>(UPSTREAM_SESSIONS)
            .filter(matchesUpstreamSession(filter.linkedToUpstreamSessions))
            .map((r) => r.user_session_id)
            .filter((id) => id !== null)
        )
  const lastActive = (row: BrowserSessionRow) => row.last_active_at?.getTime()
  return (row: BrowserSessionRow): boolean =>
    (filter.user === undefined || row.user_id === filter.user) &&
    (filter.state !== "active" || row.finished_at === null) &&
    (filter.state !== "finished" || row.finished_at !== null) &&
    (filter.lastActiveBefore === undefined ||
      (row.last_active_at !== null && lastActive(row)! < filter.lastActiveBefore.getTime())) &&
    (filter.lastActiveAfter === undefined ||
      (row.last_active_at !== null && lastActive(row)! > filter.lastActiveAfter.getTime())) &&
    (createdBefore === undefined || row.user_session_id < createdBefore) &&
    (createdAfter === undefined || row.user_session_id > createdAfter) &&
    (linked === undefined || linked.has(row.user_session_id))
}

/**
 * The upstream authorization session an authentication used is linked to its browser session, unless it is linked
 * already (MAS's trigger on user_session_authentications; PostgreSQL's statement makes the same write).
 */
const linkUpstreamSession = (db: Database, row: AuthenticationRow): Either.Either<Database, DriverError> => {
  const upstreamId = row.upstream_oauth_authorization_session_id
  if (upstreamId === null) return Either.right(db)
  const upstream = db.get<Row>(UPSTREAM_SESSIONS, upstreamId)
  return Option.isSome(upstream) && upstream.value.user_session_id === null
    ? db.update(UPSTREAM_SESSIONS, upstreamId, (r) => ({ ...r, user_session_id: row.user_session_id }))
    : Either.right(db)
}

/** A session row joined with its user, not decoded yet (an orphan would be dropped by the inner join). */
const withUser = (db: Database, row: BrowserSessionRow) =>
  Option.map(db.get<UserRow>("users", row.user_id), (user) => joinUser(row, user))

const sessionId = (row: BrowserSessionRow) => row.user_session_id

const toSession = optionalEntity(browserSessionFromRow)
const toAuthentication = optionalEntity(authenticationFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const sessions = memoryTable(store, { table: SESSIONS, idColumn: "user_session_id", row: BrowserSessionRow })
  const authentications = memoryTable(store, {
    table: AUTHENTICATIONS,
    idColumn: "user_session_authentication_id",
    row: AuthenticationRow
  })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none.
  const selectSessions = (filter: BrowserSessionFilter) =>
    store.read((db) => sessions.rows(db).filter(matchesBrowserSession(db, filter)))

  const selectSessionsWithUsers = (filter: BrowserSessionFilter) =>
    store.read((db) =>
      sessions
        .rows(db)
        .filter(matchesBrowserSession(db, filter))
        .flatMap((row) => Option.toArray(withUser(db, row)))
    )

  const lookupWithUser = (id: Ulid) =>
    Effect.zipRight(
      requireUlid(id),
      Effect.flatMap(
        store.read((db) => Option.flatMap(db.get<BrowserSessionRow>(SESSIONS, id), (row) => withUser(db, row))),
        (row) => Effect.transposeOption(Option.map(row, decodeSession))
      )
    )

  return BrowserSessionRepository.of({
    lookup: (id) => Effect.flatMap(lookupWithUser(id), toSession),

    add: (user, userAgent) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ userAgent: Option.getOrNull(userAgent) })
        const at = yield* now
        const id = yield* generateUlid
        const row: BrowserSessionRow = {
          user_session_id: id,
          user_id: user.id,
          created_at: at,
          finished_at: null,
          user_agent: Option.getOrNull(userAgent),
          last_active_at: null,
          last_active_ip: null
        }
        yield* sessions.insert(row)
        return browserSessionFromRow(joinUser(row, userToRow(user)))
      }),

    finish: (session) =>
      Effect.gen(function* () {
        const at = yield* now
        const next = yield* refusedTransition(finishBrowserSession(session, at))
        yield* sessions.updateOne(session.id, (row) => ({ ...row, finished_at: at }))
        return next
      }),

    // One write: the upstream sessions the filter links to are read from the state it updates.
    finishBulk: (filter) =>
      Effect.gen(function* () {
        yield* checkBrowserSessionFilter(filter)
        const at = yield* now
        return yield* store.write((db) =>
          db.updateWhere(SESSIONS, matchesBrowserSession(db, filter) as (row: Row) => boolean, (row) => ({
            ...row,
            finished_at: at
          }))
        )
      }),

    list: (filter, pagination) =>
      Effect.zipRight(
        Effect.zipRight(checkBrowserSessionFilter(filter), checkCursors(pagination)),
        Effect.flatMap(selectSessionsWithUsers(filter), (rows) =>
          paginate(rows, pagination, (r) => r.user_session_id).tryMap((row) =>
            Either.map(decodeSession(row), browserSessionFromRow)
          )
        )
      ),

    count: (filter) =>
      Effect.zipRight(
        checkBrowserSessionFilter(filter),
        Effect.flatMap(selectSessions(filter), (rows) => toSafeCountOrFail(rows.length))
      ),

    authenticateWithPassword: (session, password) =>
      Effect.gen(function* () {
        const at = yield* now
        const id = yield* generateUlid
        const row: AuthenticationRow = {
          user_session_authentication_id: id,
          user_session_id: session.id,
          created_at: at,
          user_password_id: password.id,
          upstream_oauth_authorization_session_id: null
        }
        yield* authentications.insert(row)
        return authenticationFromRow(row)
      }),

    // The insert and the upstream-session link are one write, as PostgreSQL's one statement makes them.
    authenticateWithUpstream: (session, upstreamSession) =>
      Effect.gen(function* () {
        const at = yield* now
        const id = yield* generateUlid
        const row: AuthenticationRow = {
          user_session_authentication_id: id,
          user_session_id: session.id,
          created_at: at,
          user_password_id: null,
          upstream_oauth_authorization_session_id: upstreamSession.id
        }
        yield* store.write((db) =>
          Either.map(
            Either.flatMap(db.insert(AUTHENTICATIONS, row), (next) => linkUpstreamSession(next, row)),
            (next) => [undefined, next] as const
          )
        )
        return authenticationFromRow(row)
      }),

    // The id breaks ties between authentications of the same millisecond, so both backends pick the same row;
    // only that row is decoded, as PostgreSQL decodes only the row its LIMIT 1 returns.
    getLastAuthentication: (session) =>
      Effect.flatMap(
        store.read((db) =>
          Option.fromNullable(
            authentications
              .rows(db)
              .filter((r) => r.user_session_id === session.id)
              .sort((a, b) => {
                const byTime = b.created_at.getTime() - a.created_at.getTime()
                const ia = a.user_session_authentication_id
                const ib = b.user_session_authentication_id
                return byTime || (ia < ib ? 1 : ia > ib ? -1 : 0)
              })[0]
          )
        ),
        (row) => Effect.flatMap(Effect.transposeOption(Option.map(row, authentications.decode)), toAuthentication)
      ),

    recordBatchActivity: (activity) => recordBatchActivity(sessions, sessionId, activity),

    // Authentications go by the cascade, as in the PostgreSQL statement.
    cleanupFinished: timestampCleanup(store, sessions, {
      key: (r) => r.finished_at,
      id: sessionId,
      where: (db) => {
        const referenced = new Set<unknown>([
          ...db.rows<Row>("oauth2_sessions").map((r) => r.user_session_id),
          ...db.rows<Row>("compat_sessions").map((r) => r.user_session_id)
        ])
        return (r) => !referenced.has(r.user_session_id)
      }
    }),

    cleanupInactiveIps: clearInactiveIps(store, sessions, sessionId)
  })
})

export const layer: Layer.Layer<BrowserSessionRepository, never, MemoryStore> = Layer.effect(
  BrowserSessionRepository,
  make
)
