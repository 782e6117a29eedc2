// The built and packed program, installed outside the source tree: it finds and applies its shipped migrations.
import { afterAll, beforeAll, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { adminClient, scopedDatabase } from "../support/database.js"
import { childEnv, clientFor, infoStates, repoRoot, runProcess, tempDir } from "./helpers.js"

const sqlFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort()

const mustSucceed = async (what: string, command: string, args: ReadonlyArray<string>, cwd: string) => {
  const result = await runProcess(command, args, { cwd, env: childEnv(), timeoutMs: 150_000 })
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

/** Holds the tarball and its extracted `package/` folder. */
let work = ""
let pkg = ""

beforeAll(async () => {
  await mustSucceed("npm run build", "npm", ["run", "build"], repoRoot)
  work = await mkdtemp(join(tmpdir(), "cli-test-pack-"))
  const packed = JSON.parse(
    await mustSucceed("npm pack", "npm", ["pack", "--json", "--pack-destination", work], repoRoot)
  )
  const tarball = join(work, packed[0].filename as string)
  await mustSucceed("tar", "tar", ["-xzf", tarball, "-C", work], work)
  pkg = join(work, "package")
  // stands in for `npm install`: the dependencies the package declares, from the repository
  await symlink(join(repoRoot, "node_modules"), join(pkg, "node_modules"), "dir")
}, 180_000)

afterAll(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true })
})

/** `node <package>/dist/cli/main.js <args>` from `cwd`, without the runner's DATABASE_URL unless `env` sets it. */
const installed = (cwd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.promise(() =>
    runProcess(process.execPath, [join(pkg, "dist", "cli", "main.js"), ...args], { cwd, env: childEnv(env) })
  )

const nonEmptyLines = (text: string) => text.split("\n").filter((l) => l.trim() !== "")

layer(adminClient, { excludeTestServices: true })("built package", (it) => {
  it.effect("npm pack ships dist/cli/main.js and every migration, and no sources or tests", () =>
    Effect.gen(function* () {
      const dry = yield* Effect.promise(() =>
        mustSucceed("npm pack --dry-run", "npm", ["pack", "--dry-run", "--json"], repoRoot)
      )
      const paths: Array<string> = JSON.parse(dry)[0].files.map((f: { path: string }) => f.path)
      expect(paths).toContain("dist/cli/main.js")
      expect(paths).toContain("dist/paths.js")
      expect(paths).toContain("package.json")
      const shipped = yield* Effect.promise(() => sqlFiles(join(repoRoot, "migrations")))
      expect(shipped.length).toBeGreaterThan(0)
      expect(paths.filter((p) => /^migrations\/.*\.sql$/.test(p)).sort()).toEqual(shipped.map((n) => `migrations/${n}`))
      expect(paths.filter((p) => /^(src|test|node_modules|\.data)\//.test(p))).toEqual([])

      // the tarball holds the same migrations, and a runnable bin
      expect(yield* Effect.promise(() => sqlFiles(join(pkg, "migrations")))).toEqual(shipped)
      const manifest = JSON.parse(yield* Effect.promise(() => readFile(join(pkg, "package.json"), "utf8")))
      expect(manifest.bin).toEqual({ "mas-data": "dist/cli/main.js" })
      const main = yield* Effect.promise(() => readFile(join(pkg, "dist", "cli", "main.js"), "utf8"))
      expect(main.startsWith("#!/usr/bin/env node\n")).toBe(true)
    })
  )

  it.scoped("run from another folder, it applies every shipped migration; info then shows them all applied", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase({ prefix: "clipkg" })
      const shipped = yield* Effect.promise(() => sqlFiles(join(pkg, "migrations")))
      const versions = shipped.map((n) => n.slice(0, n.indexOf("_")))

      const runCwd = yield* tempDir("cwd-run")
      const ran = yield* installed(runCwd, ["migrate", "run", "--database-url", db.url])
      expect(ran.stderr).not.toMatch(/^error:/m)
      expect(ran.code).toBe(0)
      const appliedLines = nonEmptyLines(ran.stdout).filter((l) => l.startsWith("applied "))
      expect(appliedLines.map((l) => l.split(" ")[1])).toEqual(versions)

      const { sql } = yield* clientFor(db.url)
      const rows = yield* sql<{ version: string; success: boolean }>`
        SELECT version::text AS version, success FROM _sqlx_migrations ORDER BY version`
      expect(rows.map((r) => r.version)).toEqual(versions)
      expect(rows.every((r) => r.success)).toBe(true)

      const expectAllApplied = (stdout: string) => {
        const lines = stdout.split("\n")
        const states = infoStates(lines)
        expect(states.map((r) => r[0])).toEqual(versions)
        expect(states.filter((r) => r[2] !== "applied")).toEqual([])
        expect(nonEmptyLines(stdout).at(-1)).toBe(`${versions.length} applied`)
      }
      const infoCwd = yield* tempDir("cwd-info")
      const info = yield* installed(infoCwd, ["migrate", "info", "--database-url", db.url])
      expect(info.code).toBe(0)
      expectAllApplied(info.stdout)

      const envCwd = yield* tempDir("cwd-env")
      const fromEnv = yield* installed(envCwd, ["migrate", "info"], { DATABASE_URL: db.url })
      expect(fromEnv.code).toBe(0)
      expectAllApplied(fromEnv.stdout)
      expect(fromEnv.stderr).toContain("database: DATABASE_URL")

      // nothing was written where it ran, and no embedded database was started in the package
      for (const cwd of [runCwd, infoCwd, envCwd]) expect(yield* Effect.promise(() => readdir(cwd))).toEqual([])
      expect(existsSync(join(pkg, ".data"))).toBe(false)
    })
  )
})
