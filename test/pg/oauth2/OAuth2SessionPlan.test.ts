// OAuth2 sessions on a real server: the scope and device criteria are served by the GIN index on scope_list (the plans of the statements the repository sends), concurrent finishers of one session cannot both win, and the methods defined through add are one span each.
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { Client } from "../../../src/model/oauth2/client.js"
import { generateUlid, ulidToUuid } from "../../../src/model/Ulid.js"
import { Device, makeScope, type ScopeToken } from "../../../src/model/values.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import type { OAuth2SessionFilter } from "../../../src/storage/oauth2/OAuth2SessionRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { newClient } from "../../contract/oauth2/fixtures.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { queryText, recordSpans } from "../../support/spans.js"

const SCOPE_INDEX = "oauth2_sessions_scope_list_idx"
const ROWS = 5000
const ADMIN = "urn:synapse:admin:*" as ScopeToken

/** The SQL texts of the statements `effect` sends (the `sql.execute` spans' `db.query.text`). */
const statementTexts = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(recordSpans(effect), ([result, spans]) => {
    const texts = spans.filter((s) => s.name === "sql.execute").map((s) => String(queryText(s)))
    return [result, texts] as const
  })

/** The names of the spans `effect` opens. */
const spanNames = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(recordSpans(effect), ([, spans]) => spans.map((s) => s.name))

/** Every index a plan node (or any node below it) reads. */
const indexesOf = (node: unknown): ReadonlyArray<string> => {
  if (Array.isArray(node)) return node.flatMap(indexesOf)
  if (node === null || typeof node !== "object") return []
  const record = node as Record<string, unknown>
  const own = typeof record["Index Name"] === "string" ? [record["Index Name"]] : []
  return [...own, ...Object.values(record).flatMap(indexesOf)]
}

/** The plan PostgreSQL makes for `text` with these parameters (an unnamed statement, planned for its values). */
const planOf = (text: string, params: ReadonlyArray<unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql.unsafe<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params),
      (rows) => rows[0]!["QUERY PLAN"]
    )
  )

/** A dynamic client with no grant types, inserted as a row (the client repository is built elsewhere). */
const insertClient = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const id = yield* generateUlid
  yield* sql`INSERT INTO oauth2_clients (oauth2_client_id, redirect_uris) VALUES (${ulidToUuid(id)}, '{}')`
  return new Client({ id, ...newClient(), isStatic: false })
})

/** A client and ROWS sessions: each with its own device, one in 500 also with the admin token. */
const seedSessions = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const { id: clientId } = yield* insertClient
  yield* sql`
    INSERT INTO oauth2_sessions (oauth2_session_id, oauth2_client_id, scope_list, created_at)
    SELECT gen_random_uuid(), ${ulidToUuid(clientId)},
           ARRAY['openid', 'urn:matrix:client:api:*', 'urn:matrix:client:device:D' || n]
             || CASE WHEN n % 500 = 0 THEN ARRAY[${ADMIN}] ELSE ARRAY[]::text[] END,
           now()
    FROM generate_series(1, ${ROWS}) AS n`
  yield* sql`ANALYZE oauth2_sessions`
})

// One connection, so that the session setting is the one the repository's statements run under.
const oneConnection = Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 1 }))

describe("OAuth2 sessions on PostgreSQL", () => {
  layer(oneConnection)("the GIN index on scope_list", (it) => {
    it.effect(
      "serves the scope (containment) and device (overlap) criteria of list and count",
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const sql = yield* SqlClient.SqlClient
          yield* seedSessions
          // On a table this small the planner may still prefer a sequential scan; the question is whether the index can serve
          // the criterion at all (an `= ANY(scope_list)` test, say, could not).
          yield* sql`SET enable_seqscan = off`

          const page = Either.getOrThrow(Pagination.first(10))
          const cases: ReadonlyArray<readonly [string, OAuth2SessionFilter, number, RegExp, ReadonlyArray<unknown>]> = [
            [
              "scope",
              { scope: makeScope([ADMIN, "openid" as ScopeToken]) },
              ROWS / 500,
              /scope_list @> \$1::text\[\]/,
              [["openid", ADMIN].sort()]
            ],
            [
              "device",
              { device: new Device({ id: "D4242" }) },
              1,
              /scope_list && \$1::text\[\]/,
              [["urn:matrix:client:device:D4242", "urn:matrix:org.matrix.msc2967.client:device:D4242"]]
            ]
          ]
          for (const [name, filter, expected, criterion, filterParams] of cases) {
            const [[listed, counted], texts] = yield* statementTexts(
              Effect.all([repos.oauth2Sessions.list(filter, page), repos.oauth2Sessions.count(filter)])
            )
            expect([name, listed.edges.length, counted]).toEqual([name, Math.min(expected, 10), expected])
            const [listText, countText] = texts
            expect(listText).toMatch(criterion)
            expect(countText).toMatch(criterion)
            // the list's one other parameter is its LIMIT (count + 1)
            expect(listText!.match(/\$\d+/g)).toEqual(["$1", "$2"])
            expect(countText!.match(/\$\d+/g)).toEqual(["$1"])
            const listPlan = yield* planOf(listText!, [...filterParams, 11])
            const countPlan = yield* planOf(countText!, filterParams)
            expect([name, "list", indexesOf(listPlan)]).toEqual([name, "list", expect.arrayContaining([SCOPE_INDEX])])
            expect([name, "count", indexesOf(countPlan)]).toEqual([
              name,
              "count",
              expect.arrayContaining([SCOPE_INDEX])
            ])
          }

          // the bulk write selects its rows the same way (EXPLAIN plans the UPDATE without running it again)
          const [finished, [bulkText]] = yield* statementTexts(
            repos.oauth2Sessions.finishBulk({ scope: makeScope([ADMIN]) })
          )
          expect(finished).toBe(ROWS / 500)
          expect(bulkText).toMatch(
            /^UPDATE oauth2_sessions SET finished_at = \$1 WHERE \(oauth2_sessions\.scope_list @> \$2::text\[\]\)$/
          )
          expect(indexesOf(yield* planOf(bulkText!, [new Date(), [ADMIN]]))).toContain(SCOPE_INDEX)
          yield* sql`RESET enable_seqscan`
        }),
      60_000
    )
  })

  layer(Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 8 })))(
    "writes and spans",
    (it) => {
      it.effect(
        "of 16 units of work finishing the same session, exactly one wins; the others get RowsAffectedError",
        () =>
          Effect.gen(function* () {
            const repos = yield* RepositoryAccess
            const client = yield* insertClient
            for (let round = 0; round < 3; round++) {
              const session = yield* repos.oauth2Sessions.addFromClientCredentials(client, makeScope([]))
              const results = yield* Effect.all(
                Array.from({ length: 16 }, () =>
                  Effect.either(repos.transaction(repos.oauth2Sessions.finish(session)))
                ),
                { concurrency: "unbounded" }
              )
              const won = results.filter(Either.isRight)
              const lost = results.filter(Either.isLeft).map((r) => r.left)
              expect(won.length).toBe(1)
              expect(lost.map((e) => e._tag)).toEqual(Array.from({ length: 15 }, () => "RowsAffectedError"))
              const stored = Option.getOrThrow(yield* repos.oauth2Sessions.lookup(session.id))
              expect(stored).toEqual(won[0]!.right)
            }
          })
      )

      it.effect("the two methods defined through add are one span each, with add's statement below it", () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const client = yield* insertClient
          const alice = yield* repos.users.add("alice")
          const browser = yield* repos.browserSessions.add(alice, Option.none())
          const names = yield* spanNames(
            Effect.zipRight(
              repos.oauth2Sessions.addFromBrowserSession(client, browser, makeScope([])),
              repos.oauth2Sessions.addFromClientCredentials(client, makeScope([]))
            )
          )
          expect(names).toEqual([
            "db.oauth2Session.addFromBrowserSession",
            "sql.execute",
            "db.oauth2Session.addFromClientCredentials",
            "sql.execute"
          ])
        })
      )
    }
  )
})
