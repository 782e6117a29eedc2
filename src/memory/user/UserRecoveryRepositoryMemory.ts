// UserRecoveryRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { consumeUserRecoverySession, UserRecoverySession, UserRecoveryTicket } from "../../model/user.js"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { refusedTransition } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkCleanupLimit, checkWellFormed } from "../../storage/common/limits.js"
import {
  UserRecoverySessionRow,
  userRecoverySessionFromRow,
  UserRecoveryTicketRow,
  userRecoveryTicketFromRow,
  userRecoveryTicketToRow,
  userRecoverySessionToRow
} from "../../rows/user/userRecovery.js"
import { RECOVERY_TICKET_LIFETIME_MILLIS, UserRecoveryRepository } from "../../storage/user/UserRecoveryRepository.js"
import { requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

const SESSIONS = "user_recovery_sessions"
const TICKETS = "user_recovery_tickets"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const sessions = memoryTable(store, {
    table: SESSIONS,
    idColumn: "user_recovery_session_id",
    row: UserRecoverySessionRow
  })
  const tickets = memoryTable(store, {
    table: TICKETS,
    idColumn: "user_recovery_ticket_id",
    row: UserRecoveryTicketRow
  })

  return UserRecoveryRepository.of({
    lookupSession: (id) => Effect.map(sessions.get(id), Option.map(userRecoverySessionFromRow)),

    addSession: (email, userAgent, ipAddress, locale) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email, userAgent, locale })
        const at = yield* now
        const id = yield* generateUlid
        const session = new UserRecoverySession({
          id,
          email,
          userAgent,
          ipAddress,
          locale,
          createdAt: at,
          consumedAt: Option.none()
        })
        yield* sessions.insert(userRecoverySessionToRow(session))
        return session
      }),

    findTicket: (ticket) =>
      Effect.zipRight(
        checkWellFormed({ ticket }),
        // Rows iterate in id order: of several tickets with this text, the oldest, as PostgreSQL's ORDER BY id LIMIT 1.
        Effect.map(
          tickets.find((r) => r.ticket === ticket, ticket),
          Option.map(userRecoveryTicketFromRow)
        )
      ),

    addTicket: (session, userEmail, ticket) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ ticket })
        const at = yield* now
        const id = yield* generateUlid
        const added = new UserRecoveryTicket({
          id,
          userRecoverySessionId: session.id,
          userEmailId: userEmail.id,
          ticket,
          createdAt: at,
          expiresAt: new Date(at.getTime() + RECOVERY_TICKET_LIFETIME_MILLIS)
        })
        yield* tickets.insert(userRecoveryTicketToRow(added))
        return added
      }),

    consumeTicket: (_ticket, session) =>
      Effect.gen(function* () {
        const at = yield* now
        const consumed = yield* refusedTransition(consumeUserRecoverySession(session, at))
        yield* sessions.updateOne(session.id, (row) => ({ ...row, consumed_at: at }))
        return consumed
      }),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        // PostgreSQL's statement encodes since and until to uuid, refusing a malformed id before anything is sent.
        yield* requireUlid(...Option.toArray(since), until)
        // One write, as PostgreSQL's one statement: the table handle's deleteWhere has no ORDER BY … LIMIT.
        return yield* store.write((db) => {
          // Rows iterate in id order; canonical ULID text compares in creation order, as uuids do in PostgreSQL.
          const keys: Array<Ulid> = []
          for (const row of sessions.rows(db)) {
            if (keys.length >= batch) break
            const id = row.user_recovery_session_id
            if ((Option.isNone(since) || id > since.value) && id <= until) keys.push(id)
          }
          const selected = new Set<string>(keys)
          // Tickets go with their session through the foreign key's ON DELETE CASCADE.
          return Either.map(
            db.deleteWhere(SESSIONS, (r) => selected.has(String(r.user_recovery_session_id))),
            ([, next]) => [CleanupResult.fromKeys(keys), next] as const
          )
        })
      })
  })
})

export const layer: Layer.Layer<UserRecoveryRepository, never, MemoryStore> = Layer.effect(UserRecoveryRepository, make)
