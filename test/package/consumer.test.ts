// The package as another project uses it: packed, installed from the tarball into a fresh project, type-checked with strict TypeScript, run on the embedded database and in memory; and its bin run from there. One file, so one build of dist/ at a time.
import { afterAll, beforeAll, describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readdirSync } from "node:fs"
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { childEnv, clientFor, infoStates, repoRoot, runProcess, tempDir } from "../cli/helpers.js"
import { adminClient, scopedDatabase } from "../support/database.js"

const fixture = join(repoRoot, "test", "package", "consumer")
const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc")

/** The README's code blocks that follow this marker: each is a complete program, compiled here. */
export const readmeMarker = "<!-- compiled by the consumer test -->"

export const readmeSnippets = (readme: string): ReadonlyArray<string> =>
  [...readme.matchAll(new RegExp(`${readmeMarker}\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1]!)

const mustSucceed = async (
  what: string,
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  env = childEnv()
) => {
  const result = await runProcess(command, args, { cwd, env, timeoutMs: 240_000 })
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

let work = ""
let project = ""
let snippetCount = 0
/** The installed package, as npm put it in the project. */
let pkg = ""

const sqlFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort()

const nonEmptyLines = (text: string) => text.split("\n").filter((l) => l.trim() !== "")

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "consumer-"))
  // the embedded server runs as another user when this runs as root: it must reach the project folder
  await chmod(work, 0o755)
  // `npm pack` builds dist/ first (prepack), as a publish would
  const packed = JSON.parse(
    await mustSucceed("npm pack", "npm", ["pack", "--json", "--pack-destination", work], repoRoot)
  )
  const tarball = join(work, packed[0].filename as string)
  project = join(work, "project")
  await mkdir(project)
  await cp(join(fixture, "tsconfig.json"), join(project, "tsconfig.json"))
  await cp(join(fixture, "src"), join(project, "src"), { recursive: true })
  const readme = await readFile(join(repoRoot, "README.md"), "utf8")
  const snippets = readmeSnippets(readme)
  snippetCount = snippets.length
  for (const [i, snippet] of snippets.entries()) await writeFile(join(project, "src", `readme-${i + 1}.ts`), snippet)
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2)
  )
  // the dependencies the package declares come from the registry (or npm's cache), as for any user
  // and what the README's test snippet uses, at the repository's own versions
  const versionOf = async (name: string) =>
    `${name}@${JSON.parse(await readFile(join(repoRoot, "node_modules", name, "package.json"), "utf8")).version}`
  await mustSucceed(
    "npm install",
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      tarball,
      ...(await Promise.all(
        ["@types/node", "@effect/vitest", "vitest", "@opentelemetry/sdk-trace-base"].map(versionOf)
      ))
    ],
    project
  )
  pkg = join(project, "node_modules", "mas-data-layer")
}, 300_000)

afterAll(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true })
})

const typecheck = (config = "tsconfig.json") =>
  runProcess(process.execPath, [tsc, "-p", join(project, config)], {
    cwd: project,
    env: childEnv(),
    timeoutMs: 120_000
  })

/** `node dist/<file>.js <args>` in the project, with no DATABASE_URL: the embedded database is the default. */
const runCompiled = async (file: string, args: ReadonlyArray<string> = []) => {
  const out = await mustSucceed(`node ${file}`, process.execPath, [join(project, "dist", file), ...args], project)
  return JSON.parse(out.trim().split("\n").at(-1)!)
}

describe("the packed package in a fresh project", () => {
  it("type-checks against the entry points with strict TypeScript, README snippets included", async () => {
    expect(snippetCount).toBeGreaterThan(0)
    const result = await typecheck()
    expect(result.stdout + result.stderr).toBe("")
    expect(result.code).toBe(0)
  }, 120_000)

  it("runs in memory and on the embedded database with the same results, every shipped migration applied", async () => {
    const shipped = (await readdir(join(repoRoot, "migrations"))).filter((n) => n.endsWith(".sql"))
    const memory = await runCompiled("app.js", ["memory"])
    const embedded = await runCompiled("app.js", ["postgres"])
    const expected = { username: "alice", locked: true, foundById: true, missing: true, migrations: shipped.length }
    expect(memory).toEqual({ backend: "memory", ...expected })
    expect(embedded).toEqual({ backend: "postgres", ...expected })
    // the embedded server kept its data in the project, where the startup layer puts it by default
    expect(await readdir(join(project, ".data"))).toEqual(["postgres"])
  }, 240_000)

  it("the testing kit gives each test a fresh database, the same ids on both backends", async () => {
    const results = await runCompiled("kit.js")
    expect(results.map((r: { backend: string }) => r.backend)).toEqual(["memory", "memory", "postgres", "postgres"])
    expect(results.map((r: { count: number }) => r.count)).toEqual([1, 1, 1, 1])
    expect(new Set(results.map((r: { id: string }) => r.id)).size).toBe(1)
    expect(results.map((r: { createdAt: string }) => r.createdAt)).toEqual(Array(4).fill("2022-01-16T14:40:00.000Z"))
  }, 240_000)

  it("fails to type-check when an entry point is missing from the package", async () => {
    const manifestPath = join(project, "node_modules", "mas-data-layer", "package.json")
    const manifest = await readFile(manifestPath, "utf8")
    const { "./testing": _removed, ...exports } = JSON.parse(manifest).exports
    await writeFile(manifestPath, JSON.stringify({ ...JSON.parse(manifest), exports }))
    // only the kit's program, without re-checking every declaration file: the missing module is the finding
    await writeFile(
      join(project, "tsconfig.probe.json"),
      JSON.stringify({
        extends: "./tsconfig.json",
        compilerOptions: { skipLibCheck: true, noEmit: true },
        files: ["src/kit.ts"]
      })
    )
    try {
      const result = await typecheck("tsconfig.probe.json")
      expect(result.code).not.toBe(0)
      expect(result.stdout).toContain("mas-data-layer/testing")
    } finally {
      await writeFile(manifestPath, manifest)
    }
  }, 120_000)
})

/** `node <package>/dist/cli/main.js <args>` from `cwd`, without the runner's DATABASE_URL unless `env` sets it. */
const installed = (cwd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.promise(() =>
    runProcess(process.execPath, [join(pkg, "dist", "cli", "main.js"), ...args], { cwd, env: childEnv(env) })
  )

layer(adminClient, { excludeTestServices: true })("the packed program (its bin), installed in the project", (it) => {
  it.effect("npm pack ships dist/cli/main.js, every migration and the query cache, and no sources or tests", () =>
    Effect.gen(function* () {
      const dry = yield* Effect.promise(() =>
        mustSucceed("npm pack --dry-run", "npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], repoRoot)
      )
      const paths: Array<string> = JSON.parse(dry)[0].files.map((f: { path: string }) => f.path)
      expect(paths).toContain("dist/cli/main.js")
      expect(paths).toContain("dist/paths.js")
      expect(paths).toContain("package.json")
      const shipped = yield* Effect.promise(() => sqlFiles(join(repoRoot, "migrations")))
      expect(shipped.length).toBeGreaterThan(0)
      expect(paths.filter((p) => /^migrations\/.*\.sql$/.test(p)).sort()).toEqual(shipped.map((n) => `migrations/${n}`))
      // the committed query cache is data the drift check reads (Startup.layer({ checkDrift: true })), not a source
      const cacheFiles = paths.filter((p) => /^src\/querycheck\/cache\/[^/]+\.json$/.test(p))
      const committedCache = readdirSync(join(repoRoot, "src", "querycheck", "cache")).filter((f) =>
        f.endsWith(".json")
      )
      expect(cacheFiles.sort()).toEqual(committedCache.map((f) => `src/querycheck/cache/${f}`).sort())
      expect(paths.filter((p) => /^(src|test|node_modules|\.data)\//.test(p) && !cacheFiles.includes(p))).toEqual([])

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
