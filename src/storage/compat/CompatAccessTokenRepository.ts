// The port for legacy (compat) access tokens: its shape and the Tag both backends implement.
import { Context, type Duration, type Effect, type Option } from "effect"
import type { CompatAccessToken, CompatSession } from "../../model/compat.js"
import type { Ulid } from "../../model/Ulid.js"
import type { DatabaseError } from "../common/errors.js"

export interface CompatAccessTokenRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<CompatAccessToken>, DatabaseError>
  /**
   * Exact (case-sensitive) match on the unique token text. Text holding NUL is a DriverError (22021, which dooms the
   * unit of work, as PostgreSQL refuses it); an unpaired UTF-16 surrogate is an InvalidOperationError.
   */
  readonly findByToken: (accessToken: string) => Effect.Effect<Option.Option<CompatAccessToken>, DatabaseError>
  /**
   * A new token of `session`, stored as given; `expiresAt = createdAt + expiresAfter` (none: it never expires). A
   * token text already stored is a RowsAffectedError (expected 1, actual 0) that leaves the unit of work usable; a
   * missing session is a DriverError (23503); an `expiresAfter` that gives no representable instant (infinite, beyond
   * the Date range) or text with an unpaired surrogate is an InvalidOperationError, NUL a DriverError (22021).
   * Nothing is written when it fails.
   */
  readonly add: (
    session: CompatSession,
    accessToken: string,
    expiresAfter: Option.Option<Duration.Duration>
  ) => Effect.Effect<CompatAccessToken, DatabaseError>
  /**
   * Sets `expiresAt = now`, so the token is invalid at once. As in MAS it overwrites whatever expiry the row holds
   * (an earlier one too: the token stays invalid either way); a missing row is a RowsAffectedError.
   */
  readonly expire: (accessToken: CompatAccessToken) => Effect.Effect<CompatAccessToken, DatabaseError>
}

export class CompatAccessTokenRepository extends Context.Tag("storage/CompatAccessTokenRepository")<
  CompatAccessTokenRepository,
  CompatAccessTokenRepositoryShape
>() {}
