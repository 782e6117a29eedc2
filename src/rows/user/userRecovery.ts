// Stored rows of the recovery tables, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the mapping to entities.
import { Option, Schema } from "effect"
import { UserRecoverySession, UserRecoveryTicket } from "../../model/user.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf } from "../../model/values.js"
import { storedEntity } from "../common.js"

const storedUserRecoverySession = storedEntity(UserRecoverySession)
const storedUserRecoveryTicket = storedEntity(UserRecoveryTicket)

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760),
// and such a row must be an inconsistency rather than a defect in the entity constructor.
const Instant = Schema.ValidDateFromSelf

/** `user_recovery_sessions` */
export const UserRecoverySessionRow = Schema.Struct({
  user_recovery_session_id: UlidFromUuid,
  email: Schema.String,
  user_agent: Schema.String,
  // inet may also hold a network ("10.0.0.0/8"); only a canonical host address is a valid IpAddress.
  ip_address: Schema.NullOr(IpAddressFromSelf),
  locale: Schema.String,
  created_at: Instant,
  consumed_at: Schema.NullOr(Instant)
})
export type UserRecoverySessionRow = typeof UserRecoverySessionRow.Type

export const userRecoverySessionFromRow = (row: UserRecoverySessionRow): UserRecoverySession =>
  storedUserRecoverySession({
    id: row.user_recovery_session_id,
    email: row.email,
    userAgent: row.user_agent,
    ipAddress: Option.fromNullable(row.ip_address),
    locale: row.locale,
    createdAt: row.created_at,
    consumedAt: Option.fromNullable(row.consumed_at)
  })

export const userRecoverySessionToRow = (session: UserRecoverySession): UserRecoverySessionRow => ({
  user_recovery_session_id: session.id,
  email: session.email,
  user_agent: session.userAgent,
  ip_address: Option.getOrNull(session.ipAddress),
  locale: session.locale,
  created_at: session.createdAt,
  consumed_at: Option.getOrNull(session.consumedAt)
})

/** `user_recovery_tickets` */
export const UserRecoveryTicketRow = Schema.Struct({
  user_recovery_ticket_id: UlidFromUuid,
  user_recovery_session_id: UlidFromUuid,
  user_email_id: UlidFromUuid,
  ticket: Schema.String,
  created_at: Instant,
  expires_at: Instant
})
export type UserRecoveryTicketRow = typeof UserRecoveryTicketRow.Type

export const userRecoveryTicketFromRow = (row: UserRecoveryTicketRow): UserRecoveryTicket =>
  storedUserRecoveryTicket({
    id: row.user_recovery_ticket_id,
    userRecoverySessionId: row.user_recovery_session_id,
    userEmailId: row.user_email_id,
    ticket: row.ticket,
    createdAt: row.created_at,
    expiresAt: row.expires_at
  })

export const userRecoveryTicketToRow = (ticket: UserRecoveryTicket): UserRecoveryTicketRow => ({
  user_recovery_ticket_id: ticket.id,
  user_recovery_session_id: ticket.userRecoverySessionId,
  user_email_id: ticket.userEmailId,
  ticket: ticket.ticket,
  created_at: ticket.createdAt,
  expires_at: ticket.expiresAt
})
