// A real PgBouncer for the tests: started as a child process on a free port in front of the run's server, stopped at scope end.
import { spawn } from "node:child_process"
import { access, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Schema } from "effect"
import { waitForLogin } from "../../src/db/embedded/common.js"
import { freePort } from "../../src/db/embedded/lifecycle.js"
import { tail } from "../../src/db/embedded/process.js"

export const PGBOUNCER_BINARY = "/usr/sbin/pgbouncer"

/** What a developer runs to get the binary (CI's .ci/run does it). */
export const INSTALL_HINT = "bash test/support/install-pgbouncer.sh"

export class PgBouncerError extends Schema.TaggedError<PgBouncerError>()("PgBouncerError", {
  message: Schema.String
}) {}

export type PoolMode = "transaction" | "session"

export interface PgBouncer {
  /** The pooler's URL to the admin database; `withDatabase` points it at any database of the server. */
  readonly url: string
  readonly port: number
}

const READY_TIMEOUT_MS = 15_000

export const pgbouncerInstalled = (): Promise<boolean> =>
  access(PGBOUNCER_BINARY).then(
    () => true,
    () => false
  )

// One value of a connection string in the [databases] section: quoted, with quotes doubled.
const libpqValue = (value: string) => `'${value.replace(/'/g, "''")}'`

/**
 * The ini: every database name is forwarded to the server (`*`), logging in there as the admin URL's user whatever
 * the client says (`auth_type = any`: the test servers trust local logins). Server connections idle for more than a
 * few seconds are closed, so the pools of the many short-lived test databases do not add up on the server.
 */
const ini = (server: URL, port: number, poolMode: PoolMode) => {
  const target = [
    `host=${libpqValue(server.hostname)}`,
    `port=${server.port || "5432"}`,
    `user=${libpqValue(decodeURIComponent(server.username || "postgres"))}`,
    ...(server.password ? [`password=${libpqValue(decodeURIComponent(server.password))}`] : [])
  ].join(" ")
  return `[databases]
* = ${target}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = any
pool_mode = ${poolMode}
max_client_conn = 1000
default_pool_size = 20
server_idle_timeout = 5
server_lifetime = 60
ignore_startup_parameters = extra_float_digits,options
`
}

/**
 * Needs a Scope: a pgbouncer in `poolMode` in front of the server of `serverUrl`, answering on a free 127.0.0.1 port;
 * stopped (SIGTERM, then SIGKILL) and its folder removed at scope end. Run as root it drops to `nobody` (`-u`), as
 * PgBouncer refuses to run as root; it reads its ini before that and writes nothing but its log to stderr.
 */
export const startPgBouncer = (serverUrl: string, poolMode: PoolMode = "transaction") =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "pgbouncer-test-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    const server = new URL(serverUrl)
    const port = yield* Effect.orDie(freePort)
    const config = join(dir, "pgbouncer.ini")
    yield* Effect.promise(() => writeFile(config, ini(server, port, poolMode)))
    const args = [...(process.getuid?.() === 0 ? ["-u", "nobody"] : []), config]

    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(PGBOUNCER_BINARY, args, { stdio: ["ignore", "pipe", "pipe"] })),
      (child) =>
        Effect.promise(
          () =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve()
              const kill = setTimeout(() => child.kill("SIGKILL"), 5_000)
              child.once("exit", () => {
                clearTimeout(kill)
                resolve()
              })
              child.kill("SIGTERM")
            })
        )
    )
    const output = tail(child)
    let spawnError: Error | undefined
    child.once("error", (error) => (spawnError = error))
    // a pgbouncer left behind by a Node that exits without closing the scope would hold its port and server pools
    const killOnExit = () => child.kill("SIGKILL")
    process.on("exit", killOnExit)
    child.once("exit", () => process.off("exit", killOnExit))

    const url = `postgres://pooler@127.0.0.1:${port}/${server.pathname.slice(1) || "postgres"}`
    const running = () => spawnError === undefined && child.exitCode === null && child.signalCode === null
    if (!(yield* waitForLogin(url, READY_TIMEOUT_MS, running))) {
      return yield* new PgBouncerError({
        message:
          `pgbouncer (${poolMode} mode, port ${port}) did not accept a login within ${READY_TIMEOUT_MS} ms:\n` +
          `${spawnError?.message ?? ""}\n${output()}`.trim()
      })
    }
    const bouncer: PgBouncer = { url, port }
    return bouncer
  })
