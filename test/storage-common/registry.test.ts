// The one registry of repositories: both backends give every repository it lists, and a backend table lacking one does not compile.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { MemoryStore } from "../../src/memory/MemoryStore.js"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import * as UserRepositoryMemory from "../../src/memory/user/UserRepositoryMemory.js"
import { RepositoryAccess, type RepositoryLayers, repositoryTags } from "../../src/storage/RepositoryAccess.js"

describe("repository registry", () => {
  it.effect("RepositoryAccess has one accessor per registered repository, each the repository's own service", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      expect(Object.keys(repos).sort()).toEqual([...Object.keys(repositoryTags), "transaction"].sort())
      for (const [key, tag] of Object.entries(repositoryTags)) {
        expect(repos[key as keyof typeof repositoryTags]).toBe(yield* tag)
      }
    }).pipe(Effect.provide(RepositoryAccessMemory.layer))
  )

  it("a backend's table of layers must name every repository", () => {
    // @ts-expect-error every repository but `users` is missing: the table does not compile
    const partial: RepositoryLayers<MemoryStore> = { users: UserRepositoryMemory.layer }
    expect(Object.keys(partial)).toEqual(["users"])
  })
})
