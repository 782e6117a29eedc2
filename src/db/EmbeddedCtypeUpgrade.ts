// Moves the data of an embedded folder made with the old `C` ctype into a new UTF-8-ctype database, keeping the old one.
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted, Schema, type Scope } from "effect"
import { Migrator, postgresErrorText } from "../migrate/Migrator.js"
import { redactUrl, withDatabase } from "./probe.js"
import { quoteIdent, quoteLiteral } from "../pg/common/identifiers.js"
import { embeddedCtype, isCOrPosix, readDatabaseLocale } from "./ServerLocale.js"

/**
 * Earlier versions initialised the embedded cluster with `--locale=C`, so its `LOWER()` folds ASCII only. PostgreSQL
 * cannot change the ctype of a database, and the embedded package ships no pg_dump, so the move is done here:
 *
 * 1. a new database from `template0` with UTF-8 encoding, the old collation and the UTF-8 ctype;
 * 2. the applied migrations replayed into it (the program's own files, checked against the history first);
 * 3. its catalog compared with the old one: anything the migrations did not make (a table, index or function added
 *    by hand) stops the move, since it would be lost;
 * 4. every table copied in one transaction from one snapshot of the old database, the history table included;
 * 5. every table's row count and content digest compared on both sides;
 * 6. the two databases swapped by renaming in one transaction: the old one is kept, under a dated name.
 *
 * Until step 6 commits nothing of the old database has changed, and a failure drops the new one.
 */

export class CtypeUpgradeError extends Schema.TaggedError<CtypeUpgradeError>()("CtypeUpgradeError", {
  database: Schema.String,
  step: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return (
      `cannot move database ${this.database} to a UTF-8 ctype (${this.step}): ${this.detail}\n` +
      `Nothing was changed: the database is as it was. Start with DATABASE_URL set to another server, or move the ` +
      `data by hand (pg_dump, then pg_restore into a database made WITH TEMPLATE template0 ENCODING 'UTF8' ` +
      `LC_COLLATE 'C' LC_CTYPE 'C.UTF-8').`
    )
  }
}

export type CtypeUpgradeReport =
  | { readonly _tag: "Unchanged"; readonly ctype: string }
  | {
      readonly _tag: "Moved"
      readonly from: string
      readonly to: string
      /** The name the old database is kept under. */
      readonly kept: string
      readonly tables: number
      readonly rows: number
    }

const utcStamp = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15)

/**
 * A client on one database, closed with the scope. One connection by default, so that every statement, a cursor's
 * FETCH or a hand-made transaction's COMMIT included, runs in the same session.
 */
const clientOn = (url: string, maxConnections = 1): Effect.Effect<SqlClient.SqlClient, SqlError, Scope.Scope> =>
  Layer.build(PgClient.layer({ url: Redacted.make(url), maxConnections, applicationName: "mas-data-ctype-move" })).pipe(
    Effect.map((ctx) => Context.get(ctx, SqlClient.SqlClient))
  )

/**
 * A transaction on a one-connection client, begun by hand: @effect/sql keeps one transaction per fiber whatever the
 * client, so a second client's `withTransaction` inside the first would become a savepoint on the first's connection.
 */
const inTransaction =
  (sql: SqlClient.SqlClient, begin = "BEGIN") =>
  <A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        yield* sql.unsafe(begin)
        const exit = yield* Effect.exit(restore(body))
        if (Exit.isSuccess(exit)) {
          yield* sql.unsafe("COMMIT")
          return exit.value
        }
        yield* sql.unsafe("ROLLBACK").pipe(Effect.ignore)
        return yield* exit
      })
    )

/** Runs a Migrator operation on its own client (the migrator reserves a connection of its own for the lock). */
const withMigrator = <A, E>(
  url: string,
  body: (migrator: Migrator["Type"]) => Effect.Effect<A, E>,
  logLevel: LogLevel.LogLevel
) =>
  Effect.scoped(
    Effect.flatMap(clientOn(url, 2), (sql) =>
      Effect.flatMap(Migrator, body).pipe(
        Effect.provide(Migrator.layer(Migrator.defaultConfig)),
        Effect.provideService(SqlClient.SqlClient, sql),
        Logger.withMinimumLogLevel(logLevel)
      )
    )
  )

/** Every user-visible object of the database, one line each, for comparing two databases' schemas. */
const CATALOG = `
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
   WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
)
SELECT line FROM (
  SELECT 'schema ' || nspname AS line FROM ns
  UNION ALL
  SELECT 'relation ' || c.oid::regclass::text || ' kind ' || c.relkind::text || ' acl ' || coalesce(c.relacl::text, '-')
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
         || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END
         || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT 'constraint ' || coalesce(r.conrelid::regclass::text, '-') || ' ' || quote_ident(r.conname) || ' ' || pg_get_constraintdef(r.oid)
    FROM pg_constraint r JOIN ns ON ns.oid = r.connamespace
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'routine ' || p.oid::regprocedure::text || ' ' || md5(CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prokind::text END)
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
  UNION ALL
  SELECT 'type ' || t.oid::regtype::text || ' ' || t.typtype::text || coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  UNION ALL
  SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension
  UNION ALL
  SELECT 'large objects ' || count(*) FROM pg_largeobject_metadata HAVING count(*) > 0
) lines ORDER BY line COLLATE "C"`

const catalogOf = (sql: SqlClient.SqlClient) =>
  sql.unsafe<{ readonly line: string }>(CATALOG).pipe(Effect.map((rows) => rows.map((r) => r.line)))

/** The ordinary tables to copy, each as a quoted, qualified name. */
const tablesOf = (sql: SqlClient.SqlClient) =>
  sql
    .unsafe<{ readonly name: string }>(
      `SELECT c.oid::regclass::text COLLATE "C" AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      ORDER BY 1`
    )
    .pipe(Effect.map((rows) => rows.map((r) => r.name)))

/** Row count and a digest of the table's rows in byte order of their text form: equal on both sides after a faithful copy. */
const digestOf = (sql: SqlClient.SqlClient, table: string) =>
  sql
    .unsafe<{ readonly n: string; readonly digest: string }>(
      `SELECT count(*)::text AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C"), '')) AS digest FROM ONLY ${table} t`
    )
    .pipe(Effect.map((rows) => rows[0]!))

const COPY_BATCH = 1_000

/** Copies one table through JSON rows: text in, text out, so no value passes through a JavaScript number or date. */
const copyTable = (from: SqlClient.SqlClient, to: SqlClient.SqlClient, table: string) =>
  Effect.gen(function* () {
    yield* from.unsafe(
      `DECLARE mas_ctype_move NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS r FROM ONLY ${table} t`
    )
    let rows = 0
    for (;;) {
      const batch = yield* from.unsafe<{ readonly r: string }>(`FETCH ${COPY_BATCH} FROM mas_ctype_move`)
      if (batch.length === 0) break
      yield* to.unsafe(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1::json)`, [
        `[${batch.map((b) => b.r).join(",")}]`
      ])
      rows += batch.length
    }
    yield* from.unsafe(`CLOSE mas_ctype_move`)
    return rows
  })

const lineDiff = (old: ReadonlyArray<string>, fresh: ReadonlyArray<string>) => {
  const inFresh = new Set(fresh)
  const inOld = new Set(old)
  return {
    onlyOld: old.filter((l) => !inFresh.has(l)),
    onlyFresh: fresh.filter((l) => !inOld.has(l))
  }
}

/**
 * Moves database `database` of the embedded server at `serverUrl` to a UTF-8 ctype when it has the `C` (or `POSIX`)
 * ctype of earlier versions; does nothing otherwise. Needs no other session on the database (the renames refuse).
 */
export const upgradeEmbeddedCtype = (
  serverUrl: string,
  options: { readonly database?: string; readonly now?: Date } = {}
): Effect.Effect<CtypeUpgradeReport, CtypeUpgradeError> =>
  Effect.gen(function* () {
    const database = options.database ?? "postgres"
    const failAt = (step: string) => (cause: unknown) =>
      new CtypeUpgradeError({
        database,
        step,
        detail:
          typeof cause === "object" && cause !== null && "_tag" in cause && cause._tag === "SqlError"
            ? postgresErrorText(cause as SqlError)
            : cause instanceof Error
              ? cause.message
              : String(cause)
      })
    const maintenanceUrl = withDatabase(serverUrl, "template1")
    const oldUrl = withDatabase(serverUrl, database)

    const locale = yield* Effect.scoped(
      Effect.flatMap(clientOn(maintenanceUrl), (sql) =>
        readDatabaseLocale(database).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      )
    ).pipe(Effect.mapError(failAt("reading its locale")))
    if (locale.provider !== "libc" || !isCOrPosix(locale.ctype) || locale.encoding !== "UTF8") {
      return { _tag: "Unchanged", ctype: locale.ctype } satisfies CtypeUpgradeReport
    }

    const ctype = yield* embeddedCtype.pipe(Effect.mapError(failAt("choosing a UTF-8 locale")))
    const stamp = utcStamp(options.now ?? new Date())
    const fresh = `${database}_utf8_move_${stamp}`
    const kept = `${database}_ctype_c_${stamp}`
    yield* Effect.logWarning(
      `database ${database} of the embedded server (${redactUrl(serverUrl)}) has lc_ctype ${locale.ctype}, made by an ` +
        `earlier version: LOWER() folds ASCII only there. Moving its data to a database with lc_ctype ${ctype}; the ` +
        `old one is kept as ${kept}.`
    )

    // 1. The history, checked before anything is created.
    const plan = yield* Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* clientOn(oldUrl)
        const hasHistory =
          (yield* sql.unsafe(`SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = '_sqlx_migrations'`))
            .length > 0
        if (!hasHistory) return Option.none<bigint>()
        const report = yield* withMigrator(oldUrl, (m) => m.validate, LogLevel.Error)
        if (report.unknown.length > 0 || report.outOfOrder.length > 0) {
          return yield* Effect.fail(
            `its history does not match this program's migrations (${
              report.unknown.length > 0 ? `applied but unknown: ${report.unknown.map((m) => m.version).join(", ")}` : ""
            }${report.outOfOrder.length > 0 ? ` pending below the latest applied: ${report.outOfOrder.join(", ")}` : ""}); ` +
              `start it with the program version that made it`
          )
        }
        const applied = yield* sql.unsafe<{ readonly v: string | null }>(
          `SELECT max(version)::text AS v FROM _sqlx_migrations`
        )
        return Option.fromNullable(applied[0]?.v ?? null).pipe(Option.map(BigInt))
      })
    ).pipe(Effect.mapError(failAt("checking its migration history")))

    // Dropped on any failure before the swap commits.
    let swapped = false
    const dropFresh = Effect.scoped(
      Effect.flatMap(clientOn(maintenanceUrl), (sql) =>
        sql.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(fresh)} WITH (FORCE)`)
      )
    ).pipe(Effect.ignore)

    const moved = yield* Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.flatMap(clientOn(maintenanceUrl), (sql) =>
          sql.unsafe(
            `CREATE DATABASE ${quoteIdent(fresh)} TEMPLATE template0 ENCODING 'UTF8' ` +
              `LC_COLLATE ${quoteLiteral(locale.collate)} LC_CTYPE ${quoteLiteral(ctype)}`
          )
        )
      ).pipe(Effect.mapError(failAt(`creating database ${fresh}`)))

      return yield* Effect.scoped(
        Effect.gen(function* () {
          const from = yield* clientOn(oldUrl).pipe(Effect.mapError(failAt("connecting to it")))
          const to = yield* clientOn(withDatabase(serverUrl, fresh)).pipe(
            Effect.mapError(failAt(`connecting to ${fresh}`))
          )

          // 2. The same schema, from the same files.
          if (Option.isSome(plan)) {
            yield* withMigrator(
              withDatabase(serverUrl, fresh),
              (m) => m.run({ targetVersion: plan.value }),
              LogLevel.Warning
            ).pipe(Effect.mapError(failAt(`replaying the migrations in ${fresh}`)))
          }

          // 3. Nothing the migrations did not make.
          const diff = lineDiff(
            yield* catalogOf(from).pipe(Effect.mapError(failAt("reading its catalog"))),
            yield* catalogOf(to).pipe(Effect.mapError(failAt(`reading the catalog of ${fresh}`)))
          )
          if (diff.onlyOld.length > 0 || diff.onlyFresh.length > 0) {
            const show = (lines: ReadonlyArray<string>) =>
              lines.slice(0, 10).join("; ") + (lines.length > 10 ? "; …" : "")
            return yield* failAt("comparing the schemas")(
              `its schema is not what the migrations make, so a move would lose something.` +
                (diff.onlyOld.length > 0 ? ` Only in ${database}: ${show(diff.onlyOld)}.` : "") +
                (diff.onlyFresh.length > 0 ? ` Only in the replayed schema: ${show(diff.onlyFresh)}.` : "")
            )
          }

          // 4 and 5. One snapshot of the old database for the copy and the check.
          const tables = yield* tablesOf(from).pipe(Effect.mapError(failAt("listing its tables")))
          const rows = yield* Effect.gen(function* () {
            const copied = yield* Effect.gen(function* () {
              // Foreign keys are not checked while loading (superuser only), so the order of the tables does not matter.
              yield* to.unsafe(`SET LOCAL session_replication_role = replica`)
              if (tables.length > 0) yield* to.unsafe(`TRUNCATE ${tables.join(", ")}`)
              let total = 0
              for (const table of tables) total += yield* copyTable(from, to, table)
              const sequences = yield* from.unsafe<{ readonly name: string; readonly last: string }>(
                `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last FROM pg_sequences WHERE last_value IS NOT NULL`
              )
              for (const s of sequences)
                yield* to.unsafe(`SELECT setval($1::regclass, $2::bigint, true)`, [s.name, s.last])
              return total
            }).pipe(inTransaction(to), Effect.mapError(failAt(`copying the rows into ${fresh}`)))
            for (const table of tables) {
              const [a, b] = [yield* digestOf(from, table), yield* digestOf(to, table)]
              if (a.n !== b.n || a.digest !== b.digest) {
                return yield* failAt("verifying the copy")(
                  `table ${table} differs after the copy (${a.n} rows, digest ${a.digest} in ${database}; ${b.n} rows, digest ${b.digest} in ${fresh})`
                )
              }
            }
            return copied
          }).pipe(
            inTransaction(from, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
            Effect.catchTag("SqlError", failAt("reading its rows"))
          )
          return { tables: tables.length, rows }
        })
      )
    }).pipe(Effect.tapError(() => (swapped ? Effect.void : dropFresh)))

    // 6. The swap: both renames or neither.
    yield* Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* clientOn(maintenanceUrl)
        yield* Effect.gen(function* () {
          yield* sql.unsafe(`ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(kept)}`)
          yield* sql.unsafe(`ALTER DATABASE ${quoteIdent(fresh)} RENAME TO ${quoteIdent(database)}`)
          yield* sql.unsafe(
            `COMMENT ON DATABASE ${quoteIdent(kept)} IS ${quoteLiteral(
              `the database ${database} as it was before its move to lc_ctype ${ctype} on ${stamp} UTC; drop it once you no longer need it`
            )}`
          )
        }).pipe(inTransaction(sql))
        swapped = true
      })
    ).pipe(
      Effect.mapError(failAt("swapping the databases (is another program connected to it?)")),
      Effect.tapError(() => dropFresh)
    )

    yield* refreshTemplate1(serverUrl, { ctype, collate: locale.collate, stamp })
    yield* Effect.logWarning(
      `moved database ${database} to lc_ctype ${ctype}: ${moved.tables} tables, ${moved.rows} rows copied and verified. ` +
        `The previous database is kept as ${kept}; drop it once you no longer need it: DROP DATABASE "${kept}"`
    )
    return { _tag: "Moved", from: locale.ctype, to: ctype, kept, ...moved } satisfies CtypeUpgradeReport
  })

/**
 * Gives template1 (what a plain CREATE DATABASE copies) the UTF-8 ctype too, when it is still empty; best effort, as
 * nothing of ours depends on it. The new template is in place before the old one is dropped.
 */
const refreshTemplate1 = (
  serverUrl: string,
  options: { readonly ctype: string; readonly collate: string; readonly stamp: string }
) =>
  Effect.gen(function* () {
    const [locale, objects] = yield* Effect.scoped(
      Effect.flatMap(clientOn(withDatabase(serverUrl, "template1")), (sql) =>
        Effect.zip(
          readDatabaseLocale("template1").pipe(Effect.provideService(SqlClient.SqlClient, sql)),
          catalogOf(sql)
        )
      )
    )
    if (
      !isCOrPosix(locale.ctype) ||
      objects.some((line) => !line.startsWith("schema ") && !line.startsWith("extension plpgsql "))
    )
      return
    const next = `template1_utf8_${options.stamp}`
    const old = `template1_ctype_c_${options.stamp}`
    yield* Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* clientOn(withDatabase(serverUrl, "postgres"))
        yield* sql.unsafe(
          `CREATE DATABASE ${quoteIdent(next)} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE ${quoteLiteral(options.collate)} LC_CTYPE ${quoteLiteral(options.ctype)}`
        )
        yield* Effect.gen(function* () {
          yield* sql.unsafe(`ALTER DATABASE template1 IS_TEMPLATE false`)
          yield* sql.unsafe(`ALTER DATABASE template1 RENAME TO ${quoteIdent(old)}`)
          yield* sql.unsafe(`ALTER DATABASE ${quoteIdent(next)} RENAME TO template1`)
          yield* sql.unsafe(`ALTER DATABASE template1 IS_TEMPLATE true`)
        }).pipe(
          inTransaction(sql),
          Effect.tapError(() => sql.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(next)}`))
        )
        yield* sql.unsafe(`DROP DATABASE ${quoteIdent(old)}`)
      })
    )
  }).pipe(
    Effect.catchAll((cause) =>
      Effect.logWarning(`template1 keeps its C ctype (${String(cause)}): databases created from it fold ASCII only`)
    )
  )
