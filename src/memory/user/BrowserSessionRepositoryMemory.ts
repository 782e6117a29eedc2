// BrowserSessionRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { finishBrowserSession } from "../../model/user.js"
import { generateUlid, maxUlidAt, minUlidAt } from "../../model/Ulid.js"
import { type ActivityRecord, sortActivity } from "../../model/values.js"
import {
  type BrowserSessionFilter,
  BrowserSessionRepository,
  checkBrowserSessionFilter,
  type UpstreamOAuthSessionFilter
} from "../../storage/user/BrowserSessionRepository.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { storedRowDecoder } from "../../storage/common/storedRow.js"
import { type DriverError, refusedTransition, RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkCleanupLimit, checkWellFormed } from "../../storage/common/limits.js"
import {
  AuthenticationRow,
  authenticationFromRow,
  type BrowserSessionRow,
  BrowserSessionWithUserRow,
  browserSessionFromRow,
  browserSessionToRow,
  joinUser
} from "../../rows/user/browserSession.js"
import type { UserRow } from "../../rows/user/user.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { requireUlid } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"

const SESSIONS = "user_sessions"
const AUTHENTICATIONS = "user_session_authentications"
const UPSTREAM_SESSIONS = "upstream_oauth_authorization_sessions"

const validateSession = storedRowDecoder(BrowserSessionWithUserRow, SESSIONS, "user_session_id")
const validateAuthentication = storedRowDecoder(AuthenticationRow, AUTHENTICATIONS, "user_session_authentication_id")

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

/** The upstream authorization sessions a nested UpstreamOAuthSessionFilter selects (same criteria as the upstream port's). */
export const matchesUpstreamSession = (filter: UpstreamOAuthSessionFilter) => (row: Row): boolean =>
  (filter.provider === undefined || row.upstream_oauth_provider_id === filter.provider) &&
  (filter.subClaim === undefined || jsonMemberText(row.id_token_claims, "sub") === filter.subClaim) &&
  (filter.sidClaim === undefined || jsonMemberText(row.id_token_claims, "sid") === filter.sidClaim)

const matches = (db: Database, filter: BrowserSessionFilter) => {
  const createdBefore = filter.createdBefore === undefined ? undefined : minUlidAt(filter.createdBefore)
  const createdAfter = filter.createdAfter === undefined ? undefined : maxUlidAt(filter.createdAfter)
  const linked =
    filter.linkedToUpstreamSessions === undefined
      ? undefined
      : new Set(
          db
            .rows<Row>("upstream_oauth_authorization_sessions")
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

/** A session row joined with its user, validated and mapped like a PostgreSQL row (an orphan would be dropped by the inner join). */
const decodeSession = (db: Database, row: BrowserSessionRow) =>
  Option.map(db.get<UserRow>("users", row.user_id), (user) =>
    Either.map(validateSession(joinUser(row, user)), browserSessionFromRow)
  )

const decodeAuthentication = (row: Row) => Either.map(validateAuthentication(row), authenticationFromRow)

const compareKeys = (key: (row: BrowserSessionRow) => Date | null) => (a: BrowserSessionRow, b: BrowserSessionRow) =>
  key(a)!.getTime() - key(b)!.getTime() || (a.user_session_id < b.user_session_id ? -1 : a.user_session_id > b.user_session_id ? 1 : 0)

/** Rows with `since <= key < until`, in key order then id, at most `limit` (the PostgreSQL CTE's selection). */
const selectBatch = (
  rows: ReadonlyArray<BrowserSessionRow>,
  key: (row: BrowserSessionRow) => Date | null,
  since: Option.Option<Date>,
  until: Date,
  limit: number,
  extra: (row: BrowserSessionRow) => boolean
) =>
  rows
    .filter((row) => {
      const k = key(row)
      return (
        k !== null &&
        (Option.isNone(since) || k.getTime() >= since.value.getTime()) &&
        k.getTime() < until.getTime() &&
        extra(row)
      )
    })
    .sort(compareKeys(key))
    .slice(0, limit)

const cleanupResult = (batch: ReadonlyArray<BrowserSessionRow>, key: (row: BrowserSessionRow) => Date | null) =>
  CleanupResult.make<Date>(batch.length, batch.length === 0 ? Option.none() : Option.some(key(batch[batch.length - 1]!)!))

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  const selectSessions = (filter: BrowserSessionFilter) =>
    Effect.zipRight(
      checkBrowserSessionFilter(filter),
      store.read((db) => db.rows<BrowserSessionRow>(SESSIONS).filter(matches(db, filter)))
    )

  const insertAuthentication = (row: AuthenticationRow) =>
    Effect.gen(function* () {
      yield* store.write((db) =>
        Either.map(
          Either.flatMap(db.insert(AUTHENTICATIONS, row), (next) => linkUpstreamSession(next, row)),
          (next) => [undefined, next] as const
        )
      )
      return authenticationFromRow(row)
    })

  const applyActivity = (db: Database, sorted: ReadonlyArray<ActivityRecord>) => {
    let next = db
    const seen = new Set<string>()
    for (const [id, at, ip] of sorted) {
      // UPDATE … FROM touches a row once even when several input rows join it.
      if (seen.has(id) || Option.isNone(next.get(SESSIONS, id))) continue
      seen.add(id)
      const step = next.update(SESSIONS, id, (current) => {
        const stored = (current as BrowserSessionRow).last_active_at
        return {
          ...current,
          last_active_at: stored !== null && stored.getTime() > at.getTime() ? stored : at,
          last_active_ip: Option.getOrElse(ip, () => (current as BrowserSessionRow).last_active_ip)
        }
      })
      if (Either.isLeft(step)) return Either.left(step.left)
      next = step.right
    }
    return Either.right([seen.size, next] as const)
  }

  return BrowserSessionRepository.of({
    lookup: (id) =>
      Effect.zipRight(requireUlid(id), Effect.flatten(
        store.read((db) =>
          Option.match(Option.flatMap(db.get<BrowserSessionRow>(SESSIONS, id), (row) => decodeSession(db, row)), {
            onNone: () => Either.right(Option.none()),
            onSome: Either.map(Option.some)
          })
        )
      )),

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
        yield* store.write((db) => Either.map(db.insert(SESSIONS, row), (next) => [undefined, next] as const))
        return browserSessionFromRow(
          joinUser(row, {
            user_id: user.id,
            username: user.username,
            created_at: user.createdAt,
            locked_at: Option.getOrNull(user.lockedAt),
            deactivated_at: Option.getOrNull(user.deactivatedAt),
            can_request_admin: user.canRequestAdmin,
            is_guest: user.isGuest
          })
        )
      }),

    finish: (session) =>
      Effect.gen(function* () {
        const at = yield* now
        const next = yield* refusedTransition(finishBrowserSession(session, at))
        const finishedAt = browserSessionToRow(next).finished_at
        yield* store.write((db) =>
          Either.map(db.updateOne(SESSIONS, session.id, (r) => ({ ...r, finished_at: finishedAt })), (db2) => [undefined, db2] as const)
        )
        return next
      }),

    finishBulk: (filter) =>
      Effect.zipRight(
        checkBrowserSessionFilter(filter),
        Effect.flatMap(now, (at) =>
          store.write((db) => db.updateWhere(SESSIONS, matches(db, filter) as (row: Row) => boolean, (r) => ({ ...r, finished_at: at })))
        )
      ),

    list: (filter, pagination) =>
      Effect.zipRight(
        Effect.zipRight(checkBrowserSessionFilter(filter), checkCursors(pagination)),
        Effect.flatten(
          store.read((db) =>
            paginate(
              db.rows<BrowserSessionRow>(SESSIONS).filter(matches(db, filter)).filter((r) => Option.isSome(db.get("users", r.user_id))),
              pagination,
              (r) => r.user_session_id
            ).tryMap((row) => Option.getOrThrow(decodeSession(db, row)))
          )
        )
      ),

    count: (filter) => Effect.flatMap(selectSessions(filter), (rows) => toSafeCountOrFail(rows.length)),

    authenticateWithPassword: (session, password) =>
      Effect.gen(function* () {
        return yield* insertAuthentication({
          user_session_authentication_id: yield* generateUlid,
          user_session_id: session.id,
          created_at: yield* now,
          user_password_id: password.id,
          upstream_oauth_authorization_session_id: null
        })
      }),

    authenticateWithUpstream: (session, upstreamSession) =>
      Effect.gen(function* () {
        return yield* insertAuthentication({
          user_session_authentication_id: yield* generateUlid,
          user_session_id: session.id,
          created_at: yield* now,
          user_password_id: null,
          upstream_oauth_authorization_session_id: upstreamSession.id
        })
      }),

    getLastAuthentication: (session) =>
      Effect.flatten(
        store.read((db) => {
          const newest = db
            .rows<Row>(AUTHENTICATIONS)
            .filter((r) => r.user_session_id === session.id)
            .sort((a, b) => {
              const byTime = (b.created_at as Date).getTime() - (a.created_at as Date).getTime()
              const ia = String(a.user_session_authentication_id)
              const ib = String(b.user_session_authentication_id)
              return byTime || (ia < ib ? 1 : ia > ib ? -1 : 0)
            })[0]
          return newest === undefined ? Either.right(Option.none()) : Either.map(decodeAuthentication(newest), Option.some)
        })
      ),

    recordBatchActivity: (activity) =>
      Effect.gen(function* () {
        if (activity.length === 0) return
        const sorted = sortActivity(activity)
        // As in PostgreSQL, the rows that exist are updated even when the count then disappoints.
        const updated = yield* store.write((db) => applyActivity(db, sorted))
        if (updated !== sorted.length) {
          return yield* Effect.fail(new RowsAffectedError({ expected: sorted.length, actual: updated }))
        }
      }),

    cleanupFinished: (since, until, limit) =>
      Effect.gen(function* () {
        yield* checkCleanupLimit(limit)
        const key = (r: BrowserSessionRow) => r.finished_at
        return yield* store.write((db): Either.Either<readonly [CleanupResult<Date>, Database], DriverError> => {
          const referenced = new Set<unknown>([
            ...db.rows<Row>("oauth2_sessions").map((r) => r.user_session_id),
            ...db.rows<Row>("compat_sessions").map((r) => r.user_session_id)
          ])
          const batch = selectBatch(db.rows<BrowserSessionRow>(SESSIONS), key, since, until, limit, (r) => !referenced.has(r.user_session_id))
          let next = db
          for (const row of batch) {
            // Authentications go by the cascade, as in the PostgreSQL statement.
            const step = next.delete(SESSIONS, row.user_session_id)
            if (Either.isLeft(step)) return Either.left(step.left)
            next = step.right
          }
          return Either.right([cleanupResult(batch, key), next] as const)
        })
      }),

    cleanupInactiveIps: (since, threshold, limit) =>
      Effect.gen(function* () {
        yield* checkCleanupLimit(limit)
        const key = (r: BrowserSessionRow) => r.last_active_at
        return yield* store.write((db): Either.Either<readonly [CleanupResult<Date>, Database], DriverError> => {
          const batch = selectBatch(db.rows<BrowserSessionRow>(SESSIONS), key, since, threshold, limit, (r) => r.last_active_ip !== null)
          const ids = new Set(batch.map((r) => r.user_session_id))
          return Either.map(
            db.updateWhere(SESSIONS, (r) => ids.has(r.user_session_id as BrowserSessionRow["user_session_id"]), (r) => ({ ...r, last_active_ip: null })),
            ([, next]) => [cleanupResult(batch, key), next] as const
          )
        })
      })
  })
})

export const layer: Layer.Layer<BrowserSessionRepository, never, MemoryStore> = Layer.effect(BrowserSessionRepository, make)
