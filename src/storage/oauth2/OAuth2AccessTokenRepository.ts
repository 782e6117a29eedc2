// The port for OAuth 2.0 access tokens: its shape and the Tag both backends implement.
import { Context, type Duration, type Effect, type Option } from "effect"
import type { AccessToken } from "../../model/oauth2/accessToken.js"
import type { OAuth2Session } from "../../model/oauth2/session.js"
import type { Ulid } from "../../model/Ulid.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import type { DatabaseError } from "../common/errors.js"

export interface OAuth2AccessTokenRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<AccessToken>, DatabaseError>
  /**
   * Exact (case-sensitive) match on the unique token text. Text holding NUL is a DriverError (22021, which dooms the
   * unit of work, as PostgreSQL refuses it); an unpaired UTF-16 surrogate is an InvalidOperationError.
   */
  readonly findByToken: (accessToken: string) => Effect.Effect<Option.Option<AccessToken>, DatabaseError>
  /**
   * A new valid, unused token of `session`, stored as given; `expiresAt = createdAt + expiresAfter` (none: it never
   * expires). A token text already stored is a RowsAffectedError (expected 1, actual 0) that leaves the unit of work
   * usable; a missing session is a DriverError (23503); an `expiresAfter` that gives no representable instant
   * (infinite, beyond the Date range) or text with an unpaired surrogate is an InvalidOperationError, NUL a
   * DriverError (22021). Nothing is written when it fails.
   */
  readonly add: (
    session: OAuth2Session,
    accessToken: string,
    expiresAfter: Option.Option<Duration.Duration>
  ) => Effect.Effect<AccessToken, DatabaseError>
  /**
   * Valid → Revoked at now. A token passed in revoked is an InvalidOperationError (InvalidTransition) and writes
   * nothing; a stored row revoked meanwhile (a stale entity) or missing is a RowsAffectedError: the write is guarded
   * by `revoked_at IS NULL`, so of concurrent revocations exactly one wins.
   */
  readonly revoke: (accessToken: AccessToken) => Effect.Effect<AccessToken, DatabaseError>
  /**
   * Sets `firstUsedAt = now` whatever the state (it overwrites an earlier use, so callers call it once); a missing
   * row is a RowsAffectedError.
   */
  readonly markUsed: (accessToken: AccessToken) => Effect.Effect<AccessToken, DatabaseError>
  /**
   * Storage rule "Cleanups", key `revokedAt` (`since <= revokedAt < until`): deletes revoked tokens; refresh tokens
   * pointing to a deleted token keep existing with that pointer cleared. A limit that is not a non-negative safe
   * integer is an InvalidOperationError.
   */
  readonly cleanupRevoked: (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ) => Effect.Effect<CleanupResult<Date>, DatabaseError>
  /**
   * Storage rule "Cleanups", key `expiresAt` (`since <= expiresAt < until`): deletes expired tokens, revoked or not
   * and whether or not a refresh token still points to them (that pointer is cleared), as MAS does.
   */
  readonly cleanupExpired: (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ) => Effect.Effect<CleanupResult<Date>, DatabaseError>
}

export class OAuth2AccessTokenRepository extends Context.Tag("storage/OAuth2AccessTokenRepository")<
  OAuth2AccessTokenRepository,
  OAuth2AccessTokenRepositoryShape
>() {}
