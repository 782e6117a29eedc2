// The layer rules of ARCHITECTURE.md, checked on the imports of every source file.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(file) : entry.name.endsWith(".ts") ? [file] : []
  })

/** Every module a file imports (type-only imports included): package names as written, relative ones as src/… paths. */
const importsOf = (file: string): ReadonlyArray<string> => {
  const text = fs.readFileSync(file, "utf8")
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`]*?from\s*["']([^"']+)["']/g)].map((m) => {
    const spec = m[1]!
    return spec.startsWith(".") ? path.relative(path.dirname(src), path.resolve(path.dirname(file), spec)) : spec
  })
}

const layer = (name: string) =>
  filesUnder(path.join(src, name)).map((file) => ({ file: path.relative(src, file), imports: importsOf(file) }))

const offending = (name: string, forbidden: (spec: string) => boolean) =>
  layer(name).flatMap(({ file, imports }) => imports.filter(forbidden).map((spec) => `${file} imports ${spec}`))

describe("layer rules", () => {
  it("the model imports nothing but effect and itself", () => {
    expect(offending("model", (s) => !s.startsWith("src/model/") && s !== "effect" && !s.startsWith("node:"))).toEqual(
      []
    )
  })

  it("the ports and the shared rows import no backend and nothing of @effect/sql", () => {
    const backend = (s: string) =>
      s.startsWith("@effect/sql") || s.startsWith("src/pg/") || s.startsWith("src/memory/") || s === "pg"
    expect([...offending("storage", backend), ...offending("rows", backend)]).toEqual([])
  })

  it("a backend never imports the other backend", () => {
    expect(offending("pg", (s) => s.startsWith("src/memory/"))).toEqual([])
    expect(offending("memory", (s) => s.startsWith("src/pg/") || s.startsWith("@effect/sql"))).toEqual([])
  })

  it("the query check does not import the PostgreSQL repositories (no cycle with src/pg)", () => {
    expect(offending("querycheck", (s) => s.startsWith("src/pg/"))).toEqual([])
  })

  it("the worker runtime is backend-agnostic: it imports only the ports, the model, itself and effect", () => {
    const allowed = (s: string) =>
      s.startsWith("src/storage/") || s.startsWith("src/model/") || s.startsWith("src/worker/") || s === "effect"
    expect(offending("worker", (s) => !allowed(s))).toEqual([])
  })

  it("the rules see the imports they are about (this test can fail)", () => {
    expect(importsOf(path.join(src, "pg", "query.ts"))).toContain("src/querycheck/declaration.js")
  })
})
