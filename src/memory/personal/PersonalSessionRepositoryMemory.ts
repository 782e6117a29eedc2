// PersonalSessionRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer } from "effect"
import { revokePersonalSession } from "../../model/personal.js"
import { generateUlid } from "../../model/Ulid.js"
import { deviceToScopeTokens } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import { PERSONAL_ACCESS_TOKENS, PersonalAccessTokenRow } from "../../rows/personal/personalAccessToken.js"
import {
  newPersonalSessionRow,
  PERSONAL_SESSIONS,
  PersonalSessionRow,
  personalSessionFromRow,
  personalSessionWithTokenFromRow
} from "../../rows/personal/personalSession.js"
import { expectRowsAffected } from "../../storage/common/errors.js"
import { checkArgumentIds } from "../../storage/common/filters.js"
import { checkScope, checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkPersonalSessionFilter,
  type PersonalSessionFilter,
  PersonalSessionRepository
} from "../../storage/personal/PersonalSessionRepository.js"
import { recordBatchActivity } from "../common/activity.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { requireUlid } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

/** The unrevoked token of each session that has one (the partial unique index allows one at most), by session id. */
const unrevokedTokens = (db: Database): ReadonlyMap<string, PersonalAccessTokenRow> =>
  new Map(
    db
      .rows<PersonalAccessTokenRow & Row>(PERSONAL_ACCESS_TOKENS)
      .filter((t) => t.revoked_at === null)
      .map((t) => [t.personal_session_id, t] as const)
  )

/** The twin of the PostgreSQL filter fragment over the sessions joined to their unrevoked token. */
const matches = (db: Database, filter: PersonalSessionFilter) => {
  // A device that cannot be encoded matches nothing (PostgreSQL: FALSE).
  const deviceTokens =
    filter.device === undefined
      ? undefined
      : Either.getOrElse(deviceToScopeTokens(filter.device), (): ReadonlyArray<string> => [])
  const tokens = unrevokedTokens(db)
  const scope = filter.scope
  // NULL (no unrevoked token, or one that never expires) matches neither bound, and only `expires: false`.
  const expiryOf = (row: PersonalSessionRow): Date | null => tokens.get(row.personal_session_id)?.expires_at ?? null
  return (row: PersonalSessionRow): boolean => {
    const expiresAt = expiryOf(row)
    return (
      (filter.ownerUser === undefined || row.owner_user_id === filter.ownerUser) &&
      (filter.ownerOAuth2Client === undefined || row.owner_oauth2_client_id === filter.ownerOAuth2Client) &&
      (filter.actorUser === undefined || row.actor_user_id === filter.actorUser) &&
      (deviceTokens === undefined || deviceTokens.some((t) => row.scope_list.includes(t as never))) &&
      (filter.state !== "active" || row.revoked_at === null) &&
      (filter.state !== "revoked" || row.revoked_at !== null) &&
      (scope === undefined || scope.every((t) => row.scope_list.includes(t))) &&
      (filter.lastActiveBefore === undefined ||
        (row.last_active_at !== null && row.last_active_at.getTime() < filter.lastActiveBefore.getTime())) &&
      (filter.lastActiveAfter === undefined ||
        (row.last_active_at !== null && row.last_active_at.getTime() > filter.lastActiveAfter.getTime())) &&
      (filter.expiresBefore === undefined ||
        (expiresAt !== null && expiresAt.getTime() < filter.expiresBefore.getTime())) &&
      (filter.expiresAfter === undefined ||
        (expiresAt !== null && expiresAt.getTime() > filter.expiresAfter.getTime())) &&
      (filter.expires === undefined || (expiresAt !== null) === filter.expires)
    )
  }
}

const sessionId = (row: PersonalSessionRow) => row.personal_session_id

const toSession = optionalEntity(personalSessionFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const sessions = memoryTable(store, {
    table: PERSONAL_SESSIONS,
    idColumn: "personal_session_id",
    row: PersonalSessionRow
  })
  const tokens = memoryTable(store, {
    table: PERSONAL_ACCESS_TOKENS,
    idColumn: "personal_access_token_id",
    row: PersonalAccessTokenRow
  })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none. Each session
  // comes with its unrevoked token's stored row, if any, read from the same state.
  const select = (filter: PersonalSessionFilter) =>
    store.read((db) => {
      const byId = unrevokedTokens(db)
      return sessions
        .rows(db)
        .filter(matches(db, filter))
        .map((session) => [session, byId.get(session.personal_session_id)] as const)
    })

  return PersonalSessionRepository.of({
    lookup: (id) => Effect.flatMap(sessions.get(id), toSession),

    add: (owner, actorUser, humanName, scope) =>
      Effect.gen(function* () {
        yield* checkArgumentIds({
          owner: owner._tag === "User" ? owner.userId : owner.clientId,
          actorUser: actorUser.id
        })
        yield* checkScope("scope", scope)
        yield* checkWellFormed({ humanName })
        const at = yield* now
        // the row holds a private copy of the scope, as a database holds its own
        const row = newPersonalSessionRow(owner, actorUser, humanName, scope, yield* generateUlid, at)
        yield* sessions.insert(row)
        return personalSessionFromRow(row)
      }),

    // One write, as PostgreSQL's one statement: the session guarded by `revoked_at IS NULL`, and its unrevoked
    // tokens stamped only when the session was.
    revoke: (session) =>
      guardedTransition({
        ids: { session: session.id },
        transition: (at) => revokePersonalSession(session, at),
        write: (at) =>
          Effect.zipRight(
            requireUlid(session.id),
            Effect.flatMap(
              store.write((db) =>
                Either.gen(function* () {
                  const [revoked, withSession] = yield* db.updateWhere(
                    PERSONAL_SESSIONS,
                    (r) => r.personal_session_id === session.id && r.revoked_at === null,
                    (r) => ({ ...r, revoked_at: at })
                  )
                  if (revoked === 0) return [revoked, withSession] as const
                  const [, withTokens] = yield* withSession.updateWhere(
                    PERSONAL_ACCESS_TOKENS,
                    (t) => t.personal_session_id === session.id && t.revoked_at === null,
                    (t) => ({ ...t, revoked_at: at })
                  )
                  return [revoked, withTokens] as const
                })
              ),
              expectRowsAffected(1)
            )
          )
      }),

    // One write: the tokens the expiry criteria look at are read from the state it updates; tokens stay as they are.
    revokeBulk: (filter) =>
      Effect.gen(function* () {
        yield* checkPersonalSessionFilter(filter)
        const at = yield* now
        return yield* store.write((db) =>
          db.updateWhere(PERSONAL_SESSIONS, matches(db, filter) as (row: Row) => boolean, (row) => ({
            ...row,
            revoked_at: at
          }))
        )
      }),

    list: (filter, pagination) =>
      Effect.zipRight(
        Effect.zipRight(checkPersonalSessionFilter(filter), checkCursors(pagination)),
        Effect.flatMap(select(filter), (rows) =>
          paginate(rows, pagination, ([session]) => session.personal_session_id).tryMap(([session, token]) =>
            Either.gen(function* () {
              const row = yield* sessions.decode(session)
              const decodedToken = token === undefined ? undefined : yield* tokens.decode(token)
              return personalSessionWithTokenFromRow({
                ...row,
                token_id: decodedToken?.personal_access_token_id ?? null,
                token_created_at: decodedToken?.created_at ?? null,
                token_expires_at: decodedToken?.expires_at ?? null
              })
            })
          )
        )
      ),

    count: (filter) =>
      Effect.zipRight(
        checkPersonalSessionFilter(filter),
        Effect.flatMap(select(filter), (rows) => toSafeCountOrFail(rows.length))
      ),

    recordBatchActivity: (activity) => recordBatchActivity(sessions, sessionId, activity)
  })
})

export const layer: Layer.Layer<PersonalSessionRepository, never, MemoryStore> = Layer.effect(
  PersonalSessionRepository,
  make
)
