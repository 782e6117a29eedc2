// Benchmarks (b) migrating an empty database (ours vs psql vs @effect/sql's Migrator) and (c) startup validation.
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { SqlClient } from "@effect/sql"
import * as EffectMigrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, LogLevel, Logger, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { loadMigrations, toHex } from "../src/migrate/MigrationSource.js"
import { Migrator, type MigratorConfig } from "../src/migrate/Migrator.js"
import { createScratchDatabase, fmtMs, interleave, median, ratioRow, roundTrips, type Row, timed } from "./harness.js"

const run = promisify(execFile)

export const PSQL = "/usr/bin/psql"

interface GeneratedMigration {
  readonly file: string
  readonly noTransaction: boolean
}

/** `YYYYMMDDhhmmss` of 2027-01-01 00:00:00 UTC plus `minutes`. */
const versionAt = (minutes: number) =>
  new Date(Date.UTC(2027, 0, 1) + minutes * 60_000).toISOString().replace(/[-:T]/g, "").slice(0, 14)

/**
 * `n` migrations shaped like a real schema's history, written to `dir`: tables with foreign keys to earlier tables,
 * added columns with foreign keys, in-transaction indexes and check constraints, and — every 5 files, twice — a
 * `-- no-transaction` file with one `CREATE INDEX CONCURRENTLY` (40 %).
 */
export const generateMigrations = (dir: string, n: number): ReadonlyArray<GeneratedMigration> => {
  fs.mkdirSync(dir, { recursive: true })
  const tables: Array<string> = []
  const out: Array<GeneratedMigration> = []
  let txKind = 0
  for (let i = 0; i < n; i++) {
    const version = versionAt(i)
    const concurrently = i % 5 >= 3
    let name: string
    let body: string
    if (concurrently) {
      const table = tables[(i * 31) % tables.length]!
      const column = ["created_at", "name", "parent_id", "state"][i % 4]!
      name = `idx_${table}_${column}_${i}`
      body =
        `-- no-transaction\n-- Index for lookups of ${table} by ${column}.\n` +
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name}\n    ON ${table} (${column});\n`
    } else {
      const kind = txKind++ % 4
      if (kind <= 1 || tables.length === 0) {
        const table = `entity_${String(tables.length).padStart(3, "0")}`
        const parent = tables.length > 0 ? tables[(tables.length * 7) % tables.length] : undefined
        name = `create_${table}`
        body =
          `-- ${table}: one more kind of record.\n` +
          `CREATE TABLE ${table} (\n` +
          `    ${table}_id UUID NOT NULL PRIMARY KEY,\n` +
          `    parent_id UUID${parent !== undefined ? ` REFERENCES ${parent} (${parent}_id) ON DELETE CASCADE` : ""},\n` +
          `    name TEXT NOT NULL,\n` +
          `    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'finished', 'revoked')),\n` +
          `    payload JSONB NOT NULL DEFAULT '{}'::jsonb,\n` +
          `    created_at TIMESTAMPTZ NOT NULL,\n` +
          `    finished_at TIMESTAMPTZ\n` +
          `);\n` +
          `COMMENT ON TABLE ${table} IS 'generated for the migration benchmark';\n`
        tables.push(table)
      } else if (kind === 2) {
        const table = tables[(i * 13) % tables.length]!
        const target = tables[(i * 17) % tables.length]!
        name = `link_${table}_to_${target}`
        body =
          `-- ${table} rows may point at a ${target}.\n` +
          `ALTER TABLE ${table} ADD COLUMN link_${i}_id UUID REFERENCES ${target} (${target}_id) ON DELETE SET NULL;\n` +
          `ALTER TABLE ${table} ADD COLUMN note_${i} TEXT;\n` +
          `UPDATE ${table} SET note_${i} = name WHERE note_${i} IS NULL;\n`
      } else {
        const table = tables[(i * 11) % tables.length]!
        name = `constrain_${table}_${i}`
        body =
          `-- Unique names among the live ${table} rows, and a finished-after-created rule.\n` +
          `CREATE UNIQUE INDEX ${table}_live_name_${i} ON ${table} (name) WHERE finished_at IS NULL;\n` +
          `ALTER TABLE ${table} ADD CONSTRAINT ${table}_finished_${i} CHECK (finished_at IS NULL OR finished_at >= created_at);\n`
      }
    }
    const file = path.join(dir, `${version}_${name}.sql`)
    fs.writeFileSync(file, body)
    out.push({ file, noTransaction: concurrently })
  }
  return out
}

const quietly = Logger.withMinimumLogLevel(LogLevel.Warning)

const configFor = (source: string): MigratorConfig => ({
  source,
  allowedMissing: [],
  allowedAlternateChecksums: [],
  outOfOrder: "error"
})

/** Our migrator, end to end: pool and connection, load and hash the files, lock, validate, apply. */
const ourMigrate = (url: string, source: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* (yield* Migrator).run()
    }).pipe(
      quietly,
      Effect.provide(
        Migrator.layer(configFor(source)).pipe(
          Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
        )
      )
    )
  )

/** psql, one process for the whole set: each transactional file wrapped in BEGIN/COMMIT, the others plain. */
const psqlMigrate = async (url: string, driver: string) => {
  await run(PSQL, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", driver], { maxBuffer: 16 * 1024 * 1024 })
}

const writePsqlDriver = (file: string, migrations: ReadonlyArray<GeneratedMigration>) => {
  const lines = migrations.flatMap((m) => {
    const include = `\\i '${m.file.replace(/'/g, "''")}'`
    return m.noTransaction ? [include] : ["BEGIN;", include, "COMMIT;"]
  })
  fs.writeFileSync(file, lines.join("\n") + "\n")
}

/** @effect/sql's Migrator over the transactional subset (it runs them all in one transaction, ids 1…n). */
const effectSqlMigrate = (url: string, migrations: ReadonlyArray<GeneratedMigration>) => {
  const record: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {}
  migrations.forEach((m, i) => {
    record[`${i + 1}_${path.basename(m.file, ".sql").replace(/^\d+_/, "")}`] = Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(fs.readFileSync(m.file, "utf8"))
    })
  })
  return Effect.runPromise(
    EffectMigrator.make({})({ loader: EffectMigrator.fromRecord(record) }).pipe(
      quietly,
      Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
    )
  )
}

export interface MigrateOptions {
  readonly rounds: number
  readonly count: number
}

/** (b): each contender on its own fresh empty database per round; creating and dropping it is not timed. */
export const benchMigrate = async (adminUrl: string, options: MigrateOptions): Promise<ReadonlyArray<Row>> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mas-bench-migrations-"))
  try {
    const fullDir = path.join(root, "all")
    const txDir = path.join(root, "transactional")
    const all = generateMigrations(fullDir, options.count)
    fs.mkdirSync(txDir)
    const transactional = all
      .filter((m) => !m.noTransaction)
      .map((m) => {
        const file = path.join(txDir, path.basename(m.file))
        fs.copyFileSync(m.file, file)
        return { file, noTransaction: false }
      })
    const driver = path.join(root, "psql-driver.sql")
    writePsqlDriver(driver, all)

    const onFresh = (label: string, f: (url: string) => Promise<unknown>) => async () => {
      const db = await createScratchDatabase(adminUrl, label)
      try {
        return await timed(() => f(db.url))
      } finally {
        await db.drop()
      }
    }
    const concurrentCount = all.length - transactional.length
    const versusPsql = await interleave(
      options.rounds,
      onFresh("mig_ours", (url) => ourMigrate(url, fullDir)),
      onFresh("mig_psql", (url) => psqlMigrate(url, driver))
    )
    const versusEffect = await interleave(
      options.rounds,
      onFresh("mig_ourstx", (url) => ourMigrate(url, txDir)),
      onFresh("mig_effect", (url) => effectSqlMigrate(url, transactional))
    )
    return [
      ratioRow(
        {
          section: "b",
          name: `migrate an empty database, ${all.length} files (${concurrentCount} CREATE INDEX CONCURRENTLY)`,
          a: `Migrator ${fmtMs(median(versusPsql.a))}`,
          b: `psql ${fmtMs(median(versusPsql.b))}`,
          target: "≤ 1.2×"
        },
        versusPsql,
        1.2
      ),
      ratioRow(
        {
          section: "b",
          name: `migrate an empty database, the ${transactional.length} transactional files`,
          a: `Migrator ${fmtMs(median(versusEffect.a))}`,
          b: `@effect/sql Migrator ${fmtMs(median(versusEffect.b))}`,
          target: "(none)",
          note: "@effect/sql applies the whole set in ONE transaction (one commit) and keeps no checksums; ours commits each file with its history row"
        },
        versusEffect,
        undefined
      )
    ]
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

export interface ValidateOptions {
  readonly rounds: number
  readonly count: number
}

/** (c): `validate` and `info` with `count` applied migrations (history rows written directly), against one round trip. */
export const benchValidate = async (adminUrl: string, options: ValidateOptions): Promise<ReadonlyArray<Row>> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mas-bench-validate-"))
  const db = await createScratchDatabase(adminUrl, "validate")
  try {
    generateMigrations(root, options.count)
    const files = await Effect.runPromise(loadMigrations(root))
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      // the history table exactly as the migrator creates it (see "Migrations" in the README), one row per file with the file's checksum
      await client.query(`CREATE TABLE _sqlx_migrations (
        version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
        success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)`)
      await client.query(
        `INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         SELECT v, d, TRUE, decode(c, 'hex'), 1000000 FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t (v, d, c)`,
        [files.map((m) => m.version.toString()), files.map((m) => m.description), files.map((m) => toHex(m.checksum))]
      )
    } finally {
      await client.end()
    }

    const runtime = ManagedRuntime.make(
      Migrator.layer(configFor(root)).pipe(
        Layer.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 }))
      )
    )
    const probe = new pg.Client({ connectionString: db.url })
    await probe.connect()
    try {
      const rows: Array<Row> = []
      for (const operation of ["validate", "info"] as const) {
        const effect = Effect.flatMap(Migrator, (m): Effect.Effect<unknown, unknown> =>
          operation === "validate" ? m.validate : m.info
        ).pipe(quietly)
        const cold = await roundTrips.during(() => timed(() => runtime.runPromise(effect)))
        const sent: Array<{ queries: number; connects: number }> = []
        const result = await interleave(
          options.rounds,
          async () => {
            const r = await roundTrips.during(() => timed(() => runtime.runPromise(effect)))
            sent.push(r)
            return r.value
          },
          () => timed(() => probe.query("SELECT 1"))
        )
        const queries = Math.max(...sent.map((s) => s.queries))
        const connects = Math.max(...sent.map((s) => s.connects))
        const extra = median(result.a) - median(result.b)
        rows.push(
          ratioRow(
            {
              section: "c",
              name: `Migrator.${operation}, ${options.count} applied migrations (warm pool)`,
              a: `${operation} ${fmtMs(median(result.a))}, ${queries} round trip(s)`,
              b: `SELECT 1 ${fmtMs(median(result.b))}`,
              target: "1 round trip + ≤ 10 ms",
              note:
                `${fmtMs(extra)} over one round trip; at most ${queries} query and ${connects} new connection(s) per call ` +
                `(counted by wrapping pg.Client's query/connect); first call, with the connection set up: ` +
                `${fmtMs(cold.value)}, ${cold.queries} queries, ${cold.connects} connection(s)`
            },
            result,
            undefined
          )
        )
        const last = rows[rows.length - 1]!
        rows[rows.length - 1] = { ...last, met: queries === 1 && extra <= 10 }
      }
      return rows
    } finally {
      await probe.end()
      await runtime.dispose()
    }
  } finally {
    await db.drop()
    fs.rmSync(root, { recursive: true, force: true })
  }
}
