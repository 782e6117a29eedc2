// Contract suite for UserRegistrationTokenRepository: every method, filter and pagination edge, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Option, TestClock } from "effect"
import { copy } from "../../../src/model/common.js"
import { UserRegistrationToken } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { MAX_INT4, MIN_TIMESTAMPTZ } from "../../../src/storage/common/limits.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import type { UserRegistrationTokenFilter } from "../../../src/storage/user/UserRegistrationTokenRepository.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const none = Option.none()
const clockNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

const repo = Effect.map(RepositoryAccess, (r) => r.userRegistrationTokens)

/** Adds plain tokens one second apart, so their ids are in the given order. */
const addTokens = (...tokens: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const tokensRepo = yield* repo
    const added: Array<UserRegistrationToken> = []
    for (const token of tokens) {
      added.push(yield* tokensRepo.add(token, Option.none(), Option.none()))
      yield* TestClock.adjust(Duration.seconds(1))
    }
    return added
  })

const listTokens = (filter: UserRegistrationTokenFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const page = yield* (yield* repo).list(filter, pagination)
    return page.edges.map((e) => e.node.token)
  })

const stored = (id: Ulid) => Effect.flatMap(repo, (r) => Effect.map(r.lookup(id), Option.getOrThrow))

/** A row planted directly, as memory stores it (for states the repository cannot produce). */
const seedToken = (patch: Record<string, unknown>) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("user_registration_tokens", {
      user_registration_token_id: id,
      token: `seeded-${id}`,
      usage_limit: null,
      times_used: 0,
      created_at: new Date(EPOCH),
      last_used_at: null,
      expires_at: null,
      revoked_at: null,
      ...patch
    })
    return id
  })

contract("UserRegistrationTokenRepository", (test) => {
  test("add creates an unused, unrevoked token whose id and createdAt come from Clock and Random", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const expiresAt = new Date(EPOCH + 3_600_000)
      const token = yield* tokens.add("invite-1", Option.some(3), Option.some(expiresAt))
      expect(token.token).toBe("invite-1")
      expect(token.usageLimit).toEqual(Option.some(3))
      expect(token.timesUsed).toBe(0)
      expect(token.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(token.id)).toBe(EPOCH)
      expect(token.lastUsedAt).toEqual(none)
      expect(token.expiresAt).toEqual(Option.some(expiresAt))
      expect(token.revokedAt).toEqual(none)
      expect(token.isValid(new Date(EPOCH))).toBe(true)
      expect(yield* tokens.lookup(token.id)).toEqual(Option.some(token))
      expect(yield* tokens.findByToken("invite-1")).toEqual(Option.some(token))

      const plain = yield* tokens.add("invite-2", Option.none(), Option.none())
      expect(yield* tokens.lookup(plain.id)).toEqual(Option.some(plain))
      expect(plain.usageLimit).toEqual(none)
      expect(plain.expiresAt).toEqual(none)
    }))

  test("lookup and findByToken of unknown values are none", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      yield* addTokens("known")
      expect(yield* tokens.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* tokens.findByToken("unknown")).toEqual(Option.none())
      expect(yield* tokens.findByToken("")).toEqual(Option.none())
    }))

  test("findByToken is an exact, case-sensitive match, non-ASCII included", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const [upper, lower] = yield* addTokens("Einladung-ÄÖ-ΣΟΦΊΑ", "einladung-äö-σοφία")
      expect(Option.map(yield* tokens.findByToken("Einladung-ÄÖ-ΣΟΦΊΑ"), (t) => t.id)).toEqual(Option.some(upper!.id))
      expect(Option.map(yield* tokens.findByToken("einladung-äö-σοφία"), (t) => t.id)).toEqual(Option.some(lower!.id))
      expect(yield* tokens.findByToken("EINLADUNG-ÄÖ-ΣΟΦΊΑ")).toEqual(Option.none())
      expect(yield* tokens.findByToken("einladung")).toEqual(Option.none())
    }))

  test("a duplicate token is a DriverError (unique violation) that dooms the unit of work", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const tokens = repos.userRegistrationTokens
      const original = yield* tokens.add("dup", Option.some(1), Option.none())
      const duplicate = yield* Effect.flip(tokens.add("dup", Option.none(), Option.none()))
      expect(duplicate._tag).toBe("DriverError")
      expect(duplicate._tag === "DriverError" && duplicate.isUniqueViolation).toBe(true)
      expect(yield* tokens.count({ now: new Date(EPOCH) })).toBe(1)
      expect(yield* tokens.findByToken("dup")).toEqual(Option.some(original))

      const unit = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            yield* tokens.add("inside", Option.none(), Option.none())
            yield* Effect.ignore(tokens.add("dup", Option.none(), Option.none()))
          })
        )
      )
      expect(unit._tag).toBe("DriverError")
      expect(yield* tokens.findByToken("inside")).toEqual(Option.none())
    }))

  test("NUL in the token text is a DriverError and nothing is stored", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const added = yield* Effect.flip(tokens.add("bad\u0000token", Option.none(), Option.none()))
      expect(added._tag).toBe("DriverError")
      expect(added).toMatchObject({ sqlState: Option.some("22021") })
      const found = yield* Effect.flip(tokens.findByToken("bad\u0000token"))
      expect(found).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      expect(yield* tokens.count({ now: new Date(EPOCH) })).toBe(0)
    }))

  test("add refuses a usage limit or expiry the columns cannot hold, writing nothing", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      for (const limit of [-1, 1.5, MAX_INT4 + 1, Number.NaN]) {
        const error = yield* Effect.flip(tokens.add(`limit-${limit}`, Option.some(limit), Option.none()))
        expect(error._tag).toBe("InvalidOperationError")
      }
      for (const expiry of [new Date(Number.NaN), new Date(MIN_TIMESTAMPTZ - 1)]) {
        const error = yield* Effect.flip(tokens.add("bad-expiry", Option.none(), Option.some(expiry)))
        expect(error._tag).toBe("InvalidOperationError")
      }
      expect(yield* tokens.count({ now: new Date(EPOCH) })).toBe(0)

      const widest = yield* tokens.add("widest", Option.some(MAX_INT4), Option.some(new Date(MIN_TIMESTAMPTZ)))
      const zero = yield* tokens.add("zero", Option.some(0), Option.none())
      expect(yield* tokens.lookup(widest.id)).toEqual(Option.some(widest))
      expect(yield* tokens.lookup(zero.id)).toEqual(Option.some(zero))
      expect(zero.isValid(new Date(EPOCH))).toBe(false)
    }))

  test("useToken counts in the database and stamps lastUsedAt with now", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const [token] = yield* addTokens("use-me")
      yield* TestClock.adjust(Duration.minutes(1))
      const once = yield* tokens.useToken(token!)
      const usedAt = yield* clockNow
      expect(once.timesUsed).toBe(1)
      expect(once.lastUsedAt).toEqual(Option.some(usedAt))
      expect(once.hasBeenUsed).toBe(true)
      expect(yield* stored(token!.id)).toEqual(once)

      // A stale entity: the counter is the one the database produced, not the entity's + 1.
      yield* TestClock.adjust(Duration.seconds(5))
      const again = yield* tokens.useToken(token!)
      expect(again.timesUsed).toBe(2)
      expect(again.lastUsedAt).toEqual(Option.some(yield* clockNow))
      expect(yield* stored(token!.id)).toEqual(again)
    }))

  test("useToken ignores expiry and usage limit (callers check isValid first)", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const token = yield* tokens.add("limited", Option.some(1), Option.some(new Date(EPOCH + 1000)))
      const once = yield* tokens.useToken(token)
      yield* TestClock.adjust(Duration.seconds(2))
      expect(once.isValid(yield* clockNow)).toBe(false)
      const twice = yield* tokens.useToken(once)
      expect(twice.timesUsed).toBe(2)
      expect((yield* stored(token.id)).timesUsed).toBe(2)
    }))

  test("useToken of a token passed in revoked is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const [token] = yield* addTokens("revoked")
      const revoked = yield* tokens.revoke(token!)
      const error = yield* Effect.flip(tokens.useToken(revoked))
      expect(error._tag).toBe("InvalidOperationError")
      const cause = error._tag === "InvalidOperationError" ? Option.getOrThrow(error.cause) : undefined
      expect(cause).toMatchObject({
        _tag: "InvalidTransition",
        entity: "UserRegistrationToken",
        from: "Revoked",
        transition: "use"
      })
      const after = yield* stored(token!.id)
      expect(after.timesUsed).toBe(0)
      expect(after.lastUsedAt).toEqual(none)
    }))

  test("useToken is guarded: a row revoked meanwhile, or missing, is a RowsAffectedError and nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const tokens = repos.userRegistrationTokens
      const [token] = yield* addTokens("stale")
      yield* tokens.revoke(token!)
      // The unit of work stays usable after the guard refuses (no driver error).
      yield* repos.transaction(
        Effect.gen(function* () {
          const error = yield* Effect.flip(tokens.useToken(token!))
          expect(error).toMatchObject({ _tag: "RowsAffectedError", expected: 1, actual: 0 })
          yield* tokens.add("after-refusal", Option.none(), Option.none())
        })
      )
      const after = yield* stored(token!.id)
      expect(after.timesUsed).toBe(0)
      expect(after.lastUsedAt).toEqual(none)
      expect(Option.isSome(yield* tokens.findByToken("after-refusal"))).toBe(true)

      const ghost = copy(UserRegistrationToken, token!, { id: yield* generateUlid })
      expect(yield* Effect.flip(tokens.useToken(ghost))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 1,
        actual: 0
      })
    }))

  test("a counter that would pass the INTEGER range is an InvalidOperationError, the unit of work stays usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const tokens = repos.userRegistrationTokens
      const full = yield* seedToken({ times_used: MAX_INT4 })
      const almost = yield* seedToken({ times_used: MAX_INT4 - 1 })
      const fullToken = yield* stored(full)
      yield* repos.transaction(
        Effect.gen(function* () {
          expect((yield* Effect.flip(tokens.useToken(fullToken)))._tag).toBe("InvalidOperationError")
          // The same when only the stored row is full (a stale entity).
          const stale = copy(UserRegistrationToken, fullToken, { timesUsed: 5 })
          expect((yield* Effect.flip(tokens.useToken(stale)))._tag).toBe("InvalidOperationError")
          const last = yield* tokens.useToken(yield* stored(almost))
          expect(last.timesUsed).toBe(MAX_INT4)
        })
      )
      expect((yield* stored(full)).timesUsed).toBe(MAX_INT4)
      expect((yield* stored(full)).lastUsedAt).toEqual(none)
      expect((yield* stored(almost)).timesUsed).toBe(MAX_INT4)
    }))

  test("revoke stamps now from any state, unrevoke clears it from any state", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const [token] = yield* addTokens("toggle")
      const revoked = yield* tokens.revoke(token!)
      const revokedAt = yield* clockNow
      expect(revoked.revokedAt).toEqual(Option.some(revokedAt))
      expect(revoked.isRevoked).toBe(true)
      expect(yield* stored(token!.id)).toEqual(revoked)

      yield* TestClock.adjust(Duration.minutes(3))
      const again = yield* tokens.revoke(revoked)
      expect(again.revokedAt).toEqual(Option.some(yield* clockNow))
      expect(yield* stored(token!.id)).toEqual(again)

      const unrevoked = yield* tokens.unrevoke(again)
      expect(unrevoked.revokedAt).toEqual(none)
      expect(yield* stored(token!.id)).toEqual(unrevoked)
      const still = yield* tokens.unrevoke(unrevoked)
      expect(still.revokedAt).toEqual(none)
      expect(yield* stored(token!.id)).toEqual(still)
      // A used token can be revoked too; its counter is kept.
      const used = yield* tokens.useToken(still)
      expect((yield* tokens.revoke(used)).timesUsed).toBe(1)
      expect((yield* stored(token!.id)).timesUsed).toBe(1)
    }))

  test("setExpiry and setUsageLimit overwrite and clear", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const [token] = yield* addTokens("settings")
      const expiresAt = new Date(EPOCH + 86_400_000)
      const expiring = yield* tokens.setExpiry(token!, Option.some(expiresAt))
      expect(expiring.expiresAt).toEqual(Option.some(expiresAt))
      expect(yield* stored(token!.id)).toEqual(expiring)
      const limited = yield* tokens.setUsageLimit(expiring, Option.some(7))
      expect(limited.usageLimit).toEqual(Option.some(7))
      expect(limited.expiresAt).toEqual(Option.some(expiresAt))
      expect(yield* stored(token!.id)).toEqual(limited)
      const cleared = yield* tokens
        .setExpiry(limited, Option.none())
        .pipe(Effect.flatMap((t) => tokens.setUsageLimit(t, Option.none())))
      expect(cleared.expiresAt).toEqual(none)
      expect(cleared.usageLimit).toEqual(none)
      expect(yield* stored(token!.id)).toEqual(cleared)
    }))

  test("setExpiry and setUsageLimit refuse values the columns cannot hold, writing nothing", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const token = yield* tokens.add("settings", Option.some(2), Option.some(new Date(EPOCH + 1000)))
      expect((yield* Effect.flip(tokens.setUsageLimit(token, Option.some(-2))))._tag).toBe("InvalidOperationError")
      expect((yield* Effect.flip(tokens.setUsageLimit(token, Option.some(MAX_INT4 + 1))))._tag).toBe(
        "InvalidOperationError"
      )
      expect((yield* Effect.flip(tokens.setExpiry(token, Option.some(new Date(Number.NaN)))))._tag).toBe(
        "InvalidOperationError"
      )
      expect(yield* stored(token.id)).toEqual(token)
    }))

  test("every write to a token that is not stored is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const tokens = repos.userRegistrationTokens
      const ghost = yield* repos
        .transaction(
          Effect.flatMap(tokens.add("ghost", Option.none(), Option.none()), (t) => Effect.fail({ rollback: t }))
        )
        .pipe(
          Effect.flip,
          Effect.map((e) => (e as { rollback: UserRegistrationToken }).rollback)
        )
      expect(yield* tokens.lookup(ghost.id)).toEqual(Option.none())
      const rowsAffected = { _tag: "RowsAffectedError", expected: 1, actual: 0 }
      expect(yield* Effect.flip(tokens.revoke(ghost))).toMatchObject(rowsAffected)
      expect(yield* Effect.flip(tokens.unrevoke(ghost))).toMatchObject(rowsAffected)
      expect(yield* Effect.flip(tokens.setExpiry(ghost, Option.none()))).toMatchObject(rowsAffected)
      expect(yield* Effect.flip(tokens.setUsageLimit(ghost, Option.some(1)))).toMatchObject(rowsAffected)
      expect(yield* Effect.flip(tokens.useToken(ghost))).toMatchObject(rowsAffected)
      expect(yield* tokens.count({ now: new Date(EPOCH) })).toBe(0)
    }))

  test("list pages forward and backward in id order, at the edges", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const filter = { now: new Date(EPOCH) }
      const empty = yield* tokens.list(filter, first(3))
      expect(empty.edges).toEqual([])
      expect([empty.hasNextPage, empty.hasPreviousPage]).toEqual([false, false])
      const emptyBack = yield* tokens.list(filter, last(3))
      expect([emptyBack.edges.length, emptyBack.hasNextPage, emptyBack.hasPreviousPage]).toEqual([0, false, false])

      const all = yield* addTokens("t1", "t2", "t3", "t4", "t5")
      const names = (p: { edges: ReadonlyArray<{ node: { token: string } }> }) => p.edges.map((e) => e.node.token)

      const p1 = yield* tokens.list(filter, first(2))
      expect(names(p1)).toEqual(["t1", "t2"])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])
      expect(p1.edges[0]!.node).toEqual(all[0])
      const p2 = yield* tokens.list(filter, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))
      expect(names(p2)).toEqual(["t3", "t4"])
      expect([p2.hasNextPage, p2.hasPreviousPage]).toEqual([true, false])
      const p3 = yield* tokens.list(filter, first(2).pipe(Pagination.after(p2.edges[1]!.cursor)))
      expect(names(p3)).toEqual(["t5"])
      expect([p3.hasNextPage, p3.hasPreviousPage]).toEqual([false, false])
      const afterLast = yield* tokens.list(filter, first(2).pipe(Pagination.after(all[4]!.id)))
      expect(afterLast.edges).toEqual([])

      const exact = yield* tokens.list(filter, first(5))
      expect([names(exact).length, exact.hasNextPage]).toEqual([5, false])
      const oneLess = yield* tokens.list(filter, first(4))
      expect([names(oneLess).length, oneLess.hasNextPage]).toEqual([4, true])
      const more = yield* tokens.list(filter, first(6))
      expect([names(more).length, more.hasNextPage]).toEqual([5, false])

      const back = yield* tokens.list(filter, last(2))
      expect(names(back)).toEqual(["t4", "t5"])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      const backBefore = yield* tokens.list(filter, last(2).pipe(Pagination.before(all[3]!.id)))
      expect(names(backBefore)).toEqual(["t2", "t3"])
      expect([backBefore.hasNextPage, backBefore.hasPreviousPage]).toEqual([false, true])
      const backExact = yield* tokens.list(filter, last(5))
      expect([names(backExact).length, backExact.hasPreviousPage]).toEqual([5, false])
      const backOneLess = yield* tokens.list(filter, last(4))
      expect([names(backOneLess), backOneLess.hasPreviousPage]).toEqual([["t2", "t3", "t4", "t5"], true])
      const beforeFirst = yield* tokens.list(filter, last(2).pipe(Pagination.before(all[0]!.id)))
      expect(beforeFirst.edges).toEqual([])

      const between = yield* tokens.list(
        filter,
        first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id))
      )
      expect(names(between)).toEqual(["t2", "t3", "t4"])
      const betweenBack = yield* tokens.list(
        filter,
        last(2).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id))
      )
      expect(names(betweenBack)).toEqual(["t3", "t4"])
      expect(betweenBack.hasPreviousPage).toBe(true)

      const zero = yield* tokens.list(filter, first(0))
      expect([zero.edges.length, zero.hasNextPage]).toEqual([0, true])
    }))

  test("filters: hasBeenUsed, isRevoked, isExpired and isValid, alone and combined, agree with the entity and with count", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const hour = 3_600_000
      // Created one second apart from EPOCH; the filter's instant is judged below at EPOCH + 1h.
      const judgedAt = new Date(EPOCH + hour)
      const add = (token: string, limit: Option.Option<number>, expiresAt: Option.Option<Date>) =>
        Effect.zipLeft(tokens.add(token, limit, expiresAt), TestClock.adjust(Duration.seconds(1)))
      const fresh = yield* add("fresh", none, none)
      const used = yield* add("used", Option.some(5), none)
      const exhausted = yield* add("exhausted", Option.some(1), none)
      yield* add("zero-limit", Option.some(0), none)
      const revoked = yield* add("revoked", none, none)
      yield* add("expired", none, Option.some(new Date(judgedAt.getTime() - 1)))
      yield* add("expires-now", none, Option.some(judgedAt))
      yield* add("expires-later", Option.some(2), Option.some(new Date(judgedAt.getTime() + 1)))
      const revokedUsedExpired = yield* add("revoked-used-expired", none, Option.some(new Date(EPOCH)))
      yield* tokens.useToken(used)
      yield* tokens.useToken(exhausted)
      yield* tokens.revoke(revoked)
      yield* tokens.useToken(revokedUsedExpired).pipe(Effect.flatMap(tokens.revoke))
      expect(fresh.hasBeenUsed).toBe(false)

      const everything = (yield* tokens.list({ now: judgedAt }, first(100))).nodes
      expect(everything).toHaveLength(9)

      const criteria: ReadonlyArray<Omit<UserRegistrationTokenFilter, "now">> = [
        {},
        { hasBeenUsed: true },
        { hasBeenUsed: false },
        { isRevoked: true },
        { isRevoked: false },
        { isExpired: true },
        { isExpired: false },
        { isValid: true },
        { isValid: false },
        { isValid: false, isRevoked: false },
        { isValid: false, isExpired: false, isRevoked: false },
        { hasBeenUsed: true, isValid: true },
        { hasBeenUsed: true, isRevoked: true, isExpired: true },
        { isExpired: true, isRevoked: false },
        { isValid: true, isExpired: true }
      ]
      const entityMatches = (t: UserRegistrationToken, c: Omit<UserRegistrationTokenFilter, "now">) =>
        (c.hasBeenUsed === undefined || t.hasBeenUsed === c.hasBeenUsed) &&
        (c.isRevoked === undefined || t.isRevoked === c.isRevoked) &&
        (c.isExpired === undefined || t.isExpired(judgedAt) === c.isExpired) &&
        (c.isValid === undefined || t.isValid(judgedAt) === c.isValid)
      for (const c of criteria) {
        const filter = { ...c, now: judgedAt }
        const listed = yield* listTokens(filter)
        expect(listed, JSON.stringify(c)).toEqual(everything.filter((t) => entityMatches(t, c)).map((t) => t.token))
        expect(yield* tokens.count(filter), JSON.stringify(c)).toBe(listed.length)
      }

      // The expected sets, spelled out.
      expect(yield* listTokens({ now: judgedAt, isValid: true })).toEqual(["fresh", "used", "expires-later"])
      expect(yield* listTokens({ now: judgedAt, isExpired: true })).toEqual([
        "expired",
        "expires-now",
        "revoked-used-expired"
      ])
      expect(yield* listTokens({ now: judgedAt, hasBeenUsed: true })).toEqual([
        "used",
        "exhausted",
        "revoked-used-expired"
      ])
      expect(yield* listTokens({ now: judgedAt, isRevoked: true })).toEqual(["revoked", "revoked-used-expired"])
      expect(yield* listTokens({ now: judgedAt, isValid: false, isRevoked: false, isExpired: false })).toEqual([
        "exhausted",
        "zero-limit"
      ])
      // The same tokens judged earlier: nothing has expired yet at EPOCH - 1 ms.
      expect(yield* listTokens({ now: new Date(EPOCH - 1), isExpired: true })).toEqual([])
      expect(yield* tokens.count({ now: new Date(EPOCH), isExpired: true })).toBe(1)
    }))

  test("list pages through a filtered selection", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const all = yield* addTokens("a", "b", "c", "d", "e", "f")
      for (const t of [all[1]!, all[3]!, all[4]!]) yield* tokens.revoke(t)
      const filter = { now: new Date(EPOCH), isRevoked: true }
      const p1 = yield* tokens.list(filter, first(2))
      expect(p1.nodes.map((t) => t.token)).toEqual(["b", "d"])
      expect(p1.hasNextPage).toBe(true)
      const p2 = yield* tokens.list(filter, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))
      expect([p2.nodes.map((t) => t.token), p2.hasNextPage]).toEqual([["e"], false])
      const back = yield* tokens.list(filter, last(1).pipe(Pagination.before(all[4]!.id)))
      expect([back.nodes.map((t) => t.token), back.hasPreviousPage]).toEqual([["d"], true])
      expect(yield* tokens.count(filter)).toBe(3)
    }))

  test("inconsistent stored rows are InconsistencyErrors naming the table, the column and the row", () =>
    Effect.gen(function* () {
      const tokens = yield* repo
      const negativeUses = yield* seedToken({ token: "negative-uses", times_used: -1 })
      const negativeLimit = yield* seedToken({ token: "negative-limit", usage_limit: -3 })
      yield* TestClock.adjust(Duration.seconds(1))
      const [good] = yield* addTokens("good")

      const expectInconsistent = (error: unknown, column: string, row: Ulid) => {
        expect(error).toMatchObject({
          _tag: "InconsistencyError",
          table: "user_registration_tokens",
          column: Option.some(column),
          row: Option.some(row)
        })
        expect((error as Error).message).toBe(
          `Database inconsistency on table user_registration_tokens column ${column} row ${row}`
        )
      }
      expectInconsistent(yield* Effect.flip(tokens.lookup(negativeUses)), "times_used", negativeUses)
      expectInconsistent(yield* Effect.flip(tokens.findByToken("negative-uses")), "times_used", negativeUses)
      expectInconsistent(yield* Effect.flip(tokens.lookup(negativeLimit)), "usage_limit", negativeLimit)
      const listed = yield* Effect.flip(tokens.list({ now: new Date(EPOCH) }, first(10)))
      expect(listed._tag).toBe("InconsistencyError")
      // Counting does not decode rows; a page without the bad rows still works.
      expect(yield* tokens.count({ now: new Date(EPOCH) })).toBe(3)
      const lastBad = [negativeUses, negativeLimit].sort()[1]!
      const page = yield* tokens.list({ now: new Date(EPOCH) }, first(1).pipe(Pagination.after(lastBad)))
      expect(page.nodes).toEqual([good])
    }))
})
