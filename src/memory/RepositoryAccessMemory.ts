// RepositoryAccess in memory: every repository over one fresh MemoryStore, units of work that roll back to a snapshot.
import { Effect, Layer } from "effect"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { UserRepository } from "../storage/UserRepository.js"
import * as MemoryStore from "./MemoryStore.js"
import * as UserRepositoryMemory from "./UserRepositoryMemory.js"

const repositories = Layer.mergeAll(UserRepositoryMemory.layer)

const access = Layer.effect(
  RepositoryAccess,
  Effect.gen(function* () {
    const store = yield* MemoryStore.MemoryStore
    return RepositoryAccess.of({
      users: yield* UserRepository,
      transaction: store.transaction
    })
  })
)

/** Every repository and RepositoryAccess over a fresh, empty in-memory database. */
export const layer = Layer.provideMerge(access, repositories).pipe(Layer.provideMerge(MemoryStore.layer))
