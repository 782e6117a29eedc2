// Small probes the embedded-server tests share: raw queries, port checks, process owners.
import { readFileSync } from "node:fs"
import * as net from "node:net"
import { Effect } from "effect"
import pg from "pg"

/** Runs one statement on a fresh connection and returns its rows. */
export const query = <Row extends Record<string, unknown>>(url: string, sql: string) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
    await client.connect()
    try {
      return (await client.query<Row>(sql)).rows
    } finally {
      await client.end()
    }
  })

/** True when nothing listens on 127.0.0.1:port any more. */
export const portRefuses = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(false))
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code === "ECONNREFUSED")))
  })

/** The real uid a (Linux) process runs as. */
export const processUid = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const line = status.split("\n").find((l) => l.startsWith("Uid:"))
  return Number(line?.split(/\s+/)[1])
}

/** The uid the launcher runs PostgreSQL as: postgres (else nobody) when we are root, else ourselves. */
export const expectedServerUid = (): number => {
  if (process.getuid?.() !== 0) return process.getuid?.() ?? -1
  const entries = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((l) => l.split(":"))
  const user = entries.find((e) => e[0] === "postgres") ?? entries.find((e) => e[0] === "nobody")
  return Number(user?.[2])
}

/** The postmaster's pid, from the lock file in the data folder. */
export const postmasterPid = (dataDir: string): number =>
  Number(readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0])
