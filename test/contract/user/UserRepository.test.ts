// Contract suite for UserRepository: every method, filter and pagination edge, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Deferred, Duration, Effect, Either, Fiber, Option, Random, Ref, TestClock } from "effect"
import { ulidTimestamp, type Ulid, generateUlid } from "../../../src/model/Ulid.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import type { UserFilter } from "../../../src/storage/user/UserRepository.js"
import { Seed, seedOAuth2Client } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike } from "../refusals.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))

/** Adds users one second apart, so their ids are in the given order. */
const addUsers = (...names: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { users } = yield* RepositoryAccess
    const added = []
    for (const name of names) {
      added.push(yield* users.add(name))
      yield* TestClock.adjust(Duration.seconds(1))
    }
    return added
  })

const listNames = (filter: UserFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { users } = yield* RepositoryAccess
    const page = yield* users.list(filter, pagination)
    return page.edges.map((e) => e.node.username)
  })

/** A client and a session row for the user, through the seeding helper (their repositories come later). */
const seedOAuth2Session = (userId: Ulid, clientId: Ulid, finished: boolean) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    yield* seed.insert("oauth2_sessions", {
      oauth2_session_id: yield* generateUlid,
      user_id: userId,
      user_session_id: null,
      oauth2_client_id: clientId,
      scope_list: ["openid"],
      created_at: new Date(EPOCH),
      finished_at: finished ? new Date(EPOCH) : null,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null,
      human_name: null
    })
  })

const seedClient = seedOAuth2Client

const seedCompatSession = (userId: Ulid, finished: boolean) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    yield* seed.insert("compat_sessions", {
      compat_session_id: yield* generateUlid,
      user_id: userId,
      device_id: null,
      human_name: null,
      user_session_id: null,
      created_at: new Date(EPOCH),
      finished_at: finished ? new Date(EPOCH) : null,
      is_synapse_admin: false,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null
    })
  })

contract("UserRepository", (test) => {
  test("add creates an active, non-admin, non-guest user whose id and createdAt come from Clock and Random", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      expect(alice.username).toBe("alice")
      expect(alice.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(alice.id)).toBe(EPOCH)
      expect(alice.sub).toBe(alice.id)
      expect(Option.isNone(alice.lockedAt) && Option.isNone(alice.deactivatedAt)).toBe(true)
      expect(alice.canRequestAdmin).toBe(false)
      expect(alice.isGuest).toBe(false)
      expect(alice.isValid).toBe(true)
      expect(yield* users.lookup(alice.id)).toEqual(Option.some(alice))
    }))

  test("ids are reproducible: the same clock and seed give the same id", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      // The suite seeds Random with 42 at EPOCH: a fresh generator with that seed, at that time, gives the same id.
      expect(alice.id).toBe(yield* Effect.withRandom(generateUlid, Random.make(42)))
    }))

  test("lookup of an unknown id is none", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      expect(yield* users.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("a duplicate username (exact case) is a RowsAffectedError and leaves the unit of work usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.users.add("alice")
          const duplicate = yield* Effect.flip(repos.users.add("alice"))
          expect(duplicate._tag).toBe("RowsAffectedError")
          expect(duplicate).toMatchObject({ expected: 1, actual: 0 })
          yield* repos.users.add("bob")
        })
      )
      expect(yield* repos.users.count({})).toBe(2)
    }))

  test("usernames differing only by case are distinct users", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      yield* addUsers("Alice", "alice")
      expect(yield* users.count({})).toBe(2)
    }))

  test("findByUsername is case-insensitive; among case variants only the exact one is returned", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [upper, lower, bob] = yield* addUsers("Alice", "alice", "bob")
      expect(Option.map(yield* users.findByUsername("BOB"), (u) => u.id)).toEqual(Option.some(bob!.id))
      expect(Option.map(yield* users.findByUsername("alice"), (u) => u.id)).toEqual(Option.some(lower!.id))
      expect(Option.map(yield* users.findByUsername("Alice"), (u) => u.id)).toEqual(Option.some(upper!.id))
      expect(yield* users.findByUsername("ALICE")).toEqual(Option.none())
      expect(yield* users.findByUsername("carol")).toEqual(Option.none())
    }))

  test("findByUsername and exists fold non-ASCII case as the database does", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [u] = yield* addUsers("ÉLODIE-ΣΟΦΊΑ")
      expect(Option.map(yield* users.findByUsername("élodie-σοφία"), (x) => x.id)).toEqual(Option.some(u!.id))
      expect(yield* users.exists("élodie-σοφία")).toBe(true)
      expect(yield* users.exists("ELODIE-ΣΟΦΊΑ")).toBe(false)
    }))

  test("text holding NUL is refused with a DriverError by lookups, filters and writes alike, and changes nothing", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      yield* addUsers("alice")
      const nul = "ali\u0000ce"
      for (const attempt of [
        users.findByUsername(nul),
        users.exists(nul),
        users.list({ search: nul }, first(10)),
        users.count({ search: nul }),
        users.add(nul)
      ]) {
        const error = yield* Effect.flip(attempt as Effect.Effect<unknown, { _tag: string; sqlState?: unknown }>)
        expect(error._tag).toBe("DriverError")
        expect(error.sqlState).toEqual(Option.some("22021"))
      }
      expect(yield* users.count({})).toBe(1)
    }))

  test("exists is case-insensitive", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      yield* addUsers("alice")
      expect(yield* users.exists("ALICE")).toBe(true)
      expect(yield* users.exists("alic")).toBe(false)
    }))

  test("lock stamps now and is idempotent; unlock clears it", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [alice] = yield* addUsers("alice")
      const lockedAt = EPOCH + 1000
      const locked = yield* users.lock(alice!)
      expect(locked.lockedAt).toEqual(Option.some(new Date(lockedAt)))
      expect(locked.isValid).toBe(false)
      expect(locked.isValidActor).toBe(true)
      yield* TestClock.adjust(Duration.minutes(5))
      const again = yield* users.lock(locked)
      expect(again).toBe(locked)
      expect(Option.map(yield* users.lookup(alice!.id), (u) => u.lockedAt)).toEqual(
        Option.some(Option.some(new Date(lockedAt)))
      )
      const unlocked = yield* users.unlock(again)
      expect(unlocked.lockedAt).toEqual(Option.none())
      expect(yield* users.unlock(unlocked)).toBe(unlocked)
      expect(Option.map(yield* users.lookup(alice!.id), (u) => u.lockedAt)).toEqual(Option.some(Option.none()))
    }))

  test("deactivate stamps now and is idempotent; reactivate clears it", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [alice] = yield* addUsers("alice")
      const deactivated = yield* users.deactivate(alice!)
      expect(deactivated.deactivatedAt).toEqual(Option.some(new Date(EPOCH + 1000)))
      expect(deactivated.isValidActor).toBe(false)
      expect(yield* users.deactivate(deactivated)).toBe(deactivated)
      const stored = Option.getOrThrow(yield* users.lookup(alice!.id))
      expect(stored.deactivatedAt).toEqual(deactivated.deactivatedAt)
      const reactivated = yield* users.reactivate(stored)
      expect(reactivated.deactivatedAt).toEqual(Option.none())
      expect(yield* users.reactivate(reactivated)).toBe(reactivated)
      expect(Option.getOrThrow(yield* users.lookup(alice!.id)).deactivatedAt).toEqual(Option.none())
    }))

  test("deactivate of a stale entity whose row is already deactivated is a RowsAffectedError; the stored instant stays", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [alice] = yield* addUsers("alice")
      const deactivated = yield* repos.users.deactivate(alice!)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* repos.transaction(
        Effect.gen(function* () {
          const stale = yield* Effect.flip(repos.users.deactivate(alice!))
          expect(stale).toMatchObject({ _tag: "RowsAffectedError", expected: 1, actual: 0 })
          // Not a driver error: the unit of work goes on.
          yield* repos.users.add("bob")
        })
      )
      expect(yield* repos.users.exists("bob")).toBe(true)
      expect(Option.getOrThrow(yield* repos.users.lookup(alice!.id)).deactivatedAt).toEqual(deactivated.deactivatedAt)
      // A stale entity whose row was reactivated meanwhile is deactivated again.
      yield* repos.users.reactivate(deactivated)
      const again = yield* repos.users.deactivate(alice!)
      expect(again.deactivatedAt).toEqual(Option.some(new Date(EPOCH + 6000)))
    }))

  test("a transition of a user that is not stored is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const ghost = yield* repos
        .transaction(
          Effect.gen(function* () {
            const u = yield* repos.users.add("ghost")
            return yield* Effect.fail({ rollback: u })
          })
        )
        .pipe(
          Effect.flip,
          Effect.map((e) => (e as { rollback: import("../../../src/model/user.js").User }).rollback)
        )
      expect(yield* Effect.flip(repos.users.lock(ghost))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 1,
        actual: 0
      })
      expect(yield* Effect.flip(repos.users.setCanRequestAdmin(ghost, true))).toMatchObject({
        _tag: "RowsAffectedError"
      })
    }))

  test("setCanRequestAdmin writes the flag", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [alice] = yield* addUsers("alice")
      const admin = yield* users.setCanRequestAdmin(alice!, true)
      expect(admin.canRequestAdmin).toBe(true)
      expect(Option.getOrThrow(yield* users.lookup(alice!.id)).canRequestAdmin).toBe(true)
      const back = yield* users.setCanRequestAdmin(admin, false)
      expect(Option.getOrThrow(yield* users.lookup(alice!.id)).canRequestAdmin).toBe(false)
      expect(back.canRequestAdmin).toBe(false)
    }))

  test("deleteUnsupportedThreepids deletes only that user's rows and counts them", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const seed = yield* Seed
      const [alice, bob] = yield* addUsers("alice", "bob")
      const threepid = (userId: Ulid, address: string) =>
        seed.insert("user_unsupported_third_party_ids", {
          user_id: userId,
          medium: "msisdn",
          address,
          created_at: new Date(EPOCH)
        })
      yield* threepid(alice!.id, "+4411")
      yield* threepid(alice!.id, "+4412")
      yield* threepid(bob!.id, "+4413")
      expect(yield* users.deleteUnsupportedThreepids(alice!)).toBe(2)
      expect(yield* users.deleteUnsupportedThreepids(alice!)).toBe(0)
      expect(yield* users.deleteUnsupportedThreepids(bob!)).toBe(1)
    }))

  test("list pages forward and backward in id order, at the edges", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const empty = yield* users.list({}, first(3))
      expect(empty.edges).toEqual([])
      expect([empty.hasNextPage, empty.hasPreviousPage]).toEqual([false, false])

      const all = yield* addUsers("u1", "u2", "u3", "u4", "u5")
      const names = (p: { edges: ReadonlyArray<{ node: { username: string } }> }) => p.edges.map((e) => e.node.username)

      const p1 = yield* users.list({}, first(2))
      expect(names(p1)).toEqual(["u1", "u2"])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])

      const p2 = yield* users.list({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))
      expect(names(p2)).toEqual(["u3", "u4"])
      expect([p2.hasNextPage, p2.hasPreviousPage]).toEqual([true, false])
      const p3 = yield* users.list({}, first(2).pipe(Pagination.after(p2.edges[1]!.cursor)))
      expect(names(p3)).toEqual(["u5"])
      expect(p3.hasNextPage).toBe(false)

      const exact = yield* users.list({}, first(5))
      expect(names(exact)).toHaveLength(5)
      expect(exact.hasNextPage).toBe(false)
      const oneMore = yield* users.list({}, first(4))
      expect(oneMore.hasNextPage).toBe(true)

      const back = yield* users.list({}, last(2))
      expect(names(back)).toEqual(["u4", "u5"])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      const backBefore = yield* users.list({}, last(2).pipe(Pagination.before(all[3]!.id)))
      expect(names(backBefore)).toEqual(["u2", "u3"])
      expect(backBefore.hasPreviousPage).toBe(true)
      const backAll = yield* users.list({}, last(5))
      expect(backAll.hasPreviousPage).toBe(false)

      const between = yield* users.list({}, first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id)))
      expect(names(between)).toEqual(["u2", "u3", "u4"])

      const zero = yield* users.list({}, first(0))
      expect(zero.edges).toEqual([])
      expect(zero.hasNextPage).toBe(true)
    }))

  test("state filters: active, locked, deactivated (a locked and deactivated user is in both)", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [, locked, deactivated, both] = yield* addUsers("active", "locked", "deactivated", "both")
      yield* users.lock(locked!)
      yield* users.deactivate(deactivated!)
      yield* users.lock(both!).pipe(Effect.flatMap(users.deactivate))
      expect(yield* listNames({ state: "active" })).toEqual(["active"])
      expect(yield* listNames({ state: "locked" })).toEqual(["locked", "both"])
      expect(yield* listNames({ state: "deactivated" })).toEqual(["deactivated", "both"])
      expect(yield* users.count({ state: "locked" })).toBe(2)
      expect(yield* users.count({})).toBe(4)
    }))

  test("canRequestAdmin and isGuest filters, alone and combined with state", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const seed = yield* Seed
      const [a, b] = yield* addUsers("admin", "plain")
      yield* users.setCanRequestAdmin(a!, true)
      yield* seed.insert("users", {
        user_id: yield* generateUlid,
        username: "guest",
        created_at: new Date(EPOCH + 10_000),
        locked_at: null,
        deactivated_at: null,
        can_request_admin: false,
        is_guest: true
      })
      yield* users.lock(b!)
      expect(yield* listNames({ canRequestAdmin: true })).toEqual(["admin"])
      expect(yield* listNames({ canRequestAdmin: false })).toEqual(["plain", "guest"])
      expect(yield* listNames({ isGuest: true })).toEqual(["guest"])
      expect(yield* listNames({ isGuest: false, state: "active" })).toEqual(["admin"])
      expect(yield* users.count({ canRequestAdmin: false, state: "active" })).toBe(1)
    }))

  test("search is a case-insensitive substring match that takes %, _ and \\ literally", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      yield* addUsers("Alice", "malice", "bob", "100%", "a_b", "axb", "back\\slash", "Ärger")
      expect(yield* listNames({ search: "LIC" })).toEqual(["Alice", "malice"])
      expect(yield* listNames({ search: "%" })).toEqual(["100%"])
      expect(yield* listNames({ search: "_" })).toEqual(["a_b"])
      expect(yield* listNames({ search: "\\" })).toEqual(["back\\slash"])
      expect(yield* listNames({ search: "ärg" })).toEqual(["Ärger"])
      expect(yield* listNames({ search: "lic", state: "locked" })).toEqual([])
      expect(yield* users.count({ search: "b" })).toBe(4)
    }))

  test("OAuth2 and compat session criteria look at unfinished sessions of the user", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [active, finishedOnly, compat, none] = yield* addUsers("oauth-active", "oauth-finished", "compat", "none")
      const c1 = yield* seedClient
      const c2 = yield* seedClient
      yield* seedOAuth2Session(active!.id, c1, false)
      yield* seedOAuth2Session(finishedOnly!.id, c1, true)
      yield* seedOAuth2Session(finishedOnly!.id, c2, true)
      yield* seedCompatSession(compat!.id, false)
      yield* seedCompatSession(none!.id, true)

      expect(yield* listNames({ hasActiveOAuth2Session: true })).toEqual(["oauth-active"])
      expect(yield* listNames({ hasActiveOAuth2Session: false })).toEqual(["oauth-finished", "compat", "none"])
      expect(yield* listNames({ activeOAuth2SessionForAnyOfClients: [c1] })).toEqual(["oauth-active"])
      expect(yield* listNames({ activeOAuth2SessionForAnyOfClients: [c2] })).toEqual([])
      expect(yield* listNames({ activeOAuth2SessionForAnyOfClients: [c2, c1] })).toEqual(["oauth-active"])
      expect(yield* listNames({ activeOAuth2SessionForAnyOfClients: [] })).toEqual([])
      expect(yield* listNames({ hasActiveCompatSession: true })).toEqual(["compat"])
      expect(yield* listNames({ hasActiveCompatSession: false, hasActiveOAuth2Session: false })).toEqual([
        "oauth-finished",
        "none"
      ])
      expect(yield* users.count({ hasActiveCompatSession: false })).toBe(3)
    }))

  test.live(
    "acquireLockForSync excludes a second unit of work on the same user until the first ends",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const alice = yield* repos.users.add("alice")
        const bob = yield* repos.users.add("bob")
        const held = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const events = yield* Ref.make<ReadonlyArray<string>>([])
        const log = (e: string) => Ref.update(events, (l) => [...l, e])

        const first = yield* repos
          .transaction(
            Effect.gen(function* () {
              yield* repos.users.acquireLockForSync(alice)
              yield* Deferred.succeed(held, undefined)
              yield* Deferred.await(release)
              yield* log("first ends")
            })
          )
          .pipe(Effect.fork)
        yield* Deferred.await(held)
        const second = yield* repos
          .transaction(Effect.zipRight(repos.users.acquireLockForSync(alice), log("second holds")))
          .pipe(Effect.fork)
        yield* Effect.sleep(Duration.millis(300))
        expect(yield* Ref.get(events)).toEqual([])
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        expect(yield* Ref.get(events)).toEqual(["first ends", "second holds"])
        // Another user's lock is independent of alice's (PostgreSQL: a different key).
        yield* repos.transaction(repos.users.acquireLockForSync(bob))
      }),
    20_000
  )
})

// Regressions found by test/reliability (malformed ids): memory matched nothing where PostgreSQL refuses the value,
// and in filters PostgreSQL read some malformed ids as another row's.
contract("UserRepository: malformed ids (regressions)", (test) => {
  test("lookup of a value that is not a ULID is an InvalidOperationError, and the unit of work stays usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      yield* repos.transaction(
        Effect.gen(function* () {
          const alice = yield* repos.users.add("alice")
          for (const bad of ["not-a-ulid", alice.id.toLowerCase(), ""]) {
            expect((yield* Effect.flip(repos.users.lookup(bad as Ulid)))._tag).toBe("InvalidOperationError")
          }
          yield* repos.users.add("bob")
        })
      )
      expect(yield* repos.users.count({})).toBe(2)
    }))

  test("a malformed cursor is an InvalidOperationError; a lowercase cursor reads as its canonical form", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const [a, b] = yield* addUsers("alice", "bob")
      const error = yield* Effect.flip(users.list({}, first(10).withAfter("not-a-ulid" as Ulid)))
      expect(error._tag).toBe("InvalidOperationError")
      const page = yield* users.list({}, first(10).withAfter(a!.id.toLowerCase() as Ulid))
      expect(page.nodes).toEqual([b])
    }))

  test("a malformed client id in activeOAuth2SessionForAnyOfClients is an InvalidOperationError from list and count; the unit of work stays usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [alice] = yield* addUsers("alice")
      const client = yield* seedClient
      yield* seedOAuth2Session(alice!.id, client, false)
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const bad of malformedIdsLike(client)) {
            for (const clients of [[bad], [client, bad]]) {
              const filter: UserFilter = { activeOAuth2SessionForAnyOfClients: clients }
              yield* expectEachToFail("InvalidOperationError", [
                [`list ${JSON.stringify(clients)}`, repos.users.list(filter, first(10))],
                [`count ${JSON.stringify(clients)}`, repos.users.count(filter)]
              ])
            }
          }
          yield* repos.users.add("bob")
        })
      )
      expect(yield* listNames({ activeOAuth2SessionForAnyOfClients: [client] })).toEqual(["alice"])
      expect(yield* listNames({})).toEqual(["alice", "bob"])
    }))
})

// Regression found by the backend-equivalence fuzzer: memory wrote both state columns from a stale entity.
contract("UserRepository: transitions from a stale entity (regression)", (test) => {
  test("lock writes only locked_at: a stale deactivatedAt in the entity passed in is not stored", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      // The deactivation is rolled back, so the caller holds an entity the database never had.
      let stale = alice
      yield* Effect.ignore(
        repos.transaction(
          Effect.flatMap(repos.users.deactivate(alice), (u) => {
            stale = u
            return Effect.fail("rollback" as const)
          })
        )
      )
      expect(Option.isSome(stale.deactivatedAt)).toBe(true)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* repos.users.lock(stale)
      const stored = Option.getOrThrow(yield* repos.users.lookup(alice.id))
      expect(Option.isSome(stored.lockedAt)).toBe(true)
      expect(stored.deactivatedAt).toEqual(Option.none())
    }))
})
