// SQL criteria for the text parts of filters, the PostgreSQL side of storage/common/filters.ts.
import { Schema } from "effect"
import { UlidFromUuid } from "../../model/Ulid.js"
import { containsPattern } from "../../storage/common/filters.js"
import { piece } from "../dynamic.js"

/** A search term, sent as the ILIKE pattern that matches it literally (encoding only: patterns are never read back). */
const ContainsPattern = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: (pattern) => pattern,
  encode: (term) => containsPattern(term)
})

/** The criterion `column ILIKE '%term%' ESCAPE '\'`, given the term; memory's twin is `containsInsensitive`. */
export const containsCriterion = (qualifiedColumn: string) =>
  piece(`${qualifiedColumn} ILIKE $1 ESCAPE '\\'`, Schema.Tuple(ContainsPattern))

/** The criterion `LOWER(column) = LOWER($1)`; memory's twin compares `lowerEmail` of both sides. */
export const lowerEqualsCriterion = (qualifiedColumn: string) =>
  piece(`LOWER(${qualifiedColumn}) = LOWER($1)`, Schema.Tuple(Schema.String))

/** `last_active_at` before / after an instant: the criteria every session filter has. */
export const lastActiveCriteria = (table: string) => ({
  lastActiveBefore: piece(`${table}.last_active_at < $1`, Schema.Tuple(Schema.DateFromSelf)),
  lastActiveAfter: piece(`${table}.last_active_at > $1`, Schema.Tuple(Schema.DateFromSelf))
})

/**
 * Created before / after an instant, as the ULID primary key against the instant's ULID bounds (the creation time
 * is the id's timestamp): pass `minUlidAt(before)` and `maxUlidAt(after)`.
 */
export const createdCriteria = (qualifiedIdColumn: string) => ({
  createdBefore: piece(`${qualifiedIdColumn} < $1`, Schema.Tuple(UlidFromUuid)),
  createdAfter: piece(`${qualifiedIdColumn} > $1`, Schema.Tuple(UlidFromUuid))
})
