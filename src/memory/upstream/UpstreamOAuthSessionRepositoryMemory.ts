// UpstreamOAuthSessionRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { generateUlid } from "../../model/Ulid.js"
import {
  completeUpstreamOAuthAuthorizationSession,
  consumeUpstreamOAuthAuthorizationSession
} from "../../model/upstream.js"
import type { Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newUpstreamOAuthAuthorizationSessionRow,
  UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS,
  upstreamOAuthAuthorizationSessionFromRow,
  UpstreamOAuthAuthorizationSessionRow
} from "../../rows/upstream/upstreamOAuthAuthorizationSession.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkNewUpstreamOAuthSession,
  checkUpstreamCallbackData,
  checkUpstreamOAuthSessionFilter,
  type UpstreamOAuthSessionFilter,
  UpstreamOAuthSessionRepository
} from "../../storage/upstream/UpstreamOAuthSessionRepository.js"
import { ulidCleanup } from "../common/cleanup.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { rejectNul } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"
import { matchesUpstreamSession } from "../user/BrowserSessionRepositoryMemory.js"
import { checkJsonb } from "../user/UserRegistrationRepositoryMemory.js"

type SessionRow = UpstreamOAuthAuthorizationSessionRow

/** A private copy of a document, as jsonb reads it back: through its JSON text. */
const copyJson = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json

const toSession = optionalEntity(upstreamOAuthAuthorizationSessionFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const sessions = memoryTable(store, {
    table: UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS,
    idColumn: "upstream_oauth_authorization_session_id",
    row: UpstreamOAuthAuthorizationSessionRow
  })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none.
  const select = (filter: UpstreamOAuthSessionFilter) =>
    Effect.zipRight(
      rejectNul(filter.subClaim, filter.sidClaim),
      store.read((db) => sessions.rows(db).filter((row) => matchesUpstreamSession(filter)(row as unknown as Row)))
    )

  // The twin of the statement's NOT EXISTS conditions, judged on the state before the write.
  const orphaned = (db: Database) => {
    const named = new Set<unknown>()
    for (const table of ["user_session_authentications", "user_registrations"]) {
      for (const r of db.rows<Row>(table)) {
        if (r.upstream_oauth_authorization_session_id !== null) named.add(r.upstream_oauth_authorization_session_id)
      }
    }
    return (row: SessionRow): boolean =>
      row.user_session_id === null && !named.has(row.upstream_oauth_authorization_session_id)
  }

  return UpstreamOAuthSessionRepository.of({
    lookup: (id) => Effect.flatMap(sessions.get(id), toSession),

    add: (provider, state, codeChallengeVerifier, nonce) =>
      Effect.gen(function* () {
        yield* checkNewUpstreamOAuthSession(provider, state, codeChallengeVerifier, nonce)
        const at = yield* now
        const row = newUpstreamOAuthAuthorizationSessionRow(
          provider.id,
          state,
          codeChallengeVerifier,
          nonce,
          yield* generateUlid,
          at
        )
        // A taken state is ignored as ON CONFLICT DO NOTHING ignores it.
        yield* exactlyOne(sessions.insertIgnoringConflict(row))
        return upstreamOAuthAuthorizationSessionFromRow(row)
      }),

    completeWithLink: (session, link, idToken, idTokenClaims, extraCallbackParameters, userinfo) =>
      Effect.gen(function* () {
        const data = { idToken, idTokenClaims, extraCallbackParameters, userinfo }
        yield* checkUpstreamCallbackData(data)
        // A JSON null document is stored as NULL, as PostgreSQL's statement sends it.
        const document = (d: Option.Option<Json>) =>
          Option.map(
            Option.filter(d, (v) => v !== null),
            copyJson
          )
        const stored = {
          idToken,
          idTokenClaims: document(idTokenClaims),
          extraCallbackParameters: document(extraCallbackParameters),
          userinfo: document(userinfo)
        }
        return yield* guardedTransition({
          ids: { session: session.id, link: link.id },
          transition: (at) => completeUpstreamOAuthAuthorizationSession(session, at, link.id, stored),
          write: (at) =>
            Effect.gen(function* () {
              // PostgreSQL binds the parameters before it looks at the row: NUL in the ID token (22021), then in
              // a document (22P05), in parameter order.
              yield* rejectNul(Option.getOrUndefined(idToken))
              for (const d of [stored.idTokenClaims, stored.extraCallbackParameters, stored.userinfo]) {
                if (Option.isSome(d)) yield* checkJsonb(d.value)
              }
              yield* sessions.updateGuarded(
                session.id,
                (row) =>
                  row.completed_at === null &&
                  row.consumed_at === null &&
                  row.unlinked_at === null &&
                  row.upstream_oauth_link_id === null,
                (row) => ({
                  ...row,
                  upstream_oauth_link_id: link.id,
                  completed_at: at,
                  id_token: Option.getOrNull(stored.idToken),
                  id_token_claims: Option.getOrNull(stored.idTokenClaims),
                  extra_callback_parameters: Option.getOrNull(stored.extraCallbackParameters),
                  userinfo: Option.getOrNull(stored.userinfo)
                })
              )
            })
        })
      }),

    consume: (session, browserSession) =>
      guardedTransition({
        ids: { session: session.id, browserSession: browserSession.id },
        transition: (at) => consumeUpstreamOAuthAuthorizationSession(session, at),
        write: (at) =>
          sessions.updateGuarded(
            session.id,
            (row) =>
              row.completed_at !== null &&
              row.consumed_at === null &&
              row.unlinked_at === null &&
              row.upstream_oauth_link_id !== null,
            (row) => ({ ...row, consumed_at: at, user_session_id: browserSession.id })
          )
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUpstreamOAuthSessionFilter(filter)
        yield* checkCursors(pagination)
        const rows = yield* select(filter)
        return yield* paginate(rows, pagination, (r) => r.upstream_oauth_authorization_session_id).tryMap((row) =>
          Either.map(sessions.decode(row), upstreamOAuthAuthorizationSessionFromRow)
        )
      }),

    count: (filter) =>
      Effect.gen(function* () {
        yield* checkUpstreamOAuthSessionFilter(filter)
        const rows = yield* select(filter)
        return yield* toSafeCountOrFail(rows.length)
      }),

    cleanupOrphaned: ulidCleanup(store, sessions, (r) => r.upstream_oauth_authorization_session_id, orphaned)
  })
})

export const layer: Layer.Layer<UpstreamOAuthSessionRepository, never, MemoryStore> = Layer.effect(
  UpstreamOAuthSessionRepository,
  make
)
