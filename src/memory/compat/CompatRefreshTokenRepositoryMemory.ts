// CompatRefreshTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import {
  COMPAT_REFRESH_TOKENS,
  CompatRefreshTokenRow,
  compatRefreshTokenFromRow,
  newCompatRefreshTokenRow
} from "../../rows/compat/compatRefreshToken.js"
import { expectRowsAffected } from "../../storage/common/errors.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  CompatRefreshTokenRepository,
  consumeAndReplaceTransition
} from "../../storage/compat/CompatRefreshTokenRepository.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { addRefreshTokenWith } from "../../storage/common/tokens.js"
import { findByTokenText, insertTokenRow } from "../common/tokens.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: COMPAT_REFRESH_TOKENS,
    idColumn: "compat_refresh_token_id",
    row: CompatRefreshTokenRow
  })

  return CompatRefreshTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(compatRefreshTokenFromRow)),

    findByToken: findByTokenText(tokens, "refreshToken", (r) => r.refresh_token, compatRefreshTokenFromRow),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: addRefreshTokenWith({
      newRow: newCompatRefreshTokenRow,
      insert: insertTokenRow(tokens),
      fromRow: compatRefreshTokenFromRow
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
