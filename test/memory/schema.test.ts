// The in-memory backend's copy of keys and constraints must match the migrated PostgreSQL schema exactly.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { tables } from "../../src/memory/schema.js"
import { migratedDatabaseLayer } from "../support/database.js"

interface CatalogTable {
  readonly name: string
  readonly pk: ReadonlyArray<string> | null
  readonly fks: ReadonlyArray<{
    name: string
    columns: ReadonlyArray<string>
    references: string
    onDelete: string
  }> | null
  readonly uniques: ReadonlyArray<{ name: string; columns: ReadonlyArray<string> }> | null
}

const catalog = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ tables: ReadonlyArray<CatalogTable> }>`
    SELECT json_agg(t ORDER BY t.name) AS tables FROM (
      SELECT c.relname AS name,
        (SELECT json_agg(a.attname ORDER BY k.n) FROM pg_index i
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
        (SELECT json_agg(json_build_object(
            'name', con.conname,
            'columns', (SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
            'references', con.confrelid::regclass::text,
            'onDelete', CASE con.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' ELSE 'restrict' END)
          -- in the order PostgreSQL checks them (its check triggers fire by name), which memory follows
          ORDER BY (SELECT min(tg.tgname) FROM pg_trigger tg
                     WHERE tg.tgconstraint = con.oid AND tg.tgname LIKE 'RI\\_ConstraintTrigger\\_c\\_%'))
          FROM pg_constraint con WHERE con.conrelid = c.oid AND con.contype = 'f') AS fks,
        (SELECT json_agg(json_build_object('name', ic.relname, 'columns',
            (SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum))
          ORDER BY ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary) AS uniques
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> '_sqlx_migrations') t`
  return rows[0]!.tables
})

layer(migratedDatabaseLayer())("memory schema", (it) => {
  it.effect(
    "lists every table, primary key, foreign key (with its ON DELETE rule, in the order PostgreSQL checks them) and unique index of PostgreSQL",
    () =>
      Effect.gen(function* () {
        const actual = (yield* catalog)
          .map((t) => ({
            name: t.name,
            primaryKey: t.pk ?? ["active"], // queue_leader has no primary key; its unique `active` column serves as one
            foreignKeys: t.fks ?? [],
            unique: [...(t.uniques ?? [])].sort((a, b) => a.name.localeCompare(b.name))
          }))
          .sort((a, b) => a.name.localeCompare(b.name))
        const expected = [...tables]
          .map((t) => ({
            name: t.name,
            primaryKey: t.primaryKey,
            foreignKeys: t.foreignKeys.map((f) => ({ ...f })),
            unique: t.unique
              .map((u) => ({ name: u.name, columns: u.columns }))
              .sort((a, b) => a.name.localeCompare(b.name))
          }))
          .sort((a, b) => a.name.localeCompare(b.name))
        expect(actual).toEqual(expected)
      })
  )
})
