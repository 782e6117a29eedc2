// The CLI's connection: --database-url, else DATABASE_URL, else the embedded server kept in the project's .data folder.
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { selectDatabase } from "../db/DatabaseSelection.js"
import { redactUrl } from "../db/probe.js"
import { defaultEmbeddedDataDir } from "../paths.js"
import * as Client from "../pg/client.js"
import { causeReason } from "./output.js"

/** The named database did not answer the connection check (refused, timed out, unknown database, bad password). */
export class DatabaseUnreachable extends Schema.TaggedError<DatabaseUnreachable>()("DatabaseUnreachable", {
  /** The URL without its password. */
  url: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot connect to ${this.url}: ${this.reason}`
  }
}

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
      const client = Client.layer({
        url: Redacted.make(url),
        applicationName: "mas-data",
        maxConnections: options.maxConnections ?? 4,
        connectTimeout: Duration.seconds(10),
        preparedStatements: !options.noPreparedStatements
      })
      // built here, in the layer's scope, so that a failed connection check becomes a typed error naming the URL
      const context = yield* Layer.build(client).pipe(
        Effect.mapError(
          (error) => new DatabaseUnreachable({ url: redactUrl(url), reason: causeReason(error) ?? error.message })
        )
      )
      return Layer.succeedContext(context)
    })
  )
