// The port for password recovery: recovery sessions, their tickets, and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { UserEmail, UserRecoverySession, UserRecoveryTicket } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { IpAddress } from "../../model/values.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import type { DatabaseError } from "../common/errors.js"

/** How long a recovery ticket stays usable after it is issued (MAS: ten minutes). */
export const RECOVERY_TICKET_LIFETIME_MILLIS = 10 * 60 * 1000

export interface UserRecoveryRepositoryShape {
  readonly lookupSession: (id: Ulid) => Effect.Effect<Option.Option<UserRecoverySession>, DatabaseError>
  /** A new, pending recovery session started for `email`. */
  readonly addSession: (
    email: string,
    userAgent: string,
    ipAddress: Option.Option<IpAddress>,
    locale: string
  ) => Effect.Effect<UserRecoverySession, DatabaseError>
  /** Exact match on the ticket text; texts are not unique (as in MAS): of several tickets, the oldest. */
  readonly findTicket: (ticket: string) => Effect.Effect<Option.Option<UserRecoveryTicket>, DatabaseError>
  /** A ticket for one address of the session, valid for RECOVERY_TICKET_LIFETIME_MILLIS; a duplicate text is stored too. */
  readonly addTicket: (
    session: UserRecoverySession,
    userEmail: UserEmail,
    ticket: string
  ) => Effect.Effect<UserRecoveryTicket, DatabaseError>
  /**
   * Marks the session consumed. An already consumed session is an InvalidOperationError (nothing
   * written); a session missing from the database is a RowsAffectedError. The ticket is not stored.
   */
  readonly consumeTicket: (
    ticket: UserRecoveryTicket,
    session: UserRecoverySession
  ) => Effect.Effect<UserRecoverySession, DatabaseError>
  /** Deletes up to `limit` sessions (any state) with `since < id <= until`, in id order, with their tickets (storage rule: Cleanups). */
  readonly cleanup: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class UserRecoveryRepository extends Context.Tag("storage/UserRecoveryRepository")<
  UserRecoveryRepository,
  UserRecoveryRepositoryShape
>() {}
