// The reviewed exceptions to migration validation; every entry needs a comment saying why it is safe.

/**
 * Applied versions that no longer have a file and are known to be harmless (logged at debug level instead of a
 * warning). Example:
 *
 *   // 20240101120000: squashed into 20240301000000_initial_schema.sql; databases migrated before the squash keep the row
 *   20240101120000n,
 */
export const allowedMissing: ReadonlyArray<bigint> = []

/**
 * Applied migrations whose file was edited after release in a reviewed, equivalent way. `prefix` is the first
 * 16 bytes (32 hex chars) of the checksum stored in `_sqlx_migrations`, i.e. of the file as it was applied. Example:
 *
 *   // 20240301000000: comment typo fixed; the statements are byte-for-byte the same
 *   { version: 20240301000000n, prefix: "0123456789abcdef0123456789abcdef" },
 */
export const allowedAlternateChecksums: ReadonlyArray<{ readonly version: bigint; readonly prefix: string }> = []
