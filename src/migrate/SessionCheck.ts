// Whether the migrator's connection is a server session of its own, checked before the lock: a transaction-mode pooler is refused.
import type { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { Deferred, Duration, Effect, Option } from "effect"
import { MigrationConnectionNotSession, MigrationDatabaseError } from "./errors.js"
import { exec, infra } from "./history.js"

/** How long the probe waits for a second connection, and for the migrator's own statement once the other holds one. */
export const SESSION_PROBE_WAIT = Duration.seconds(2)

const CHECKING = "checking that the migration connection is a session"

const backendPid = (conn: Connection) =>
  exec(conn, "SELECT pg_backend_pid() AS pid").pipe(
    Effect.map((rows) => Number(rows[0]?.pid)),
    Effect.mapError(infra(CHECKING))
  )

/**
 * The process id the server announced when this connection logged in (BackendKeyData), as pg keeps it, when the
 * connection is @effect/sql-pg's and exposes its pg client. A pooler announces one of its own making (PgBouncer: a
 * random cancel key), so a match with `pg_backend_pid()` means the login went straight to the backend.
 */
const announcedPid = (conn: Connection): number | undefined => {
  const client = (conn as { readonly pg?: { readonly processID?: unknown } }).pg
  return typeof client?.processID === "number" ? client.processID : undefined
}

/**
 * Needs a Scope: a second connection of `sql` while the caller holds one. pg cannot withdraw a request for a pool
 * connection, so the request is made by a fiber of its own that hands the connection back as soon as the scope has
 * ended, even when it arrives later (a client of one connection only gets it once the migrator's is released).
 */
const secondConnection = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const received = yield* Deferred.make<Connection, MigrationDatabaseError>()
    const done = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(done, undefined))
    yield* Effect.forkDaemon(
      Effect.scoped(
        sql.reserve.pipe(
          Effect.mapError(infra(CHECKING)),
          Effect.flatMap((conn) => Deferred.succeed(received, conn)),
          Effect.zipRight(Deferred.await(done))
        )
      ).pipe(Effect.catchAll((error) => Deferred.fail(received, error)))
    )
    const conn = yield* Deferred.await(received).pipe(Effect.timeoutOption(SESSION_PROBE_WAIT))
    if (Option.isSome(conn)) return conn.value
    return yield* new MigrationDatabaseError({
      operation: CHECKING,
      cause:
        `no second connection of the client was free within ${Duration.format(SESSION_PROBE_WAIT)}: the check ` +
        `needs two when the connection goes through a pooler; give the migrator's client at least two ` +
        `connections, or migrate over a direct connection`
    })
  })

/**
 * Proves `conn` keeps one server session between transactions, with another connection of the same client: that one
 * opens a transaction (so holds a server connection) and `conn` then reads its backend again. A pooler in
 * transaction mode shows it one of three ways: the other connection is handed `conn`'s backend (PgBouncer reuses the
 * server connection released last), `conn`'s next statement lands on another backend, or it waits for one (the
 * pool is exhausted). A direct connection or a session-mode pool keeps its backend whatever the other does.
 */
export const probeSession = (
  sql: SqlClient.SqlClient,
  conn: Connection,
  first: number
): Effect.Effect<void, MigrationConnectionNotSession | MigrationDatabaseError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const other = yield* secondConnection(sql)
      yield* exec(other, "BEGIN").pipe(Effect.mapError(infra(CHECKING)))
      // registered after the connection's release, so it runs before it
      yield* Effect.addFinalizer(() => exec(other, "ROLLBACK").pipe(Effect.ignore))
      const held = yield* backendPid(other)
      if (held === first) {
        return yield* new MigrationConnectionNotSession({
          reason: `another connection of the same client was handed its server connection (backend ${first}) between two statements`
        })
      }
      const again = yield* backendPid(conn).pipe(Effect.timeoutOption(SESSION_PROBE_WAIT))
      if (Option.isNone(again)) {
        return yield* new MigrationConnectionNotSession({
          reason: `its statement waited over ${Duration.format(SESSION_PROBE_WAIT)} for a server connection while another connection held one in a transaction`
        })
      }
      if (again.value !== first) {
        return yield* new MigrationConnectionNotSession({
          reason: `two of its statements ran on different server connections (backends ${first} and ${again.value})`
        })
      }
    })
  )

/**
 * Refuses a migration connection that is not a session. One round trip when the connection logged in to the
 * backend itself (the announced process id is the backend's); the probe with a second connection otherwise.
 */
export const refuseUnlessSession = (
  sql: SqlClient.SqlClient,
  conn: Connection
): Effect.Effect<void, MigrationConnectionNotSession | MigrationDatabaseError> =>
  Effect.gen(function* () {
    const pid = yield* backendPid(conn)
    if (announcedPid(conn) === pid) return
    yield* probeSession(sql, conn, pid)
  })
