// The port for OAuth 2.0 refresh tokens and their rotation: its shape and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { AccessToken } from "../../model/oauth2/accessToken.js"
import type { RefreshToken } from "../../model/oauth2/refreshToken.js"
import type { OAuth2Session } from "../../model/oauth2/session.js"
import type { Ulid } from "../../model/Ulid.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import type { DatabaseError } from "../common/errors.js"

export interface OAuth2RefreshTokenRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<RefreshToken>, DatabaseError>
  /**
   * Exact (case-sensitive) match on the unique token text. Text holding NUL is a DriverError (22021, which dooms the
   * unit of work); an unpaired UTF-16 surrogate is an InvalidOperationError.
   */
  readonly findByToken: (refreshToken: string) => Effect.Effect<Option.Option<RefreshToken>, DatabaseError>
  /**
   * A new valid token of `session`, issued with `accessToken`, stored as given. A token text already stored is a
   * RowsAffectedError (expected 1, actual 0) that leaves the unit of work usable; a missing session or access token
   * is a DriverError (23503); NUL is a DriverError (22021), an unpaired surrogate an InvalidOperationError. Nothing is
   * written when it fails.
   */
  readonly add: (
    session: OAuth2Session,
    accessToken: AccessToken,
    refreshToken: string
  ) => Effect.Effect<RefreshToken, DatabaseError>
  /**
   * Valid or Consumed → Consumed at now, replaced by `replacedBy` (as in MAS, a consumed token may be consumed again:
   * that overwrites the instant and the successor). A token passed in revoked is an InvalidOperationError
   * (InvalidTransition) and writes nothing. The write is guarded by `revoked_at IS NULL`: a stored row revoked
   * meanwhile (a stale entity, or a revocation that committed first) or missing is a RowsAffectedError. A missing
   * successor is a DriverError (23503).
   */
  readonly consume: (refreshToken: RefreshToken, replacedBy: RefreshToken) => Effect.Effect<RefreshToken, DatabaseError>
  /**
   * Valid → Revoked at now. A token passed in consumed or revoked is an InvalidOperationError (InvalidTransition) and
   * writes nothing. The write is guarded by `consumed_at IS NULL AND revoked_at IS NULL`: a stored row consumed or
   * revoked meanwhile, or missing, is a RowsAffectedError.
   */
  readonly revoke: (refreshToken: RefreshToken) => Effect.Effect<RefreshToken, DatabaseError>
  /**
   * Storage rule "Cleanups", key `revokedAt` (`since <= revokedAt < until`): deletes revoked tokens; successor
   * pointers to a deleted token are cleared. A limit that is not a non-negative safe integer is an
   * InvalidOperationError.
   */
  readonly cleanupRevoked: (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ) => Effect.Effect<CleanupResult<Date>, DatabaseError>
  /**
   * Storage rule "Cleanups", key `consumedAt` (`since <= consumedAt < until`): deletes consumed tokens whose successor
   * is unset or itself consumed, so the live end of a rotation chain (a consumed token whose successor is still valid,
   * or revoked) survives; successor pointers to a deleted token are cleared.
   */
  readonly cleanupConsumed: (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ) => Effect.Effect<CleanupResult<Date>, DatabaseError>
}

export class OAuth2RefreshTokenRepository extends Context.Tag("storage/OAuth2RefreshTokenRepository")<
  OAuth2RefreshTokenRepository,
  OAuth2RefreshTokenRepositoryShape
>() {}
