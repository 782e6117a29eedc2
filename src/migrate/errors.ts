// The typed failures of the migration source and the migrator, each with a message naming versions and checksums.
import { Schema } from "effect"

const versionList = (versions: ReadonlyArray<bigint>) => versions.map(String).join(", ")

/** A `.sql` file whose name is not `<VERSION>_<description>.sql` with an integer version. */
export class InvalidMigrationName extends Schema.TaggedError<InvalidMigrationName>()("InvalidMigrationName", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `invalid migration file name ${this.path}: ${this.reason}`
  }
}

/** Two files with the same version. */
export class DuplicateMigrationVersion extends Schema.TaggedError<DuplicateMigrationVersion>()(
  "DuplicateMigrationVersion",
  { version: Schema.BigIntFromSelf, paths: Schema.Array(Schema.String) }
) {
  override get message() {
    return `duplicate migration version ${this.version}: ${this.paths.join(", ")}`
  }
}

/** A `-- no-transaction` file that does not hold exactly one statement. */
export class NoTransactionLintError extends Schema.TaggedError<NoTransactionLintError>()("NoTransactionLintError", {
  path: Schema.String,
  statementCount: Schema.Number
}) {
  override get message() {
    return (
      `${this.path} is marked -- no-transaction and must hold exactly one statement, but holds ${this.statementCount} ` +
      `(PostgreSQL would run several statements in one implicit transaction)`
    )
  }
}

/** The migrations folder or a file in it could not be read, or a file is not valid UTF-8. */
export class MigrationReadError extends Schema.TaggedError<MigrationReadError>()("MigrationReadError", {
  path: Schema.String,
  cause: Schema.String
}) {
  override get message() {
    return `cannot read migration ${this.path}: ${this.cause}`
  }
}

/** `addMigration` refused a description (would not survive the file-name round trip) or could not write the file. */
export class InvalidMigrationDescription extends Schema.TaggedError<InvalidMigrationDescription>()(
  "InvalidMigrationDescription",
  { description: Schema.String, reason: Schema.String }
) {
  override get message() {
    return `invalid migration description ${JSON.stringify(this.description)}: ${this.reason}`
  }
}

/** `addMigration` could not create the folder or write the new file. */
export class MigrationWriteError extends Schema.TaggedError<MigrationWriteError>()("MigrationWriteError", {
  path: Schema.String,
  cause: Schema.String
}) {
  override get message() {
    return `cannot write migration ${this.path}: ${this.cause}`
  }
}

/**
 * A migration file starting with a UTF-8 byte order mark: PostgreSQL reads the mark as part of the first word (a
 * syntax error), and it hides a `-- no-transaction` marker, so the run refuses it before touching the database.
 */
export class MigrationByteOrderMark extends Schema.TaggedError<MigrationByteOrderMark>()("MigrationByteOrderMark", {
  path: Schema.String
}) {
  override get message() {
    return (
      `${this.path} starts with a UTF-8 byte order mark (EF BB BF), which PostgreSQL would read as part of the ` +
      `first word and which hides a -- no-transaction marker: save the file as UTF-8 without a BOM`
    )
  }
}

export type MigrationSourceError =
  | MigrationByteOrderMark
  | InvalidMigrationName
  | DuplicateMigrationVersion
  | NoTransactionLintError
  | MigrationReadError
  | InvalidMigrationDescription
  | MigrationWriteError

/** An applied migration whose file changed since, without an accepted alternate checksum. */
export class ChecksumMismatch extends Schema.TaggedError<ChecksumMismatch>()("ChecksumMismatch", {
  version: Schema.BigIntFromSelf,
  description: Schema.String,
  fileChecksum: Schema.String,
  appliedChecksum: Schema.String
}) {
  override get message() {
    return (
      `migration ${this.version} (${this.description}) was applied with checksum ${this.appliedChecksum} ` +
      `but the file now has checksum ${this.fileChecksum}; restore the file, or review the change and list the ` +
      `first 16 bytes of the applied checksum (${this.appliedChecksum.slice(0, 32)}) in allowedAlternateChecksums`
    )
  }
}

/** A history row whose checksum is too short to be compared by its 16-byte prefix. */
export class StoredChecksumTooShort extends Schema.TaggedError<StoredChecksumTooShort>()("StoredChecksumTooShort", {
  version: Schema.BigIntFromSelf,
  appliedChecksum: Schema.String
}) {
  override get message() {
    return (
      `applied migration ${this.version} has a stored checksum of ${this.appliedChecksum.length / 2} bytes ` +
      `(${this.appliedChecksum || "empty"}), shorter than 16 bytes`
    )
  }
}

/** A history row with `success = false`, left by another tool after a failed migration. */
export class DirtyMigration extends Schema.TaggedError<DirtyMigration>()("DirtyMigration", {
  version: Schema.BigIntFromSelf,
  description: Schema.String
}) {
  override get message() {
    return (
      `migration ${this.version} (${this.description}) is recorded as failed (success = false); ` +
      `repair the database by hand and delete its _sqlx_migrations row`
    )
  }
}

/** What one applied migration can be refused for. */
export const HistoryRefusal = Schema.Union(DirtyMigration, ChecksumMismatch, StoredChecksumTooShort)
export type HistoryRefusal = typeof HistoryRefusal.Type

/**
 * Several applied migrations refused at once. All are listed, so that one run shows everything to repair instead of
 * one problem per attempt; a single refusal is raised as itself.
 */
export class MigrationHistoryRefused extends Schema.TaggedError<MigrationHistoryRefused>()("MigrationHistoryRefused", {
  refusals: Schema.Array(HistoryRefusal)
}) {
  override get message() {
    const lines = this.refusals.map((refusal) => `- ${refusal.message}`)
    return [`${this.refusals.length} applied migrations are refused:`, ...lines].join("\n")
  }
}

/** Pending versions lower than the highest applied one, refused under the "error" policy. */
export class OutOfOrderMigrations extends Schema.TaggedError<OutOfOrderMigrations>()("OutOfOrderMigrations", {
  versions: Schema.Array(Schema.BigIntFromSelf),
  latestApplied: Schema.BigIntFromSelf
}) {
  override get message() {
    return (
      `pending migrations ${versionList(this.versions)} are older than the latest applied migration ` +
      `${this.latestApplied}`
    )
  }
}

/** Startup was told not to migrate but migrations are pending. */
export class PendingMigrations extends Schema.TaggedError<PendingMigrations>()("PendingMigrations", {
  versions: Schema.Array(Schema.BigIntFromSelf)
}) {
  override get message() {
    return `migrations pending and migrating is disabled: ${versionList(this.versions)}`
  }
}

/** A migration's SQL (or its history row) failed; nothing of it was recorded. */
export class MigrationFailed extends Schema.TaggedError<MigrationFailed>()("MigrationFailed", {
  version: Schema.BigIntFromSelf,
  description: Schema.String,
  path: Schema.String,
  cause: Schema.String
}) {
  override get message() {
    return `migration ${this.version} (${this.description}) failed: ${this.cause}`
  }
}

/**
 * A pending `-- no-transaction` migration would build an index that already exists as invalid
 * (`pg_index.indisvalid = false`), left by an interrupted `CREATE INDEX CONCURRENTLY`: `IF NOT EXISTS` would
 * skip it silently, and dropping it for the operator could hide why the build failed, so the run refuses.
 */
export class InvalidIndexLeftBehind extends Schema.TaggedError<InvalidIndexLeftBehind>()("InvalidIndexLeftBehind", {
  version: Schema.BigIntFromSelf,
  description: Schema.String,
  path: Schema.String,
  /** Schema-qualified, quoted as SQL needs them. */
  indexes: Schema.Array(Schema.String)
}) {
  override get message() {
    const names = this.indexes.join(", ")
    return (
      `index ${names} is invalid (pg_index.indisvalid = false), left by an interrupted CREATE INDEX ` +
      `CONCURRENTLY of migration ${this.version} (${this.description}), which is not applied: drop it with ` +
      `${this.indexes.map((name) => `DROP INDEX CONCURRENTLY ${name};`).join(" ")} then run the migrations again`
    )
  }
}

/**
 * The migrator's connection is not a session of its own: it goes through a pooler in transaction (or statement) mode,
 * which hands each transaction to whichever server connection is free. The advisory lock is held by a server
 * session, and `-- no-transaction` files and the history write rely on staying on it, so the run refuses before
 * taking the lock or applying anything.
 */
export class MigrationConnectionNotSession extends Schema.TaggedError<MigrationConnectionNotSession>()(
  "MigrationConnectionNotSession",
  { reason: Schema.String }
) {
  override get message() {
    return (
      `the migration connection is not a session: ${this.reason}. It goes through a connection pooler in ` +
      `transaction mode, such as PgBouncer with pool_mode = transaction, and the migrator's advisory lock needs one ` +
      `server session for the whole run. Migrate over a direct connection to PostgreSQL (or a session-mode pool): ` +
      `--migrations-url or MIGRATIONS_DATABASE_URL, or the startup option migrationsUrl`
    )
  }
}

/** The database could not be reached, locked or read (wraps the SqlError). */
export class MigrationDatabaseError extends Schema.TaggedError<MigrationDatabaseError>()("MigrationDatabaseError", {
  operation: Schema.String,
  cause: Schema.String
}) {
  override get message() {
    return `migration database error while ${this.operation}: ${this.cause}`
  }
}

export type MigrateError =
  | MigrationSourceError
  | ChecksumMismatch
  | StoredChecksumTooShort
  | DirtyMigration
  | MigrationHistoryRefused
  | OutOfOrderMigrations
  | PendingMigrations
  | MigrationFailed
  | InvalidIndexLeftBehind
  | MigrationConnectionNotSession
  | MigrationDatabaseError
