// SQL pieces for the text criteria of filters, the PostgreSQL side of storage/common/filters.ts.
import type { Fragment } from "@effect/sql/Statement"
import type * as Statement from "@effect/sql/Statement"
import { containsPattern } from "../../storage/common/filters.js"

const column = (sql: Statement.Constructor, col: string | Fragment): Fragment =>
  typeof col === "string" ? sql`${sql(col)}` : col

/** `col ILIKE '%term%' ESCAPE '\'` with the term taken literally; memory's twin is `containsInsensitive`. */
export const ilikeContains = (sql: Statement.Constructor, col: string | Fragment, term: string): Fragment =>
  sql`${column(sql, col)} ILIKE ${containsPattern(term)} ESCAPE '\\'`

/** `LOWER(col) = LOWER(value)`; memory's twin compares `lowerEmail` of both sides. */
export const lowerEquals = (sql: Statement.Constructor, col: string | Fragment, value: string): Fragment =>
  sql`LOWER(${column(sql, col)}) = LOWER(${value})`
