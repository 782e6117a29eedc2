// describe() on real PostgreSQL records each parameter's use: the NOT NULL column it is written into, and its unguarded `=`.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { freshDatabaseLayer } from "../support/database.js"
import { createSchema, withDescriber } from "../support/describer.js"

const schema = `
CREATE TABLE people (id uuid PRIMARY KEY, name text NOT NULL, nickname text, born_at timestamptz NOT NULL);
CREATE SCHEMA archive;
CREATE TABLE archive."Old People" (id uuid NOT NULL, "Name" text NOT NULL, note text);
`

layer(freshDatabaseLayer())("parameter uses on a custom schema", (it) => {
  it.scoped("creates the schema", () => createSchema(schema, ["people", "Old People"]))

  it.scoped("INSERT: NOT NULL columns are recorded, nullable ones and wrapped values are not", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          "INSERT INTO people AS p (id, name, nickname, born_at) VALUES ($1, $2, $3, coalesce($4, now()))"
        )
        expect(d.params).toEqual([
          { type: "uuid", kind: "base", notNullTarget: "people.id" },
          { type: "text", kind: "base", notNullTarget: "people.name" },
          { type: "text", kind: "base" },
          { type: "timestamptz", kind: "base" }
        ])
      })
    )
  )

  it.scoped("schema-qualified, quoted target; UPDATE SET and ON CONFLICT DO UPDATE SET; the catalog's names", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const insert = yield* describe(
          `INSERT INTO archive."Old People" (id, "Name", note) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM people WHERE id = $1)`
        )
        expect(insert.params.map((p) => p.notNullTarget)).toEqual(["Old People.id", "Old People.Name", undefined])
        const update = yield* describe("UPDATE people SET nickname = $2, born_at = $3 WHERE id = $1")
        expect(update.params).toEqual([
          { type: "uuid", kind: "base", comparedWithEquals: "id = $1" },
          { type: "text", kind: "base" },
          { type: "timestamptz", kind: "base", notNullTarget: "people.born_at" }
        ])
        const upsert = yield* describe(
          "INSERT INTO people (id, name, born_at) VALUES ($1, 'x', now()) ON CONFLICT (id) DO UPDATE SET name = $2"
        )
        expect(upsert.params.map((p) => p.notNullTarget)).toEqual(["people.id", "people.name"])
      })
    )
  )

  it.scoped("writes in a CTE, and the IS NULL guard that lifts the comparison", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          "WITH renamed AS (UPDATE people SET name = $2 WHERE ($1::uuid IS NULL OR id = $1) RETURNING id) SELECT count(*) AS n FROM renamed"
        )
        expect(d.params).toEqual([
          { type: "uuid", kind: "base" },
          { type: "text", kind: "base", notNullTarget: "people.name" }
        ])
        expect(d.columns.map((c) => c.name)).toEqual(["n"])
      })
    )
  )
})
