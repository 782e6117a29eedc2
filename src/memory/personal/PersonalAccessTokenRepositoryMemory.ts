// PersonalAccessTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables (the digest kept as hex text).
import { Effect, Layer, Option } from "effect"
import { revokePersonalAccessToken } from "../../model/personal.js"
import { generateUlid } from "../../model/Ulid.js"
import {
  accessTokenSha256,
  newPersonalAccessTokenRow,
  PERSONAL_ACCESS_TOKENS,
  PersonalAccessTokenRow,
  personalAccessTokenFromRow
} from "../../rows/personal/personalAccessToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { expiryAfter, now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { PersonalAccessTokenRepository } from "../../storage/personal/PersonalAccessTokenRepository.js"
import { requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

/** A stored row: the columns read back, and the digest beside them (never read back, only compared). */
type StoredToken = PersonalAccessTokenRow & { readonly access_token_sha256: Uint8Array }

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: PERSONAL_ACCESS_TOKENS,
    idColumn: "personal_access_token_id",
    row: PersonalAccessTokenRow
  })

  return PersonalAccessTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(personalAccessTokenFromRow)),

    findByToken: (accessToken) =>
      Effect.zipRight(
        checkWellFormed({ accessToken }),
        Effect.suspend(() => {
          const digest = accessTokenSha256(accessToken)
          return Effect.map(
            tokens.find((r) => digest.equals((r as StoredToken).access_token_sha256)),
            Option.map(personalAccessTokenFromRow)
          )
        })
      ),

    findActiveForSession: (session) =>
      Effect.zipRight(
        requireUlid(session.id),
        Effect.map(
          tokens.find((r) => r.personal_session_id === session.id && r.revoked_at === null),
          Option.map(personalAccessTokenFromRow)
        )
      ),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: (session, accessToken, expiresAfter) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ accessToken })
        const at = yield* now
        const expiresAt = Option.isSome(expiresAfter) ? yield* expiryAfter(at, expiresAfter.value) : null
        const id = yield* generateUlid
        yield* requireUlid(session.id)
        const row = newPersonalAccessTokenRow(session, id, at, expiresAt)
        const stored: StoredToken = { ...row, access_token_sha256: accessTokenSha256(accessToken) }
        yield* exactlyOne(tokens.insertIgnoringConflict(stored))
        return personalAccessTokenFromRow(row)
      }),

    // `… AND revoked_at IS NULL`, as PostgreSQL's guarded statement.
    revoke: (token) =>
      guardedTransition({
        ids: { token: token.id },
        transition: (at) => revokePersonalAccessToken(token, at),
        write: (at) =>
          tokens.updateGuarded(
            token.id,
            (r) => r.revoked_at === null,
            (r) => ({ ...r, revoked_at: at })
          )
      })
  })
})

export const layer: Layer.Layer<PersonalAccessTokenRepository, never, MemoryStore> = Layer.effect(
  PersonalAccessTokenRepository,
  make
)
