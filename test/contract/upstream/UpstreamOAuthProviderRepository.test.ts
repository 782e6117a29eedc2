// Contract suite for UpstreamOAuthProviderRepository.
import { expect } from "@effect/vitest"
import { Effect, Option } from "effect"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { contract, EPOCH } from "../backends.js"
import { addProvider } from "./fixtures.js"

contract("UpstreamOAuthProviderRepository", (test) => {
  test("add then lookup", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const provider = yield* addProvider()
      expect(provider.createdAt).toEqual(new Date(EPOCH))
      expect(yield* upstreamOAuthProviders.lookup(provider.id)).toEqual(Option.some(provider))
    }))
})
