// Keyset pagination over in-memory rows, the same rules as PostgreSQL on canonical ULID strings.
import { Effect, Either, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import type { InvalidOperationError } from "../../storage/common/errors.js"
import { Page, type Pagination, readCursor } from "../../storage/common/Pagination.js"

/** Fails as PostgreSQL's keyset clauses do when a cursor is not ULID text (before any row is read). */
export const checkCursors = (pagination: Pagination): Effect.Effect<void, InvalidOperationError> => {
  for (const cursor of [pagination.after, pagination.before]) {
    if (Option.isSome(cursor)) {
      const read = readCursor(cursor.value)
      if (Either.isLeft(read)) return Effect.fail(read.left)
    }
  }
  return Effect.void
}

// Canonical ULIDs compare as strings in id order (Crockford's alphabet is in ASCII order, storage rule: Ids).
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
  // Lowercase cursors compare as their canonical form, as in PostgreSQL (checkCursors refuses the rest).
  const after = Option.map(pagination.after, (c) => c.toUpperCase() as Ulid)
  const before = Option.map(pagination.before, (c) => c.toUpperCase() as Ulid)
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
