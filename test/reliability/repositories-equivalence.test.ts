// Backend equivalence: random sequences of user, OAuth2, session, policy and queue operations give the same results and rows on PostgreSQL and in memory.
import { expect, layer } from "@effect/vitest"
import { Effect, FastCheck as fc, Option } from "effect"
import { migratedDatabaseLayer } from "../support/database.js"
import { runOnBoth, sequence } from "./equivalence.js"

// `npm test` runs 200 sequences as a property (a failure is shrunk to a minimal sequence); `npm run fuzz` sets
// MAS_FUZZ_RUNS, runs that many without stopping at the first divergence, and prints every one.
const fuzzRuns = Number(process.env.MAS_FUZZ_RUNS ?? "0")

layer(migratedDatabaseLayer({ maxConnections: 2 }), { timeout: "120 seconds" })("backend equivalence", (it) => {
  if (fuzzRuns === 0) {
    it.effect.prop(
      "random operation sequences give the same outcomes and final state on both backends",
      [sequence],
      ([seq]) =>
        Effect.gen(function* () {
          const { memory, postgres } = yield* runOnBoth(seq)
          expect(memory).toEqual(postgres)
        }),
      { timeout: 180_000, fastCheck: { numRuns: 200 } }
    )
  } else {
    it.effect(
      `fuzz: ${fuzzRuns} random sequences, every divergence printed`,
      () =>
        Effect.gen(function* () {
          const seed = Number(process.env.MAS_FUZZ_SEED ?? Date.now() % 2 ** 31)
          console.log(`fuzz: ${fuzzRuns} sequences, seed ${seed} (MAS_FUZZ_SEED to replay)`)
          let divergences = 0
          for (const [n, seq] of fc.sample(sequence, { numRuns: fuzzRuns, seed }).entries()) {
            const { divergence } = yield* runOnBoth(seq)
            if (Option.isSome(divergence)) {
              divergences++
              console.log(
                `divergence in sequence ${n}:\n${JSON.stringify({ ...divergence.value, sequence: seq }, null, 1)}`
              )
            }
            if ((n + 1) % 500 === 0) console.log(`fuzz: ${n + 1}/${fuzzRuns} sequences, ${divergences} divergences`)
          }
          console.log(`fuzz: done, ${fuzzRuns} sequences, ${divergences} divergences`)
          expect(divergences).toBe(0)
        }),
      24 * 60 * 60_000
    )
  }
})
