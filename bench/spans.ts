// (a) what tracing costs a repository call when no tracer is installed: the method wrapper and the statement's check, against the bare effects.
import { Effect } from "effect"
import { traced } from "../src/pg/common/tracing.js"
import { interleave, median, quantile, type Row } from "./harness.js"

/**
 * One method call's tracing, without a database: a service wrapped by `traced` whose method runs one
 * `Effect.withFiberRuntime` check (what the executor does per statement), against the same method unwrapped with no
 * check. The difference of the per-call medians is what spans cost a call with no tracer installed.
 */
export const benchSpanCost = async (options: { readonly rounds: number; readonly calls: number }): Promise<Row> => {
  const statement = Effect.withFiberRuntime(() => Effect.void)
  const bare = { lookup: (_: number) => Effect.void }
  const wrapped = traced("bench")({ lookup: (_: number) => statement })
  const loop = (service: typeof bare) => () => {
    const started = performance.now()
    Effect.runSync(
      Effect.gen(function* () {
        for (let i = 0; i < options.calls; i++) yield* service.lookup(i)
      })
    )
    return Promise.resolve(performance.now() - started)
  }
  const result = await interleave(options.rounds, loop(wrapped), loop(bare))
  const perCall = (ms: ReadonlyArray<number>) => median(ms) / options.calls
  const cost = perCall(result.a) - perCall(result.b)
  const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`
  return {
    section: "a",
    name: "tracing of one repository call (method span + one statement), no tracer installed",
    a: `traced ${us(perCall(result.a))}/call`,
    b: `bare ${us(perCall(result.b))}/call`,
    ratio: median(result.ratios),
    p25: quantile(result.ratios, 0.25),
    p75: quantile(result.ratios, 0.75),
    target: "≤ 2 µs a call",
    met: cost * 1000 <= 2,
    note: `${us(cost)} a call over the bare effects (${options.calls.toLocaleString("en")} calls a round)`
  }
}
