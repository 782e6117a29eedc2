// Personal sessions and tokens on a real server: the digest lookup and the scope criteria are served by their indexes, concurrent adds to one session leave one unrevoked token (the others a RowsAffectedError in a usable unit of work), and a session's revocation is one statement.
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import { ownedByUser } from "../../../src/model/personal.js"
import { ulidToUuid } from "../../../src/model/Ulid.js"
import { makeScope, type ScopeToken } from "../../../src/model/values.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { accessTokenSha256 } from "../../../src/rows/personal/personalAccessToken.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { queryText, recordSpans } from "../../support/spans.js"

const ROWS = 5000
const ADMIN = "urn:synapse:admin:*" as ScopeToken
const RACERS = 16

/** Every index a plan node (or any node below it) reads. */
const indexesOf = (node: unknown): ReadonlyArray<string> => {
  if (Array.isArray(node)) return node.flatMap(indexesOf)
  if (node === null || typeof node !== "object") return []
  const record = node as Record<string, unknown>
  const own = typeof record["Index Name"] === "string" ? [record["Index Name"]] : []
  return [...own, ...Object.values(record).flatMap(indexesOf)]
}

/** The plan PostgreSQL makes for `text` with these parameters. */
const planOf = (text: string, params: ReadonlyArray<unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql.unsafe<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params),
      (rows) => rows[0]!["QUERY PLAN"]
    )
  )

/** The spans `effect` opens, and the SQL texts of its statements. */
const traceOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(recordSpans(effect), ([result, spans]) => {
    const texts = spans.filter((s) => s.name === "sql.execute").map((s) => String(queryText(s)))
    return [result, spans.map((s) => s.name), texts] as const
  })

/** ROWS sessions of one user, one in 500 with the admin token in its scope, each with an unrevoked token. */
const seedSessions = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const repos = yield* RepositoryAccess
  const alice = yield* repos.users.add("alice")
  yield* sql`
    WITH sessions AS (
      INSERT INTO personal_sessions (personal_session_id, owner_user_id, actor_user_id, human_name, scope_list, created_at)
      SELECT gen_random_uuid(), ${ulidToUuid(alice.id)}::uuid, ${ulidToUuid(alice.id)}::uuid, 'bot ' || n,
             ARRAY['urn:matrix:client:api:*'] || CASE WHEN n % 500 = 0 THEN ARRAY[${ADMIN}] ELSE ARRAY[]::text[] END,
             now()
      FROM generate_series(1, ${ROWS}) AS n
      RETURNING personal_session_id
    )
    INSERT INTO personal_access_tokens (personal_access_token_id, personal_session_id, access_token_sha256, created_at)
    SELECT gen_random_uuid(), personal_session_id, sha256(personal_session_id::text::bytea), now() FROM sessions`
  yield* sql`ANALYZE personal_sessions`
  yield* sql`ANALYZE personal_access_tokens`
  return alice
})

// One connection, so that the session setting is the one the repository's statements run under.
const oneConnection = Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 1 }))

describe("personal sessions and tokens on PostgreSQL", () => {
  layer(oneConnection)("indexes", (it) => {
    it.effect(
      "findByToken reads the digest's unique index; the scope criterion of list and count the GIN index on scope_list",
      () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const sql = yield* SqlClient.SqlClient
          yield* seedSessions
          yield* sql`SET enable_seqscan = off`

          const [found, , [findText]] = yield* traceOf(repos.personalAccessTokens.findByToken("mpt_unknown"))
          expect(found).toEqual(Option.none())
          expect(indexesOf(yield* planOf(findText!, [accessTokenSha256("mpt_unknown")]))).toContain(
            "personal_access_tokens_access_token_sha256_unique"
          )

          const filter = { scope: makeScope([ADMIN]) }
          const page = Either.getOrThrow(Pagination.first(5))
          const [[listed, counted], , [listText, countText]] = yield* traceOf(
            Effect.all([repos.personalSessions.list(filter, page), repos.personalSessions.count(filter)])
          )
          expect([listed.edges.length, counted]).toEqual([5, ROWS / 500])
          // every listed session comes with its token, found through the partial unique index's column
          expect(listed.edges.every((e) => Option.isSome(e.node[1]))).toBe(true)
          expect(indexesOf(yield* planOf(listText!, [[ADMIN], 6]))).toContain("personal_sessions_scope_list_idx")
          expect(indexesOf(yield* planOf(countText!, [[ADMIN]]))).toContain("personal_sessions_scope_list_idx")
          yield* sql`RESET enable_seqscan`
        }),
      60_000
    )
  })

  layer(Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: RACERS })))(
    "writes",
    (it) => {
      it.effect(
        `of ${RACERS} units of work adding a token to one session, exactly one wins; the others get a RowsAffectedError and their units go on`,
        () =>
          Effect.gen(function* () {
            const repos = yield* RepositoryAccess
            const alice = yield* repos.users.add("racer")
            for (let round = 0; round < 3; round++) {
              const session = yield* repos.personalSessions.add(
                ownedByUser(alice),
                alice,
                `round ${round}`,
                makeScope([])
              )
              const results = yield* Effect.all(
                Array.from({ length: RACERS }, (_, i) =>
                  Effect.either(
                    repos.transaction(
                      Effect.gen(function* () {
                        const added = yield* Effect.either(
                          repos.personalAccessTokens.add(session, `mpt_${round}_${i}`, Option.none())
                        )
                        // the conflict did not doom the unit: it can still read and commit
                        yield* repos.personalSessions.lookup(session.id)
                        return yield* added
                      })
                    )
                  )
                ),
                { concurrency: "unbounded" }
              )
              const won = results.filter(Either.isRight)
              const lost = results.filter(Either.isLeft).map((r) => r.left)
              expect(won.length).toBe(1)
              expect(lost).toEqual(
                Array.from({ length: RACERS - 1 }, () =>
                  expect.objectContaining({ _tag: "RowsAffectedError", expected: 1, actual: 0 })
                )
              )
              expect(yield* repos.personalAccessTokens.findActiveForSession(session)).toEqual(
                Option.some(won[0]!.right)
              )
            }
          }),
        60_000
      )

      it.effect("revoke is one span and one statement, which revokes the session and its token together", () =>
        Effect.gen(function* () {
          const repos = yield* RepositoryAccess
          const bob = yield* repos.users.add("bob")
          const session = yield* repos.personalSessions.add(ownedByUser(bob), bob, "bot", makeScope([]))
          const token = yield* repos.personalAccessTokens.add(session, "mpt_bob", Option.none())
          const [revoked, names, texts] = yield* traceOf(repos.personalSessions.revoke(session))
          expect(names).toEqual(["db.personalSession.revoke", "sql.execute"])
          expect(texts[0]).toMatch(/^WITH revoked AS \( UPDATE personal_sessions .* UPDATE personal_access_tokens /)
          const stored = Option.getOrThrow(yield* repos.personalAccessTokens.lookup(token.id))
          expect(stored.revokedAt).toEqual(
            Option.some(revoked.state._tag === "Revoked" ? revoked.state.revokedAt : null)
          )
        })
      )
    }
  )
})
