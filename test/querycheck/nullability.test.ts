// describe() on real PostgreSQL: nullability through set operations, stars, coalesce, CASE, sub-selects and aggregates, with reasons.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Description } from "../../src/querycheck/describe.js"
import { freshDatabaseLayer, migratedDatabaseLayer } from "../support/database.js"
import { createSchema, withDescriber } from "../support/describer.js"

const schema = `
CREATE TABLE people (id uuid PRIMARY KEY, name text NOT NULL, nickname text, born_at timestamptz NOT NULL);
CREATE TABLE pets (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES people (id),
  name text NOT NULL,
  vet_id uuid
);
CREATE TABLE vets (id uuid PRIMARY KEY, name text NOT NULL, title text);
`

/** name → [nullable, reason] of each column (a repeated name keeps its last column). */
const columns = (d: Description) => Object.fromEntries(d.columns.map((c) => [c.name, [c.nullable, c.reason]]))
/** [name, nullable, reason] of each column, in order. */
const list = (d: Description) => d.columns.map((c) => [c.name, c.nullable, c.reason])

layer(freshDatabaseLayer())("nullability on a custom schema", (it) => {
  it.scoped("creates the schema", () => createSchema(schema, ["people", "pets", "vets"]))

  it.scoped("UNION: nullable when any branch is (naming it), non-null when every branch is", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT id, name, name AS label, 'p' AS kind FROM people
           UNION ALL SELECT id, name, title, 'v' FROM vets
           ORDER BY 2 LIMIT 10`
        )
        expect(list(d)).toEqual([
          ["id", false, "every UNION branch is non-null"],
          ["name", false, "every UNION branch is non-null"],
          ["label", true, "UNION branch 2: column vets.title is nullable"],
          ["kind", false, "every UNION branch is non-null"]
        ])
        // a LEFT JOIN inside a branch, a typed NULL, and overrides inside branches
        const joined = yield* describe(
          `SELECT p.name, pets.name AS pet, NULL::text AS extra, p.name AS nick FROM people p LEFT JOIN pets ON pets.owner_id = p.id
           UNION SELECT v.name, v.name, v.title, v.title AS "t!" FROM vets v`
        )
        expect(columns(joined)).toEqual({
          name: [false, "every UNION branch is non-null"],
          pet: [true, "UNION branch 1: inner side of LEFT JOIN"],
          extra: [true, "UNION branch 1: expression: unknown"],
          nick: [false, "every UNION branch is non-null"]
        })
      })
    )
  )

  it.scoped("INTERSECT and EXCEPT: the same rule; a branch may leave out parameters the others use", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT id, nickname FROM people WHERE name = $1
           INTERSECT SELECT id, name FROM vets
           EXCEPT SELECT id, title FROM vets WHERE name = $3 AND id = $2`
        )
        expect(d.params.map((p) => p.type)).toEqual(["text", "uuid", "text"])
        expect(list(d)).toEqual([
          ["id", false, "every set operation branch is non-null"],
          ["nickname", true, "set operation branch 1: column people.nickname is nullable"]
        ])
        const except = yield* describe("SELECT id FROM people EXCEPT SELECT id FROM vets WHERE name = $1")
        expect(list(except)).toEqual([["id", false, "every EXCEPT branch is non-null"]])
      })
    )
  )

  it.scoped("SELECT *, t.* and RETURNING * stand for their table columns", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const star = yield* describe("SELECT *, 1 AS one FROM vets WHERE id = $1")
        expect(list(star)).toEqual([
          ["id", false, "NOT NULL column vets.id"],
          ["name", false, "NOT NULL column vets.name"],
          ["title", true, "column vets.title is nullable"],
          ["one", false, "literal"]
        ])
        const joined = yield* describe("SELECT v.*, pets.* FROM pets LEFT JOIN vets v ON v.id = pets.vet_id")
        expect(list(joined).map(([name, nullable]) => [name, nullable])).toEqual([
          ["id", true],
          ["name", true],
          ["title", true],
          ["id", false],
          ["owner_id", false],
          ["name", false],
          ["vet_id", true]
        ])
        const returning = yield* describe("INSERT INTO vets (id, name) VALUES ($1, $2) RETURNING *")
        expect(list(returning)).toEqual([
          ["id", false, "NOT NULL column vets.id"],
          ["name", false, "NOT NULL column vets.name"],
          ["title", true, "column vets.title is nullable"]
        ])
      })
    )
  )

  it.scoped("SELECT * FROM (a UNION ALL subquery): each column as the subquery gives it", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT * FROM (
             SELECT p.id, p.name AS label, coalesce(p.nickname, p.name) AS display, p.nickname AS extra FROM people p WHERE p.id = $1
             UNION ALL SELECT v.id, coalesce(v.title, v.name), v.name, v.title FROM vets v WHERE v.name = $2
           ) AS everyone ORDER BY label`
        )
        expect(list(d)).toEqual([
          ["id", false, "every UNION branch is non-null"],
          ["label", false, "every UNION branch is non-null"],
          ["display", false, "every UNION branch is non-null"],
          ["extra", true, "UNION branch 1: column people.nickname is nullable"]
        ])
        // qualified columns, a column alias list, and a CTE
        const named = yield* describe(
          `WITH titled AS (SELECT id, coalesce(title, 'Dr') AS title FROM vets)
           SELECT x.b, titled.title, t2.* FROM (SELECT id, coalesce(nickname, name) FROM people) AS x (a, b)
           JOIN titled ON titled.id = x.a, titled t2`
        )
        expect(list(named)).toEqual([
          ["b", false, "coalesce with a non-null argument"],
          ["title", false, "coalesce with a non-null argument"],
          ["id", false, "NOT NULL column vets.id"],
          ["title", false, "coalesce with a non-null argument"]
        ])
      })
    )
  )

  it.scoped(
    "a subquery's non-null column is nullable on the inner side of a LEFT JOIN, and unknown columns stay nullable",
    () =>
      withDescriber((describe) =>
        Effect.gen(function* () {
          const d = yield* describe(
            `SELECT p.name, x.* FROM people p
           LEFT JOIN (SELECT owner_id, coalesce(name, 'x') AS pet FROM pets UNION ALL SELECT id, name FROM vets) x
             ON x.owner_id = p.id`
          )
          expect(list(d)).toEqual([
            ["name", false, "NOT NULL column people.name"],
            ["owner_id", true, "inner side of LEFT JOIN"],
            ["pet", true, "inner side of LEFT JOIN"]
          ])
          // a LATERAL subquery cannot be described alone: its column stays nullable, and the statement is described
          const lateral = yield* describe(
            "SELECT l.n FROM people p, LATERAL (SELECT coalesce(p.nickname, p.name) AS n) l WHERE p.id = $1"
          )
          expect(list(lateral)).toEqual([["n", true, "expression: unknown"]])
        })
      )
  )

  it.scoped(
    "coalesce is non-null when any argument is, a NOT NULL column included, unless an outer join voids it",
    () =>
      withDescriber((describe) =>
        Effect.gen(function* () {
          const d = yield* describe(
            `SELECT coalesce(p.nickname, p.name) AS a, coalesce(p.nickname, $1) AS b, coalesce(pets.name, p.nickname) AS c,
                  coalesce(pets.name, p.name)::text AS d, coalesce(pets.vet_id, pets.id) AS e
           FROM people p LEFT JOIN pets ON pets.owner_id = p.id`
          )
          expect(columns(d)).toEqual({
            a: [false, "coalesce with a non-null argument"],
            b: [true, "coalesce: no argument is known to be non-null"],
            c: [true, "coalesce: no argument is known to be non-null"],
            d: [false, "coalesce with a non-null argument"],
            e: [true, "coalesce: no argument is known to be non-null"]
          })
          const returning = yield* describe(
            "UPDATE people SET nickname = $2 WHERE id = $1 RETURNING coalesce(nickname, name) AS shown, coalesce(nickname, NULL) AS nick"
          )
          expect(columns(returning)).toEqual({
            shown: [false, "coalesce with a non-null argument"],
            nick: [true, "coalesce: no argument is known to be non-null"]
          })
        })
      )
  )

  it.scoped("CASE is non-null only with an ELSE and every result non-null", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT CASE WHEN nickname IS NULL THEN name ELSE 'aka ' || nickname END AS a,
                  CASE WHEN nickname IS NULL THEN name ELSE name END AS b,
                  CASE WHEN nickname IS NULL THEN name END AS c,
                  CASE WHEN born_at > now() THEN name WHEN true THEN nickname ELSE name END AS d
           FROM people`
        )
        expect(columns(d)).toEqual({
          a: [true, "CASE ELSE: expression: unknown"],
          b: [false, "CASE with every result non-null"],
          c: [true, "CASE without ELSE: NULL when no WHEN matches"],
          d: [true, "CASE THEN 2: column people.nickname is nullable"]
        })
      })
    )
  )

  it.scoped("a scalar sub-select is nullable even over a NOT NULL column; EXISTS is not", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT (SELECT name FROM vets LIMIT 1) AS first_vet, (SELECT count(*) FROM vets) AS vets,
                  EXISTS (SELECT 1 FROM vets) AS any_vet, coalesce((SELECT title FROM vets LIMIT 1), 'none') AS title
           FROM people`
        )
        expect(columns(d)).toEqual({
          first_vet: [true, "scalar sub-select"],
          vets: [true, "scalar sub-select"],
          any_vet: [false, "exists"],
          title: [false, "coalesce with a non-null argument"]
        })
      })
    )
  )

  it.scoped("aggregates: NULL over no GROUP BY; with one, their argument's nullability", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const whole = yield* describe(
          "SELECT max(born_at) AS newest, sum(1) AS total, string_agg(name, ',') AS names, count(*) AS n FROM people"
        )
        expect(columns(whole)).toEqual({
          newest: [true, "max() over no GROUP BY: NULL on no rows"],
          total: [true, "sum() over no GROUP BY: NULL on no rows"],
          names: [true, "string_agg() over no GROUP BY: NULL on no rows"],
          n: [false, "count(*)"]
        })
        const grouped = yield* describe(
          `SELECT owner_id, max(name) AS newest, array_agg(name ORDER BY name) AS names, min(vet_id::text) AS vet,
                  max(name) FILTER (WHERE vet_id IS NULL) AS unvetted
           FROM pets GROUP BY owner_id`
        )
        expect(columns(grouped)).toEqual({
          owner_id: [false, "NOT NULL column pets.owner_id"],
          newest: [false, "max() per group: NOT NULL column pets.name"],
          names: [false, "array_agg() per group: NOT NULL column pets.name"],
          vet: [true, "min() per group: column pets.vet_id is nullable"],
          unvetted: [true, "max() with FILTER: NULL when no row of a group passes"]
        })
        const outer = yield* describe(
          "SELECT p.name, max(pets.name) AS pet FROM people p LEFT JOIN pets ON pets.owner_id = p.id GROUP BY p.name"
        )
        expect(columns(outer)).toEqual({
          name: [false, "NOT NULL column people.name"],
          pet: [true, "max() per group: inner side of LEFT JOIN"]
        })
        const sets = yield* describe("SELECT name, max(born_at) AS newest FROM people GROUP BY ROLLUP (name)")
        expect(columns(sets)).toEqual({
          name: [true, "GROUP BY with grouping sets: grouped columns are NULL in the rows of other sets"],
          newest: [true, "max() over no GROUP BY: NULL on no rows"]
        })
        // the table column's NOT NULL does not hold through a subquery or CTE with grouping sets
        const through = yield* describe(
          `WITH c AS (SELECT name FROM people GROUP BY CUBE (name))
           SELECT x.name, c.*, plain.name AS plain FROM (SELECT name FROM people GROUP BY ROLLUP (name)) x, c,
             (SELECT name FROM people) plain`
        )
        expect(list(through)).toEqual([
          ["name", true, "GROUP BY with grouping sets: grouped columns are NULL in the rows of other sets"],
          ["name", true, "GROUP BY with grouping sets: grouped columns are NULL in the rows of other sets"],
          ["plain", false, "NOT NULL column people.name"]
        ])
      })
    )
  )
})

layer(migratedDatabaseLayer())("nullability on the project schema", (it) => {
  it.scoped("the app sessions union: compat and OAuth2 sessions, each kind's columns NULL in the other's rows", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT * FROM (
             SELECT oauth2_sessions.oauth2_session_id AS app_session_id, NULL::uuid AS compat_session_id,
                    oauth2_sessions.oauth2_session_id AS oauth2_session_id, oauth2_sessions.user_id AS user_id,
                    oauth2_sessions.human_name AS human_name, oauth2_sessions.created_at AS created_at
             FROM oauth2_sessions WHERE oauth2_sessions.user_id = $1
             UNION ALL
             SELECT compat_sessions.compat_session_id AS app_session_id, compat_sessions.compat_session_id AS compat_session_id,
                    NULL::uuid AS oauth2_session_id, compat_sessions.user_id AS user_id,
                    compat_sessions.human_name AS human_name, compat_sessions.created_at AS created_at
             FROM compat_sessions WHERE compat_sessions.user_id = $1
           ) AS app_sessions ORDER BY app_session_id LIMIT $2`
        )
        expect(columns(d)).toEqual({
          app_session_id: [false, "every UNION branch is non-null"],
          compat_session_id: [true, "UNION branch 1: expression: unknown"],
          oauth2_session_id: [true, "UNION branch 2: expression: unknown"],
          user_id: [true, "UNION branch 1: column oauth2_sessions.user_id is nullable"],
          human_name: [true, "UNION branch 1: column oauth2_sessions.human_name is nullable"],
          created_at: [false, "every UNION branch is non-null"]
        })
      })
    )
  )
})
