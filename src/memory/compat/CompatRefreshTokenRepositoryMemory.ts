// CompatRefreshTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { generateUlid } from "../../model/Ulid.js"
import {
  COMPAT_REFRESH_TOKENS,
  CompatRefreshTokenRow,
  compatRefreshTokenFromRow,
  newCompatRefreshTokenRow
} from "../../rows/compat/compatRefreshToken.js"
import { expectRowsAffected } from "../../storage/common/errors.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  CompatRefreshTokenRepository,
  consumeAndReplaceTransition
} from "../../storage/compat/CompatRefreshTokenRepository.js"
import { requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: COMPAT_REFRESH_TOKENS,
    idColumn: "compat_refresh_token_id",
    row: CompatRefreshTokenRow
  })

  return CompatRefreshTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(compatRefreshTokenFromRow)),

    findByToken: (refreshToken) =>
      Effect.zipRight(
        checkWellFormed({ refreshToken }),
        Effect.map(
          tokens.find((r) => r.refresh_token === refreshToken, refreshToken),
          Option.map(compatRefreshTokenFromRow)
        )
      ),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: (session, accessToken, refreshToken) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ refreshToken })
        const at = yield* now
        const id = yield* generateUlid
        yield* requireUlid(session.id, accessToken.id)
        const row = newCompatRefreshTokenRow(session, accessToken, refreshToken, id, at)
        yield* exactlyOne(tokens.insertIgnoringConflict(row))
        return compatRefreshTokenFromRow(row)
      }),

    // The twin of the PostgreSQL statement: nothing unless the presented token is still unconsumed in its session,
    // then every unconsumed token of the session but the successor, in one write.
    consumeAndReplace: (refreshToken, successor) =>
      guardedTransition({
        ids: { refreshToken: refreshToken.id, successor: successor.id, session: refreshToken.sessionId },
        transition: (at) => consumeAndReplaceTransition(refreshToken, successor, at),
        write: (at) =>
          Effect.flatMap(
            store.write((db) => {
              const guard = Option.exists(
                db.get<CompatRefreshTokenRow>(COMPAT_REFRESH_TOKENS, refreshToken.id),
                (presented) => presented.compat_session_id === refreshToken.sessionId && presented.consumed_at === null
              )
              return guard
                ? db.updateWhere(
                    COMPAT_REFRESH_TOKENS,
                    (r) =>
                      r.compat_session_id === refreshToken.sessionId &&
                      r.consumed_at === null &&
                      r.compat_refresh_token_id !== successor.id,
                    (r) => ({ ...r, consumed_at: at })
                  )
                : Either.right([0, db] as const)
            }),
            (affected) => (affected === 0 ? expectRowsAffected(1)(0) : Effect.void)
          )
      })
  })
})

export const layer: Layer.Layer<CompatRefreshTokenRepository, never, MemoryStore> = Layer.effect(
  CompatRefreshTokenRepository,
  make
)
