// Test-only span recording: runs an effect under a tracer that keeps every span it opens, for the tests of the spans the PostgreSQL repositories open.
import { Effect, Option, Tracer } from "effect"

/** A span as opened under `recordSpans`: its name, its parent's name (or id, for an external parent), its attributes. */
export interface RecordedSpan {
  readonly name: string
  readonly parent: Option.Option<string>
  readonly attributes: ReadonlyMap<string, unknown>
}

/**
 * Runs `effect` under a tracer that records every span it opens, in the order they open (built on the tracer in
 * place, so the spans are Effect's own and @effect/sql's statement spans still carry their attributes).
 */
export const recordSpans = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const base = yield* Effect.tracer
    const spans: Array<Tracer.Span> = []
    const recording = Tracer.make({
      span: (...args) => {
        const span = base.span(...args)
        spans.push(span)
        return span
      },
      context: (f, fiber) => base.context(f, fiber)
    })
    const result = yield* Effect.withTracer(effect, recording)
    const recorded: ReadonlyArray<RecordedSpan> = spans.map((s) => ({
      name: s.name,
      parent: Option.map(s.parent, (p) => (p._tag === "Span" ? p.name : p.spanId)),
      attributes: s.attributes
    }))
    return [result, recorded] as const
  })

/** The SQL text a statement span (`sql.execute`) carries (undefined for no span). */
export const queryText = (span: RecordedSpan | undefined): unknown => span?.attributes.get("db.query.text")

/** The statement spans (`sql.execute`) directly below the span named `parent`. */
export const statementsOf = (spans: ReadonlyArray<RecordedSpan>, parent: string): ReadonlyArray<RecordedSpan> =>
  spans.filter((s) => s.name === "sql.execute" && Option.contains(s.parent, parent))
