// The user agent and human name every session kind records, checked and written the same way on both backends.
import { Effect, Option } from "effect"
import { copy } from "../../model/common.js"
import type { Ulid } from "../../model/Ulid.js"
import type { InvalidOperationError } from "./errors.js"
import { checkWellFormed } from "./limits.js"

/** What a session entity carries for these writes. */
interface LabelledSession {
  readonly id: Ulid
  readonly userAgent: Option.Option<string>
  readonly humanName: Option.Option<string>
}

/**
 * `recordUserAgent`: the text refused before anything is written, then `write` (one row, by id), then the session
 * with its new user agent.
 */
export const recordUserAgentWith =
  <S extends LabelledSession, E, R>(
    ctor: new (props: any) => S,
    write: (id: Ulid, userAgent: string) => Effect.Effect<void, E, R>
  ) =>
  (session: S, userAgent: string): Effect.Effect<S, E | InvalidOperationError, R> =>
    Effect.gen(function* () {
      yield* checkWellFormed({ userAgent })
      yield* write(session.id, userAgent)
      return copy(ctor, session, { userAgent: Option.some(userAgent) } as Partial<S>)
    })

/** `setHumanName`: as {@link recordUserAgentWith}, with none stored as NULL. */
export const setHumanNameWith =
  <S extends LabelledSession, E, R>(
    ctor: new (props: any) => S,
    write: (id: Ulid, humanName: string | null) => Effect.Effect<void, E, R>
  ) =>
  (session: S, humanName: Option.Option<string>): Effect.Effect<S, E | InvalidOperationError, R> =>
    Effect.gen(function* () {
      yield* checkWellFormed({ humanName: Option.getOrNull(humanName) })
      yield* write(session.id, Option.getOrNull(humanName))
      return copy(ctor, session, { humanName } as Partial<S>)
    })
