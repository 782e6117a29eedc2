// Eight CLI processes migrating one empty database at once: each migration applied once, every process exits 0.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { childEnv, repoRoot, runProcess } from "../cli/helpers.js"
import { clientFor, history, migrationDir, sha384Hex, tableNames } from "../migrate/helpers.js"
import { adminClient, scopedDatabase } from "../support/database.js"

const PROCESSES = 8
// generous for 8 Node start-ups on 2 shared cores; a deadlock would hit it
const PROCESS_TIMEOUT_MS = 75_000

// No IF NOT EXISTS anywhere: a second application of any migration would fail its process.
const files: Record<string, string> = {
  "1_create_items.sql":
    "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, n int NOT NULL);\n" +
    "INSERT INTO items SELECT g, 'item ' || g, g % 97 FROM generate_series(1, 20000) AS g;\n",
  "2_items_name_idx.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY items_name_idx ON items (name);\n",
  "3_create_tags.sql":
    "CREATE TABLE tags (item_id bigint NOT NULL REFERENCES items (id), tag text NOT NULL);\n" +
    "INSERT INTO tags SELECT id, 'tag' || n FROM items;\n",
  "4_items_n_idx.sql": "-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY items_n_id_idx ON items (n, id);\n",
  "5_items_created.sql": "ALTER TABLE items ADD COLUMN created timestamptz NOT NULL DEFAULT now();\n",
  "6_tags_tag_idx.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY tags_tag_idx ON tags (tag);\n"
}

const migrateRun = async (url: string, dir: string) => {
  const started = Date.now()
  const result = await runProcess(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "migrate", "run", "--database-url", url, "--source", dir],
    { cwd: repoRoot, env: childEnv(), timeoutMs: PROCESS_TIMEOUT_MS }
  )
  return { ...result, elapsedMs: Date.now() - started }
}

layer(adminClient, { excludeTestServices: true })("migrator under concurrent processes", (it) => {
  it.scoped(
    `${PROCESSES} processes migrating one empty database apply every migration exactly once`,
    () =>
      Effect.gen(function* () {
        const dir = yield* migrationDir(files)
        const db = yield* scopedDatabase({ prefix: "rel_conc" })

        const started = Date.now()
        const results = yield* Effect.promise(() =>
          Promise.all(Array.from({ length: PROCESSES }, () => migrateRun(db.url, dir)))
        )
        const elapsedMs = Date.now() - started
        const waits = results.map((r) => (r.stderr.match(/waiting for the migration lock/g) ?? []).length)
        console.log(
          `[reliability] ${PROCESSES} concurrent migrate-run processes finished in ${elapsedMs} ms ` +
            `(per process: ${results.map((r) => r.elapsedMs).join(", ")} ms; lock waits: ${waits.join(", ")})`
        )

        for (const result of results) {
          expect(result.stderr).not.toMatch(/^error:/m)
          expect(result.code).toBe(0)
        }
        // the lock is held for a whole run: one process applied everything, the others found nothing to do
        const appliers = results.filter((r) => r.stdout.includes("applied 1 create items"))
        expect(appliers).toHaveLength(1)
        expect(appliers[0]!.stdout.match(/^applied /gm)).toHaveLength(6)
        const idle = results.filter((r) => r.stdout.includes("nothing to apply"))
        expect(idle).toHaveLength(PROCESSES - 1)

        const { sql } = yield* clientFor(db.url)
        const rows = yield* history(sql)
        expect(rows.map((r) => [r.version, r.success])).toEqual(["1", "2", "3", "4", "5", "6"].map((v) => [v, true]))
        expect(rows.map((r) => r.checksum)).toEqual(Object.values(files).map(sha384Hex))
        expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "items", "tags"])
        const indexes = yield* sql<{ name: string; valid: boolean }>`
        SELECT c.relname AS name, i.indisvalid AS valid
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relname IN ('items_name_idx', 'items_n_id_idx', 'tags_tag_idx')
         ORDER BY 1`
        expect(indexes).toEqual([
          { name: "items_n_id_idx", valid: true },
          { name: "items_name_idx", valid: true },
          { name: "tags_tag_idx", valid: true }
        ])
        const [counts] = yield* sql<{ items: number; tags: number }>`
        SELECT (SELECT count(*)::int FROM items) AS items, (SELECT count(*)::int FROM tags) AS tags`
        expect(counts).toEqual({ items: 20000, tags: 20000 })
        // every session is gone, and with it every advisory lock
        const [locks] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
        expect(locks!.n).toBe(0)
      }),
    90_000
  )
})
