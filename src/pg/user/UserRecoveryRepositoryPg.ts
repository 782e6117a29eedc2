// UserRecoveryRepository on PostgreSQL: recovery sessions and tickets through declared static queries.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { consumeUserRecoverySession, UserRecoverySession, UserRecoveryTicket } from "../../model/user.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf } from "../../model/values.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { refusedTransition } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { checkCleanupLimit, checkWellFormed } from "../../storage/common/limits.js"
import {
  UserRecoverySessionRow,
  userRecoverySessionFromRow,
  UserRecoveryTicketRow,
  userRecoveryTicketFromRow
} from "../../rows/user/userRecovery.js"
import { RECOVERY_TICKET_LIFETIME_MILLIS, UserRecoveryRepository } from "../../storage/user/UserRecoveryRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const sessionColumns = "user_recovery_session_id, email, user_agent, ip_address, locale, created_at, consumed_at"
const ticketColumns = "user_recovery_ticket_id, user_recovery_session_id, user_email_id, ticket, created_at, expires_at"

const q = repositoryQueries({
  prefix: "userRecovery",
  table: "user_recovery_sessions",
  idColumn: "user_recovery_session_id",
  row: UserRecoverySessionRow
})

const statements = q.statements({
  lookupSession: {
    text: `SELECT ${sessionColumns} FROM user_recovery_sessions WHERE user_recovery_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  addSession: {
    text: `INSERT INTO user_recovery_sessions (${sessionColumns}) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
    params: Schema.Tuple(
      UlidFromUuid,
      Schema.String,
      Schema.String,
      Schema.NullOr(IpAddressFromSelf),
      Schema.String,
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  // Ticket texts are not unique (as in MAS): of several, the oldest, so both backends answer alike.
  findTicket: {
    text: `SELECT ${ticketColumns} FROM user_recovery_tickets WHERE ticket = $1 ORDER BY user_recovery_ticket_id LIMIT 1`,
    params: Schema.Tuple(Schema.String),
    row: UserRecoveryTicketRow,
    table: "user_recovery_tickets",
    idColumn: "user_recovery_ticket_id"
  },
  // No uniqueness on the ticket text, as in MAS: a duplicate is one more row.
  addTicket: {
    text: `INSERT INTO user_recovery_tickets (${ticketColumns}) VALUES ($1, $2, $3, $4, $5, $6)`,
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      UlidFromUuid,
      Schema.String,
      Schema.DateFromSelf,
      Schema.DateFromSelf
    ),
    row: NoRows,
    table: "user_recovery_tickets"
  },
  // Not guarded in SQL: the transition was checked on the entity passed in (storage rule: Transitions), as MAS does.
  consumeTicket: {
    text: `UPDATE user_recovery_sessions SET consumed_at = $2 WHERE user_recovery_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // Tickets go with their session through ON DELETE CASCADE, within this one statement.
  cleanup: {
    text: `WITH to_delete AS (
  SELECT user_recovery_session_id FROM user_recovery_sessions
  WHERE ($1::uuid IS NULL OR user_recovery_session_id > $1::uuid) AND user_recovery_session_id <= $2
  ORDER BY user_recovery_session_id
  LIMIT $3
)
DELETE FROM user_recovery_sessions USING to_delete
WHERE user_recovery_sessions.user_recovery_session_id = to_delete.user_recovery_session_id
RETURNING user_recovery_sessions.user_recovery_session_id`,
    params: Schema.Tuple(Schema.NullOr(UlidFromUuid), UlidFromUuid, Schema.Int),
    row: Schema.Struct({ user_recovery_session_id: UlidFromUuid })
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const db = bindAll(yield* SqlClient.SqlClient, statements)

  return UserRecoveryRepository.of({
    lookupSession: (id) => Effect.map(db.lookupSession.one(id), Option.map(userRecoverySessionFromRow)),

    addSession: (email, userAgent, ipAddress, locale) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ email, userAgent, locale })
        const at = yield* now
        const id = yield* generateUlid
        yield* db.addSession.affectedOne(id, email, userAgent, Option.getOrNull(ipAddress), locale, at)
        return new UserRecoverySession({
          id,
          email,
          userAgent,
          ipAddress,
          locale,
          createdAt: at,
          consumedAt: Option.none()
        })
      }),

    findTicket: (ticket) =>
      Effect.zipRight(
        checkWellFormed({ ticket }),
        Effect.map(db.findTicket.one(ticket), Option.map(userRecoveryTicketFromRow))
      ),

    addTicket: (session, userEmail, ticket) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ ticket })
        const at = yield* now
        const id = yield* generateUlid
        const expiresAt = new Date(at.getTime() + RECOVERY_TICKET_LIFETIME_MILLIS)
        yield* db.addTicket.affectedOne(id, session.id, userEmail.id, ticket, at, expiresAt)
        return new UserRecoveryTicket({
          id,
          userRecoverySessionId: session.id,
          userEmailId: userEmail.id,
          ticket,
          createdAt: at,
          expiresAt
        })
      }),

    consumeTicket: (_ticket, session) =>
      Effect.gen(function* () {
        const at = yield* now
        const consumed = yield* refusedTransition(consumeUserRecoverySession(session, at))
        yield* db.consumeTicket.affectedOne(session.id, at)
        return consumed
      }),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanup.all(Option.getOrNull(since), until, batch)
        return CleanupResult.fromKeys(deleted.map((r) => r.user_recovery_session_id))
      })
  })
})

export const layer: Layer.Layer<UserRecoveryRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserRecoveryRepository,
  Effect.map(make, traced("userRecovery"))
)
