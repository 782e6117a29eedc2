// The package's PostgreSQL entry point: RepositoryAccess and every repository on PostgreSQL, on a client of its own or on an existing SqlClient.
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Option, Redacted } from "effect"
import type { ConfigError } from "effect/ConfigError"
import type { AnyRepository, RepositoryAccess } from "../storage/RepositoryAccess.js"
import * as Client from "./client.js"
import * as RepositoryAccessPg from "./RepositoryAccessPg.js"

export { type ClientOptions } from "./client.js"

/** What the PostgreSQL layers give: RepositoryAccess, each repository's Tag, and the client they run on. */
export type Services = RepositoryAccess | AnyRepository

/** Every repository and RepositoryAccess on the `SqlClient` the program already has (e.g. its own `PgClient.layer`). */
export const layerFromSqlClient: Layer.Layer<Services, never, SqlClient.SqlClient> = RepositoryAccessPg.layer

/**
 * A pool on `options.url` (@effect/sql-pg's client, sending the declared statements as named prepared statements
 * unless `preparedStatements: false`) and every repository on it; the client is given too, for the program's own
 * queries and the migrator.
 */
export const layer = (
  options: Client.ClientOptions
): Layer.Layer<Services | PgClient.PgClient | SqlClient.SqlClient, SqlError> =>
  Layer.provideMerge(RepositoryAccessPg.layer, Client.layer(options))

/** The client settings read from the environment: `DATABASE_URL` (required) and `DATABASE_MAX_CONNECTIONS`. */
export const clientConfig: Config.Config<Client.ClientOptions> = Config.all({
  url: Config.redacted("DATABASE_URL"),
  maxConnections: Config.option(Config.integer("DATABASE_MAX_CONNECTIONS"))
}).pipe(
  Config.map(({ maxConnections, url }) => ({
    url: Redacted.make(Redacted.value(url).trim()),
    ...(Option.isSome(maxConnections) ? { maxConnections: maxConnections.value } : {})
  }))
)

/** {@link layer} with its settings from `config` (default: {@link clientConfig}, from the environment). */
export const layerConfig = (
  config: Config.Config<Client.ClientOptions> = clientConfig
): Layer.Layer<Services | PgClient.PgClient | SqlClient.SqlClient, SqlError | ConfigError> =>
  Layer.unwrapEffect(Effect.map(config, layer))

/** Only the client (no repositories): `PgClient` and `SqlClient` with the data layer's prepared-statement handling. */
export const clientLayer = Client.layer
