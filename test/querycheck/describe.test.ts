// describe() on real PostgreSQL: joins, aggregates, CTEs, RETURNING, and the types the project uses, with nullability reasons.
import { expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import type { Description } from "../../src/querycheck/describe.js"
import { freshDatabaseLayer, migratedDatabaseLayer } from "../support/database.js"
import { createSchema, withDescriber } from "../support/describer.js"

const schema = `
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 10);
CREATE TABLE people (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  nickname text,
  mood mood NOT NULL,
  moods mood[],
  tags text[] NOT NULL,
  scores int4[],
  ip inet,
  born_at timestamptz NOT NULL,
  data jsonb NOT NULL,
  big int8 NOT NULL,
  code short_text NOT NULL
);
CREATE TABLE pets (
  id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES people (id),
  name text NOT NULL,
  vet_id uuid
);
CREATE TABLE vets (id uuid PRIMARY KEY, name text NOT NULL);
`

/** name → [type, nullable, reason] of each column. */
const columns = (d: Description) => Object.fromEntries(d.columns.map((c) => [c.name, [c.type, c.nullable, c.reason]]))

layer(freshDatabaseLayer())("describe on a custom schema", (it) => {
  it.scoped("creates the schema", () => createSchema(schema, ["people", "pets", "vets"]))

  it.scoped(
    "table columns: NOT NULL, nullable, and the types (uuid, enum, arrays, inet, timestamptz, jsonb, int8, domain)",
    () =>
      withDescriber((describe) =>
        Effect.gen(function* () {
          const d = yield* describe(
            "SELECT id, nickname, mood, moods, tags, scores, ip, born_at, data, big, code FROM people WHERE id = $1"
          )
          expect(d.params).toEqual([{ type: "uuid", kind: "base", comparedWithEquals: "id = $1" }])
          expect(columns(d)).toEqual({
            id: ["uuid", false, "NOT NULL column people.id"],
            nickname: ["text", true, "column people.nickname is nullable"],
            mood: ["mood", false, "NOT NULL column people.mood"],
            moods: ["mood[]", true, "column people.moods is nullable"],
            tags: ["text[]", false, "NOT NULL column people.tags"],
            scores: ["int4[]", true, "column people.scores is nullable"],
            ip: ["inet", true, "column people.ip is nullable"],
            born_at: ["timestamptz", false, "NOT NULL column people.born_at"],
            data: ["jsonb", false, "NOT NULL column people.data"],
            big: ["int8", false, "NOT NULL column people.big"],
            // domains are described as their base type
            code: ["text", false, "NOT NULL column people.code"]
          })
          expect(d.columns.find((c) => c.name === "mood")!.kind).toBe("enum")
          expect(d.columns[0]!.origin).toMatchObject({ table: "people", column: "id", attnum: 1 })
        })
      )
  )

  it.scoped("LEFT JOIN makes the inner side nullable, even for NOT NULL columns", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          "SELECT p.name, pets.name AS pet_name, pets.id AS pet_id FROM people p LEFT JOIN pets ON pets.owner_id = p.id"
        )
        expect(columns(d)).toEqual({
          name: ["text", false, "NOT NULL column people.name"],
          pet_name: ["text", true, "inner side of LEFT JOIN"],
          pet_id: ["uuid", true, "inner side of LEFT JOIN"]
        })
      })
    )
  )

  it.scoped("RIGHT JOIN makes the left side nullable; FULL JOIN both", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const right = yield* describe(
          "SELECT p.name, pets.name AS pet_name FROM people p RIGHT JOIN pets ON pets.owner_id = p.id"
        )
        expect(columns(right).name![1]).toBe(true)
        expect(String(columns(right).name![2])).toMatch(/JOIN/)
        expect(columns(right).pet_name).toEqual(["text", false, "NOT NULL column pets.name"])

        const full = yield* describe(
          "SELECT p.name, pets.name AS pet_name FROM people p FULL JOIN pets ON pets.owner_id = p.id"
        )
        expect(columns(full).name).toEqual(["text", true, "side of FULL JOIN"])
        expect(columns(full).pet_name).toEqual(["text", true, "side of FULL JOIN"])
      })
    )
  )

  it.scoped("nested joins: an inner join below a LEFT JOIN is nullable as a whole", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT p.name, pets.name AS pet, v.name AS vet
           FROM people p LEFT JOIN (pets JOIN vets v ON v.id = pets.vet_id) ON pets.owner_id = p.id`
        )
        expect(columns(d)).toEqual({
          name: ["text", false, "NOT NULL column people.name"],
          pet: ["text", true, "inner side of LEFT JOIN"],
          vet: ["text", true, "inner side of LEFT JOIN"]
        })
        const chain = yield* describe(
          `SELECT pets.name AS pet, v.name AS vet FROM pets LEFT JOIN vets v ON v.id = pets.vet_id JOIN people p ON p.id = pets.owner_id`
        )
        expect(columns(chain)).toEqual({
          pet: ["text", false, "NOT NULL column pets.name"],
          vet: ["text", true, "inner side of LEFT JOIN"]
        })
      })
    )
  )

  it.scoped(
    "aggregates: count is never NULL, max is; coalesce with a literal is not; literals and exists are not",
    () =>
      withDescriber((describe) =>
        Effect.gen(function* () {
          const d = yield* describe(
            `SELECT count(*) AS n, count(nickname) AS named, max(born_at) AS newest, coalesce(max(big), 0) AS top,
                  1 AS one, 'x' AS x, EXISTS (SELECT 1 FROM pets) AS any_pet, NOT EXISTS (SELECT 1 FROM vets) AS no_vet,
                  now()::date AS today, NULL::text AS nothing
           FROM people`
          )
          expect(columns(d)).toEqual({
            n: ["int8", false, "count(*)"],
            named: ["int8", false, "count(*)"],
            newest: ["timestamptz", true, "max() over no GROUP BY: NULL on no rows"],
            top: ["int8", false, "coalesce with a non-null argument"],
            one: ["int4", false, "literal"],
            x: ["text", false, "literal"],
            any_pet: ["bool", false, "exists"],
            no_vet: ["bool", false, "exists"],
            today: ["date", true, "expression: unknown"],
            nothing: ["text", true, "expression: unknown"]
          })
        })
      )
  )

  it.scoped(
    'alias overrides: "name!" forces NOT NULL, "name?" forces nullable; the suffix is not part of the name',
    () =>
      withDescriber((describe) =>
        Effect.gen(function* () {
          const d = yield* describe(
            `SELECT max(born_at) AS "newest!", min(name) AS "first?", count(*) AS "n?" FROM people`
          )
          expect(columns(d)).toEqual({
            newest: ["timestamptz", false, "alias override !"],
            first: ["text", true, "alias override ?"],
            n: ["int8", true, "alias override ?"]
          })
        })
      )
  )

  it.scoped("CTEs: plain, and data-modifying with RETURNING; a LEFT JOIN inside the CTE is traced through it", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const plain = yield* describe(
          `WITH owners AS (SELECT p.id, p.name, pets.name AS pet FROM people p LEFT JOIN pets ON pets.owner_id = p.id)
           SELECT owners.name, owners.pet FROM owners`
        )
        expect(columns(plain).name).toEqual(["text", false, "NOT NULL column people.name"])
        expect(columns(plain).pet).toEqual(["text", true, "inner side of LEFT JOIN"])

        const modifying = yield* describe(
          `WITH added AS (INSERT INTO vets (id, name) VALUES ($1, $2) RETURNING id, name)
           SELECT added.id, added.name, (SELECT count(*) FROM vets) AS total FROM added`
        )
        expect(modifying.params).toEqual([
          { type: "uuid", kind: "base", notNullTarget: "vets.id" },
          { type: "text", kind: "base", notNullTarget: "vets.name" }
        ])
        expect(columns(modifying).id).toEqual(["uuid", false, "NOT NULL column vets.id"])
        expect(columns(modifying).name).toEqual(["text", false, "NOT NULL column vets.name"])
        expect(columns(modifying).total![1]).toBe(true)
      })
    )
  )

  it.scoped("RETURNING of INSERT, UPDATE and DELETE; statements without rows have no columns", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const insert = yield* describe(
          "INSERT INTO pets (id, owner_id, name, vet_id) VALUES ($1, $2, $3, $4) RETURNING id, vet_id, name || '!' AS shout, 42 AS answer"
        )
        expect(insert.params.map((p) => p.type)).toEqual(["uuid", "uuid", "text", "uuid"])
        expect(columns(insert)).toEqual({
          id: ["uuid", false, "NOT NULL column pets.id"],
          vet_id: ["uuid", true, "column pets.vet_id is nullable"],
          shout: ["text", true, "expression: unknown"],
          answer: ["int4", false, "literal"]
        })
        const update = yield* describe("UPDATE people SET nickname = $2 WHERE id = $1 RETURNING nickname, big")
        expect(columns(update)).toEqual({
          nickname: ["text", true, "column people.nickname is nullable"],
          big: ["int8", false, "NOT NULL column people.big"]
        })
        const del = yield* describe("DELETE FROM pets WHERE owner_id = $1")
        expect(del.columns).toEqual([])
        expect(del.params).toEqual([{ type: "uuid", kind: "base", comparedWithEquals: "owner_id = $1" }])
      })
    )
  )

  it.scoped("parameters: ANY($1) is an array, enums, jsonb, inet, timestamptz, casts", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe(
          `SELECT id FROM people WHERE id = ANY($1) AND mood = $2 AND data @> $3 AND ip = $4 AND born_at < $5 AND big = $6::bigint AND mood = ANY($7)`
        )
        expect(d.params).toEqual([
          { type: "uuid[]", kind: "base", comparedWithEquals: "id = any($1)" },
          { type: "mood", kind: "enum", comparedWithEquals: "mood = $2" },
          { type: "jsonb", kind: "base" },
          { type: "inet", kind: "base", comparedWithEquals: "ip = $4" },
          { type: "timestamptz", kind: "base" },
          { type: "int8", kind: "base", comparedWithEquals: "big = $6::bigint" },
          { type: "mood[]", kind: "enum", comparedWithEquals: "mood = any($7)" }
        ])
      })
    )
  )

  it.scoped(
    "a statement that does not parse or names an unknown table fails with DescribeError, and the describer stays usable",
    () =>
      withDescriber((describe) =>
        Effect.gen(function* () {
          const bad = yield* Effect.either(describe("SELECT nope FROM nowhere"))
          expect(Either.isLeft(bad)).toBe(true)
          if (Either.isLeft(bad)) expect(String((bad.left as Error).message)).toMatch(/nowhere/)
          const ok = yield* describe("SELECT 1 AS one")
          expect(columns(ok).one).toEqual(["int4", false, "literal"])
        })
      )
  )
})

layer(migratedDatabaseLayer())("describe on the project schema", (it) => {
  it.scoped("a users lookup by id", () =>
    withDescriber((describe) =>
      Effect.gen(function* () {
        const d = yield* describe("SELECT user_id, username, locked_at FROM users WHERE user_id = $1")
        expect(d.params).toEqual([{ type: "uuid", kind: "base", comparedWithEquals: "user_id = $1" }])
        expect(columns(d)).toEqual({
          user_id: ["uuid", false, "NOT NULL column users.user_id"],
          username: ["text", false, "NOT NULL column users.username"],
          locked_at: ["timestamptz", true, "column users.locked_at is nullable"]
        })
      })
    )
  )
})
