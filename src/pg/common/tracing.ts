// One span per repository method, `db.<repository>.<method>`, when the application installed a tracer; none (and no cost) when nobody listens.
import { Effect, FiberRef, type Fiber } from "effect"

/** Effect's built-in tracer, the one every fiber has until the application installs its own (e.g. OpenTelemetry). */
const builtInTracer = Effect.runSync(Effect.tracer)

/**
 * Whether spans opened on `fiber` reach a tracer the application installed. With Effect's built-in tracer nothing
 * exports or reads a span, so the repositories open none and take @effect/sql's statement path without its span.
 */
export const isTraced = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.currentTracer !== builtInTracer && fiber.getFiberRef(FiberRef.currentTracerEnabled)

/**
 * Wraps every method of a repository service so that its effect runs in a span named
 * `db.<repository>.<method>` when traced (@effect/sql's `sql.execute` spans of its statements nest below it).
 */
export const traced =
  (repository: string) =>
  <S extends object>(service: S): S =>
    Object.fromEntries(
      Object.entries(service).map(([method, member]) => {
        if (typeof member !== "function") return [method, member]
        const name = `db.${repository}.${method}`
        const options = {
          attributes: { "db.system.name": "postgresql", "db.repository": repository, "db.method": method },
          // a captured stack would point at this wrapper, not at the caller: not worth its cost per call
          captureStackTrace: false
        } as const
        return [
          method,
          (...args: ReadonlyArray<unknown>) => {
            const result = member(...args)
            return Effect.isEffect(result)
              ? Effect.withFiberRuntime<unknown, unknown, unknown>((fiber) =>
                  isTraced(fiber) ? Effect.withSpan(result, name, options) : result
                )
              : result
          }
        ]
      })
    ) as S
