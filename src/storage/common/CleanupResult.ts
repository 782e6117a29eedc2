// The result of one batched cleanup round: rows touched and the greatest key, to pass on as the next `since`.
import { Option } from "effect"

export type CleanupResult<K> = readonly [count: number, last: Option.Option<K>]

export const CleanupResult = {
  /** Nothing matched: the job stops here. */
  empty: <K>(): CleanupResult<K> => [0, Option.none()],
  make: <K>(count: number, last: Option.Option<K>): CleanupResult<K> => [count, last],
  /** Builds the result from the keys a round touched, in any order; `compare` orders keys (default: `<`). */
  fromKeys: <K>(keys: ReadonlyArray<K>, compare?: (a: K, b: K) => number): CleanupResult<K> => {
    if (keys.length === 0) return [0, Option.none()]
    const cmp = compare ?? ((a: K, b: K) => (a < b ? -1 : a > b ? 1 : 0))
    let last = keys[0] as K
    for (const k of keys) if (cmp(k, last) > 0) last = k
    return [keys.length, Option.some(last)]
  }
} as const
