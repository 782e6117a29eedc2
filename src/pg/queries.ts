// Every query the PostgreSQL repositories send, as one explicit list: what `query prepare` describes and the offline check reads.
import type { AnyQuery } from "./query.js"
import { repositoryModules } from "./repositories.js"

/** Sorted by name; a name declared twice would make the query cache ambiguous (a test checks there is none). */
export const declaredQueries: ReadonlyArray<AnyQuery> = Object.values(repositoryModules)
  .flatMap((module): ReadonlyArray<AnyQuery> => module.queries)
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
