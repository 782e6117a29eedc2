// A describer on the test's own database, for the describe tests of the query check.
import { Effect } from "effect"
import { type Description, openDescriber } from "../../src/querycheck/describe.js"
import { TestDatabase } from "./database.js"

/** Runs `f` with `describe` on a describer connected to the test's database (closed with the test's scope). */
export const withDescriber = <A, E>(
  f: (describe: (text: string) => Effect.Effect<Description, unknown>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const db = yield* TestDatabase
    const describer = yield* openDescriber(db.url)
    return yield* f(describer.describe)
  })
