// The CLI's connection: --database-url, else DATABASE_URL, else the embedded server kept in the project's .data folder.
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { selectDatabase } from "../db/DatabaseSelection.js"
import { defaultEmbeddedDataDir } from "../paths.js"
import * as Client from "../pg/client.js"

/** A SqlClient on the database the command line names, starting the embedded server when none is named. */
export const cliDatabaseLayer = (options: {
  readonly databaseUrl: Option.Option<string>
  readonly noPreparedStatements: boolean
  /** Pool size (default 4); the worker needs one connection per running transactional job on top of its own. */
  readonly maxConnections?: number | undefined
}) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const url = Option.isSome(options.databaseUrl)
        ? options.databaseUrl.value
        : (yield* selectDatabase({
            fallbacks: ["embedded"],
            embedded: { dataDir: defaultEmbeddedDataDir, persistent: true }
          })).url
      // A bounded connect (and pool-acquire) wait: without it a call waits forever for a free connection.
      return Client.layer({
        url: Redacted.make(url),
        applicationName: "mas-data",
        maxConnections: options.maxConnections ?? 4,
        connectTimeout: Duration.seconds(10),
        preparedStatements: !options.noPreparedStatements
      })
    })
  )
