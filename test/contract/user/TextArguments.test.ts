// Contract suite for the text arguments of the user-family repositories: unpaired UTF-16 surrogates are refused alike on
// PostgreSQL and in memory, and astral characters (proper surrogate pairs) are stored and read back exactly.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, Schema } from "effect"
import { Url } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract } from "../backends.js"
import { expectEachToFail } from "../refusals.js"

const everything = Either.getOrThrow(Pagination.first(1000))
const url = Schema.decodeSync(Url)

const TABLES = [
  "users",
  "user_emails",
  "user_email_authentications",
  "user_email_authentication_codes",
  "user_sessions",
  "user_passwords",
  "user_recovery_sessions",
  "user_recovery_tickets",
  "user_registrations",
  "user_registration_tokens",
  "user_terms"
]

/** The row count of every table the calls could write, and the rows the updates could change. */
const snapshot = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const seed = yield* Seed
  const counts: Record<string, number> = {}
  for (const table of TABLES) counts[table] = yield* seed.count(table)
  return { counts, sessions: (yield* repos.browserSessions.list({}, everything)).nodes }
})

/** One row of each kind the calls take, all with ordinary text. */
const seedEach = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const alice = yield* repos.users.add("alice")
  const email = yield* repos.userEmails.add(alice, "alice@example.com")
  const session = yield* repos.browserSessions.add(alice, Option.some("Mozilla/5.0"))
  const authentication = yield* repos.userEmails.addAuthenticationForSession("alice@example.com", session)
  const registration = yield* repos.userRegistrations.add("carol", Option.none(), Option.none(), Option.none())
  const recovery = yield* repos.userRecovery.addSession("alice@example.com", "Mozilla/5.0", Option.none(), "en")
  return { alice, email, session, authentication, registration, recovery }
})

/** Every text argument of every user-family method that takes one, holding `bad`, with the argument's name. */
const attemptsWith = (bad: string) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const { alice, email, session, authentication, registration, recovery } = yield* seedEach
    const minutes = Duration.minutes(5)
    const attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, DatabaseError>, string]> = [
      ["users.add", repos.users.add(bad), "username"],
      ["users.findByUsername", repos.users.findByUsername(bad), "username"],
      ["users.exists", repos.users.exists(bad), "username"],
      ["users.list", repos.users.list({ search: bad }, everything), "search"],
      ["users.count", repos.users.count({ search: bad }), "search"],
      ["userEmails.add", repos.userEmails.add(alice, `${bad}@example.com`), "email"],
      ["userEmails.find", repos.userEmails.find(alice, bad), "email"],
      ["userEmails.findByEmail", repos.userEmails.findByEmail(bad), "email"],
      ["userEmails.list", repos.userEmails.list({ email: bad }, everything), "email"],
      ["userEmails.count", repos.userEmails.count({ email: bad }), "email"],
      ["userEmails.removeBulk", repos.userEmails.removeBulk({ email: bad }), "email"],
      ["userEmails.addAuthenticationForSession", repos.userEmails.addAuthenticationForSession(bad, session), "email"],
      [
        "userEmails.addAuthenticationForRegistration",
        repos.userEmails.addAuthenticationForRegistration(bad, registration),
        "email"
      ],
      [
        "userEmails.addAuthenticationCode",
        repos.userEmails.addAuthenticationCode(minutes, authentication, bad),
        "code"
      ],
      ["userEmails.findAuthenticationCode", repos.userEmails.findAuthenticationCode(authentication, bad), "code"],
      ["browserSessions.add", repos.browserSessions.add(alice, Option.some(bad)), "userAgent"],
      [
        "browserSessions.list",
        repos.browserSessions.list({ linkedToUpstreamSessions: { subClaim: bad } }, everything),
        "subClaim"
      ],
      [
        "browserSessions.count",
        repos.browserSessions.count({ linkedToUpstreamSessions: { sidClaim: bad } }),
        "sidClaim"
      ],
      [
        "browserSessions.finishBulk",
        repos.browserSessions.finishBulk({ linkedToUpstreamSessions: { subClaim: bad } }),
        "subClaim"
      ],
      ["userPasswords.add", repos.userPasswords.add(alice, 1, bad, Option.none()), "hashedPassword"],
      ["userRecovery.addSession email", repos.userRecovery.addSession(bad, "UA", Option.none(), "en"), "email"],
      [
        "userRecovery.addSession userAgent",
        repos.userRecovery.addSession("a@example.com", bad, Option.none(), "en"),
        "userAgent"
      ],
      [
        "userRecovery.addSession locale",
        repos.userRecovery.addSession("a@example.com", "UA", Option.none(), bad),
        "locale"
      ],
      ["userRecovery.findTicket", repos.userRecovery.findTicket(bad), "ticket"],
      ["userRecovery.addTicket", repos.userRecovery.addTicket(recovery, email, bad), "ticket"],
      [
        "userRegistrations.add username",
        repos.userRegistrations.add(bad, Option.none(), Option.none(), Option.none()),
        "username"
      ],
      [
        "userRegistrations.add userAgent",
        repos.userRegistrations.add("dave", Option.none(), Option.some(bad), Option.none()),
        "userAgent"
      ],
      ["userRegistrations.setDisplayName", repos.userRegistrations.setDisplayName(registration, bad), "displayName"],
      [
        "userRegistrations.setTermsUrl",
        repos.userRegistrations.setTermsUrl(registration, url(`https://example.com/${bad}`)),
        "termsUrl"
      ],
      ["userRegistrations.setPassword", repos.userRegistrations.setPassword(registration, bad, 1), "hashedPassword"],
      ["userRegistrationTokens.add", repos.userRegistrationTokens.add(bad, Option.none(), Option.none()), "token"],
      ["userRegistrationTokens.findByToken", repos.userRegistrationTokens.findByToken(bad), "token"],
      ["userTerms.acceptTerms", repos.userTerms.acceptTerms(alice, url(`https://example.com/${bad}`)), "termsUrl"]
    ]
    return { attempts, registration }
  })

contract("Text arguments: unpaired surrogates and astral characters", (test) => {
  // A high surrogate alone, a low one alone, the two in the wrong order, and a high one ending the text.
  for (const bad of ["a\uD800b", "a\uDC00b", "\uDC00\uD800", "ab\uDBFF"]) {
    test(`${JSON.stringify(bad)} is an InvalidOperationError naming the argument, wherever text is taken; nothing is written`, () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const { attempts, registration } = yield* attemptsWith(bad)
        const before = yield* snapshot
        // Refused before anything is sent: the unit of work around the attempts still commits.
        yield* repos.transaction(
          Effect.zipRight(
            expectEachToFail(
              "InvalidOperationError",
              attempts.map(
                ([name, attempt, argument]) =>
                  [name, attempt, `${argument} holds an unpaired UTF-16 surrogate`] as const
              )
            ),
            repos.users.add("marker")
          )
        )
        const after = yield* snapshot
        expect(after).toEqual({ ...before, counts: { ...before.counts, users: before.counts.users + 1 } })
        expect(yield* repos.userRegistrations.lookup(registration.id)).toEqual(Option.some(registration))
      }))
  }

  test("astral characters (surrogate pairs) are accepted and round-trip exactly", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice, email, session, registration, recovery } = yield* seedEach
      const smile = "\u{1F600}"
      expect(smile.length).toBe(2)

      const user = yield* repos.users.add(`${smile}x`)
      expect(Option.map(yield* repos.users.findByUsername(`${smile}X`), (u) => u.username)).toEqual(
        Option.some(`${smile}x`)
      )
      expect(yield* repos.users.exists(`${smile}x`)).toBe(true)
      expect((yield* repos.users.list({ search: smile }, everything)).nodes).toEqual([user])

      const address = yield* repos.userEmails.add(alice, `${smile}@example.com`)
      expect(yield* repos.userEmails.findByEmail(`${smile}@EXAMPLE.com`)).toEqual(Option.some(address))
      expect(yield* repos.userEmails.count({ email: `${smile}@example.com` })).toBe(1)
      const authentication = yield* repos.userEmails.addAuthenticationForSession(`${smile}@example.com`, session)
      expect(Option.map(yield* repos.userEmails.lookupAuthentication(authentication.id), (a) => a.email)).toEqual(
        Option.some(`${smile}@example.com`)
      )
      const code = yield* repos.userEmails.addAuthenticationCode(Duration.minutes(5), authentication, `${smile}42`)
      expect(yield* repos.userEmails.findAuthenticationCode(authentication, `${smile}42`)).toEqual(Option.some(code))

      const agent = yield* repos.browserSessions.add(alice, Option.some(`Agent ${smile}`))
      expect(Option.map(yield* repos.browserSessions.lookup(agent.id), (s) => s.userAgent)).toEqual(
        Option.some(Option.some(`Agent ${smile}`))
      )
      expect(yield* repos.browserSessions.count({ linkedToUpstreamSessions: { subClaim: smile } })).toBe(0)

      const password = yield* repos.userPasswords.add(alice, 1, `hash${smile}`, Option.none())
      expect(yield* repos.userPasswords.active(alice)).toEqual(Option.some(password))

      const started = yield* repos.userRecovery.addSession(
        `${smile}@example.com`,
        `UA ${smile}`,
        Option.none(),
        `en-${smile}`
      )
      expect(yield* repos.userRecovery.lookupSession(started.id)).toEqual(Option.some(started))
      const ticket = yield* repos.userRecovery.addTicket(recovery, email, `ticket${smile}`)
      expect(yield* repos.userRecovery.findTicket(`ticket${smile}`)).toEqual(Option.some(ticket))

      const added = yield* repos.userRegistrations.add(
        `r${smile}`,
        Option.none(),
        Option.some(`UA ${smile}`),
        Option.none()
      )
      expect(yield* repos.userRegistrations.lookup(added.id)).toEqual(Option.some(added))
      const named = yield* repos.userRegistrations.setDisplayName(registration, `Carol ${smile}`)
      const hashed = yield* repos.userRegistrations.setPassword(named, `hash${smile}`, 1)
      expect(yield* repos.userRegistrations.lookup(registration.id)).toEqual(Option.some(hashed))
      expect(hashed.displayName).toEqual(Option.some(`Carol ${smile}`))

      const token = yield* repos.userRegistrationTokens.add(`token${smile}`, Option.none(), Option.none())
      expect(yield* repos.userRegistrationTokens.findByToken(`token${smile}`)).toEqual(Option.some(token))

      // URLs are accepted; their stored form is the URL repositories' concern, not this suite's.
      yield* repos.userRegistrations.setTermsUrl(hashed, url(`https://example.com/${smile}`))
      yield* repos.userTerms.acceptTerms(alice, url(`https://example.com/${smile}`))
    }))
})
