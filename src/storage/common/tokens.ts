// Adding a token as every token family does on both backends: the text checked, the row built at now, then inserted.
import { type Duration, Effect, Option } from "effect"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import type { InvalidOperationError } from "./errors.js"
import { checkWellFormed } from "./limits.js"
import { expiryAfter, now } from "./time.js"

/**
 * `add(session, accessToken, expiresAfter)`: the text refused before anything is written, the expiry (if any) after
 * now, a fresh id, then `insert` with the new row (a taken text is its RowsAffectedError), and the token returned.
 */
export const addAccessTokenWith =
  <S, Row, A, E, R>(options: {
    readonly newRow: (session: S, accessToken: string, id: Ulid, at: Date, expiresAt: Date | null) => Row
    readonly insert: (row: Row, session: S) => Effect.Effect<void, E, R>
    readonly fromRow: (row: Row) => A
  }) =>
  (
    session: S,
    accessToken: string,
    expiresAfter: Option.Option<Duration.Duration>
  ): Effect.Effect<A, E | InvalidOperationError, R> =>
    Effect.gen(function* () {
      yield* checkWellFormed({ accessToken })
      const at = yield* now
      const expiresAt = Option.isSome(expiresAfter) ? yield* expiryAfter(at, expiresAfter.value) : null
      const row = options.newRow(session, accessToken, yield* generateUlid, at, expiresAt)
      yield* options.insert(row, session)
      return options.fromRow(row)
    })

/** `add(session, accessToken, refreshToken)`: as {@link addAccessTokenWith}, with no expiry. */
export const addRefreshTokenWith =
  <S, T, Row, A, E, R>(options: {
    readonly newRow: (session: S, accessToken: T, refreshToken: string, id: Ulid, at: Date) => Row
    readonly insert: (row: Row, session: S, accessToken: T) => Effect.Effect<void, E, R>
    readonly fromRow: (row: Row) => A
  }) =>
  (session: S, accessToken: T, refreshToken: string): Effect.Effect<A, E | InvalidOperationError, R> =>
    Effect.gen(function* () {
      yield* checkWellFormed({ refreshToken })
      const at = yield* now
      const row = options.newRow(session, accessToken, refreshToken, yield* generateUlid, at)
      yield* options.insert(row, session, accessToken)
      return options.fromRow(row)
    })
