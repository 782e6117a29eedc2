// Refresh-token rotation under concurrency, on a real server and in memory: many units of work consuming one token while another revokes it end in one consistent state, and every loser gets a RowsAffectedError.
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Either, Fiber, Layer, Option, Random } from "effect"
import * as RepositoryAccessMemory from "../../../src/memory/RepositoryAccessMemory.js"
import type { AccessToken } from "../../../src/model/oauth2/accessToken.js"
import type { RefreshToken } from "../../../src/model/oauth2/refreshToken.js"
import type { OAuth2Session } from "../../../src/model/oauth2/session.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import {
  addBrowserSession,
  addUser,
  seedAccessToken,
  seedClient,
  seedOAuth2Session
} from "../../contract/oauth2/fixtures.js"
import { adminClient, migratedDatabaseLayer, TestDatabase } from "../../support/database.js"
import { Seed, SeedMemory, SeedPg } from "../../support/seed.js"

/** How many units of work consume the token in each race (one more revokes it). */
const CONSUMERS = 50
/** Connections of the PostgreSQL pool: as many units run at once, the others wait for a connection. */
const POOL = 21
const ROUNDS = 6

/** Waits until `n` units of work are blocked behind one that holds the token's row. */
class Blocked extends Context.Tag("test/Blocked")<
  Blocked,
  { readonly atLeast: (n: number) => Effect.Effect<void, unknown> }
>() {}

/** PostgreSQL: sessions of the test database waiting on a lock, seen from the admin database (the pool is busy). */
const pgBlocked = Layer.effect(
  Blocked,
  Effect.map(TestDatabase, (database) => ({
    atLeast: (n: number) =>
      Effect.gen(function* () {
        const sql = yield* PgClient.PgClient
        for (let attempt = 0; attempt < 400; attempt++) {
          const [row] = yield* sql<{ waiting: number }>`
            SELECT COUNT(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = ${database.name} AND wait_event_type = 'Lock'`
          if (row!.waiting >= n) return
          yield* Effect.sleep(Duration.millis(25))
        }
        return yield* Effect.fail(new Error(`fewer than ${n} units of work ever waited on the token's row`))
      }).pipe(Effect.provide(adminClient))
  }))
)

/** Memory: units of work take one permit in turn; a moment lets the forked ones queue up behind the holder. */
const memoryBlocked = Layer.succeed(Blocked, { atLeast: () => Effect.sleep(Duration.millis(50)) })

interface RaceBackend {
  readonly name: string
  /** How many units can wait on the token's row at once. */
  readonly waiting: number
  readonly layer: () => Layer.Layer<RepositoryAccess | Seed | Blocked, unknown>
}

const backends: ReadonlyArray<RaceBackend> = [
  {
    name: "postgres",
    // every pool connection but the holder's
    waiting: POOL - 1,
    layer: () =>
      Layer.mergeAll(RepositoryAccessPg.layer, SeedPg, pgBlocked).pipe(
        Layer.provideMerge(migratedDatabaseLayer({ maxConnections: POOL }))
      )
  },
  {
    name: "memory",
    waiting: CONSUMERS,
    layer: () => Layer.mergeAll(SeedMemory, memoryBlocked).pipe(Layer.provideMerge(RepositoryAccessMemory.layer))
  }
]

/** A session and the access token its refresh tokens are issued with. */
const setup = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const session = yield* seedOAuth2Session(yield* seedClient, { browserSession: yield* addBrowserSession(alice) })
  return { session, accessToken: yield* seedAccessToken(session, "mat_race") }
})

type Setup = { readonly session: OAuth2Session; readonly accessToken: AccessToken }

/** One unit of work of a rotation: issue a successor and consume `token` with it (the entity read before the race). */
const consumer = ({ accessToken, session }: Setup, token: RefreshToken, name: string) =>
  Effect.flatMap(RepositoryAccess, (repos) =>
    repos.transaction(
      Effect.gen(function* () {
        const successor = yield* repos.oauth2RefreshTokens.add(session, accessToken, name)
        yield* repos.oauth2RefreshTokens.consume(token, successor)
        return successor
      })
    )
  )

const revoker = (token: RefreshToken) =>
  Effect.flatMap(RepositoryAccess, (repos) => repos.transaction(repos.oauth2RefreshTokens.revoke(token)))

type Outcome = Either.Either<RefreshToken, DatabaseError>

/** Every loser failed with the guard's typed error, nothing else. */
const expectGuardRefusals = (outcomes: ReadonlyArray<Outcome>) => {
  const refusals = outcomes.filter(Either.isLeft).map((o) => o.left)
  expect(
    refusals.map((e) => [e._tag, (e as { expected?: number }).expected, (e as { actual?: number }).actual])
  ).toEqual(refusals.map(() => ["RowsAffectedError", 1, 0]))
}

/**
 * The token's final row is one consistent state and agrees with who won: revoked (no consumption won, no successor
 * kept), or consumed by one of the winners and never revoked (then every consumption won: each successor is kept).
 */
const expectConsistent = (token: RefreshToken, prefix: string, revoke: Outcome, consumers: ReadonlyArray<Outcome>) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const seed = yield* Seed
    expectGuardRefusals([revoke, ...consumers])
    const winners = consumers.filter(Either.isRight).map((o) => o.right.id)
    const stored = Option.getOrThrow(yield* repos.oauth2RefreshTokens.lookup(token.id))
    const kept = (yield* seed.dump("oauth2_refresh_tokens", "oauth2_refresh_token_id"))
      .filter((r) => String(r.refresh_token).startsWith(prefix))
      .map((r) => r.oauth2_refresh_token_id)
    if (Either.isRight(revoke)) {
      expect(winners).toEqual([])
      expect(stored.state).toEqual(revoke.right.state)
      expect(kept).toEqual([])
      return "revoked" as const
    }
    // a consumption fails only behind a revocation, so once the revocation lost every consumption won
    expect(winners.length).toBe(consumers.length)
    expect(stored.state._tag).toBe("Consumed")
    if (stored.state._tag !== "Consumed") return "consumed" as const
    expect(winners).toContain(Option.getOrThrow(stored.state.nextRefreshTokenId))
    expect([...kept].sort()).toEqual([...winners].sort())
    return "consumed" as const
  })

for (const backend of backends) {
  describe(`refresh-token rotation under concurrency [${backend.name}]`, () => {
    it.live(
      `${CONSUMERS} units consuming one token and one revoking it, the revoker at a different place each round: one consistent state every time`,
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const context = yield* setup
          const seen = new Set<string>()
          for (let round = 0; round < ROUNDS; round++) {
            const token = yield* repos.oauth2RefreshTokens.add(context.session, context.accessToken, `mar_${round}`)
            // first, last, then anywhere: both outcomes get their chance
            const revokerAt = round === 0 ? 0 : round === 1 ? CONSUMERS : yield* Random.nextIntBetween(0, CONSUMERS + 1)
            const units = Array.from({ length: CONSUMERS }, (_, i) =>
              consumer(context, token, `mar_${round}_${i}`)
            ) as Array<Effect.Effect<RefreshToken, DatabaseError, RepositoryAccess>>
            units.splice(revokerAt, 0, revoker(token))
            const outcomes = yield* Effect.all(units.map(Effect.either), { concurrency: "unbounded" })
            const revoke = outcomes[revokerAt]!
            const consumers = outcomes.filter((_, i) => i !== revokerAt)
            seen.add(yield* expectConsistent(token, `mar_${round}_`, revoke, consumers))
          }
          // the revoker that starts after the first consumers have committed always loses
          expect(seen).toContain("consumed")
        }).pipe(Effect.provide(backend.layer())),
      120_000
    )

    it.live(
      "a revocation that commits first fails every consumption waiting behind it and every later one",
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const blocked = yield* Blocked
          const context = yield* setup
          const token = yield* repos.oauth2RefreshTokens.add(context.session, context.accessToken, "mar_first")
          const revoked = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const holder = yield* Effect.fork(
            repos.transaction(
              Effect.gen(function* () {
                const result = yield* repos.oauth2RefreshTokens.revoke(token)
                yield* Deferred.succeed(revoked, undefined)
                yield* Deferred.await(release)
                return result
              })
            )
          )
          yield* Deferred.await(revoked)
          const consumers = yield* Effect.fork(
            Effect.all(
              Array.from({ length: CONSUMERS }, (_, i) => Effect.either(consumer(context, token, `mar_first_${i}`))),
              { concurrency: "unbounded" }
            )
          )
          yield* blocked.atLeast(Math.min(backend.waiting, CONSUMERS))
          yield* Deferred.succeed(release, undefined)
          const revoke = yield* Effect.either(Fiber.join(holder))
          const outcomes = yield* Fiber.join(consumers)
          expect(Either.isRight(revoke)).toBe(true)
          expect(outcomes.filter(Either.isRight)).toEqual([])
          expect(yield* expectConsistent(token, "mar_first_", revoke, outcomes)).toBe("revoked")
        }).pipe(Effect.provide(backend.layer())),
      120_000
    )

    it.live(
      "a consumption that commits first fails the revocation waiting behind it; the other consumptions still succeed",
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const blocked = yield* Blocked
          const context = yield* setup
          const token = yield* repos.oauth2RefreshTokens.add(context.session, context.accessToken, "mar_second")
          const consumed = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const holder = yield* Effect.fork(
            repos.transaction(
              Effect.gen(function* () {
                const successor = yield* repos.oauth2RefreshTokens.add(
                  context.session,
                  context.accessToken,
                  "mar_second_held"
                )
                yield* repos.oauth2RefreshTokens.consume(token, successor)
                yield* Deferred.succeed(consumed, undefined)
                yield* Deferred.await(release)
                return successor
              })
            )
          )
          yield* Deferred.await(consumed)
          const others = yield* Effect.fork(
            Effect.all(
              [
                Effect.either(revoker(token)),
                ...Array.from({ length: CONSUMERS - 1 }, (_, i) =>
                  Effect.either(consumer(context, token, `mar_second_${i}`))
                )
              ],
              { concurrency: "unbounded" }
            )
          )
          yield* blocked.atLeast(Math.min(backend.waiting, CONSUMERS))
          yield* Deferred.succeed(release, undefined)
          const first = yield* Effect.either(Fiber.join(holder))
          const [revoke, ...rest] = yield* Fiber.join(others)
          expect(Either.isLeft(revoke!)).toBe(true)
          const outcomes = [first, ...rest]
          expect(outcomes.filter(Either.isLeft)).toEqual([])
          expect(yield* expectConsistent(token, "mar_second_", revoke!, outcomes)).toBe("consumed")
        }).pipe(Effect.provide(backend.layer())),
      120_000
    )
  })
}
