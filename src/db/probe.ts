// Small helpers on server URLs: whether a server accepts a login (leaving no connection behind), redaction, database names.
import { Effect } from "effect"
import pg from "pg"

/** True when `url` accepts a login and answers `SELECT 1` within `timeoutMs`; never fails. */
export const acceptsLogin = (url: string, timeoutMs: number): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: "mas-data-probe"
    })
    // A refused or reset socket is an answer ("no"), not an unhandled 'error' event.
    client.on("error", () => {})
    try {
      await client.connect()
      await client.query("SELECT 1")
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })

/** The URL with its password hidden, for log lines. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password) u.password = "***"
    return u.toString()
  } catch {
    return "<unparsable url>"
  }
}

/** The URL with its database name replaced. */
export const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(database)}`
  return u.toString()
}
