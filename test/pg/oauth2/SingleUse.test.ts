// Single use under concurrency, on a real server and in memory: of 50 units of work racing to fulfil, reject or exchange one grant, exactly one wins and every other gets a RowsAffectedError, round after round.
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Either, Layer, Option, Random, Ref } from "effect"
import * as RepositoryAccessMemory from "../../../src/memory/RepositoryAccessMemory.js"
import { AuthorizationCode } from "../../../src/model/oauth2/authorizationGrant.js"
import type { Client } from "../../../src/model/oauth2/client.js"
import type { BrowserSession, User } from "../../../src/model/user.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import {
  addBrowserSession,
  addUser,
  newAuthorizationGrant,
  newDeviceCodeGrant,
  seedClient,
  seedOAuth2Session
} from "../../contract/oauth2/fixtures.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { Seed, SeedMemory, SeedPg } from "../../support/seed.js"

/** Units of work racing for the same grant in each round. */
const RACERS = 50
const ROUNDS = 4

interface RaceBackend {
  readonly name: string
  /**
   * Where the racers wait for each other. PostgreSQL: inside their units of work, after the writes that prepare the
   * transition, so that all of them hold an open transaction when the guarded UPDATEs are sent (the pool has a
   * connection for each). Memory: before their units, which then run one after another (the store serialises units
   * of work; a racer waiting inside one would hold the permit the others need).
   */
  readonly barrierInside: boolean
  readonly layer: () => Layer.Layer<RepositoryAccess | Seed, unknown>
}

const backends: ReadonlyArray<RaceBackend> = [
  {
    name: "postgres",
    barrierInside: true,
    layer: () =>
      Layer.mergeAll(RepositoryAccessPg.layer, SeedPg).pipe(
        Layer.provideMerge(migratedDatabaseLayer({ maxConnections: RACERS }))
      )
  },
  {
    name: "memory",
    barrierInside: false,
    layer: () => SeedMemory.pipe(Layer.provideMerge(RepositoryAccessMemory.layer))
  }
]

/** Opens once `n` racers have arrived; a racer that never arrives fails the wait instead of hanging it. */
const makeBarrier = (n: number) =>
  Effect.gen(function* () {
    const arrived = yield* Ref.make(0)
    const open = yield* Deferred.make<void>()
    const arrive = Effect.flatMap(
      Ref.updateAndGet(arrived, (k) => k + 1),
      (k) => (k >= n ? Deferred.succeed(open, undefined) : Effect.void)
    )
    const wait = Deferred.await(open).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(30),
        onTimeout: () => new Error(`fewer than ${n} racers reached the barrier`)
      }),
      Effect.orDie
    )
    return { arrive, wait, arrived: Ref.get(arrived) }
  })

/**
 * Runs `RACERS` units of work at once. Racer `i` runs `prepare(i)` in its unit (what it writes there is kept only if
 * it wins) and then `fire` with what it prepared; returns every unit's outcome, in racer order.
 */
const race = <P, A>(
  backend: RaceBackend,
  prepare: (i: number) => Effect.Effect<P, unknown, RepositoryAccess | Seed>,
  fire: (prepared: P, i: number) => Effect.Effect<A, DatabaseError, RepositoryAccess>
) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const barrier = yield* makeBarrier(RACERS)
    const racer = (i: number) =>
      backend.barrierInside
        ? repos.transaction(
            Effect.gen(function* () {
              const prepared = yield* Effect.ensuring(prepare(i), barrier.arrive)
              yield* barrier.wait
              return yield* fire(prepared, i)
            })
          )
        : Effect.zipRight(
            Effect.zipRight(barrier.arrive, barrier.wait),
            repos.transaction(Effect.flatMap(prepare(i), (prepared) => fire(prepared, i)))
          )
    const outcomes = yield* Effect.forEach(
      Array.from({ length: RACERS }, (_, i) => i),
      (i) => Effect.either(racer(i)),
      { concurrency: "unbounded" }
    )
    expect(yield* barrier.arrived).toBe(RACERS)
    return outcomes
  })

/** Exactly one unit won; every other failed with the guard's typed error. Returns the winner's index and value. */
const oneWinner = <A>(outcomes: ReadonlyArray<Either.Either<A, unknown>>) => {
  const winners = outcomes.flatMap((o, i) => (Either.isRight(o) ? [[i, o.right] as const] : []))
  const losers = outcomes
    .filter(Either.isLeft)
    .map((o) => o.left as { _tag?: string; expected?: number; actual?: number })
  expect(winners.length).toBe(1)
  expect(losers.map((e) => [e._tag, e.expected, e.actual])).toEqual(losers.map(() => ["RowsAffectedError", 1, 0]))
  return winners[0]!
}

/** A user, a browser session and a client the rounds share. */
const setup = Effect.gen(function* () {
  const user = yield* addUser("alice")
  const browserSession = yield* addBrowserSession(user)
  const client = yield* seedClient
  return { user, browserSession, client }
})

type World = { readonly user: User; readonly browserSession: BrowserSession; readonly client: Client }

const authorizationRequest = (client: Client, round: number) =>
  Effect.flatMap(RepositoryAccess, (repos) =>
    repos.oauth2AuthorizationGrants.add(
      newAuthorizationGrant(client, {
        code: Option.some(new AuthorizationCode({ code: `race-code-${round}`, pkce: Option.none() }))
      })
    )
  )

/** A pending device-code grant whose codes are `device-race-<round>` and `USER-race-<round>`. */
const deviceRequest = (client: Client, round: number) =>
  Effect.flatMap(RepositoryAccess, (repos) =>
    repos.oauth2DeviceCodeGrants.add(newDeviceCodeGrant(client, `race-${round}`))
  )

/** Each racer's own browser session, made in its unit (only the winner's is kept). */
const ownBrowserSession = (world: World) => () => addBrowserSession(world.user)

/** Each racer's own OAuth2 session, seeded in its unit (only the winner's is kept). */
const ownSession = (world: World) => () => seedOAuth2Session(world.client, { browserSession: world.browserSession })

const counts = Effect.gen(function* () {
  const seed = yield* Seed
  return { browserSessions: yield* seed.count("user_sessions"), sessions: yield* seed.count("oauth2_sessions") }
})

for (const backend of backends) {
  describe(`single-use grant transitions under concurrency [${backend.name}]`, () => {
    const test = (name: string, body: () => Effect.Effect<unknown, unknown, RepositoryAccess | Seed>) =>
      it.live(name, () => body().pipe(Effect.withRandom(Random.make(42)), Effect.provide(backend.layer())), 120_000)

    test(`authorization grant: ${RACERS} units fulfil one pending grant, each with its own browser session`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const world = yield* setup
        for (let round = 0; round < ROUNDS; round++) {
          const grant = yield* authorizationRequest(world.client, round)
          const before = yield* counts
          const outcomes = yield* race(backend, ownBrowserSession(world), (bs) =>
            Effect.map(repos.oauth2AuthorizationGrants.fulfill(bs, grant), (fulfilled) => ({ fulfilled, bs }))
          )
          const [, won] = oneWinner(outcomes)
          expect(won.fulfilled.stage).toMatchObject({ _tag: "Fulfilled", browserSessionId: won.bs.id })
          expect(yield* repos.oauth2AuthorizationGrants.lookup(grant.id)).toEqual(Option.some(won.fulfilled))
          // the losers' units were rolled back with the browser sessions they made
          expect(yield* counts).toEqual({ ...before, browserSessions: before.browserSessions + 1 })
        }
      }))

    test(`authorization grant: ${RACERS} units exchange one fulfilled code, each for the session it creates`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const world = yield* setup
        for (let round = 0; round < ROUNDS; round++) {
          const fulfilled = yield* repos.oauth2AuthorizationGrants.fulfill(
            world.browserSession,
            yield* authorizationRequest(world.client, round)
          )
          const before = yield* counts
          const outcomes = yield* race(backend, ownSession(world), (session) =>
            Effect.map(repos.oauth2AuthorizationGrants.exchange(fulfilled, session), (exchanged) => ({
              exchanged,
              session
            }))
          )
          const [, won] = oneWinner(outcomes)
          expect(won.exchanged.stage).toMatchObject({ _tag: "Exchanged", sessionId: won.session.id })
          expect(yield* repos.oauth2AuthorizationGrants.findByCode(`race-code-${round}`)).toEqual(
            Option.some(won.exchanged)
          )
          // one session was issued for the code, not one per racer
          expect(yield* counts).toEqual({ ...before, sessions: before.sessions + 1 })
        }
      }))

    test(`device-code grant: ${RACERS} units fulfil one pending grant, each with its own browser session and locale`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const world = yield* setup
        for (let round = 0; round < ROUNDS; round++) {
          const grant = yield* deviceRequest(world.client, round)
          const before = yield* counts
          const outcomes = yield* race(backend, ownBrowserSession(world), (bs, i) =>
            repos.oauth2DeviceCodeGrants.fulfill(grant, bs, Option.some(`locale-${i}`))
          )
          const [i, won] = oneWinner(outcomes)
          expect(won.state._tag).toBe("Fulfilled")
          expect(won.locale).toEqual(Option.some(`locale-${i}`))
          expect(yield* repos.oauth2DeviceCodeGrants.lookup(grant.id)).toEqual(Option.some(won))
          expect(yield* counts).toEqual({ ...before, browserSessions: before.browserSessions + 1 })
        }
      }))

    test(`device-code grant: ${RACERS} units reject one pending grant`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const world = yield* setup
        for (let round = 0; round < ROUNDS; round++) {
          const grant = yield* deviceRequest(world.client, round)
          const outcomes = yield* race(backend, ownBrowserSession(world), (bs) =>
            Effect.map(repos.oauth2DeviceCodeGrants.reject(grant, bs), (rejected) => ({ rejected, bs }))
          )
          const [, won] = oneWinner(outcomes)
          expect(won.rejected.state).toMatchObject({ _tag: "Rejected", browserSessionId: won.bs.id })
          expect(yield* repos.oauth2DeviceCodeGrants.findByUserCode(`USER-race-${round}`)).toEqual(
            Option.some(won.rejected)
          )
        }
      }))

    test(`device-code grant: ${RACERS} units, half fulfilling and half rejecting one pending grant: one decision`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const world = yield* setup
        for (let round = 0; round < ROUNDS * 2; round++) {
          const grant = yield* deviceRequest(world.client, round)
          const outcomes = yield* race(backend, ownBrowserSession(world), (bs, i) =>
            i % 2 === 0
              ? repos.oauth2DeviceCodeGrants.fulfill(grant, bs, Option.some("en"))
              : repos.oauth2DeviceCodeGrants.reject(grant, bs)
          )
          const [i, won] = oneWinner(outcomes)
          expect(won.state._tag).toBe(i % 2 === 0 ? "Fulfilled" : "Rejected")
          expect(yield* repos.oauth2DeviceCodeGrants.lookup(grant.id)).toEqual(Option.some(won))
        }
      }))

    test(`device-code grant: ${RACERS} units exchange one fulfilled grant, each for the session it creates`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const world = yield* setup
        for (let round = 0; round < ROUNDS; round++) {
          const fulfilled = yield* repos.oauth2DeviceCodeGrants.fulfill(
            yield* deviceRequest(world.client, round),
            world.browserSession,
            Option.none()
          )
          const before = yield* counts
          const outcomes = yield* race(backend, ownSession(world), (session) =>
            Effect.map(repos.oauth2DeviceCodeGrants.exchange(fulfilled, session), (exchanged) => ({
              exchanged,
              session
            }))
          )
          const [, won] = oneWinner(outcomes)
          expect(won.exchanged.state).toMatchObject({ _tag: "Exchanged", sessionId: won.session.id })
          expect(yield* repos.oauth2DeviceCodeGrants.findByDeviceCode(`device-race-${round}`)).toEqual(
            Option.some(won.exchanged)
          )
          expect(yield* counts).toEqual({ ...before, sessions: before.sessions + 1 })
        }
      }))
  })
}
