// UserRecoveryRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { consumeUserRecoverySession, UserRecoverySession, UserRecoveryTicket } from "../../model/user.js"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { InvalidOperationError } from "../../storage/common/errors.js"
import { storedRowDecoder } from "../../storage/common/storedRow.js"
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
import type { Row } from "../Database.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"

const SESSIONS = "user_recovery_sessions"
const TICKETS = "user_recovery_tickets"

const decodeSession = storedRowDecoder(UserRecoverySessionRow, SESSIONS, "user_recovery_session_id")
const decodeTicket = storedRowDecoder(UserRecoveryTicketRow, TICKETS, "user_recovery_ticket_id")

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  return UserRecoveryRepository.of({
    lookupSession: (id) =>
      Effect.flatMap(
        Effect.zipRight(requireUlid(id), store.read((db) => db.get<Row>(SESSIONS, id))),
        Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (row) => Effect.map(decodeSession(row), (r) => Option.some(userRecoverySessionFromRow(r)))
        })
      ),

    addSession: (email, userAgent, ipAddress, locale) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email, userAgent, locale })
        const at = yield* now
        const id = yield* generateUlid
        const session = new UserRecoverySession({ id, email, userAgent, ipAddress, locale, createdAt: at, consumedAt: Option.none() })
        yield* store.write((db) => Either.map(db.insert(SESSIONS, userRecoverySessionToRow(session)), (next) => [undefined, next] as const))
        return session
      }),

    findTicket: (ticket) =>
      Effect.flatMap(
        // Rows iterate in id order: of several tickets with this text, the oldest, as PostgreSQL's ORDER BY id LIMIT 1.
        Effect.zipRight(
          Effect.zipRight(checkWellFormed({ ticket }), rejectNul(ticket)),
          store.read((db) => db.rows<Row>(TICKETS).find((r) => r.ticket === ticket))
        ),
        (row) =>
          row === undefined
            ? Effect.succeedNone
            : Effect.map(decodeTicket(row), (r) => Option.some(userRecoveryTicketFromRow(r)))
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
        yield* store.write((db) => Either.map(db.insert(TICKETS, userRecoveryTicketToRow(added)), (next) => [undefined, next] as const))
        return added
      }),

    consumeTicket: (_ticket, session) =>
      Effect.gen(function* () {
        const at = yield* now
        const consumed = yield* Effect.mapError(
          consumeUserRecoverySession(session, at),
          (refusal) => new InvalidOperationError({ cause: Option.some(refusal) })
        )
        yield* store.write((db) =>
          Either.map(db.updateOne(SESSIONS, session.id, (row) => ({ ...row, consumed_at: at })), (next) => [undefined, next] as const)
        )
        return consumed
      }),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        return yield* store.write((db) => {
          // Rows iterate in id order; canonical ULID strings compare in id order (§2).
          const keys: Array<Ulid> = []
          for (const row of db.rows<Row>(SESSIONS)) {
            if (keys.length >= batch) break
            const id = row.user_recovery_session_id as Ulid
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
