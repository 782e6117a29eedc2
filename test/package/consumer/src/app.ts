// A program outside the repository: one use of the data layer, run on PostgreSQL (the startup layer) or in memory.
import { Effect, Option } from "effect"
import { RepositoryAccess, UserRepository, type User } from "mas-data-layer"
import * as Memory from "mas-data-layer/memory"
import { shippedMigrations } from "mas-data-layer/migrate"
import * as Pg from "mas-data-layer/pg"
import * as Startup from "mas-data-layer/startup"

const program = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  // a unit of work: both writes commit together
  const alice: User = yield* repos.transaction(
    Effect.gen(function* () {
      const user = yield* repos.users.add("alice")
      return yield* repos.users.lock(user)
    })
  )
  // a repository is also a service of its own
  const users = yield* UserRepository
  const found = yield* users.findByUsername("ALICE")
  const missing = yield* users.findByUsername("bob")
  return {
    username: alice.username,
    locked: Option.isSome(alice.lockedAt),
    foundById: Option.map(found, (u) => u.id === alice.id).pipe(Option.getOrElse(() => false)),
    missing: Option.isNone(missing),
    migrations: (yield* shippedMigrations).length
  }
})

const backend = process.argv[2]
// a layer built from an existing SqlClient type-checks too: the same services as the startup layer gives
const _fromClient: typeof Pg.layerFromSqlClient = Pg.layerFromSqlClient

const main =
  backend === "memory"
    ? program.pipe(Effect.provide(Memory.layer))
    : program.pipe(Effect.provide(Startup.layer({ checkDrift: true })))

Effect.runPromise(main).then(
  (result) => console.log(JSON.stringify({ backend, ...result })),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
