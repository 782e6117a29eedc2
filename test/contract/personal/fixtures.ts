// Rows the personal-token contract suites start from, made on either backend: sessions through their repository, planted rows for
// what the repository cannot produce, and the digest a stored token row holds, read the same way from both backends.
import { Duration, Effect, Option, TestClock } from "effect"
import type { Row } from "../../../src/memory/Database.js"
import { ownedByUser, type PersonalSession, type PersonalSessionOwner } from "../../../src/model/personal.js"
import type { User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import type { Scope } from "../../../src/model/values.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { scope } from "../oauth2/fixtures.js"

export const PERSONAL_SESSIONS = "personal_sessions"
export const PERSONAL_ACCESS_TOKENS = "personal_access_tokens"

/**
 * A personal session added through PersonalSessionRepository, owned by `owner` (default: the actor itself) and acting
 * as `actor`, named and scoped as `options` say; the clock then moves on a second, so ids follow creation order.
 */
export const addPersonalSession = (
  actor: User,
  options: { readonly owner?: PersonalSessionOwner; readonly name?: string; readonly scope?: Scope } = {}
): Effect.Effect<PersonalSession, unknown, RepositoryAccess> =>
  Effect.gen(function* () {
    const { personalSessions } = yield* RepositoryAccess
    const session = yield* personalSessions.add(
      options.owner ?? ownedByUser(actor),
      actor,
      options.name ?? "a personal session",
      options.scope ?? scope("urn:matrix:client:api:*")
    )
    yield* TestClock.adjust(Duration.seconds(1))
    return session
  })

/**
 * A personal_sessions row owned by and acting as `userId`, seeded as another program could have left it: valid,
 * never active, scope `openid`, created at its id's instant, unless `columns` say otherwise. Returns its id.
 */
export const seedPersonalSessionRow = (userId: Ulid, columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert(PERSONAL_SESSIONS, {
      personal_session_id: id,
      owner_user_id: userId,
      owner_oauth2_client_id: null,
      actor_user_id: userId,
      human_name: "seeded",
      scope_list: ["openid"],
      created_at: new Date(ulidTimestamp(id)),
      revoked_at: null,
      last_active_at: null,
      last_active_ip: null,
      ...columns
    })
    return id
  })

/** The 32 bytes a dumped `access_token_sha256` (`bytea`) holds, on both backends. */
export const storedDigest = (value: unknown): Buffer => Buffer.from(value as Uint8Array)

/** The dumped token rows, their digest read as bytes on both backends (comparable with `toEqual`). */
export const dumpTokenRows = Effect.gen(function* () {
  const seed = yield* Seed
  const rows = yield* seed.dump(PERSONAL_ACCESS_TOKENS, "personal_access_token_id")
  return rows.map((row) => ({ ...row, access_token_sha256: storedDigest(row.access_token_sha256).toString("hex") }))
})

/** Both tables as the backends hold them: compared before and after a refused call. */
export const dumpPersonal = Effect.gen(function* () {
  const seed = yield* Seed
  return {
    sessions: yield* seed.dump(PERSONAL_SESSIONS, "personal_session_id"),
    tokens: yield* dumpTokenRows
  }
})

/** Shorthand for `Option.some(Duration.seconds(n))`, an `expiresAfter`. */
export const expiresIn = (seconds: number): Option.Option<Duration.Duration> => Option.some(Duration.seconds(seconds))
