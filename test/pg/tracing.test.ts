// Every PostgreSQL repository method runs in one span db.<repository>.<method>; its statements are @effect/sql's sql.execute spans below it, with their SQL text.
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../support/database.js"
import { queryText, recordSpans, statementsOf } from "../support/spans.js"

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
          expect(span.attributes.get("db.system.name")).toBe("postgresql")
        }

        const [lookupStatement] = statementsOf(spans, "db.user.lookup")
        expect(String(queryText(lookupStatement))).toMatch(/^SELECT .* FROM users WHERE user_id = \$1$/)

        const listStatements = statementsOf(spans, "db.user.list")
        expect(listStatements.length).toBe(1)
        expect(String(queryText(listStatements[0]))).toMatch(/FROM users WHERE .*ORDER BY .*LIMIT \$\d+$/s)
      })
  )
})
