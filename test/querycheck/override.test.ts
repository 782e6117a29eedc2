// Runtime side of the alias overrides: a column aliased "name!" or "name?" decodes into the row field `name`.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { staticQuery } from "../../src/pg/query.js"
import { migratedDatabaseLayer } from "../support/database.js"

// declared in this test file's process only (each test file runs in its own fork); never in the committed cache
const overridden = staticQuery({
  name: "querycheckTest.override",
  table: "users",
  text: `SELECT $1::text AS "label!", NULL::timestamptz AS "gone?", count(*) AS total FROM users`,
  params: Schema.Tuple(Schema.String),
  row: Schema.Struct({ label: Schema.String, gone: Schema.NullOr(Schema.DateFromSelf), total: Schema.NumberFromString })
})

layer(migratedDatabaseLayer())("alias overrides at run time", (it) => {
  it.effect("the ! and ? suffixes are stripped before decoding", () =>
    Effect.gen(function* () {
      const row = yield* overridden.bind(yield* SqlClient.SqlClient).one("hello")
      expect(row).toEqual(Option.some({ label: "hello", gone: null, total: 0 }))
    })
  )
})
