// The testing kit from outside the repository: the same body on memory and on a fresh real PostgreSQL database, with deterministic ids.
import { Effect, Layer } from "effect"
import { RepositoryAccess } from "mas-data-layer"
import { backends, deterministic, testServer } from "mas-data-layer/testing"

const body = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const user = yield* repos.users.add("carol")
  const count = yield* repos.users.count({})
  return { id: user.id, createdAt: user.createdAt.toISOString(), count }
})

const run = Effect.gen(function* () {
  const results: Array<{
    readonly backend: string
    readonly id: string
    readonly createdAt: string
    readonly count: number
  }> = []
  for (const [name, layer] of backends()) {
    // each run gets a database of its own: the second sees only its own user
    for (let i = 0; i < 2; i++) {
      const result = yield* deterministic()(body).pipe(Effect.provide(layer))
      results.push({ backend: name, ...result })
    }
  }
  return results
}).pipe(Effect.provide(Layer.fresh(testServer())))

Effect.runPromise(run).then(
  (results) => console.log(JSON.stringify(results)),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
