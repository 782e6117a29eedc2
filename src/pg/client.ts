// The SqlClient on PostgreSQL: @effect/sql-pg's client over a pg pool whose connections send every declared static statement as a named prepared statement.
import { createHash } from "node:crypto"
import type { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, type Layer, Redacted } from "effect"
import pg from "pg"

/**
 * The declared static statements, by text: the name each is prepared under. Filled when a statement is declared
 * (src/pg/query.ts), so the set is the program's fixed list of statements, never a text assembled at run time.
 */
const preparedNames = new Map<string, string>()
const namesInUse = new Set<string>()

/**
 * Marks `text` as a static statement to prepare, under its query name (visible in `pg_prepared_statements`). A name
 * declared twice for different texts gets a suffix from the text's hash: pg refuses one name for two texts.
 */
export const declarePreparedStatement = (name: string, text: string): void => {
  if (preparedNames.has(text)) return
  const unique = namesInUse.has(name) ? `${name}#${createHash("sha256").update(text).digest("hex").slice(0, 12)}` : name
  namesInUse.add(unique)
  preparedNames.set(text, unique)
}

/** The name `text` is prepared under, if it is a declared static statement. */
export const preparedStatementName = (text: string): string | undefined => preparedNames.get(text)

type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown
const baseQuery = (client: pg.Client, args: Parameters<Query>): unknown =>
  (pg.Client.prototype.query as unknown as Query).apply(client, args)

/**
 * A pg connection that sends a declared statement as a named one: pg then parses it once per connection and only
 * binds and executes it afterwards (one Parse saved per call, and the server's plan cache used). Everything else,
 * and a statement sent as a query object that already has a name, goes out as given.
 */
export class PreparingClient extends pg.Client {}
;(PreparingClient.prototype as unknown as { query: Query }).query = function (
  this: pg.Client,
  config: unknown,
  values?: unknown,
  callback?: unknown
) {
  if (typeof config === "string") {
    const name = preparedNames.get(config)
    if (name !== undefined) {
      return typeof values === "function"
        ? baseQuery(this, [{ name, text: config }, values])
        : baseQuery(this, [{ name, text: config, values }, callback])
    }
  }
  return baseQuery(this, [config, values, callback])
}

/**
 * @effect/sql-pg's connection settings, less its name transforms: the repositories read columns by their own names,
 * and their untraced path runs without the client's row transform.
 */
export interface ClientOptions extends Omit<
  PgClient.PgClientConfig,
  "transformResultNames" | "transformQueryNames" | "transformJson"
> {
  /**
   * Send declared static statements as named prepared statements (the default). Turn off behind a pooler in
   * transaction mode that cannot keep prepared statements across transactions (PgBouncer before 1.21, or 1.21+
   * without `max_prepared_statements`).
   */
  readonly preparedStatements?: boolean | undefined
}

/** The pool, checked as @effect/sql-pg's own client does: a `SELECT 1` within the connect timeout. */
const acquirePool = (options: ClientOptions) =>
  Effect.gen(function* () {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({
          connectionString: options.url ? Redacted.value(options.url) : undefined,
          user: options.username,
          host: options.host,
          database: options.database,
          password: options.password ? Redacted.value(options.password) : undefined,
          ssl: options.ssl,
          port: options.port,
          ...(options.stream ? { stream: options.stream } : {}),
          connectionTimeoutMillis: options.connectTimeout ? Duration.toMillis(options.connectTimeout) : undefined,
          idleTimeoutMillis: options.idleTimeout ? Duration.toMillis(options.idleTimeout) : undefined,
          max: options.maxConnections,
          min: options.minConnections,
          maxLifetimeSeconds: options.connectionTTL ? Duration.toSeconds(options.connectionTTL) : undefined,
          application_name: options.applicationName ?? "@effect/sql-pg",
          types: options.types,
          Client: options.preparedStatements === false ? pg.Client : PreparingClient
        })
        // an idle connection's error (the server went away) surfaces on the next query; unhandled it would crash
        pool.on("error", () => undefined)
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    )
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
    }).pipe(
      Effect.timeoutFail({
        duration: options.connectTimeout ?? Duration.seconds(5),
        onTimeout: () =>
          new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
      })
    )
    return pool
  })

/** `PgClient` and `SqlClient` on a new pool: @effect/sql-pg's client, with prepared statements unless turned off. */
export const layer = (options: ClientOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError> =>
  PgClient.layerFromPool({
    acquire: acquirePool(options),
    applicationName: options.applicationName,
    spanAttributes: options.spanAttributes,
    types: options.types
  })
