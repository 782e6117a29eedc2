// Shared fixtures for the migrator tests: temp migration folders, a fresh database with a Migrator, log capture.
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { createHash } from "node:crypto"
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Migrator, type MigratorConfig, type MigratorService } from "../../src/migrate/Migrator.js"
import { scopedDatabase } from "../support/database.js"

export type Files = Readonly<Record<string, string | Uint8Array>>

/** A temp folder holding `files`, removed at scope end. */
export const migrationDir = (files: Files) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), "migrate-test-"))
      for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
      return dir
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

export const writeMigration = (dir: string, name: string, content: string | Uint8Array) =>
  Effect.promise(() => writeFile(join(dir, name), content))

export const removeMigration = (dir: string, name: string) => Effect.promise(() => unlink(join(dir, name)))

export const sha384Hex = (content: string | Uint8Array) => createHash("sha384").update(content).digest("hex")

/** A client on a database URL, open for the current scope. */
export const clientFor = (url: string) =>
  Layer.build(PgClient.layer({ url: Redacted.make(url), maxConnections: 3 })).pipe(
    Effect.map((ctx) => ({ ctx, sql: Context.get(ctx, SqlClient.SqlClient) }))
  )

export const migratorOn = (
  ctx: Context.Context<SqlClient.SqlClient>,
  config: MigratorConfig
): Effect.Effect<MigratorService> => Migrator.pipe(Effect.provide(Migrator.layer(config)), Effect.provide(ctx))

export const testConfig = (source: string, overrides?: Partial<MigratorConfig>): MigratorConfig => ({
  source,
  allowedMissing: [],
  allowedAlternateChecksums: [],
  outOfOrder: "warn",
  ...overrides
})

/** Needs the admin `PgClient` and a Scope: a fresh database, a folder of `files` and a Migrator on them. */
export const setup = (files: Files, overrides?: Partial<MigratorConfig>) =>
  Effect.gen(function* () {
    const dir = yield* migrationDir(files)
    const db = yield* scopedDatabase({ prefix: "migrate" })
    const { ctx, sql } = yield* clientFor(db.url)
    const config = testConfig(dir, overrides)
    const migrator = yield* migratorOn(ctx, config)
    const withConfig = (more: Partial<MigratorConfig>) => migratorOn(ctx, { ...config, ...more })
    return { dir, db, ctx, sql, config, migrator, withConfig }
  })

export interface LogLine {
  readonly level: string
  readonly message: string
}

/** Runs `effect` with every log line (debug and up) captured instead of printed. */
export const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<LogLine> = []
    const logger = Logger.make(({ logLevel, message }) => {
      const parts = Array.isArray(message) ? message : [message]
      lines.push({ level: logLevel.label, message: parts.map(String).join(" ") })
    })
    const result = yield* effect.pipe(
      Effect.either,
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
    return { result, lines }
  })

export const tableNames = (sql: SqlClient.SqlClient) =>
  sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`.pipe(
    Effect.map((rows) => rows.map((r) => r.table_name))
  )

export interface HistoryRow {
  readonly version: string
  readonly description: string
  readonly success: boolean
  readonly checksum: string
  readonly execution_time: string
  readonly installed_on: string
}

export const history = (sql: SqlClient.SqlClient) =>
  sql<HistoryRow>`
    SELECT version::text AS version, description, success, encode(checksum, 'hex') AS checksum,
           execution_time::text AS execution_time, installed_on::text AS installed_on
      FROM _sqlx_migrations ORDER BY version`
