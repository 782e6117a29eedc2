// One span per repository method, `db.<repository>.<method>` with OpenTelemetry's database attributes, when the application installed a tracer; none (and no cost) when nobody listens.
import * as Statement from "@effect/sql/Statement"
import { Effect, FiberRef, type Fiber, type Tracer } from "effect"

/** Effect's built-in tracer, the one every fiber has until the application installs its own (e.g. OpenTelemetry). */
const builtInTracer = Effect.runSync(Effect.tracer)

/**
 * Whether spans opened on `fiber` reach a tracer the application installed. With Effect's built-in tracer nothing
 * exports or reads a span, so the repositories open none and take @effect/sql's statement path without its span.
 */
export const isTraced = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.currentTracer !== builtInTracer && fiber.getFiberRef(FiberRef.currentTracerEnabled)

/** The attribute @effect/sql's `sql.execute` spans carry the statement's SQL text under (as OpenTelemetry names it). */
const queryTextAttribute = "db.query.text"

/**
 * The SQL a method sent, from its statements' spans: the one text, or (a method of several statements) the texts in
 * the order they ran joined by `; `, a text sent more than once written once, as OpenTelemetry says for batches.
 * `undefined` when the method sent nothing (refused before writing, or idempotent with nothing to do).
 */
export const queryTextOf = (statements: ReadonlyArray<Tracer.Span>): string | undefined => {
  const texts: Array<string> = []
  for (const statement of statements) {
    const text = statement.attributes.get(queryTextAttribute)
    if (typeof text === "string" && !texts.includes(text)) texts.push(text)
  }
  return texts.length === 0 ? undefined : texts.join("; ")
}

/**
 * Runs `effect` in `span` and, before the span ends, sets on it the SQL text of the statements it sent. The texts
 * are only known once @effect/sql has compiled each statement, which it does inside the statement's own span: a
 * statement transformer (@effect/sql's hook, called with that span) notes each statement span, and their
 * `db.query.text` is read when the method is done. A transformer the application set still runs, after ours.
 */
const withQueryText = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  span: Tracer.Span,
  fiber: Fiber.RuntimeFiber<unknown, unknown>
): Effect.Effect<A, E, R> => {
  const outer = fiber.getFiberRef(Statement.currentTransformer)
  const statements: Array<Tracer.Span> = []
  const note: Statement.Statement.Transformer = (statement, sql, refs, statementSpan) => {
    statements.push(statementSpan)
    return outer._tag === "Some" ? outer.value(statement, sql, refs, statementSpan) : Effect.succeed(statement)
  }
  return Effect.ensuring(
    Statement.withTransformer(effect, note),
    Effect.sync(() => {
      const text = queryTextOf(statements)
      if (text !== undefined) span.attribute(queryTextAttribute, text)
    })
  )
}

/**
 * Wraps every method of a repository service so that its effect runs in a span named `db.<repository>.<method>`
 * when traced, @effect/sql's `sql.execute` spans of its statements below it. The span carries OpenTelemetry's
 * database attributes: `db.system` and `db.system.name` (`postgresql`), `db.operation.name` (the method's name, the
 * operation as the application calls it: the conventions advise against parsing it out of the text for a database
 * whose texts may hold several statements), `db.query.text` (the SQL it sent, see `queryTextOf`), and ours,
 * `db.repository` and `db.method`.
 */
export const traced =
  (repository: string) =>
  <S extends object>(service: S): S =>
    Object.fromEntries(
      Object.entries(service).map(([method, member]) => {
        if (typeof member !== "function") return [method, member]
        const name = `db.${repository}.${method}`
        const options = {
          attributes: {
            "db.system": "postgresql",
            "db.system.name": "postgresql",
            "db.operation.name": method,
            "db.repository": repository,
            "db.method": method
          },
          // a captured stack would point at this wrapper, not at the caller: not worth its cost per call
          captureStackTrace: false
        } as const
        return [
          method,
          (...args: ReadonlyArray<unknown>) => {
            const result = member(...args)
            return Effect.isEffect(result)
              ? Effect.withFiberRuntime<unknown, unknown, unknown>((fiber) =>
                  isTraced(fiber)
                    ? Effect.useSpan(name, options, (span) =>
                        Effect.withParentSpan(withQueryText(result, span, fiber), span)
                      )
                    : result
                )
              : result
          }
        ]
      })
    ) as S
