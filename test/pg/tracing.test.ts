// Every PostgreSQL repository method runs in a span db.<repository>.<method>, with its statements' SQL text in child spans.
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Tracer } from "effect"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../support/database.js"

interface Recorded {
  readonly name: string
  readonly parent: Option.Option<string>
  readonly attributes: ReadonlyMap<string, unknown>
}

/** Runs `effect` under a tracer that records every span it opens (built on Effect's own native spans). */
const recordSpans = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const base = yield* Effect.tracer
    const spans: Array<Tracer.Span> = []
    const recording = Tracer.make({
      span: (...args) => {
        const span = base.span(...args)
        spans.push(span)
        return span
      },
      context: (f, fiber) => base.context(f, fiber)
    })
    const result = yield* Effect.withTracer(effect, recording)
    const recorded: ReadonlyArray<Recorded> = spans.map((s) => ({
      name: s.name,
      parent: Option.map(s.parent, (p) => (p._tag === "Span" ? p.name : p.spanId)),
      attributes: s.attributes
    }))
    return [result, recorded] as const
  })

layer(Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer()))("repository spans", (it) => {
  it.effect("a method's span is db.<repository>.<method>, and its statements carry their SQL text below it", () =>
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
      for (const method of ["db.user.add", "db.user.lookup", "db.user.list", "db.userEmail.add"]) expect(names).toContain(method)

      const lookupStatement = spans.find((s) => s.name === "db.user.lookup" && Option.isSome(s.parent))
      expect(lookupStatement?.parent).toEqual(Option.some("db.user.lookup"))
      expect(String(lookupStatement?.attributes.get("db.query.text"))).toMatch(/^SELECT .* FROM users WHERE user_id = \$1$/)

      const listStatement = spans.find((s) => s.name === "db.user.list" && Option.isSome(s.parent))
      expect(listStatement?.attributes.get("db.query.dynamic")).toBeDefined()
    }))
})
