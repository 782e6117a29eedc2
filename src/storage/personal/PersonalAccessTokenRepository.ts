// The port for personal access tokens, stored hashed: its shape and the Tag both backends implement.
import { Context, type Duration, type Effect, type Option } from "effect"
import type { PersonalAccessToken, PersonalSession } from "../../model/personal.js"
import type { Ulid } from "../../model/Ulid.js"
import type { DatabaseError } from "../common/errors.js"

/**
 * The token text is never stored: the table keeps the SHA-256 digest of its UTF-8 bytes (`accessTokenSha256`,
 * rows/personal/personalAccessToken.ts), and lookups by text hash it first. So text holding NUL is a token like any
 * other (it never reaches PostgreSQL's text type), while text holding an unpaired UTF-16 surrogate, which has no
 * UTF-8 form, is an InvalidOperationError: hashed, it would stand for the same bytes as U+FFFD.
 */
export interface PersonalAccessTokenRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<PersonalAccessToken>, DatabaseError>
  /** The token whose digest is the digest of `accessToken` (exact: the digest of other text differs), revoked or not. */
  readonly findByToken: (accessToken: string) => Effect.Effect<Option.Option<PersonalAccessToken>, DatabaseError>
  /** The session's unrevoked token (there is at most one), expired or not. */
  readonly findActiveForSession: (
    session: PersonalSession
  ) => Effect.Effect<Option.Option<PersonalAccessToken>, DatabaseError>
  /**
   * A new unrevoked token of `session`; `expiresAt = createdAt + expiresAfter` (none: it never expires). The session's
   * state is not checked, as in MAS. Adding a token while the session still has an unrevoked one, or a token whose
   * digest is already stored, is a RowsAffectedError (expected 1, actual 0) that leaves the unit of work usable (the
   * insert ignores the conflict; MAS's plain insert fails on the unique index and aborts the transaction): revoke
   * the current token first. A session that is not stored is a DriverError (23503); an `expiresAfter` that gives no
   * representable instant, or text with an unpaired surrogate, is an InvalidOperationError. Nothing is written when
   * it fails.
   */
  readonly add: (
    session: PersonalSession,
    accessToken: string,
    expiresAfter: Option.Option<Duration.Duration>
  ) => Effect.Effect<PersonalAccessToken, DatabaseError>
  /**
   * Stamps `revokedAt = now`. A token passed in revoked is an InvalidOperationError (InvalidTransition) and writes
   * nothing; a stored row revoked meanwhile (by its session's revocation, say) or missing is a RowsAffectedError: the
   * write is guarded by `revoked_at IS NULL` (MAS re-stamps a revoked token).
   */
  readonly revoke: (token: PersonalAccessToken) => Effect.Effect<PersonalAccessToken, DatabaseError>
}

export class PersonalAccessTokenRepository extends Context.Tag("storage/PersonalAccessTokenRepository")<
  PersonalAccessTokenRepository,
  PersonalAccessTokenRepositoryShape
>() {}
