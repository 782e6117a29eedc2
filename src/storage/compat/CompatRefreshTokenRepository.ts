// The port for legacy (compat) refresh tokens and their rotation: its shape and the Tag both backends implement.
import { Context, type Effect, Either, type Option } from "effect"
import {
  type CompatAccessToken,
  type CompatRefreshToken,
  type CompatSession,
  consumeCompatRefreshToken
} from "../../model/compat.js"
import type { Ulid } from "../../model/Ulid.js"
import type { DatabaseError } from "../common/errors.js"

export interface CompatRefreshTokenRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<CompatRefreshToken>, DatabaseError>
  /**
   * Exact (case-sensitive) match on the unique token text. Text holding NUL is a DriverError (22021, which dooms the
   * unit of work); an unpaired UTF-16 surrogate is an InvalidOperationError.
   */
  readonly findByToken: (refreshToken: string) => Effect.Effect<Option.Option<CompatRefreshToken>, DatabaseError>
  /**
   * A new valid token of `session`, issued with `accessToken` (not checked against the session, as in MAS), stored as
   * given. A token text already stored is a RowsAffectedError (expected 1, actual 0) that leaves the unit of work
   * usable; a missing session or access token is a DriverError (23503); NUL is a DriverError (22021), an unpaired
   * surrogate an InvalidOperationError. Nothing is written when it fails.
   */
  readonly add: (
    session: CompatSession,
    accessToken: CompatAccessToken,
    refreshToken: string
  ) => Effect.Effect<CompatRefreshToken, DatabaseError>
  /**
   * Valid → Consumed at now for `refreshToken`, and with the same instant every other unconsumed token of its session
   * but `successor` (an import from Synapse can leave several), so that `successor` is the session's one valid token.
   * Refused with an InvalidOperationError before anything is written: tokens of different sessions, a token
   * replaced by itself, a token passed in consumed (InvalidTransition). The write is guarded by `refreshToken`'s row
   * being still unconsumed in that session: otherwise (a stale entity, a concurrent rotation that committed first, a
   * token not stored) nothing is consumed and it is a RowsAffectedError (expected 1, actual 0). The successor is not
   * required to exist, as in MAS.
   */
  readonly consumeAndReplace: (
    refreshToken: CompatRefreshToken,
    successor: CompatRefreshToken
  ) => Effect.Effect<CompatRefreshToken, DatabaseError>
}

/**
 * What both backends refuse before `consumeAndReplace` writes: a successor of another session (MAS's check), the
 * token as its own successor (its row would be the one row left unconsumed), then the model's transition.
 */
export const consumeAndReplaceTransition = (
  refreshToken: CompatRefreshToken,
  successor: CompatRefreshToken,
  at: Date
): Either.Either<CompatRefreshToken, unknown> => {
  if (refreshToken.sessionId !== successor.sessionId) {
    return Either.left("The refresh token and its successor belong to different compat sessions")
  }
  if (refreshToken.id === successor.id) return Either.left("A refresh token cannot be its own successor")
  return consumeCompatRefreshToken(refreshToken, at)
}

export class CompatRefreshTokenRepository extends Context.Tag("storage/CompatRefreshTokenRepository")<
  CompatRefreshTokenRepository,
  CompatRefreshTokenRepositoryShape
>() {}
