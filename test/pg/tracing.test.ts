// Every PostgreSQL repository method runs in one span db.<repository>.<method> with OpenTelemetry's database attributes; its statements are @effect/sql's sql.execute spans below it, with their SQL text.
import * as Statement from "@effect/sql/Statement"
import { expect, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Option } from "effect"
import { Device, type Url } from "../../src/model/values.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../support/database.js"
import { newProviderParams } from "../contract/upstream/fixtures.js"
import { queryText, recordSpans, statementsOf, type RecordedSpan } from "../support/spans.js"

const spanNamed = (spans: ReadonlyArray<RecordedSpan>, name: string): RecordedSpan => {
  const found = spans.find((s) => s.name === name)
  expect(found, name).toBeDefined()
  return found!
}

/** What a method's span says of the SQL it sent: its statements' texts in order, each once, joined by `; `. */
const expectedQueryText = (spans: ReadonlyArray<RecordedSpan>, method: string): string | undefined => {
  const texts = [...new Set(statementsOf(spans, method).map((s) => String(queryText(s))))]
  return texts.length === 0 ? undefined : texts.join("; ")
}

layer(Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer()))("repository spans", (it) => {
  it.effect(
    "a method has one span db.<repository>.<method>, and its statements' sql.execute spans carry their SQL text below it",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const [, spans] = yield* recordSpans(
          Effect.gen(function* () {
            const alice = yield* repos.users.add("alice")
            yield* repos.users.lookup(alice.id)
            yield* repos.users.list({ search: "ali" }, yield* Pagination.first(10))
            yield* repos.userEmails.add(alice, "alice@example.com")
          })
        )
        const names = spans.map((s) => s.name)
        for (const method of ["db.user.add", "db.user.lookup", "db.user.list", "db.userEmail.add"]) {
          // one span per method: no second span of the same name per statement
          expect(names.filter((n) => n === method)).toEqual([method])
        }
        // nothing but the method spans and @effect/sql's own statement spans
        expect(new Set(names)).toEqual(
          new Set(["db.user.add", "db.user.lookup", "db.user.list", "db.userEmail.add", "sql.execute"])
        )
        for (const span of spans.filter((s) => s.name.startsWith("db."))) {
          expect(span.attributes.get("db.system")).toBe("postgresql")
          expect(span.attributes.get("db.system.name")).toBe("postgresql")
          // the operation is the method, as the application names it
          expect(span.attributes.get("db.operation.name")).toBe(span.name.split(".")[2])
          // the method's SQL is the text its one statement sent
          expect(statementsOf(spans, span.name).length).toBe(1)
          expect(span.attributes.get("db.query.text")).toBe(queryText(statementsOf(spans, span.name)[0]))
        }
        expect(String(spanNamed(spans, "db.user.add").attributes.get("db.query.text"))).toMatch(/^INSERT INTO users/)

        const [lookupStatement] = statementsOf(spans, "db.user.lookup")
        expect(String(queryText(lookupStatement))).toMatch(/^SELECT .* FROM users WHERE user_id = \$1$/)

        const listStatements = statementsOf(spans, "db.user.list")
        expect(listStatements.length).toBe(1)
        expect(String(queryText(listStatements[0]))).toMatch(/FROM users WHERE .*ORDER BY .*LIMIT \$\d+$/s)
      })
  )

  it.effect(
    "the repositories of the compat, upstream, personal and app-session families: one span per method, statements below it",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const page = yield* Pagination.first(10)
        const [, spans] = yield* recordSpans(
          Effect.gen(function* () {
            const bob = yield* repos.users.add("bob")
            const browserSession = yield* repos.browserSessions.add(bob, Option.none())
            const login = yield* repos.compatSsoLogins.add("login-token", "https://app.example.com/" as Url)
            const session = yield* repos.compatSessions.add(
              bob,
              new Device({ id: "DEVICE" }),
              Option.some(browserSession),
              false,
              Option.none()
            )
            yield* repos.compatSessions.list({ user: bob.id }, page)
            const access = yield* repos.compatAccessTokens.add(session, "access", Option.none())
            yield* repos.compatRefreshTokens.add(session, access, "refresh")
            yield* repos.compatSsoLogins.findByToken(login.loginToken)
            const provider = yield* repos.upstreamOAuthProviders.add(newProviderParams())
            yield* repos.upstreamOAuthLinks.add(provider, "subject", Option.none())
            yield* repos.upstreamOAuthSessions.add(provider, "state", Option.none(), Option.none())
            yield* repos.personalSessions.count({ actorUser: bob.id })
            yield* repos.personalAccessTokens.findByToken("personal")
            yield* repos.appSessions.list({ user: bob.id }, page)
          })
        )
        const methods = [
          "db.compatSsoLogin.add",
          "db.compatSession.add",
          "db.compatSession.list",
          "db.compatAccessToken.add",
          "db.compatRefreshToken.add",
          "db.compatSsoLogin.findByToken",
          "db.upstreamOAuthProvider.add",
          "db.upstreamOAuthLink.add",
          "db.upstreamOAuthSession.add",
          "db.personalSession.count",
          "db.personalAccessToken.findByToken",
          "db.appSession.list"
        ]
        const names = spans.map((s) => s.name)
        for (const method of methods) {
          expect(names.filter((n) => n === method)).toEqual([method])
          const statements = statementsOf(spans, method)
          expect(statements.length).toBeGreaterThan(0)
          for (const statement of statements) expect(typeof queryText(statement)).toBe("string")
          expect(spanNamed(spans, method).attributes.get("db.query.text")).toBe(expectedQueryText(spans, method))
        }
        expect(new Set(names)).toEqual(new Set(["db.user.add", "db.browserSession.add", ...methods, "sql.execute"]))
        expect(String(queryText(statementsOf(spans, "db.appSession.list")[0]))).toMatch(/UNION ALL/)
      })
  )

  it.effect(
    "the queue and policy repositories in a unit of work: one span per method (multi-statement ones too), statements below it",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        // In one unit of work, as the worker calls them: outside one, a multi-statement method opens its own
        // transaction, whose sql.transaction span sits between the method's span and its statements.
        const [, spans] = yield* recordSpans(
          repos.transaction(
            Effect.gen(function* () {
              yield* repos.policyData.set({ rules: ["a"] })
              yield* repos.policyData.get()
              yield* repos.policyData.prune(1)
              yield* repos.queueSchedules.setup(["nightly"])
              yield* repos.queueSchedules.list()
              const worker = yield* repos.queueWorkers.register()
              yield* repos.queueWorkers.heartbeat(worker)
              yield* repos.queueWorkers.removeLeaderLeaseIfExpired()
              yield* repos.queueWorkers.tryGetLeaderLease(worker)
              yield* repos.queueWorkers.shutdownDeadWorkers(Duration.minutes(2))
              yield* repos.queueJobs.schedule("demo", { n: 1 }, {})
              yield* repos.queueJobs.scheduleLater("demo", { n: 2 }, {}, new Date(0), Option.some("nightly"))
              yield* repos.queueJobs.scheduleAvailableJobs()
              const jobs = yield* repos.queueJobs.reserve(worker, ["demo"], 2)
              yield* repos.queueJobs.markAsFailed(jobs[0]!.id, "boom")
              yield* repos.queueJobs.retry(jobs[0]!.id, Duration.seconds(5))
              yield* repos.queueJobs.markAsCompleted(jobs[1]!.id)
              yield* repos.queueJobs.cleanup(Option.none(), jobs[1]!.id, 10)
              yield* repos.queueWorkers.shutdown(worker)
            })
          )
        )
        const methods = [
          "db.policyData.set",
          "db.policyData.get",
          "db.policyData.prune",
          "db.queueSchedule.setup",
          "db.queueSchedule.list",
          "db.queueWorker.register",
          "db.queueWorker.heartbeat",
          "db.queueWorker.removeLeaderLeaseIfExpired",
          "db.queueWorker.tryGetLeaderLease",
          "db.queueWorker.shutdownDeadWorkers",
          "db.queueJob.schedule",
          "db.queueJob.scheduleLater",
          "db.queueJob.scheduleAvailableJobs",
          "db.queueJob.reserve",
          "db.queueJob.markAsFailed",
          "db.queueJob.retry",
          "db.queueJob.markAsCompleted",
          "db.queueJob.cleanup",
          "db.queueWorker.shutdown"
        ]
        const names = spans.map((s) => s.name)
        for (const method of methods) {
          expect(names.filter((n) => n === method)).toEqual([method])
          const statements = statementsOf(spans, method)
          expect([method, statements.length > 0]).toEqual([method, true])
          for (const statement of statements) expect(typeof queryText(statement)).toBe("string")
        }
        expect(new Set(names)).toEqual(new Set([...methods, "sql.transaction", "sql.execute"]))
        expect(statementsOf(spans, "db.queueJob.retry").length).toBeGreaterThanOrEqual(3)
        for (const method of methods) {
          const span = spanNamed(spans, method)
          expect(span.attributes.get("db.operation.name")).toBe(method.split(".")[2])
          expect([method, span.attributes.get("db.query.text")]).toEqual([method, expectedQueryText(spans, method)])
        }
        // a method of several statements: their texts in the order they ran, joined by "; "
        const retryTexts = statementsOf(spans, "db.queueJob.retry").map((s) => String(queryText(s)))
        expect(String(spanNamed(spans, "db.queueJob.retry").attributes.get("db.query.text")).split("; ")).toEqual(
          expect.arrayContaining(retryTexts)
        )
        expect(spanNamed(spans, "db.queueJob.retry").attributes.get("db.query.text")).toBe(
          [...new Set(retryTexts)].join("; ")
        )
        expect(String(queryText(statementsOf(spans, "db.queueJob.reserve")[0]))).toMatch(/FOR UPDATE\s+SKIP LOCKED/)
      })
  )

  it.effect(
    "a method that sends no statement has no db.query.text; the application's statement transformer still runs",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const seen: Array<string> = []
        const [, spans] = yield* recordSpans(
          Effect.gen(function* () {
            const carol = yield* repos.users.lock(yield* repos.users.add("carol"))
            // locking a locked user is idempotent: nothing is written, so there is no SQL to report
            yield* repos.users.lock(carol)
          }).pipe(
            Statement.withTransformer((statement, _sql, _refs, span) => {
              seen.push(span.name)
              return Effect.succeed(statement)
            })
          )
        )
        const locks = spans.filter((s) => s.name === "db.user.lock")
        expect(locks.length).toBe(2)
        expect(String(locks[0]!.attributes.get("db.query.text"))).toMatch(/^UPDATE users/)
        expect(locks[1]!.attributes.has("db.query.text")).toBe(false)
        expect(locks[1]!.attributes.get("db.operation.name")).toBe("lock")
        // one call per statement (add, the first lock), each in its own sql.execute span
        expect(seen).toEqual(["sql.execute", "sql.execute"])
      })
  )
})
