// The null rule for parameters: a params element that accepts null must not be compared with `=` unguarded, nor written into a NOT NULL column.
import type { SchemaAST } from "effect"
import type { CheckIssue } from "./check.js"
import { encodedShape } from "./pgTypes.js"

/** What the check reads of a cached parameter (see `ParamEntry` in cache.ts). */
export interface CachedParamUse {
  readonly type: string
  readonly comparedWithEquals?: string | undefined
  readonly notNullTarget?: string | undefined
}

/**
 * Reports each element of the params tuple (its encoded side, as `SchemaAST.encodedAST` gives it) whose encoded side
 * accepts null (or undefined, which the driver sends as NULL) where the cached uses say NULL cannot work.
 */
export const checkParamNulls = (
  elements: ReadonlyArray<SchemaAST.OptionalType>,
  params: ReadonlyArray<CachedParamUse>,
  issue: (i: Omit<CheckIssue, "query">) => void
): void => {
  elements.forEach((element, i) => {
    const param = params[i]
    if (param === undefined || !encodedShape(element.type).nullable) return
    const n = `$${i + 1}`
    if (param.comparedWithEquals !== undefined) {
      issue({
        severity: "error",
        kind: "param-null-compared",
        field: `param ${n}`,
        message: `the schema accepts null, but the SQL compares ${n} with = or <> (${param.comparedWithEquals}), which is never true when ${n} is NULL: make the element non-nullable, or guard it in SQL (${n}::${param.type} IS NULL OR …) or compare with IS NOT DISTINCT FROM ${n}, and run npm run query:prepare`
      })
    }
    if (param.notNullTarget !== undefined) {
      issue({
        severity: "error",
        kind: "param-null-not-null-column",
        field: `param ${n}`,
        message: `the schema accepts null, but ${n} is written as is into ${param.notNullTarget}, which is NOT NULL (a NULL fails the statement): make the element non-nullable, or write coalesce(${n}, …) if a default is meant, and run npm run query:prepare`
      })
    }
  })
}
