// Upstream authorization sessions on a real server: the sub and sid criteria of list and count are served by the expression indexes on the ID-token claims (the plans of the statements the repository sends).
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { generateUlid, ulidToUuid } from "../../../src/model/Ulid.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import type { UpstreamOAuthSessionFilter } from "../../../src/storage/upstream/UpstreamOAuthSessionRepository.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { queryText, recordSpans } from "../../support/spans.js"

const SUB_SID_INDEX = "upstream_oauth_authorization_sessions_sub_sid_idx"
const SID_INDEX = "upstream_oauth_authorization_sessions_sid_idx"
const ROWS = 5000

/** The SQL texts of the statements `effect` sends (the `sql.execute` spans' `db.query.text`). */
const statementTexts = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(recordSpans(effect), ([result, spans]) => {
    const texts = spans.filter((s) => s.name === "sql.execute").map((s) => String(queryText(s)))
    return [result, texts] as const
  })

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

/** A provider, a link and ROWS sessions completed with it, each with its own sub; one sid shared by ten sessions. */
const seedSessions = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const provider = ulidToUuid(yield* generateUlid)
  yield* sql`
    INSERT INTO upstream_oauth_providers (upstream_oauth_provider_id, scope_list, client_id, token_endpoint_auth_method,
                                          created_at)
    VALUES (${provider}, ARRAY['openid'], 'client', 'none', now())`
  const link = ulidToUuid(yield* generateUlid)
  yield* sql`
    INSERT INTO upstream_oauth_links (upstream_oauth_link_id, upstream_oauth_provider_id, subject, created_at)
    VALUES (${link}, ${provider}, 'subject', now())`
  yield* sql`
    INSERT INTO upstream_oauth_authorization_sessions (upstream_oauth_authorization_session_id,
                                                       upstream_oauth_provider_id, upstream_oauth_link_id, state,
                                                       id_token_claims, created_at, completed_at)
    SELECT gen_random_uuid(), ${provider}, ${link}, 'state-' || n,
           jsonb_build_object('sub', 'user-' || n, 'sid', 'sid-' || (n % 500)), now(), now()
    FROM generate_series(1, ${ROWS}) AS n`
  yield* sql`ANALYZE upstream_oauth_authorization_sessions`
})

// One connection, so that the session setting is the one the repository's statements run under.
const oneConnection = Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 1 }))

describe("Upstream authorization sessions on PostgreSQL", () => {
  layer(oneConnection)("the ID-token claim indexes", (it) => {
    it.effect(
      "serve the sub and sid criteria of list and count",
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const sql = yield* SqlClient.SqlClient
          yield* seedSessions
          // The question is whether an index can serve the criterion at all (a `id_token_claims -> 'sub'` comparison,
          // say, could not), not what the planner prefers on a table this small.
          yield* sql`SET enable_seqscan = off`

          const page = Either.getOrThrow(Pagination.first(10))
          const cases: ReadonlyArray<
            readonly [string, UpstreamOAuthSessionFilter, number, string, ReadonlyArray<unknown>]
          > = [
            ["sub", { subClaim: "user-4242" }, 1, SUB_SID_INDEX, ["user-4242"]],
            ["sid", { sidClaim: "sid-42" }, ROWS / 500, SID_INDEX, ["sid-42"]],
            ["sub and sid", { subClaim: "user-42", sidClaim: "sid-42" }, 1, SUB_SID_INDEX, ["user-42", "sid-42"]]
          ]
          for (const [name, filter, expected, index, filterParams] of cases) {
            const [[listed, counted], texts] = yield* statementTexts(
              Effect.all([repos.upstreamOAuthSessions.list(filter, page), repos.upstreamOAuthSessions.count(filter)])
            )
            expect([name, listed.edges.length, counted]).toEqual([name, Math.min(expected, 10), expected])
            const [listText, countText] = texts
            for (const text of [listText, countText]) {
              if (filter.subClaim !== undefined) expect(text).toMatch(/\(upstream\.id_token_claims ->> 'sub'\) = \$1/)
              if (filter.sidClaim !== undefined) expect(text).toMatch(/\(upstream\.id_token_claims ->> 'sid'\) = \$\d/)
            }
            const listPlan = yield* planOf(listText!, [...filterParams, 11])
            const countPlan = yield* planOf(countText!, filterParams)
            expect([name, "list", indexesOf(listPlan)]).toEqual([name, "list", expect.arrayContaining([index])])
            expect([name, "count", indexesOf(countPlan)]).toEqual([name, "count", expect.arrayContaining([index])])
          }
          yield* sql`RESET enable_seqscan`
        }),
      60_000
    )
  })
})
