// Compat refresh-token rotation under concurrency, on a real server and in memory: of many units of work rotating one token at once exactly one wins, every other gets a RowsAffectedError, and the session is left with one valid token.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import * as RepositoryAccessMemory from "../../../src/memory/RepositoryAccessMemory.js"
import type { CompatRefreshToken } from "../../../src/model/compat.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { addUser, seedCompatAccessToken, seedCompatSession } from "../../contract/compat/fixtures.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { Seed, SeedMemory, SeedPg } from "../../support/seed.js"

/** How many units of work rotate the token in each round. */
const ROTATIONS = 30
/** Connections of the PostgreSQL pool: as many units run at once, the others wait for a connection. */
const POOL = 16
const ROUNDS = 5

const backends: ReadonlyArray<{
  readonly name: string
  readonly layer: () => Layer.Layer<RepositoryAccess | Seed, unknown>
}> = [
  {
    name: "postgres",
    layer: () =>
      Layer.mergeAll(RepositoryAccessPg.layer, SeedPg).pipe(
        Layer.provideMerge(migratedDatabaseLayer({ maxConnections: POOL }))
      )
  },
  {
    name: "memory",
    layer: () => Layer.mergeAll(SeedMemory).pipe(Layer.provideMerge(RepositoryAccessMemory.layer))
  }
]

for (const backend of backends) {
  describe(`compat refresh-token rotation under concurrency [${backend.name}]`, () => {
    it.live(
      `${ROTATIONS} units rotating one token with the same (valid) entity: one wins, the others are refused and leave nothing`,
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const seed = yield* Seed
          const alice = yield* addUser("alice")
          const session = yield* seedCompatSession(alice)
          const accessToken = yield* seedCompatAccessToken(session, "syt_race")
          for (let round = 0; round < ROUNDS; round++) {
            const presented = yield* repos.compatRefreshTokens.add(session, accessToken, `syr_${round}`)
            const rotation = (i: number) =>
              repos.transaction(
                Effect.gen(function* () {
                  const successor = yield* repos.compatRefreshTokens.add(session, accessToken, `syr_${round}_${i}`)
                  yield* repos.compatRefreshTokens.consumeAndReplace(presented, successor)
                  return successor
                })
              )
            const outcomes: ReadonlyArray<Either.Either<CompatRefreshToken, DatabaseError>> = yield* Effect.all(
              Array.from({ length: ROTATIONS }, (_, i) => Effect.either(rotation(i))),
              { concurrency: "unbounded" }
            )
            const winners = outcomes.filter(Either.isRight).map((o) => o.right)
            const refusals = outcomes.filter(Either.isLeft).map((o) => o.left)
            expect(winners.length).toBe(1)
            expect(refusals.map((e) => [e._tag, (e as { actual?: number }).actual])).toEqual(
              refusals.map(() => ["RowsAffectedError", 0])
            )
            // the losers' successors went with their units of work; the winner's is the session's one valid token
            const rows = yield* seed.dump("compat_refresh_tokens", "compat_refresh_token_id")
            const valid = rows.filter((r) => r.consumed_at === null).map((r) => r.compat_refresh_token_id)
            expect(valid).toEqual([winners[0]!.id])
            expect(rows.filter((r) => String(r.refresh_token).startsWith(`syr_${round}_`)).length).toBe(1)
            const stored = Option.getOrThrow(yield* repos.compatRefreshTokens.lookup(presented.id))
            expect(stored.state._tag).toBe("Consumed")
          }
        }).pipe(Effect.provide(backend.layer())),
      120_000
    )
  })
}
