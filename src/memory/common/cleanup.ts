// Batched cleanups over in-memory rows, selecting what the PostgreSQL statements select (storage rule: Batched cleanup).
import { Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Timestamp key: rows whose key is set and `since <= key < until`, taken in key order then id (so a batch boundary
 * inside rows sharing a timestamp falls where PostgreSQL's `ORDER BY key, id` puts it), at most `limit`.
 */
export const timestampBatch = <Row>(
  rows: ReadonlyArray<Row>,
  options: {
    readonly key: (row: Row) => Date | null
    readonly id: (row: Row) => string
    readonly since: Option.Option<Date>
    readonly until: Date
    readonly limit: number
    /** Further conditions of the statement's selection. */
    readonly where?: (row: Row) => boolean
  }
): ReadonlyArray<Row> => {
  const { id, key, limit, since, until, where } = options
  return rows
    .filter((row) => {
      const k = key(row)
      return (
        k !== null &&
        (Option.isNone(since) || k.getTime() >= since.value.getTime()) &&
        k.getTime() < until.getTime() &&
        (where === undefined || where(row))
      )
    })
    .sort((a, b) => key(a)!.getTime() - key(b)!.getTime() || compareIds(id(a), id(b)))
    .slice(0, limit)
}

/** The result of a timestamp-keyed batch: its size and the key of its last row (the greatest). */
export const timestampCleanupResult = <Row>(
  batch: ReadonlyArray<Row>,
  key: (row: Row) => Date | null
): CleanupResult<Date> =>
  CleanupResult.make<Date>(
    batch.length,
    batch.length === 0 ? Option.none() : Option.some(key(batch[batch.length - 1]!)!)
  )

/** ULID key: rows with `since < id <= until` in id order, at most `limit` (callers check the ids with `requireUlid`). */
export const ulidBatch = <Row>(
  rows: ReadonlyArray<Row>,
  options: {
    readonly id: (row: Row) => Ulid
    readonly since: Option.Option<Ulid>
    readonly until: Ulid
    readonly limit: number
  }
): ReadonlyArray<Row> => {
  const { id, limit, since, until } = options
  return rows
    .filter((row) => (Option.isNone(since) || id(row) > since.value) && id(row) <= until)
    .sort((a, b) => compareIds(id(a), id(b)))
    .slice(0, limit)
}
