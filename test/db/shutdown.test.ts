// A Node program that started an embedded server leaves none behind when it is interrupted, fails, or crashes.
import { spawn } from "node:child_process"
import { existsSync, rmSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { throwawayDataDir } from "../../src/db/DatabaseSelection.js"
import { portRefuses, query } from "./helpers.js"

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "embedded-child.ts")

interface Child {
  readonly port: number
  readonly pid: number
  /** Resolves when the process ends, with everything it wrote (Effect's error report goes to stdout). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>
}

/** Runs the fixture as its own Node process (tsx as a loader, so signals reach the program itself) until it prints its server's port. */
const startChild = (dataDir: string, mode: "wait" | "throw" | "crash") =>
  Effect.acquireRelease(
    Effect.async<Child, Error>((resume) => {
      const child = spawn(process.execPath, ["--import", "tsx", fixture, dataDir, mode], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DATABASE_URL: "" }
      })
      let stdout = ""
      let stderr = ""
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal, output: stdout + stderr }))
      )
      child.stderr.on("data", (chunk) => (stderr += chunk))
      child.stdout.on("data", (chunk) => {
        stdout += chunk
        // Log lines (the launcher logs the ctype it chose) may come before the fixture's own line.
        const line = stdout
          .split("\n")
          .slice(0, -1)
          .find((l) => l.startsWith('{"port"'))
        if (line) resume(Effect.succeed({ port: JSON.parse(line).port, pid: child.pid!, exited }))
      })
      void exited.then(({ code }) =>
        resume(Effect.fail(new Error(`fixture exited (${code}) before starting:\n${stderr}`)))
      )
    }),
    // Whatever the test did, no fixture outlives it.
    (child) =>
      Effect.sync(() => {
        try {
          process.kill(child.pid, "SIGKILL")
        } catch {
          // already gone, as it should be
        }
      })
  )

/** The port refuses connections within a couple of seconds (a killed process's sockets close as it is reaped). */
const eventuallyRefuses = (port: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < 50; i++) {
      if (yield* portRefuses(port)) return true
      yield* Effect.sleep("40 millis")
    }
    return false
  })

describe("embedded server shutdown with its Node process", () => {
  it.live("SIGINT (Ctrl-C) stops the server and removes the throw-away folder", () =>
    Effect.gen(function* () {
      const dataDir = throwawayDataDir()
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      const child = yield* startChild(dataDir, "wait")
      expect(
        yield* query<{ one: number }>(`postgres://postgres@127.0.0.1:${child.port}/postgres`, "SELECT 1 AS one")
      ).toEqual([{ one: 1 }])
      process.kill(child.pid, "SIGINT")
      const exit = yield* Effect.promise(() => child.exited)
      expect(exit.signal).toBeNull()
      expect(yield* portRefuses(child.port)).toBe(true)
      expect(existsSync(dataDir)).toBe(false)
    }).pipe(Effect.scoped)
  )

  it.live("an exception inside the program stops the server", () =>
    Effect.gen(function* () {
      const dataDir = throwawayDataDir()
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      const child = yield* startChild(dataDir, "throw")
      const exit = yield* Effect.promise(() => child.exited)
      expect(exit.code).not.toBe(0)
      expect(exit.output).toContain("thrown on purpose")
      expect(yield* portRefuses(child.port)).toBe(true)
      expect(existsSync(dataDir)).toBe(false)
    }).pipe(Effect.scoped)
  )

  it.live("an uncaught exception that kills Node at once still takes the server with it", () =>
    Effect.gen(function* () {
      const dataDir = throwawayDataDir()
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      const child = yield* startChild(dataDir, "crash")
      const exit = yield* Effect.promise(() => child.exited)
      expect(exit.code).not.toBe(0)
      expect(exit.output).toContain("uncaught on purpose")
      expect(yield* eventuallyRefuses(child.port)).toBe(true)
      expect(existsSync(dataDir)).toBe(false)
    }).pipe(Effect.scoped)
  )
})
