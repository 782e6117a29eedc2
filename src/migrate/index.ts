// The package's migration entry point: the Migrator layer, the validation effect run at startup, and the migrations shipped in the package.
import { Effect } from "effect"
import { shippedMigrationsDir } from "../paths.js"
import type { MigrateError } from "./errors.js"
import { loadMigrations, type Migration, type MigrationSourceError } from "./MigrationSource.js"
import { Migrator } from "./Migrator.js"
import type { ValidationReport } from "./types.js"

// the Migrator module is the migrator's public surface: its service, errors and report types
export * from "./Migrator.js"
export type { Migration } from "./MigrationSource.js"

/** The folder of the migrations shipped in the package (`<VERSION>_<description>.sql`). */
export { shippedMigrationsDir }

/** The shipped migrations, read and checksummed (SHA-384 of the exact bytes, as sqlx and MAS compute it). */
export const shippedMigrations: Effect.Effect<ReadonlyArray<Migration>, MigrationSourceError> = loadMigrations(
  shippedMigrationsDir
)

/**
 * The startup check of applied migrations against the files: checksums, versions the files do not know, rows a
 * failed run left dirty. Fails with the reason; pending migrations are reported, not refused (see `migrateOnStartup`).
 */
export const validateMigrations: Effect.Effect<ValidationReport, MigrateError, Migrator> = Effect.flatMap(
  Migrator,
  (migrator) => migrator.validate
)
