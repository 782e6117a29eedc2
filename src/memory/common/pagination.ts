// Keyset pagination over in-memory rows (domain.md §1.4), the same rules as PostgreSQL on canonical ULID strings.
import { Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import { Page, type Pagination } from "../../storage/common/Pagination.js"

// Canonical ULIDs compare as strings in id order (Crockford's alphabet is in ASCII order, §2).
const byId =
  <T>(idOf: (row: T) => Ulid) =>
  (a: T, b: T): number => {
    const x = idOf(a)
    const y = idOf(b)
    return x < y ? -1 : x > y ? 1 : 0
  }

/**
 * The page of `rows` (already filtered, any order) that `pagination` selects: ids strictly
 * between the cursors, `count + 1` read from the start (forward) or the end (backward).
 */
export const paginate = <T>(rows: Iterable<T>, pagination: Pagination, idOf: (row: T) => Ulid): Page<T> => {
  const after = pagination.after
  const before = pagination.before
  const inRange = Array.from(rows)
    .filter((row) => {
      const id = idOf(row)
      return (Option.isNone(after) || id > after.value) && (Option.isNone(before) || id < before.value)
    })
    .sort(byId(idOf))
  const read =
    pagination.direction === "forward"
      ? inRange.slice(0, pagination.limit)
      : inRange.slice(Math.max(0, inRange.length - pagination.limit)).reverse()
  return Page.process(read, pagination, idOf)
}
