// Chooses the PostgreSQL server for the program and the tests: DATABASE_URL, else the local server, else the embedded one.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Config, Effect, Option, Schema, Scope } from "effect"
import { upgradeEmbeddedCtype } from "./EmbeddedCtypeUpgrade.js"
import * as EmbeddedPostgres from "./EmbeddedPostgres.js"
import { acceptsLogin, redactUrl } from "./probe.js"

export class DatabaseSelectionError extends Schema.TaggedError<DatabaseSelectionError>()("DatabaseSelectionError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

export type Fallback = "local" | "embedded"

export interface SelectedDatabase {
  readonly url: string
  readonly source: "env" | "local" | "embedded"
}

export interface SelectDatabaseOptions {
  /** Tried in order when DATABASE_URL is not set. */
  readonly fallbacks: ReadonlyArray<Fallback>
  readonly embedded: { readonly dataDir: string; readonly persistent: boolean }
  /** The server "local" means; defaults to {@link localDatabaseUrl}. */
  readonly localUrl?: string
}

/** The conventional local server "local" probes. */
export const localDatabaseUrl = "postgres://postgres@127.0.0.1:5432/postgres"

const LOCAL_PROBE_TIMEOUT_MS = 1_000

/** A DATABASE_URL set to the empty string counts as unset, as shells make that easy to do by accident. */
const databaseUrlFromConfig = Config.option(Config.string("DATABASE_URL")).pipe(
  Config.map(Option.filter((url) => url.trim().length > 0))
)

/**
 * The server to use, started here (and stopped when the scope closes) when it is the embedded one.
 * DATABASE_URL is taken as given, without probing: a wrong URL should fail loudly where it is used.
 */
export const selectDatabase = (
  options: SelectDatabaseOptions
): Effect.Effect<SelectedDatabase, DatabaseSelectionError, Scope.Scope> =>
  Effect.gen(function* () {
    const fromEnv = yield* databaseUrlFromConfig.pipe(
      Effect.mapError((cause) => new DatabaseSelectionError({ message: `invalid DATABASE_URL: ${cause}`, cause }))
    )
    if (Option.isSome(fromEnv)) {
      yield* Effect.logInfo(`database: DATABASE_URL (${redactUrl(fromEnv.value)})`)
      return { url: fromEnv.value, source: "env" } satisfies SelectedDatabase
    }

    const tried: Array<string> = []
    for (const fallback of options.fallbacks) {
      if (fallback === "local") {
        const url = options.localUrl ?? localDatabaseUrl
        if (yield* acceptsLogin(url, LOCAL_PROBE_TIMEOUT_MS)) {
          yield* Effect.logInfo(`database: local server (${redactUrl(url)})`)
          return { url, source: "local" } satisfies SelectedDatabase
        }
        tried.push(`local: ${redactUrl(url)} did not accept a login within ${LOCAL_PROBE_TIMEOUT_MS} ms`)
      } else {
        const server = yield* EmbeddedPostgres.start(options.embedded).pipe(
          Effect.mapError(
            (cause) =>
              new DatabaseSelectionError({
                message: `the embedded PostgreSQL did not start: ${cause.message}${tried.length > 0 ? `\n(also tried ${tried.join("; ")})` : ""}`,
                cause
              })
          )
        )
        yield* Effect.logInfo(
          `database: embedded PostgreSQL on port ${server.port} (${server.dataDir}${server.reused ? ", already running" : ""})`
        )
        // A kept folder may come from a version that made its cluster with the ASCII-only C ctype.
        if (options.embedded.persistent) {
          yield* upgradeEmbeddedCtype(server.url).pipe(
            Effect.mapError((cause) => new DatabaseSelectionError({ message: cause.message, cause }))
          )
        }
        return { url: server.url, source: "embedded" } satisfies SelectedDatabase
      }
    }
    return yield* new DatabaseSelectionError({
      message: `no database: DATABASE_URL is not set${tried.length > 0 ? `, and ${tried.join("; ")}` : ""}`
    })
  })

/** A fresh folder for a throw-away cluster: on /dev/shm (memory) when possible, else in the temp folder. */
export const throwawayDataDir = (): string => {
  const base = isWritableDir("/dev/shm") ? "/dev/shm" : os.tmpdir()
  return fs.mkdtempSync(path.join(base, "mas-pg-"))
}

const isWritableDir = (dir: string) => {
  try {
    fs.accessSync(dir, fs.constants.W_OK)
    return fs.statSync(dir).isDirectory()
  } catch {
    return false
  }
}
