// Loads every PostgreSQL repository module so that the registry of declared queries is complete.
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect, Schema } from "effect"
import { type AnyQuery, declaredQueries } from "../pg/query.js"

export class DeclarationLoadError extends Schema.TaggedError<DeclarationLoadError>()("DeclarationLoadError", {
  module: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `cannot load ${this.module}: ${this.detail}`
  }
}

const pgDir = new URL("../pg/", import.meta.url)

/**
 * Imports every `*RepositoryPg` module beside `query.ts` (read from the folder, so a repository not yet wired
 * into RepositoryAccessPg is still checked), then returns the registry sorted by name.
 */
export const loadDeclaredQueries: Effect.Effect<ReadonlyArray<AnyQuery>, DeclarationLoadError> = Effect.gen(function* () {
  // One folder per family (pg/user/, …).
  const files = yield* Effect.try({
    try: () =>
      fs
        .readdirSync(fileURLToPath(pgDir), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => fs.readdirSync(fileURLToPath(new URL(`${d.name}/`, pgDir))).map((f) => `${d.name}/${f}`))
        .filter((f) => /RepositoryPg\.(ts|js)$/.test(f) && !f.endsWith(".d.ts"))
        .sort(),
    catch: (cause) => new DeclarationLoadError({ module: fileURLToPath(pgDir), detail: String(cause) })
  })
  yield* Effect.forEach(
    files,
    (file) =>
      Effect.tryPromise({
        try: () => import(new URL(file, pgDir).href),
        catch: (cause) => new DeclarationLoadError({ module: file, detail: cause instanceof Error ? cause.message : String(cause) })
      }),
    { discard: true }
  )
  return [...declaredQueries().values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
})
