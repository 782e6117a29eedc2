// One span per repository method, `db.<repository>.<method>`; the statements below it are @effect/sql's own `sql.execute` spans, which carry the SQL text.
import { Effect } from "effect"

/**
 * Wraps every method of a repository service so that its effect runs in a span named
 * `db.<repository>.<method>` (@effect/sql's `sql.execute` spans of its statements nest below it).
 */
export const traced =
  (repository: string) =>
  <S extends object>(service: S): S =>
    Object.fromEntries(
      Object.entries(service).map(([method, member]) => [
        method,
        typeof member === "function"
          ? (...args: ReadonlyArray<unknown>) => {
              const result = member(...args)
              return Effect.isEffect(result)
                ? Effect.withSpan(result, `db.${repository}.${method}`, {
                    attributes: { "db.system.name": "postgresql", "db.repository": repository, "db.method": method },
                    // a captured stack would point at this wrapper, not at the caller: not worth its cost per call
                    captureStackTrace: false
                  })
                : result
            }
          : member
      ])
    ) as S
