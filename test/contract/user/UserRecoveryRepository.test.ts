// Contract suite for UserRecoveryRepository: sessions, tickets, consumption and batched cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { InvalidTransition } from "../../../src/model/errors.js"
import { UserEmail, type UserRecoverySession } from "../../../src/model/user.js"
import { generateUlid, maxUlidAt, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { parseIpAddress } from "../../../src/model/values.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { RECOVERY_TICKET_LIFETIME_MILLIS } from "../../../src/storage/user/UserRecoveryRepository.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike } from "../refusals.js"

const ip = (text: string) => Option.getOrThrow(parseIpAddress(text))

/** Far beyond every row a test creates: cleanup up to here sees all sessions. */
const END = maxUlidAt(new Date(EPOCH + 365 * 24 * 3600 * 1000))

/** A user and one of its addresses; the email repository is another suite's, so the address is seeded. */
const seedEmail = (username: string, email: string) =>
  Effect.gen(function* () {
    const { users } = yield* RepositoryAccess
    const seed = yield* Seed
    const user = yield* users.add(username)
    const id = yield* generateUlid
    const createdAt = new Date(yield* TestClock.currentTimeMillis)
    yield* seed.insert("user_emails", { user_email_id: id, user_id: user.id, email, created_at: createdAt })
    return new UserEmail({ id, userId: user.id, email, createdAt })
  })

/** Sessions one second apart, so their ids are in the given order. */
const addSessions = (n: number) =>
  Effect.gen(function* () {
    const { userRecovery } = yield* RepositoryAccess
    const added: Array<UserRecoverySession> = []
    for (let i = 0; i < n; i++) {
      added.push(yield* userRecovery.addSession(`user${i}@example.com`, "UA", Option.none(), "en"))
      yield* TestClock.adjust(Duration.seconds(1))
    }
    return added
  })

/** How many sessions exist, read through cleanup inside a unit of work that is then cancelled. */
const sessionCount = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const counted = yield* repos
    .transaction(
      Effect.flatMap(repos.userRecovery.cleanup(Option.none(), END, 1_000_000), ([count]) => Effect.fail({ count }))
    )
    .pipe(Effect.flip)
  return (counted as { count: number }).count
})

contract("UserRecoveryRepository", (test) => {
  test("addSession creates a pending session whose id and createdAt come from Clock and Random", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const session = yield* userRecovery.addSession(
        "alice@example.com",
        "Mozilla/5.0",
        Option.some(ip("192.0.2.1")),
        "en-GB"
      )
      expect(session.email).toBe("alice@example.com")
      expect(session.userAgent).toBe("Mozilla/5.0")
      expect(session.ipAddress).toEqual(Option.some("192.0.2.1"))
      expect(session.locale).toBe("en-GB")
      expect(session.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(session.id)).toBe(EPOCH)
      expect(session.consumedAt).toEqual(Option.none())
      expect(session.isConsumed).toBe(false)
      expect(yield* userRecovery.lookupSession(session.id)).toEqual(Option.some(session))
    }))

  test("sessions round-trip without an address, with IPv6 and with non-ASCII text", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const plain = yield* userRecovery.addSession("bob@example.com", "curl/8", Option.none(), "fr")
      const v6 = yield* userRecovery.addSession(
        "ÄNNE@Exämple.ORG",
        "Navigateur 🦊 «test»",
        Option.some(ip("2001:db8::1")),
        "zh-Hant-TW"
      )
      expect(yield* userRecovery.lookupSession(plain.id)).toEqual(Option.some(plain))
      const read = yield* userRecovery.lookupSession(v6.id)
      expect(read).toEqual(Option.some(v6))
      // Stored exactly as given: recovery sessions keep the address the user typed.
      expect(Option.map(read, (s) => s.email)).toEqual(Option.some("ÄNNE@Exämple.ORG"))
      expect(Option.map(read, (s) => s.ipAddress)).toEqual(Option.some(Option.some("2001:db8::1")))
    }))

  test("lookupSession of an unknown id is none", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      yield* addSessions(1)
      expect(yield* userRecovery.lookupSession(yield* generateUlid)).toEqual(Option.none())
    }))

  test("a NUL byte in session text is a DriverError and writes nothing", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      for (const [email, ua, locale] of [
        ["a\u0000@example.com", "UA", "en"],
        ["a@example.com", "U\u0000A", "en"],
        ["a@example.com", "UA", "e\u0000n"]
      ] as const) {
        const error = yield* Effect.flip(userRecovery.addSession(email, ua, Option.none(), locale))
        expect(error._tag).toBe("DriverError")
        if (error._tag === "DriverError") expect(error.sqlState).toEqual(Option.some("22021"))
      }
      expect(yield* sessionCount).toBe(0)
    }))

  test("addTicket issues a ticket valid for ten minutes that findTicket returns", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      yield* TestClock.adjust(Duration.seconds(5))
      const [session] = yield* addSessions(1)
      const ticket = yield* userRecovery.addTicket(session!, email, "TICKET-1")
      expect(ticket.userRecoverySessionId).toBe(session!.id)
      expect(ticket.userEmailId).toBe(email.id)
      expect(ticket.ticket).toBe("TICKET-1")
      expect(ticket.createdAt.getTime()).toBe(EPOCH + 6_000)
      expect(ulidTimestamp(ticket.id)).toBe(EPOCH + 6_000)
      expect(ticket.expiresAt.getTime() - ticket.createdAt.getTime()).toBe(RECOVERY_TICKET_LIFETIME_MILLIS)
      expect(RECOVERY_TICKET_LIFETIME_MILLIS).toBe(10 * 60 * 1000)
      expect(ticket.isValid(ticket.createdAt)).toBe(true)
      expect(ticket.isValid(ticket.expiresAt)).toBe(false)
      expect(yield* userRecovery.findTicket("TICKET-1")).toEqual(Option.some(ticket))
    }))

  test("findTicket matches the exact text only", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const a = yield* userRecovery.addTicket(session!, email, "abcDEF")
      const b = yield* userRecovery.addTicket(session!, email, "ÀbcDEF-é")
      expect(yield* userRecovery.findTicket("abcDEF")).toEqual(Option.some(a))
      expect(yield* userRecovery.findTicket("ÀbcDEF-é")).toEqual(Option.some(b))
      expect(yield* userRecovery.findTicket("ABCDEF")).toEqual(Option.none())
      expect(yield* userRecovery.findTicket("àbcdef-é")).toEqual(Option.none())
      expect(yield* userRecovery.findTicket("abc")).toEqual(Option.none())
      expect(yield* userRecovery.findTicket("")).toEqual(Option.none())
    }))

  test("several tickets of one session and of several addresses are kept apart", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const e1 = yield* seedEmail("alice", "alice@example.com")
      const e2 = yield* seedEmail("bob", "bob@example.com")
      const [s1, s2] = yield* addSessions(2)
      const t1 = yield* userRecovery.addTicket(s1!, e1, "t1")
      const t2 = yield* userRecovery.addTicket(s1!, e2, "t2")
      const t3 = yield* userRecovery.addTicket(s2!, e2, "t3")
      expect(Option.map(yield* userRecovery.findTicket("t1"), (t) => [t.userRecoverySessionId, t.userEmailId])).toEqual(
        Option.some([s1!.id, e1.id])
      )
      expect(yield* userRecovery.findTicket("t2")).toEqual(Option.some(t2))
      expect(yield* userRecovery.findTicket("t3")).toEqual(Option.some(t3))
      expect(t1.id < t2.id || t1.id > t2.id).toBe(true)
    }))

  test("a duplicate ticket text is stored as another ticket (as in MAS), the unit of work commits, findTicket gives the oldest", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [s1, s2] = yield* addSessions(2)
      yield* TestClock.adjust(Duration.seconds(1))
      const original = yield* repos.userRecovery.addTicket(s1!, email, "same")
      yield* TestClock.adjust(Duration.seconds(1))
      const outside = yield* repos.userRecovery.addTicket(s2!, email, "same")
      expect(outside.id > original.id).toBe(true)

      const inside = yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.userRecovery.addSession("c@example.com", "UA", Option.none(), "en")
          return yield* repos.userRecovery.addTicket(s2!, email, "same")
        })
      )
      expect(inside.userRecoverySessionId).toBe(s2!.id)
      expect(yield* sessionCount).toBe(3)
      expect(yield* repos.userRecovery.findTicket("same")).toEqual(Option.some(original))
      // With the oldest gone (its session cleaned up), the next oldest answers.
      yield* repos.userRecovery.cleanup(Option.none(), s1!.id, 1)
      expect(yield* repos.userRecovery.findTicket("same")).toEqual(Option.some(outside))
    }))

  test("addTicket for an unknown session or address is a foreign-key DriverError", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const ghostEmail = new UserEmail({ ...email, id: yield* generateUlid })
      const ghostSession = { ...session!, id: yield* generateUlid } as UserRecoverySession
      for (const attempt of [
        userRecovery.addTicket(session!, ghostEmail, "t1"),
        userRecovery.addTicket(ghostSession, email, "t2")
      ]) {
        const error = yield* Effect.flip(attempt)
        expect(error._tag).toBe("DriverError")
        if (error._tag === "DriverError") expect(error.sqlState).toEqual(Option.some("23503"))
      }
      expect(yield* userRecovery.findTicket("t1")).toEqual(Option.none())
      expect(yield* userRecovery.findTicket("t2")).toEqual(Option.none())
    }))

  test("a NUL byte in a ticket is a DriverError, on write and on lookup", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const onWrite = yield* Effect.flip(userRecovery.addTicket(session!, email, "t\u00001"))
      expect(onWrite._tag).toBe("DriverError")
      const onRead = yield* Effect.flip(userRecovery.findTicket("t\u00001"))
      expect(onRead._tag).toBe("DriverError")
      if (onRead._tag === "DriverError") expect(onRead.sqlState).toEqual(Option.some("22021"))
      expect(yield* userRecovery.findTicket("t")).toEqual(Option.none())
    }))

  test("consumeTicket stamps consumedAt with now and returns the consumed session", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const ticket = yield* userRecovery.addTicket(session!, email, "t")
      yield* TestClock.adjust(Duration.minutes(3))
      const consumed = yield* userRecovery.consumeTicket(ticket, session!)
      expect(consumed.consumedAt).toEqual(Option.some(new Date(EPOCH + 1_000 + 180_000)))
      expect(consumed.isConsumed).toBe(true)
      expect({ ...consumed, consumedAt: Option.none() }).toEqual({ ...session! })
      expect(yield* userRecovery.lookupSession(session!.id)).toEqual(Option.some(consumed))
      // The ticket is proof checked by the caller, not stored: it stays as it was.
      expect(yield* userRecovery.findTicket("t")).toEqual(Option.some(ticket))
    }))

  test("consuming a consumed session is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const ticket = yield* userRecovery.addTicket(session!, email, "t")
      const consumed = yield* userRecovery.consumeTicket(ticket, session!)
      yield* TestClock.adjust(Duration.minutes(1))
      const error = yield* Effect.flip(userRecovery.consumeTicket(ticket, consumed))
      expect(error._tag).toBe("InvalidOperationError")
      if (error._tag === "InvalidOperationError") {
        expect(Option.getOrUndefined(error.cause)).toBeInstanceOf(InvalidTransition)
        expect(Option.getOrUndefined(error.cause)).toMatchObject({ entity: "UserRecoverySession", from: "Consumed" })
      }
      expect(yield* userRecovery.lookupSession(session!.id)).toEqual(Option.some(consumed))
    }))

  test("consumeTicket checks the entity passed in: a stale pending value re-stamps the stored row", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const ticket = yield* userRecovery.addTicket(session!, email, "t")
      yield* userRecovery.consumeTicket(ticket, session!)
      yield* TestClock.adjust(Duration.minutes(1))
      const again = yield* userRecovery.consumeTicket(ticket, session!)
      expect(yield* userRecovery.lookupSession(session!.id)).toEqual(Option.some(again))
    }))

  test("consumeTicket of a session missing from the database is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const ticket = yield* userRecovery.addTicket(session!, email, "t")
      expect(yield* userRecovery.cleanup(Option.none(), END, 10)).toEqual([1, Option.some(session!.id)])
      const error = yield* Effect.flip(userRecovery.consumeTicket(ticket, session!))
      expect(error).toMatchObject({ _tag: "RowsAffectedError", expected: 1, actual: 0 })
      expect(yield* userRecovery.lookupSession(session!.id)).toEqual(Option.none())
    }))

  test("a failed unit of work leaves no session, ticket or consumption behind", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const [kept] = yield* addSessions(1)
      const failed = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            const s = yield* repos.userRecovery.addSession("x@example.com", "UA", Option.none(), "en")
            const t = yield* repos.userRecovery.addTicket(s, email, "rolled-back")
            yield* repos.userRecovery.consumeTicket(t, kept!)
            return yield* Effect.fail("cancel" as const)
          })
        )
      )
      expect(failed).toBe("cancel")
      expect(yield* sessionCount).toBe(1)
      expect(yield* repos.userRecovery.findTicket("rolled-back")).toEqual(Option.none())
      expect(yield* repos.userRecovery.lookupSession(kept!.id)).toEqual(Option.some(kept!))
    }))

  test("cleanup deletes sessions in id order in batches, resumed from the returned key, with their tickets", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const email = yield* seedEmail("alice", "alice@example.com")
      const sessions = yield* addSessions(7)
      for (const [i, s] of sessions.entries()) yield* userRecovery.addTicket(s, email, `ticket-${i}`)
      // Any state: consume some of them.
      yield* userRecovery.consumeTicket(
        (yield* userRecovery.findTicket("ticket-1")).pipe(Option.getOrThrow),
        sessions[1]!
      )
      yield* userRecovery.consumeTicket(
        (yield* userRecovery.findTicket("ticket-4")).pipe(Option.getOrThrow),
        sessions[4]!
      )
      // The cut-off: the 5th session, inclusive; the last two stay.
      const until = sessions[4]!.id
      const rounds: Array<readonly [number, Option.Option<Ulid>]> = []
      let since = Option.none<Ulid>()
      for (;;) {
        const [count, last] = yield* userRecovery.cleanup(since, until, 2)
        rounds.push([count, last])
        if (count < 2) break
        since = last
      }
      expect(rounds).toEqual([
        [2, Option.some(sessions[1]!.id)],
        [2, Option.some(sessions[3]!.id)],
        [1, Option.some(sessions[4]!.id)]
      ])
      for (const [i, s] of sessions.entries()) {
        const kept = i > 4
        expect(Option.isSome(yield* userRecovery.lookupSession(s.id))).toBe(kept)
        expect(Option.isSome(yield* userRecovery.findTicket(`ticket-${i}`))).toBe(kept)
      }
      expect(yield* userRecovery.cleanup(Option.some(until), until, 2)).toEqual([0, Option.none()])
    }))

  test("cleanup bounds: since exclusive, until inclusive, an exact multiple of limit ends on an empty round", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const sessions = yield* addSessions(4)
      const ids = sessions.map((s) => s.id)
      // since = the first id: it is not deleted again, nor counted.
      expect(yield* userRecovery.cleanup(Option.some(ids[0]!), ids[2]!, 10)).toEqual([2, Option.some(ids[2]!)])
      expect(Option.isSome(yield* userRecovery.lookupSession(ids[0]!))).toBe(true)
      // until below every remaining id: nothing.
      expect(yield* userRecovery.cleanup(Option.none(), maxUlidAt(new Date(EPOCH - 1)), 10)).toEqual([0, Option.none()])
      expect(yield* userRecovery.cleanup(Option.none(), END, 2)).toEqual([2, Option.some(ids[3]!)])
      expect(yield* userRecovery.cleanup(Option.some(ids[3]!), END, 2)).toEqual([0, Option.none()])
      expect(yield* sessionCount).toBe(0)
    }))

  test("cleanup with limit 0 deletes nothing; a negative or fractional limit is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      yield* addSessions(2)
      expect(yield* userRecovery.cleanup(Option.none(), END, 0)).toEqual([0, Option.none()])
      for (const limit of [-1, 1.5, Number.NaN]) {
        const error = yield* Effect.flip(userRecovery.cleanup(Option.none(), END, limit))
        expect(error._tag).toBe("InvalidOperationError")
      }
      expect(yield* sessionCount).toBe(2)
    }))

  test("a malformed since or until of cleanup is an InvalidOperationError; nothing is deleted and the unit of work goes on", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [first] = yield* addSessions(2)
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const bad of malformedIdsLike(first!.id)) {
            yield* expectEachToFail("InvalidOperationError", [
              [`since ${JSON.stringify(bad)}`, repos.userRecovery.cleanup(Option.some(bad), END, 10)],
              [`until ${JSON.stringify(bad)}`, repos.userRecovery.cleanup(Option.none(), bad, 10)]
            ])
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* repos.userRecovery.addSession("c@example.com", "UA", Option.none(), "en")
        })
      )
      expect(yield* sessionCount).toBe(3)
    }))

  test("cleanup keys are ids: sessions made in one millisecond go in id order", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const same: Array<UserRecoverySession> = []
      for (let i = 0; i < 5; i++)
        same.push(yield* userRecovery.addSession(`s${i}@example.com`, "UA", Option.none(), "en"))
      const sorted = same.map((s) => s.id).sort()
      expect(yield* userRecovery.cleanup(Option.none(), END, 3)).toEqual([3, Option.some(sorted[2]!)])
      for (const [i, id] of sorted.entries()) {
        expect(Option.isSome(yield* userRecovery.lookupSession(id))).toBe(i >= 3)
      }
    }))

  test("a stored session whose address is a network is an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const seed = yield* Seed
      const id = yield* generateUlid
      yield* seed.insert("user_recovery_sessions", {
        user_recovery_session_id: id,
        email: "a@example.com",
        user_agent: "UA",
        ip_address: "10.0.0.0/8",
        locale: "en",
        created_at: new Date(EPOCH),
        consumed_at: null
      })
      const error = yield* Effect.flip(userRecovery.lookupSession(id))
      expect(error._tag).toBe("InconsistencyError")
      expect(error).toMatchObject({
        table: "user_recovery_sessions",
        column: Option.some("ip_address"),
        row: Option.some(id)
      })
      expect(error.message).toBe(`Database inconsistency on table user_recovery_sessions column ip_address row ${id}`)
    }))

  test("a stored ticket with an infinite expiry is an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { userRecovery } = yield* RepositoryAccess
      const seed = yield* Seed
      const email = yield* seedEmail("alice", "alice@example.com")
      const [session] = yield* addSessions(1)
      const id = yield* generateUlid
      yield* seed.insert("user_recovery_tickets", {
        user_recovery_ticket_id: id,
        user_recovery_session_id: session!.id,
        user_email_id: email.id,
        ticket: "forever",
        created_at: new Date(EPOCH),
        expires_at: "infinity"
      })
      const error = yield* Effect.flip(userRecovery.findTicket("forever"))
      expect(error).toMatchObject({
        _tag: "InconsistencyError",
        table: "user_recovery_tickets",
        column: Option.some("expires_at"),
        row: Option.some(id)
      })
    }))
})
