// Stored rows of `personal_access_tokens`, shared by both backends: the digest the table keeps instead of the token text, the row Schema, and the mapping to entities.
import { createHash } from "node:crypto"
import { Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { PersonalAccessToken, type PersonalSession } from "../../model/personal.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

export const PERSONAL_ACCESS_TOKENS = "personal_access_tokens"

/**
 * What `access_token_sha256` holds for a token: the SHA-256 digest of its UTF-8 bytes (32 bytes). The one place a
 * token text is turned into what is stored or looked up; callers refuse text with an unpaired surrogate first (UTF-8
 * encoding would write U+FFFD for it, so two texts would share a digest).
 */
export const accessTokenSha256 = (accessToken: string): Buffer =>
  createHash("sha256").update(accessToken, "utf8").digest()

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
const NullableTimestamp = Schema.NullOr(Timestamp)

/**
 * The columns of `personal_access_tokens` that are read back: every one but the digest, which is only ever compared.
 * Every tuple of `revoked_at` is a state, so no row-level check is needed.
 */
export const PersonalAccessTokenRow = Schema.Struct({
  personal_access_token_id: UlidFromUuid,
  personal_session_id: UlidFromUuid,
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  revoked_at: NullableTimestamp
})
export type PersonalAccessTokenRow = typeof PersonalAccessTokenRow.Type

const storedToken = storedEntity(PersonalAccessToken)

export const personalAccessTokenFromRow = (row: PersonalAccessTokenRow): PersonalAccessToken =>
  storedToken({
    id: row.personal_access_token_id,
    sessionId: row.personal_session_id,
    createdAt: row.created_at,
    expiresAt: Option.fromNullable(row.expires_at),
    revokedAt: Option.fromNullable(row.revoked_at)
  })

export const personalAccessTokenToRow = (token: PersonalAccessToken): PersonalAccessTokenRow => ({
  personal_access_token_id: token.id,
  personal_session_id: token.sessionId,
  created_at: token.createdAt,
  expires_at: Option.getOrNull(token.expiresAt),
  revoked_at: Option.getOrNull(token.revokedAt)
})

/** The row of a new, unrevoked token of `session` (both backends build the entity they return from it; the digest goes beside it). */
export const newPersonalAccessTokenRow = (
  session: PersonalSession,
  id: Ulid,
  createdAt: Date,
  expiresAt: Date | null
): PersonalAccessTokenRow => ({
  personal_access_token_id: id,
  personal_session_id: session.id,
  created_at: createdAt,
  expires_at: expiresAt,
  revoked_at: null
})
