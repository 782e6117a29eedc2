// Contract suite for UserRegistrationRepository: every method, guard, cleanup batch and stored-row check, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { Pending } from "../../../src/model/common.js"
import { UpstreamOAuthAuthorizationSession } from "../../../src/model/upstream.js"
import { UserEmailAuthentication, type UserRegistration, UserRegistrationToken } from "../../../src/model/user.js"
import { generateUlid, maxUlidAt, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { type IpAddress, type Json, parseIpAddress, type Url } from "../../../src/model/values.js"
import { DriverError } from "../../../src/storage/common/errors.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed, seedUpstreamProvider } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike } from "../refusals.js"

const ip = (text: string): IpAddress => Option.getOrThrow(parseIpAddress(text))
const url = (text: string) => text as Url

/** Adds pending registrations one second apart, so their ids are in the given order. */
const addRegistrations = (...usernames: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { userRegistrations } = yield* RepositoryAccess
    const added: Array<UserRegistration> = []
    for (const username of usernames) {
      added.push(yield* userRegistrations.add(username, Option.none(), Option.none(), Option.none()))
      yield* TestClock.adjust(Duration.seconds(1))
    }
    return added
  })

const lookupOrFail = (id: Ulid) =>
  Effect.gen(function* () {
    const { userRegistrations } = yield* RepositoryAccess
    return Option.getOrThrow(yield* userRegistrations.lookup(id))
  })

/** An email authentication row (its repository belongs to another suite), optionally owned by a registration. */
const seedEmailAuthentication = (registration: Option.Option<Ulid>, email = "alice@example.com") =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("user_email_authentications", {
      user_email_authentication_id: id,
      user_session_id: null,
      user_registration_id: Option.getOrNull(registration),
      email,
      created_at: new Date(EPOCH),
      completed_at: null
    })
    return new UserEmailAuthentication({
      id,
      userSessionId: Option.none(),
      userRegistrationId: registration,
      email,
      createdAt: new Date(EPOCH),
      completedAt: Option.none()
    })
  })

const seedCode = (authentication: Ulid, code: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    yield* seed.insert("user_email_authentication_codes", {
      user_email_authentication_code_id: yield* generateUlid,
      user_email_authentication_id: authentication,
      code,
      created_at: new Date(EPOCH),
      expires_at: new Date(EPOCH + 600_000)
    })
  })

const seedToken = (token: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("user_registration_tokens", {
      user_registration_token_id: id,
      token,
      usage_limit: null,
      times_used: 0,
      created_at: new Date(EPOCH),
      last_used_at: null,
      expires_at: null,
      revoked_at: null
    })
    return new UserRegistrationToken({
      id,
      token,
      usageLimit: Option.none(),
      timesUsed: 0,
      createdAt: new Date(EPOCH),
      lastUsedAt: Option.none(),
      expiresAt: Option.none(),
      revokedAt: Option.none()
    })
  })

const seedUpstreamSession = (state: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const providerId = yield* seedUpstreamProvider("https://idp.example.com/")
    const id = yield* generateUlid
    yield* seed.insert("upstream_oauth_authorization_sessions", {
      upstream_oauth_authorization_session_id: id,
      upstream_oauth_provider_id: providerId,
      upstream_oauth_link_id: null,
      user_session_id: null,
      state,
      code_challenge_verifier: null,
      nonce: null,
      id_token: null,
      id_token_claims: null,
      extra_callback_parameters: null,
      userinfo: null,
      created_at: new Date(EPOCH),
      completed_at: null,
      consumed_at: null,
      unlinked_at: null
    })
    return new UpstreamOAuthAuthorizationSession({
      id,
      state: new Pending(),
      providerId,
      stateStr: state,
      codeChallengeVerifier: Option.none(),
      nonce: Option.none(),
      createdAt: new Date(EPOCH)
    })
  })

/** A whole stored row, for planting states no method writes. */
const seedRegistrationRow = (overrides: Record<string, unknown>) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("user_registrations", {
      user_registration_id: id,
      ip_address: null,
      user_agent: null,
      post_auth_action: null,
      username: "planted",
      display_name: null,
      terms_url: null,
      email_authentication_id: null,
      user_registration_token_id: null,
      upstream_oauth_authorization_session_id: null,
      hashed_password: null,
      hashed_password_version: null,
      created_at: new Date(EPOCH),
      completed_at: null,
      ...overrides
    })
    return id
  })

/** Whether a row with this primary key still exists: re-inserting the same key fails only if it does. */
const authenticationExists = (id: Ulid) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const reinserted = yield* Effect.either(
      seed.insert("user_email_authentications", {
        user_email_authentication_id: id,
        user_session_id: null,
        user_registration_id: null,
        email: "probe@example.com",
        created_at: new Date(EPOCH),
        completed_at: null
      })
    )
    return reinserted._tag === "Left"
  })

/** A registration that was added and rolled back: the entity exists, its row does not. */
const ghostRegistration = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const failure = yield* Effect.flip(
    repos.transaction(
      Effect.flatMap(repos.userRegistrations.add("ghost", Option.none(), Option.none(), Option.none()), (r) =>
        Effect.fail({ rollback: r })
      )
    )
  )
  return (failure as { rollback: UserRegistration }).rollback
})

contract("UserRegistrationRepository", (test) => {
  test("add creates a pending registration with the given fields, id and createdAt from Clock and Random", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const action: Json = { kind: "continue_authorization_grant", data: ["01", 2, true, null, { nested: "é" }] }
      const r = yield* userRegistrations.add(
        "alice",
        Option.some(ip("192.0.2.7")),
        Option.some("Mozilla/5.0"),
        Option.some(action)
      )
      expect(r.username).toBe("alice")
      expect(r.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(r.id)).toBe(EPOCH)
      expect(r.ipAddress).toEqual(Option.some("192.0.2.7"))
      expect(r.userAgent).toEqual(Option.some("Mozilla/5.0"))
      expect(r.postAuthAction).toEqual(Option.some(action))
      expect(r.isCompleted).toBe(false)
      for (const field of [
        r.displayName,
        r.termsUrl,
        r.emailAuthenticationId,
        r.userRegistrationTokenId,
        r.password,
        r.upstreamOAuthAuthorizationSessionId,
        r.completedAt
      ]) {
        expect(field).toEqual(Option.none())
      }
      expect(yield* userRegistrations.lookup(r.id)).toEqual(Option.some(r))
    }))

  test("add with every optional field none, and usernames are not unique", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [a, b] = yield* addRegistrations("same", "same")
      expect(a!.id).not.toBe(b!.id)
      expect(yield* userRegistrations.lookup(a!.id)).toEqual(Option.some(a))
      expect(yield* userRegistrations.lookup(b!.id)).toEqual(Option.some(b))
      expect([a!.ipAddress, a!.userAgent, a!.postAuthAction]).toEqual([Option.none(), Option.none(), Option.none()])
    }))

  test("lookup of an unknown id is none", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      expect(yield* userRegistrations.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("postAuthAction round-trips any JSON value; a JSON null is stored as no action", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const values: ReadonlyArray<Json> = [[1, "two", [3]], "just text", 42.5, false, {}, { "a\\b": '%_"' }]
      for (const value of values) {
        const r = yield* userRegistrations.add("json", Option.none(), Option.none(), Option.some(value))
        expect(r.postAuthAction).toEqual(Option.some(value))
        expect(Option.map(yield* userRegistrations.lookup(r.id), (x) => x.postAuthAction)).toEqual(
          Option.some(Option.some(value))
        )
      }
      const nullAction = yield* userRegistrations.add("json", Option.none(), Option.none(), Option.some(null))
      expect(nullAction.postAuthAction).toEqual(Option.none())
      expect(yield* userRegistrations.lookup(nullAction.id)).toEqual(Option.some(nullAction))
    }))

  test("IPv6 addresses and non-ASCII text round-trip", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const r = yield* userRegistrations.add(
        "Ünïcødé-Σ",
        Option.some(ip("2001:DB8:0::1")),
        Option.some("Navigateur «ß»"),
        Option.none()
      )
      expect(r.ipAddress).toEqual(Option.some("2001:db8::1"))
      const named = yield* userRegistrations.setDisplayName(r, "Zoë 👩‍💻")
      const stored = Option.getOrThrow(yield* userRegistrations.lookup(r.id))
      expect(stored).toEqual(named)
      expect(stored.username).toBe("Ünïcødé-Σ")
      expect(stored.displayName).toEqual(Option.some("Zoë 👩‍💻"))
      expect(stored.userAgent).toEqual(Option.some("Navigateur «ß»"))
    }))

  test("setDisplayName and setTermsUrl write the field, overwrite on a second call, and return the stored registration", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const named = yield* userRegistrations.setDisplayName(r!, "Alice")
      expect(named.displayName).toEqual(Option.some("Alice"))
      const renamed = yield* userRegistrations.setDisplayName(named, "Alice L.")
      expect(renamed.displayName).toEqual(Option.some("Alice L."))
      const withTerms = yield* userRegistrations.setTermsUrl(renamed, url("https://example.com/tos?v=1"))
      expect(withTerms.termsUrl).toEqual(Option.some("https://example.com/tos?v=1"))
      const newTerms = yield* userRegistrations.setTermsUrl(withTerms, url("https://example.com/tos?v=2"))
      expect(newTerms.termsUrl).toEqual(Option.some("https://example.com/tos?v=2"))
      expect(newTerms.displayName).toEqual(Option.some("Alice L."))
      expect(yield* lookupOrFail(r!.id)).toEqual(newTerms)
    }))

  test("setTermsUrl stores the URL in its WHATWG form; text that is not an absolute URL is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const withTerms = yield* repos.userRegistrations.setTermsUrl(r!, url("HTTPS://Example.COM"))
      expect(withTerms.termsUrl).toEqual(Option.some("https://example.com/"))
      expect(yield* lookupOrFail(r!.id)).toEqual(withTerms)
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const text of ["not a url", "/tos", "https://example.com/\u0000"]) {
            const error = yield* Effect.flip(repos.userRegistrations.setTermsUrl(withTerms, url(text)))
            expect([text, error._tag]).toEqual([text, "InvalidOperationError"])
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* repos.userRegistrations.setDisplayName(withTerms, "Alice")
        })
      )
      expect(yield* lookupOrFail(r!.id)).toMatchObject({
        termsUrl: Option.some("https://example.com/"),
        displayName: Option.some("Alice")
      })
    }))

  test("a setter returns the row as stored, even when given a stale (but pending) entity", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      yield* userRegistrations.setDisplayName(r!, "Alice")
      const withTerms = yield* userRegistrations.setTermsUrl(r!, url("https://example.com/tos"))
      expect(withTerms.displayName).toEqual(Option.some("Alice"))
      expect(yield* lookupOrFail(r!.id)).toEqual(withTerms)
    }))

  test("setPassword stores the hash and its version; a version outside 0–65535 is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const withPassword = yield* userRegistrations.setPassword(r!, "$argon2id$hash", 1)
      expect(Option.map(withPassword.password, (p) => [p.hashedPassword, p.version])).toEqual(
        Option.some(["$argon2id$hash", 1])
      )
      const upgraded = yield* userRegistrations.setPassword(withPassword, "$argon2id$other", 65535)
      expect(Option.map(upgraded.password, (p) => p.version)).toEqual(Option.some(65535))
      expect(yield* lookupOrFail(r!.id)).toEqual(upgraded)
      for (const bad of [-1, 65536, 1.5, Number.NaN]) {
        const error = yield* Effect.flip(userRegistrations.setPassword(upgraded, "$x", bad))
        expect(error._tag).toBe("InvalidOperationError")
      }
      expect(yield* lookupOrFail(r!.id)).toEqual(upgraded)
      const zero = yield* userRegistrations.setPassword(upgraded, "$v0", 0)
      expect(Option.map(zero.password, (p) => p.version)).toEqual(Option.some(0))
    }))

  test("setEmailAuthentication, setRegistrationToken and setUpstreamOAuthAuthorizationSession link the rows and overwrite", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const auth1 = yield* seedEmailAuthentication(Option.some(r!.id))
      const auth2 = yield* seedEmailAuthentication(Option.some(r!.id), "other@example.com")
      const token = yield* seedToken("invite-1")
      const upstream = yield* seedUpstreamSession("state-1")

      const a = yield* userRegistrations.setEmailAuthentication(r!, auth1)
      expect(a.emailAuthenticationId).toEqual(Option.some(auth1.id))
      const b = yield* userRegistrations.setEmailAuthentication(a, auth2)
      expect(b.emailAuthenticationId).toEqual(Option.some(auth2.id))
      const c = yield* userRegistrations.setRegistrationToken(b, token)
      expect(c.userRegistrationTokenId).toEqual(Option.some(token.id))
      const d = yield* userRegistrations.setUpstreamOAuthAuthorizationSession(c, upstream)
      expect(d.upstreamOAuthAuthorizationSessionId).toEqual(Option.some(upstream.id))
      expect(d.emailAuthenticationId).toEqual(Option.some(auth2.id))
      expect(yield* lookupOrFail(r!.id)).toEqual(d)
    }))

  test("linking a row that does not exist is a foreign-key DriverError and writes nothing", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const missingAuth = new UserEmailAuthentication({
        id: yield* generateUlid,
        userSessionId: Option.none(),
        userRegistrationId: Option.none(),
        email: "x@example.com",
        createdAt: new Date(EPOCH),
        completedAt: Option.none()
      })
      const authError = yield* Effect.flip(userRegistrations.setEmailAuthentication(r!, missingAuth))
      expect(authError).toBeInstanceOf(DriverError)
      expect(authError).toMatchObject({
        sqlState: Option.some("23503"),
        constraint: Option.some("user_registrations_email_authentication_id_fkey")
      })
      const tokenError = yield* Effect.flip(
        userRegistrations.setRegistrationToken(
          r!,
          new UserRegistrationToken({
            id: yield* generateUlid,
            token: "ghost",
            usageLimit: Option.none(),
            timesUsed: 0,
            createdAt: new Date(EPOCH),
            lastUsedAt: Option.none(),
            expiresAt: Option.none(),
            revokedAt: Option.none()
          })
        )
      )
      expect(tokenError).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      const upstreamError = yield* Effect.flip(
        userRegistrations.setUpstreamOAuthAuthorizationSession(
          r!,
          new UpstreamOAuthAuthorizationSession({
            id: yield* generateUlid,
            state: new Pending(),
            providerId: yield* generateUlid,
            stateStr: "ghost",
            codeChallengeVerifier: Option.none(),
            nonce: Option.none(),
            createdAt: new Date(EPOCH)
          })
        )
      )
      expect(upstreamError).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      expect(yield* lookupOrFail(r!.id)).toEqual(r)
    }))

  test("a driver error inside a unit of work dooms it: nothing of it is kept", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const error = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            yield* repos.userRegistrations.setDisplayName(r!, "Alice")
            yield* Effect.ignore(repos.userRegistrations.setDisplayName(r!, "bad\u0000name"))
            yield* repos.userRegistrations.setTermsUrl(r!, url("https://example.com/tos"))
          })
        )
      )
      expect(error._tag).toBe("DriverError")
      expect(yield* lookupOrFail(r!.id)).toEqual(r)
    }))

  test("complete stamps completedAt = now and returns the completed registration", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      yield* TestClock.adjust(Duration.minutes(3))
      const named = yield* userRegistrations.setDisplayName(r!, "Alice")
      const completed = yield* userRegistrations.complete(named)
      const at = new Date(EPOCH + 1000 + 180_000)
      expect(completed.completedAt).toEqual(Option.some(at))
      expect(completed.isCompleted).toBe(true)
      expect(completed.displayName).toEqual(Option.some("Alice"))
      expect(yield* lookupOrFail(r!.id)).toEqual(completed)
    }))

  test("after completion every setter and complete are refused by the guard (RowsAffectedError) and write nothing", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const auth = yield* seedEmailAuthentication(Option.some(r!.id))
      const token = yield* seedToken("invite")
      const upstream = yield* seedUpstreamSession("state")
      const completed = yield* userRegistrations.complete(r!)
      yield* TestClock.adjust(Duration.minutes(1))
      // Both the completed entity and the stale pending one are refused: the guard is the stored completed_at.
      for (const entity of [completed, r!]) {
        const attempts = [
          userRegistrations.setDisplayName(entity, "Alice"),
          userRegistrations.setTermsUrl(entity, url("https://example.com/tos")),
          userRegistrations.setEmailAuthentication(entity, auth),
          userRegistrations.setPassword(entity, "$hash", 1),
          userRegistrations.setRegistrationToken(entity, token),
          userRegistrations.setUpstreamOAuthAuthorizationSession(entity, upstream),
          userRegistrations.complete(entity)
        ]
        for (const attempt of attempts) {
          expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "RowsAffectedError", expected: 1, actual: 0 })
        }
      }
      expect(yield* lookupOrFail(r!.id)).toEqual(completed)
    }))

  test("a failed guard leaves the unit of work usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [done, open] = yield* addRegistrations("done", "open")
      yield* repos.userRegistrations.complete(done!)
      yield* repos.transaction(
        Effect.gen(function* () {
          const refused = yield* Effect.flip(repos.userRegistrations.setDisplayName(done!, "Done"))
          expect(refused._tag).toBe("RowsAffectedError")
          yield* repos.userRegistrations.setDisplayName(open!, "Open")
        })
      )
      expect((yield* lookupOrFail(open!.id)).displayName).toEqual(Option.some("Open"))
      expect((yield* lookupOrFail(done!.id)).displayName).toEqual(Option.none())
    }))

  test("setters and complete on a registration that is not stored are a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const ghost = yield* ghostRegistration
      expect(yield* userRegistrations.lookup(ghost.id)).toEqual(Option.none())
      expect(yield* Effect.flip(userRegistrations.setDisplayName(ghost, "Ghost"))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 1,
        actual: 0
      })
      expect(yield* Effect.flip(userRegistrations.complete(ghost))).toMatchObject({ _tag: "RowsAffectedError" })
      expect(yield* userRegistrations.lookup(ghost.id)).toEqual(Option.none())
    }))

  test("NUL in text is a DriverError (22021) and writes nothing", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("alice")
      const bad = "nul\u0000byte"
      const addError = yield* Effect.flip(userRegistrations.add(bad, Option.none(), Option.none(), Option.none()))
      expect(addError).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      const agentError = yield* Effect.flip(
        userRegistrations.add("bob", Option.none(), Option.some(bad), Option.none())
      )
      expect(agentError).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      // (A URL holding NUL is not a URL: setTermsUrl refuses it with an InvalidOperationError, tested above.)
      for (const attempt of [userRegistrations.setDisplayName(r!, bad), userRegistrations.setPassword(r!, bad, 1)]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      expect(yield* lookupOrFail(r!.id)).toEqual(r)
      // The parameter is refused before the guard is looked at, on a completed registration too.
      const completed = yield* userRegistrations.complete(r!)
      expect(yield* Effect.flip(userRegistrations.setDisplayName(completed, bad))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("22021")
      })
    }))

  test("a postAuthAction jsonb cannot hold (NUL, unpaired surrogate) is a DriverError and stores nothing", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const nul = yield* Effect.flip(
        repos.userRegistrations.add("a", Option.none(), Option.none(), Option.some({ k: "x\u0000y" }))
      )
      expect(nul).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22P05") })
      const nulKey = yield* Effect.flip(
        repos.userRegistrations.add("a", Option.none(), Option.none(), Option.some({ "\u0000": 1 }))
      )
      expect(nulKey).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22P05") })
      const surrogate = yield* Effect.flip(
        repos.userRegistrations.add("a", Option.none(), Option.none(), Option.some(["\ud800"]))
      )
      expect(surrogate).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22P02") })
      // A backslash followed by "u0000" is ordinary text.
      const literal = yield* repos.userRegistrations.add("a", Option.none(), Option.none(), Option.some("\\u0000"))
      expect(Option.map(yield* repos.userRegistrations.lookup(literal.id), (r) => r.postAuthAction)).toEqual(
        Option.some(Option.some("\\u0000"))
      )
      // Inside a unit of work the failed insert leaves nothing behind.
      const failed = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            const kept = yield* repos.userRegistrations.add("kept?", Option.none(), Option.none(), Option.none())
            yield* Effect.ignore(repos.userRegistrations.add("a", Option.none(), Option.none(), Option.some("\u0000")))
            return kept
          })
        )
      )
      expect(failed._tag).toBe("DriverError")
    }))

  test("a malformed since or until of cleanup is an InvalidOperationError; nothing is deleted and the unit of work goes on", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [first] = yield* addRegistrations("r1", "r2")
      const until = maxUlidAt(new Date(EPOCH + 60_000))
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const bad of malformedIdsLike(first!.id)) {
            yield* expectEachToFail("InvalidOperationError", [
              [`since ${JSON.stringify(bad)}`, repos.userRegistrations.cleanup(Option.some(bad), until, 10)],
              [`until ${JSON.stringify(bad)}`, repos.userRegistrations.cleanup(Option.none(), bad, 10)]
            ])
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* repos.userRegistrations.add("r3", Option.none(), Option.none(), Option.none())
        })
      )
      expect(yield* repos.userRegistrations.lookup(first!.id)).toEqual(Option.some(first))
      expect((yield* repos.userRegistrations.cleanup(Option.none(), until, 10))[0]).toBe(3)
    }))

  test("cleanup deletes at most limit registrations with since < id <= until, resumed from the returned key", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const regs = yield* addRegistrations("r1", "r2", "r3", "r4", "r5")
      const completed = yield* userRegistrations.complete(regs[1]!)
      expect(completed.isCompleted).toBe(true)
      // The registrations' email authentications (with codes) go with them; one references back (the circular pair).
      const auth2 = yield* seedEmailAuthentication(Option.some(regs[1]!.id))
      yield* seedCode(auth2.id, "123456")
      const auth4 = yield* seedEmailAuthentication(Option.some(regs[3]!.id))
      yield* userRegistrations.setEmailAuthentication(regs[3]!, auth4)
      const auth5 = yield* seedEmailAuthentication(Option.some(regs[4]!.id))
      const loose = yield* seedEmailAuthentication(Option.none())

      const until = maxUlidAt(regs[3]!.createdAt)
      const first = yield* userRegistrations.cleanup(Option.none(), until, 2)
      expect(first).toEqual([2, Option.some(regs[1]!.id)])
      const second = yield* userRegistrations.cleanup(first[1], until, 2)
      expect(second).toEqual([2, Option.some(regs[3]!.id)])
      const third = yield* userRegistrations.cleanup(second[1], until, 2)
      expect(third).toEqual([0, Option.none()])

      for (const r of regs.slice(0, 4)) expect(yield* userRegistrations.lookup(r.id)).toEqual(Option.none())
      expect(yield* userRegistrations.lookup(regs[4]!.id)).toEqual(Option.some(regs[4]))
      expect(yield* authenticationExists(auth2.id)).toBe(false)
      expect(yield* authenticationExists(auth4.id)).toBe(false)
      expect(yield* authenticationExists(auth5.id)).toBe(true)
      expect(yield* authenticationExists(loose.id)).toBe(true)
    }))

  test("cleanup bounds: since is exclusive, until inclusive; a short batch ends the job", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const regs = yield* addRegistrations("r1", "r2", "r3", "r4")
      const round = yield* userRegistrations.cleanup(Option.some(regs[0]!.id), regs[2]!.id, 10)
      expect(round).toEqual([2, Option.some(regs[2]!.id)])
      expect(yield* userRegistrations.lookup(regs[0]!.id)).toEqual(Option.some(regs[0]))
      expect(yield* userRegistrations.lookup(regs[3]!.id)).toEqual(Option.some(regs[3]))
      // A cut-off before every registration matches nothing.
      expect(yield* userRegistrations.cleanup(Option.none(), maxUlidAt(new Date(EPOCH - 1)), 10)).toEqual([
        0,
        Option.none()
      ])
      // Exactly `limit` rows left: the batch is full, the next one empty.
      const full = yield* userRegistrations.cleanup(Option.none(), maxUlidAt(new Date(EPOCH + 60_000)), 2)
      expect(full).toEqual([2, Option.some(regs[3]!.id)])
      expect(yield* userRegistrations.cleanup(full[1], maxUlidAt(new Date(EPOCH + 60_000)), 2)).toEqual([
        0,
        Option.none()
      ])
    }))

  test("cleanup with limit 0 deletes nothing; a negative or fractional limit is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const [r] = yield* addRegistrations("r1")
      const until = maxUlidAt(new Date(EPOCH + 60_000))
      expect(yield* userRegistrations.cleanup(Option.none(), until, 0)).toEqual([0, Option.none()])
      for (const bad of [-1, 1.5, Number.NaN]) {
        expect((yield* Effect.flip(userRegistrations.cleanup(Option.none(), until, bad)))._tag).toBe(
          "InvalidOperationError"
        )
      }
      expect(yield* userRegistrations.lookup(r!.id)).toEqual(Option.some(r))
    }))

  test("stored rows that cannot be decoded are an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ hashed_password: "$hash", hashed_password_version: null }, "hashed_password_version"],
        [{ hashed_password: null, hashed_password_version: 1 }, "hashed_password"],
        [{ hashed_password: "$hash", hashed_password_version: 70000 }, "hashed_password_version"],
        [{ terms_url: "not a url" }, "terms_url"],
        [{ ip_address: "10.0.0.0/8" }, "ip_address"]
      ]
      for (const [overrides, column] of cases) {
        const id = yield* seedRegistrationRow(overrides)
        const error = yield* Effect.flip(userRegistrations.lookup(id))
        expect(error).toMatchObject({
          _tag: "InconsistencyError",
          table: "user_registrations",
          column: Option.some(column),
          row: Option.some(id)
        })
        expect(error.message).toBe(`Database inconsistency on table user_registrations column ${column} row ${id}`)
      }
      // A consistent planted row decodes, completed and with both password columns.
      const ok = yield* seedRegistrationRow({
        hashed_password: "$hash",
        hashed_password_version: 3,
        completed_at: new Date(EPOCH + 5000),
        ip_address: "::1"
      })
      const decoded = Option.getOrThrow(yield* userRegistrations.lookup(ok))
      expect(Option.map(decoded.password, (p) => p.version)).toEqual(Option.some(3))
      expect(decoded.completedAt).toEqual(Option.some(new Date(EPOCH + 5000)))
      expect(decoded.ipAddress).toEqual(Option.some("::1"))
    }))

  test("a setter on a row that turns out inconsistent reports the inconsistency", () =>
    Effect.gen(function* () {
      const { userRegistrations } = yield* RepositoryAccess
      const id = yield* seedRegistrationRow({ hashed_password: "$hash" })
      const error = yield* Effect.flip(userRegistrations.lookup(id))
      expect(error._tag).toBe("InconsistencyError")
      // The entity cannot be read, but a caller holding an (older) entity still meets the same check on the way back.
      const [r] = yield* addRegistrations("alice")
      const stale = { ...r!, id } as unknown as UserRegistration
      expect(yield* Effect.flip(userRegistrations.setDisplayName(stale, "x"))).toMatchObject({
        _tag: "InconsistencyError",
        column: Option.some("hashed_password_version"),
        row: Option.some(id)
      })
    }))
})
