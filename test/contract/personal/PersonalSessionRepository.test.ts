// Contract suite for PersonalSessionRepository: owners and actors, revocation with the session's tokens, bulk revocation, every filter criterion (the expiry ones on the unrevoked token), pages pairing sessions with that token, and batched activity, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { Revoked, Valid } from "../../../src/model/common.js"
import { InvalidTransition } from "../../../src/model/errors.js"
import {
  ownedByOAuth2Client,
  ownedByUser,
  type PersonalAccessToken,
  type PersonalSession,
  PersonalSessionOwnerOAuth2Client,
  PersonalSessionOwnerUser
} from "../../../src/model/personal.js"
import type { User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { type ActivityRecord, Device, type IpAddress, type Scope } from "../../../src/model/values.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { PersonalSessionFilter } from "../../../src/storage/personal/PersonalSessionRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import { addUser, rolledBack, scope, seedClient } from "../oauth2/fixtures.js"
import { addPersonalSession, dumpPersonal, expiresIn, seedPersonalSessionRow } from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const ip = (text: string) => text as IpAddress

const STABLE = "urn:matrix:client:device:"
const UNSTABLE = "urn:matrix:org.matrix.msc2967.client:device:"

const lookupOrThrow = (id: Ulid) =>
  Effect.gen(function* () {
    const { personalSessions } = yield* RepositoryAccess
    return Option.getOrThrow(yield* personalSessions.lookup(id))
  })

const tokenOrThrow = (id: Ulid) =>
  Effect.gen(function* () {
    const { personalAccessTokens } = yield* RepositoryAccess
    return Option.getOrThrow(yield* personalAccessTokens.lookup(id))
  })

/** Sessions one second apart (ids in creation order), each known by a label. */
const makeLabels = () => {
  const names = new Map<Ulid, string>()
  const add = (label: string, actor: User, options: Parameters<typeof addPersonalSession>[1] = {}) =>
    Effect.tap(addPersonalSession(actor, { name: label, ...options }), (session) =>
      Effect.sync(() => names.set(session.id, label))
    )
  /** The labels `list` returns in order; `count` must agree whenever the page holds every match (storage rule: Filters). */
  const of = (filter: PersonalSessionFilter, pagination = first(100)) =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const page = yield* personalSessions.list(filter, pagination)
      const labels = page.edges.map((e) => names.get(e.node[0].id) ?? "?")
      const whole =
        !page.hasNextPage &&
        !page.hasPreviousPage &&
        Option.isNone(pagination.after) &&
        Option.isNone(pagination.before)
      if (whole) expect(yield* personalSessions.count(filter)).toBe(labels.length)
      return labels
    })
  return { add, of }
}

contract("PersonalSessionRepository", (test) => {
  test("add creates a valid session owned by a user and acting as another, with id and createdAt from Clock and Random; lookup reads it back", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const admin = yield* addUser("admin")
      const alice = yield* addUser("alice")
      const session = yield* personalSessions.add(
        ownedByUser(admin),
        alice,
        "alice's bot — ünïcødé",
        scope("urn:matrix:client:api:*", "openid", `${STABLE}BOT`, "openid")
      )
      expect(ulidTimestamp(session.id)).toBe(EPOCH)
      expect(session.createdAt).toEqual(new Date(EPOCH))
      expect(session.state).toEqual(new Valid())
      expect(session.isValid).toBe(true)
      expect(session.owner).toEqual(new PersonalSessionOwnerUser({ userId: admin.id }))
      expect(session.actorUserId).toBe(alice.id)
      expect(session.humanName).toBe("alice's bot — ünïcødé")
      expect(session.scope).toEqual(["openid", "urn:matrix:client:api:*", `${STABLE}BOT`])
      expect([session.lastActiveAt, session.lastActiveIp]).toEqual([Option.none(), Option.none()])
      expect(yield* personalSessions.lookup(session.id)).toEqual(Option.some(session))

      const own = yield* personalSessions.add(ownedByUser(alice), alice, "", scope())
      expect([own.owner, own.actorUserId, own.humanName, own.scope]).toEqual([
        new PersonalSessionOwnerUser({ userId: alice.id }),
        alice.id,
        "",
        []
      ])
      expect(yield* personalSessions.lookup(own.id)).toEqual(Option.some(own))
    }))

  test("add with an OAuth2 client as owner (client credentials); the owner columns hold exactly one of the two", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const session = yield* personalSessions.add(ownedByOAuth2Client(client), alice, "ci", scope("openid"))
      expect(session.owner).toEqual(new PersonalSessionOwnerOAuth2Client({ clientId: client.id }))
      expect(session.actorUserId).toBe(alice.id)
      expect(yield* personalSessions.lookup(session.id)).toEqual(Option.some(session))
      const byUser = yield* personalSessions.add(ownedByUser(alice), alice, "mine", scope("openid"))
      const rows = yield* seed.dump("personal_sessions", "personal_session_id")
      expect(rows.map((r) => [r.personal_session_id, r.owner_user_id, r.owner_oauth2_client_id])).toEqual([
        [session.id, null, client.id],
        [byUser.id, alice.id, null]
      ])
    }))

  test("lookup of an unknown id is none; a malformed id is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const session = yield* addPersonalSession(yield* addUser("alice"))
      expect(yield* personalSessions.lookup(yield* generateUlid)).toEqual(Option.none())
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(session.id).map((id) => [`lookup ${id}`, personalSessions.lookup(id)] as const)
      )
    }))

  test("add with an owner user, owner client or actor that is not stored is a DriverError naming the foreign key; nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const ghost = yield* rolledBack(repos.users.add("ghost"))
      const ghostClient = { ...client, id: yield* generateUlid }
      const attempts = [
        [repos.personalSessions.add(ownedByUser(ghost), alice, "x", scope()), "personal_sessions_owner_user_id_fkey"],
        [
          repos.personalSessions.add(ownedByOAuth2Client(ghostClient), alice, "x", scope()),
          "personal_sessions_owner_oauth2_client_id_fkey"
        ],
        [repos.personalSessions.add(ownedByUser(alice), ghost, "x", scope()), "personal_sessions_actor_user_id_fkey"],
        // both wrong: the owner's key is checked first, on both backends
        [repos.personalSessions.add(ownedByUser(ghost), ghost, "x", scope()), "personal_sessions_owner_user_id_fkey"]
      ] as const
      for (const [attempt, constraint] of attempts) {
        expect(yield* Effect.flip(attempt)).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("23503"),
          constraint: Option.some(constraint)
        })
      }
      expect(yield* repos.personalSessions.count({})).toBe(0)
    }))

  test("add refuses a bad scope, a name with an unpaired surrogate and malformed owner or actor ids (InvalidOperationError, the unit goes on); NUL in the name is a DriverError (22021)", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const forgedActor = { ...alice, id: `${alice.id}0` } as User
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFailWithoutWriting(dumpPersonal, "InvalidOperationError", [
            ["space", repos.personalSessions.add(ownedByUser(alice), alice, "x", ["with space"] as unknown as Scope)],
            ["NUL token", repos.personalSessions.add(ownedByUser(alice), alice, "x", ["a\u0000"] as unknown as Scope)],
            ["surrogate", repos.personalSessions.add(ownedByUser(alice), alice, "bad\uD800", scope())],
            ["actor id", repos.personalSessions.add(ownedByUser(alice), forgedActor, "x", scope())],
            [
              "owner id",
              repos.personalSessions.add(
                { _tag: "User", userId: "not-a-ulid" } as unknown as PersonalSessionOwnerUser,
                alice,
                "x",
                scope()
              )
            ]
          ])
          yield* repos.personalSessions.add(ownedByUser(alice), alice, "fine", scope())
        })
      )
      expect(yield* repos.personalSessions.count({})).toBe(1)
      expect(
        yield* Effect.flip(repos.personalSessions.add(ownedByUser(alice), alice, "bad\u0000name", scope()))
      ).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      expect(yield* repos.personalSessions.count({})).toBe(1)
    }))

  test("revoke moves Valid to Revoked at now and revokes the session's unrevoked token at the same instant; other tokens and sessions are untouched", () =>
    Effect.gen(function* () {
      const { personalAccessTokens, personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* addPersonalSession(alice)
      const other = yield* addPersonalSession(alice)
      const old = yield* personalAccessTokens.add(session, "mpt_old", Option.none())
      yield* TestClock.adjust(Duration.seconds(1))
      const oldRevoked = yield* personalAccessTokens.revoke(old) // at(3)
      const current = yield* personalAccessTokens.add(session, "mpt_current", expiresIn(600))
      const otherToken = yield* personalAccessTokens.add(other, "mpt_other", Option.none())
      yield* TestClock.adjust(Duration.seconds(7)) // now at(10)

      const revoked = yield* personalSessions.revoke(session)
      expect(revoked.state).toEqual(new Revoked({ revokedAt: at(10) }))
      expect(revoked.isRevoked).toBe(true)
      expect({ ...revoked, state: session.state }).toEqual({ ...session })
      expect(yield* lookupOrThrow(session.id)).toEqual(revoked)
      expect((yield* tokenOrThrow(current.id)).revokedAt).toEqual(Option.some(at(10)))
      expect(yield* tokenOrThrow(old.id)).toEqual(oldRevoked)
      expect(oldRevoked.revokedAt).toEqual(Option.some(at(3)))
      expect(yield* personalAccessTokens.findActiveForSession(session)).toEqual(Option.none())
      expect(yield* tokenOrThrow(otherToken.id)).toEqual(otherToken)
      expect((yield* lookupOrThrow(other.id)).state).toEqual(new Valid())
      // a session without a token is revoked alone (its add moved the clock on a second)
      expect((yield* personalSessions.revoke(yield* addPersonalSession(alice))).state).toEqual(
        new Revoked({ revokedAt: at(11) })
      )
    }))

  test("revoke of a revoked session is refused (InvalidTransition) and writes nothing", () =>
    Effect.gen(function* () {
      const { personalAccessTokens, personalSessions } = yield* RepositoryAccess
      const session = yield* addPersonalSession(yield* addUser("alice"))
      const revoked = yield* personalSessions.revoke(session)
      yield* TestClock.adjust(Duration.seconds(5))
      const refused = yield* Effect.flip(personalSessions.revoke(revoked))
      expect(refused._tag).toBe("InvalidOperationError")
      const cause = Option.getOrUndefined((refused as { cause: Option.Option<unknown> }).cause)
      expect(cause).toBeInstanceOf(InvalidTransition)
      expect(cause).toMatchObject({ entity: "PersonalSession", from: "Revoked", transition: "revoke" })
      expect(yield* lookupOrThrow(session.id)).toEqual(revoked)
      // a token added to the revoked session (the session's state is not checked, as in MAS) stays unrevoked
      const token = yield* personalAccessTokens.add(revoked, "mpt_late", Option.none())
      expect(yield* Effect.flip(personalSessions.revoke(revoked))).toMatchObject({ _tag: "InvalidOperationError" })
      expect(yield* tokenOrThrow(token.id)).toEqual(token)
    }))

  test("revoke of a stale session revoked meanwhile, or not stored, is a RowsAffectedError that revokes no token", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* addPersonalSession(alice)
      const token = yield* repos.personalAccessTokens.add(session, "mpt_kept", Option.none())
      // revokeBulk stamps the session and leaves its token as it is
      expect(yield* repos.personalSessions.revokeBulk({ actorUser: alice.id })).toBe(1)
      yield* TestClock.adjust(Duration.seconds(5))
      // `session` still says Valid: the guarded statement touches neither the session nor the token
      expect(yield* Effect.flip(repos.personalSessions.revoke(session))).toMatchObject(noRowAffected)
      expect((yield* lookupOrThrow(session.id)).state).toEqual(new Revoked({ revokedAt: at(1) }))
      expect(yield* tokenOrThrow(token.id)).toEqual(token)

      const ghost = yield* rolledBack(addPersonalSession(alice))
      expect(yield* Effect.flip(repos.personalSessions.revoke(ghost))).toMatchObject(noRowAffected)
      expect(yield* repos.personalSessions.lookup(ghost.id)).toEqual(Option.none())
      const forged = { ...session, id: `${session.id}0` } as PersonalSession
      expect(yield* Effect.flip(repos.personalSessions.revoke(forged))).toMatchObject({
        _tag: "InvalidOperationError"
      })
    }))

  test("revoke in a unit of work that fails leaves the session and its token unrevoked", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* addPersonalSession(yield* addUser("alice"))
      const token = yield* repos.personalAccessTokens.add(session, "mpt_t", Option.none())
      const before = yield* dumpPersonal
      const result = yield* repos
        .transaction(Effect.zipRight(repos.personalSessions.revoke(session), Effect.fail("cancel" as const)))
        .pipe(Effect.flip)
      expect(result).toBe("cancel")
      expect(yield* dumpPersonal).toEqual(before)
      expect(yield* repos.personalAccessTokens.findActiveForSession(session)).toEqual(Option.some(token))
    }))

  test("revokeBulk stamps every matching session with now and counts them; revoked ones are re-stamped unless the filter says active; tokens stay", () =>
    Effect.gen(function* () {
      const { personalAccessTokens, personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const labels = makeLabels()
      const a1 = yield* labels.add("a1", alice)
      yield* labels.add("a2", alice)
      const a3 = yield* labels.add("a3", alice)
      yield* labels.add("b1", bob)
      const token = yield* personalAccessTokens.add(a3, "mpt_a3", Option.none())
      yield* personalSessions.revoke(a1) // at(4)
      yield* TestClock.adjust(Duration.seconds(6)) // now at(10)

      expect(
        yield* personalSessions.revokeBulk({ ...PersonalSessionFilter.forActorUser(alice.id), state: "active" })
      ).toBe(2)
      expect((yield* lookupOrThrow(a1.id)).state).toEqual(new Revoked({ revokedAt: at(4) }))
      expect((yield* lookupOrThrow(a3.id)).state).toEqual(new Revoked({ revokedAt: at(10) }))
      expect(yield* tokenOrThrow(token.id)).toEqual(token)
      expect(yield* labels.of(PersonalSessionFilter.activeOnly)).toEqual(["b1"])
      expect(yield* personalSessions.revokeBulk({ actorUser: alice.id, state: "active" })).toBe(0)

      yield* TestClock.adjust(Duration.seconds(10)) // now at(20)
      expect(yield* personalSessions.revokeBulk({ actorUser: alice.id })).toBe(3)
      expect((yield* lookupOrThrow(a1.id)).state).toEqual(new Revoked({ revokedAt: at(20) }))
      expect(yield* personalSessions.revokeBulk({ ownerUser: yield* generateUlid })).toBe(0)
      expect(yield* personalSessions.revokeBulk({})).toBe(4)
      expect(yield* personalSessions.count(PersonalSessionFilter.revokedOnly)).toBe(4)
    }))

  test("revokeBulk with expiry, device, scope and activity criteria selects the same sessions as list", () =>
    Effect.gen(function* () {
      const { personalAccessTokens, personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", alice, { scope: scope("openid", `${STABLE}DEV1`) })
      const s2 = yield* labels.add("s2", alice, { scope: scope("openid", `${UNSTABLE}DEV1`) })
      const s3 = yield* labels.add("s3", alice, { scope: scope("openid") })
      yield* labels.add("s4", alice, { scope: scope("email") })
      yield* personalAccessTokens.add(s1, "mpt_1", expiresIn(100))
      yield* personalAccessTokens.add(s2, "mpt_2", Option.none())
      yield* personalAccessTokens.add(s3, "mpt_3", expiresIn(1000))
      yield* personalSessions.recordBatchActivity([[s3.id, at(50), Option.none()]])
      const filters: ReadonlyArray<readonly [PersonalSessionFilter, ReadonlyArray<string>]> = [
        [{ device: new Device({ id: "DEV1" }), expires: true }, ["s1"]],
        [{ expires: false, scope: scope("openid") }, ["s2"]],
        [{ lastActiveAfter: at(10), expiresAfter: at(500) }, ["s3"]],
        [{ expires: false }, ["s4"]]
      ]
      for (const [filter, expected] of filters) {
        expect(yield* labels.of({ ...filter, state: "active" })).toEqual(expected)
        expect(yield* personalSessions.revokeBulk({ ...filter, state: "active" })).toBe(expected.length)
      }
      expect(yield* labels.of({ state: "revoked" })).toEqual(["s1", "s2", "s3", "s4"])
      // the tokens were left as they were
      expect(yield* (yield* Seed).dump("personal_access_tokens", "personal_access_token_id")).toSatisfy(
        (rows: ReadonlyArray<{ readonly revoked_at: unknown }>) => rows.every((r) => r.revoked_at === null)
      )
    }))

  test("list pairs each session with its unrevoked token (none without one, or when every token is revoked)", () =>
    Effect.gen(function* () {
      const { personalAccessTokens, personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const withToken = yield* addPersonalSession(alice)
      const without = yield* addPersonalSession(alice)
      const onlyRevoked = yield* addPersonalSession(alice)
      const regenerated = yield* addPersonalSession(alice)
      const token = yield* personalAccessTokens.add(withToken, "mpt_1", expiresIn(60))
      yield* personalAccessTokens.revoke(yield* personalAccessTokens.add(onlyRevoked, "mpt_2", Option.none()))
      yield* personalAccessTokens.revoke(yield* personalAccessTokens.add(regenerated, "mpt_3", Option.none()))
      yield* TestClock.adjust(Duration.seconds(1))
      const fresh = yield* personalAccessTokens.add(regenerated, "mpt_4", Option.none())

      const page = yield* personalSessions.list({}, first(10))
      expect(page.edges.map((e) => e.cursor)).toEqual([withToken.id, without.id, onlyRevoked.id, regenerated.id])
      const pairs: ReadonlyArray<readonly [PersonalSession, Option.Option<PersonalAccessToken>]> = page.edges.map(
        (e) => e.node
      )
      expect(pairs).toEqual([
        [withToken, Option.some(token)],
        [without, Option.none()],
        [onlyRevoked, Option.none()],
        [regenerated, Option.some(fresh)]
      ])
      // a revoked session is listed with no token: its revocation revoked it
      const revoked = yield* personalSessions.revoke(withToken)
      expect((yield* personalSessions.list({}, first(1))).edges.map((e) => e.node)).toEqual([[revoked, Option.none()]])
      expect(yield* personalSessions.count({})).toBe(4)
    }))

  test("list pages forward and backward by session id, at the edges", () =>
    Effect.gen(function* () {
      const { personalAccessTokens, personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      const empty = yield* personalSessions.list({}, first(3))
      expect([empty.edges.length, empty.hasNextPage, empty.hasPreviousPage]).toEqual([0, false, false])
      const all: Array<PersonalSession> = []
      for (const name of ["s1", "s2", "s3", "s4", "s5"]) all.push(yield* labels.add(name, alice))
      // tokens do not change the order or the number of rows
      for (const [i, s] of all.entries()) yield* personalAccessTokens.add(s, `mpt_${i}`, Option.none())

      const p1 = yield* personalSessions.list({}, first(2))
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(yield* labels.of({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))).toEqual(["s3", "s4"])
      expect(yield* labels.of({}, first(2).pipe(Pagination.after(all[3]!.id)))).toEqual(["s5"])
      const exact = yield* personalSessions.list({}, first(5))
      expect([exact.edges.length, exact.hasNextPage]).toEqual([5, false])
      const zero = yield* personalSessions.list({}, first(0))
      expect([zero.edges.length, zero.hasNextPage]).toEqual([0, true])

      const back = yield* personalSessions.list({}, last(2))
      expect(back.edges.map((e) => e.cursor)).toEqual([all[3]!.id, all[4]!.id])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      expect(yield* labels.of({}, last(2).pipe(Pagination.before(all[3]!.id)))).toEqual(["s2", "s3"])
      const backAtStart = yield* personalSessions.list({}, last(2).pipe(Pagination.before(all[0]!.id)))
      expect([backAtStart.edges.length, backAtStart.hasPreviousPage]).toEqual([0, false])
      expect(yield* labels.of({}, first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id)))).toEqual(
        ["s2", "s3", "s4"]
      )
      const filtered = yield* personalSessions.list({ expires: false }, last(1).pipe(Pagination.before(all[2]!.id)))
      expect([filtered.edges.map((e) => e.cursor), filtered.hasPreviousPage]).toEqual([[all[1]!.id], true])
      yield* expectEachToFail("InvalidOperationError", [
        ["bad after", personalSessions.list({}, first(2).pipe(Pagination.after("nope" as Ulid)))],
        ["bad before", personalSessions.list({}, last(2).pipe(Pagination.before(`${all[0]!.id}0` as Ulid)))]
      ])
    }))

  test("ownerUser, ownerOAuth2Client and actorUser criteria, alone and combined: owner and actor are distinct", () =>
    Effect.gen(function* () {
      const admin = yield* addUser("admin")
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const c1 = yield* seedClient
      const c2 = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("alice-own", alice)
      yield* labels.add("admin-for-alice", alice, { owner: ownedByUser(admin) })
      yield* labels.add("admin-for-bob", bob, { owner: ownedByUser(admin) })
      yield* labels.add("c1-for-alice", alice, { owner: ownedByOAuth2Client(c1) })
      yield* labels.add("c2-for-admin", admin, { owner: ownedByOAuth2Client(c2) })

      expect(yield* labels.of(PersonalSessionFilter.forOwnerUser(admin.id))).toEqual([
        "admin-for-alice",
        "admin-for-bob"
      ])
      expect(yield* labels.of(PersonalSessionFilter.forActorUser(admin.id))).toEqual(["c2-for-admin"])
      expect(yield* labels.of({ actorUser: alice.id })).toEqual(["alice-own", "admin-for-alice", "c1-for-alice"])
      expect(yield* labels.of({ ownerUser: alice.id })).toEqual(["alice-own"])
      expect(yield* labels.of(PersonalSessionFilter.forOwnerOAuth2Client(c1.id))).toEqual(["c1-for-alice"])
      expect(yield* labels.of({ ownerOAuth2Client: c2.id })).toEqual(["c2-for-admin"])
      // a user id as a client id (and back) matches nothing: the two owner columns are apart
      expect(yield* labels.of({ ownerOAuth2Client: admin.id })).toEqual([])
      expect(yield* labels.of({ ownerUser: c1.id })).toEqual([])
      expect(yield* labels.of({ ownerUser: admin.id, actorUser: bob.id })).toEqual(["admin-for-bob"])
      expect(yield* labels.of({ ownerUser: admin.id, ownerOAuth2Client: c1.id })).toEqual([])
      expect(yield* labels.of({ ownerOAuth2Client: c1.id, actorUser: bob.id })).toEqual([])
      expect(yield* labels.of({ ownerUser: yield* generateUlid })).toEqual([])
    }))

  test("device criterion: the scope holds either device token; a device that cannot be encoded matches nothing", () =>
    Effect.gen(function* () {
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      yield* labels.add("stable", alice, { scope: scope("openid", `${STABLE}ABCDEF`) })
      yield* labels.add("unstable", alice, { scope: scope(`${UNSTABLE}ABCDEF`) })
      yield* labels.add("both", alice, { scope: scope(`${STABLE}ABCDEF`, `${UNSTABLE}ABCDEF`) })
      yield* labels.add("other", alice, { scope: scope(`${STABLE}GHIJKL`, `${UNSTABLE}ABCDEFG`) })
      yield* labels.add("deviceless", alice, { scope: scope("openid", "ABCDEF") })
      expect(yield* labels.of(PersonalSessionFilter.forDevice(new Device({ id: "ABCDEF" })))).toEqual([
        "stable",
        "unstable",
        "both"
      ])
      expect(yield* labels.of({ device: new Device({ id: "GHIJKL" }) })).toEqual(["other"])
      expect(yield* labels.of({ device: new Device({ id: "ABCDE" }) })).toEqual([])
      expect(yield* labels.of({ device: new Device({ id: "not encodable" }) })).toEqual([])
      expect(yield* labels.of({ device: new Device({ id: "nul\u0000" }) })).toEqual([])
      expect(yield* labels.of({ device: new Device({ id: "ABCDEF" }), scope: scope("openid") })).toEqual(["stable"])
    }))

  test("scope criterion: the session's scope holds every given token", () =>
    Effect.gen(function* () {
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      yield* labels.add("openid", alice, { scope: scope("openid") })
      yield* labels.add("openid+api", alice, { scope: scope("openid", "urn:matrix:client:api:*") })
      yield* labels.add("api+admin", alice, { scope: scope("urn:matrix:client:api:*", "urn:synapse:admin:*") })
      yield* labels.add("none", alice, { scope: scope() })
      yield* labels.add("odd", alice, { scope: scope("a,b", "{c}", "NULL") })
      expect(yield* labels.of(PersonalSessionFilter.withScope(scope("openid")))).toEqual(["openid", "openid+api"])
      expect(yield* labels.of({ scope: scope("urn:matrix:client:api:*") })).toEqual(["openid+api", "api+admin"])
      expect(yield* labels.of({ scope: scope("openid", "urn:matrix:client:api:*") })).toEqual(["openid+api"])
      expect(yield* labels.of({ scope: scope("openid", "urn:synapse:admin:*") })).toEqual([])
      expect(yield* labels.of({ scope: scope("urn:matrix:client:api") })).toEqual([])
      expect(yield* labels.of({ scope: scope("a,b", "{c}") })).toEqual(["odd"])
      expect(yield* labels.of({ scope: scope("NULL") })).toEqual(["odd"])
      expect(yield* labels.of({ scope: scope() })).toEqual(["openid", "openid+api", "api+admin", "none", "odd"])
    }))

  test("state criterion: active is unrevoked, revoked is revoked", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", alice)
      yield* labels.add("s2", alice)
      const s3 = yield* labels.add("s3", bob)
      yield* personalSessions.revoke(s1)
      yield* personalSessions.revoke(s3)
      expect(yield* labels.of(PersonalSessionFilter.activeOnly)).toEqual(["s2"])
      expect(yield* labels.of(PersonalSessionFilter.revokedOnly)).toEqual(["s1", "s3"])
      expect(yield* labels.of({ state: "revoked", actorUser: alice.id })).toEqual(["s1"])
      expect(
        yield* personalSessions.count({
          ...PersonalSessionFilter.forActorUser(alice.id),
          ...PersonalSessionFilter.activeOnly
        })
      ).toBe(1)
    }))

  test("lastActiveBefore / lastActiveAfter are strict and never match a session without activity", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", alice)
      const s2 = yield* labels.add("s2", alice)
      yield* labels.add("never", alice)
      const s4 = yield* labels.add("s4", alice)
      yield* personalSessions.recordBatchActivity([
        [s1.id, at(100), Option.none()],
        [s2.id, at(200), Option.none()],
        [s4.id, at(300), Option.none()]
      ])
      expect(yield* labels.of(PersonalSessionFilter.withLastActiveBefore(at(200)))).toEqual(["s1"])
      expect(yield* labels.of({ lastActiveBefore: at(201) })).toEqual(["s1", "s2"])
      expect(yield* labels.of(PersonalSessionFilter.withLastActiveAfter(at(200)))).toEqual(["s4"])
      expect(yield* labels.of({ lastActiveAfter: at(199) })).toEqual(["s2", "s4"])
      expect(yield* labels.of({ lastActiveAfter: at(100), lastActiveBefore: at(300) })).toEqual(["s2"])
      expect(yield* labels.of({ lastActiveAfter: at(-1000) })).toEqual(["s1", "s2", "s4"])
    }))

  test("expiry criteria look at the unrevoked token: strict bounds; a session without one, or whose token never expires, has no expiry", () =>
    Effect.gen(function* () {
      const { personalAccessTokens } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      const e100 = yield* labels.add("e100", alice) // created at(0)
      const e200 = yield* labels.add("e200", alice) // at(1)
      const forever = yield* labels.add("forever", alice)
      yield* labels.add("tokenless", alice)
      const revokedOnly = yield* labels.add("revoked-only", alice)
      const regenerated = yield* labels.add("regenerated", alice) // now at(6)
      yield* personalAccessTokens.add(e100, "mpt_100", expiresIn(94)) // at(100)
      yield* personalAccessTokens.add(e200, "mpt_200", expiresIn(194)) // at(200)
      yield* personalAccessTokens.add(forever, "mpt_forever", Option.none())
      // the only token expires soon but is revoked: it is not looked at
      yield* personalAccessTokens.revoke(yield* personalAccessTokens.add(revokedOnly, "mpt_gone", expiresIn(4)))
      // the revoked token expired early; the unrevoked one never does
      yield* personalAccessTokens.revoke(yield* personalAccessTokens.add(regenerated, "mpt_old", expiresIn(4)))
      yield* personalAccessTokens.add(regenerated, "mpt_new", Option.none())

      expect(yield* labels.of(PersonalSessionFilter.withExpiresBefore(at(200)))).toEqual(["e100"])
      expect(yield* labels.of({ expiresBefore: at(201) })).toEqual(["e100", "e200"])
      expect(yield* labels.of({ expiresBefore: at(100) })).toEqual([])
      expect(yield* labels.of({ expiresBefore: at(50) })).toEqual([])
      expect(yield* labels.of(PersonalSessionFilter.withExpiresAfter(at(100)))).toEqual(["e200"])
      expect(yield* labels.of({ expiresAfter: at(99) })).toEqual(["e100", "e200"])
      expect(yield* labels.of({ expiresAfter: at(100), expiresBefore: at(200) })).toEqual([])
      expect(yield* labels.of(PersonalSessionFilter.withExpires(true))).toEqual(["e100", "e200"])
      expect(yield* labels.of({ expires: false })).toEqual(["forever", "tokenless", "revoked-only", "regenerated"])
      expect(yield* labels.of({ expires: true, expiresBefore: at(150) })).toEqual(["e100"])
      expect(yield* labels.of({ expires: false, expiresBefore: at(1000) })).toEqual([])
      expect(yield* labels.of({ expires: false, actorUser: alice.id, state: "active" })).toEqual([
        "forever",
        "tokenless",
        "revoked-only",
        "regenerated"
      ])
    }))

  test("a malformed id or scope token in the filter is an InvalidOperationError from list, count and revokeBulk; nothing is stamped", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("s1", alice)
      yield* labels.add("s2", alice, { owner: ownedByOAuth2Client(client) })
      const filters: ReadonlyArray<PersonalSessionFilter> = [
        ...malformedIdsLike(alice.id).map((ownerUser) => ({ ownerUser })),
        ...malformedIdsLike(client.id).map((ownerOAuth2Client) => ({ ownerOAuth2Client })),
        ...malformedIdsLike(alice.id).map((actorUser) => ({ actorUser, expires: false })),
        { scope: ["openid", "two words"] as unknown as Scope },
        { scope: ["nul\u0000"] as unknown as Scope, ownerUser: alice.id }
      ]
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const filter of filters) {
            yield* expectEachToFail("InvalidOperationError", [
              [`list ${JSON.stringify(filter)}`, repos.personalSessions.list(filter, first(10))],
              [`count ${JSON.stringify(filter)}`, repos.personalSessions.count(filter)],
              [`revokeBulk ${JSON.stringify(filter)}`, repos.personalSessions.revokeBulk(filter)]
            ])
          }
          // refused before anything was sent: the unit of work goes on
          yield* labels.add("s3", alice)
        })
      )
      expect(yield* labels.of({ state: "active" })).toEqual(["s1", "s2", "s3"])
    }))

  test("recordBatchActivity keeps the later instant and replaces the IP only when one is given, revoked sessions too", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const s1 = yield* addPersonalSession(alice)
      const s2 = yield* addPersonalSession(alice)
      const s3 = yield* addPersonalSession(alice)
      const activityOf = (id: Ulid) => Effect.map(lookupOrThrow(id), (s) => [s.lastActiveAt, s.lastActiveIp] as const)
      yield* personalSessions.recordBatchActivity([
        [s3.id, at(30), Option.none()],
        [s1.id, at(10), Option.some(ip("192.0.2.1"))],
        [s2.id, at(20), Option.some(ip("2001:db8::1"))]
      ])
      expect(yield* activityOf(s1.id)).toEqual([Option.some(at(10)), Option.some("192.0.2.1")])
      expect(yield* activityOf(s2.id)).toEqual([Option.some(at(20)), Option.some("2001:db8::1")])
      expect(yield* activityOf(s3.id)).toEqual([Option.some(at(30)), Option.none()])
      yield* personalSessions.recordBatchActivity([
        [s1.id, at(5), Option.none()],
        [s2.id, at(25), Option.some(ip("198.51.100.7"))]
      ])
      expect(yield* activityOf(s1.id)).toEqual([Option.some(at(10)), Option.some("192.0.2.1")])
      expect(yield* activityOf(s2.id)).toEqual([Option.some(at(25)), Option.some("198.51.100.7")])
      yield* personalSessions.recordBatchActivity([[s1.id, at(1), Option.some(ip("203.0.113.9"))]])
      expect(yield* activityOf(s1.id)).toEqual([Option.some(at(10)), Option.some("203.0.113.9")])
      const revoked = yield* personalSessions.revoke(s3)
      yield* personalSessions.recordBatchActivity([[revoked.id, at(40), Option.none()]])
      expect(yield* activityOf(s3.id)).toEqual([Option.some(at(40)), Option.none()])
      yield* personalSessions.recordBatchActivity([])
    }))

  test("recordBatchActivity: an unknown or repeated id is a RowsAffectedError; a malformed entry an InvalidOperationError with nothing written", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const s1 = yield* addPersonalSession(alice)
      const s2 = yield* addPersonalSession(alice)
      expect(
        yield* Effect.flip(
          personalSessions.recordBatchActivity([
            [s1.id, at(10), Option.none()],
            [yield* generateUlid, at(10), Option.none()]
          ])
        )
      ).toMatchObject({ _tag: "RowsAffectedError", expected: 2, actual: 1 })
      expect(
        yield* Effect.flip(
          personalSessions.recordBatchActivity([
            [s2.id, at(20), Option.none()],
            [s2.id, at(20), Option.none()]
          ])
        )
      ).toMatchObject({ _tag: "RowsAffectedError", expected: 2, actual: 1 })
      const s3 = yield* addPersonalSession(alice)
      const good: ActivityRecord = [s3.id, at(99), Option.some(ip("192.0.2.9"))]
      yield* expectEachToFail("InvalidOperationError", [
        ...malformedIdsLike(s3.id).map(
          (id) =>
            [
              `id ${JSON.stringify(id)}`,
              personalSessions.recordBatchActivity([good, [id, at(1), Option.none()]])
            ] as const
        ),
        ["network", personalSessions.recordBatchActivity([good, [s1.id, at(1), Option.some(ip("10.0.0.0/8"))]])],
        ["invalid Date", personalSessions.recordBatchActivity([good, [s1.id, new Date(Number.NaN), Option.none()]])]
      ])
      const untouched = yield* lookupOrThrow(s3.id)
      expect([untouched.lastActiveAt, untouched.lastActiveIp]).toEqual([Option.none(), Option.none()])
    }))

  test("a stored scope token that is not a scope token, or a network instead of an address, is an InconsistencyError naming the column; count and revokeBulk still work", () =>
    Effect.gen(function* () {
      const { personalSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const good = yield* seedPersonalSessionRow(alice.id)
      yield* TestClock.adjust(Duration.millis(10))
      const badScope = yield* seedPersonalSessionRow(alice.id, { scope_list: ["openid", "two words"] })
      yield* TestClock.adjust(Duration.millis(10))
      const badIp = yield* seedPersonalSessionRow(alice.id, { last_active_at: at(5), last_active_ip: "10.0.0.0/8" })
      const expected = (row: Ulid, column: string) => ({
        _tag: "InconsistencyError",
        table: "personal_sessions",
        column: Option.some(column),
        row: Option.some(row)
      })
      expect(yield* Effect.flip(personalSessions.lookup(badScope))).toMatchObject(expected(badScope, "scope_list"))
      const error = yield* Effect.flip(personalSessions.lookup(badIp))
      expect(error).toMatchObject(expected(badIp, "last_active_ip"))
      expect(error.message).toBe(`Database inconsistency on table personal_sessions column last_active_ip row ${badIp}`)
      expect(yield* Effect.flip(personalSessions.list({}, first(10)))).toMatchObject(expected(badScope, "scope_list"))
      expect(yield* Effect.flip(personalSessions.list({ expires: false }, last(1)))).toMatchObject(
        expected(badIp, "last_active_ip")
      )
      expect((yield* personalSessions.list({}, first(1))).edges.map((e) => e.cursor)).toEqual([good])
      expect(yield* personalSessions.count({})).toBe(3)
      expect(yield* personalSessions.revokeBulk({ state: "active", expires: false })).toBe(3)
    }))
})
