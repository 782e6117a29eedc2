// Criteria helpers shared by the backends: id checks, LIKE escaping, and case folding and text order that match PostgreSQL's.
import { Effect, Option } from "effect"
import { isUlid, type Ulid } from "../../model/Ulid.js"
import { InvalidOperationError } from "./errors.js"

/** Fails naming the first id (by `where` and name) that is not canonical ULID text; one id or a list per name. */
const checkIds = (
  where: string,
  named: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
): Effect.Effect<void, InvalidOperationError> => {
  for (const [name, value] of Object.entries(named)) {
    if (value === undefined) continue
    const ids: ReadonlyArray<unknown> = Array.isArray(value) ? value : [value]
    const bad = ids.findIndex((id) => !isUlid(id))
    if (bad >= 0) {
      return Effect.fail(
        new InvalidOperationError({
          cause: Option.some(`Malformed ULID in ${where} ${name}: ${String(JSON.stringify(ids[bad]))}`)
        })
      )
    }
  }
  return Effect.void
}

/**
 * Refuses a filter whose id criteria (by criterion name) hold anything but canonical ULID text. Without it the
 * backends disagree: PostgreSQL sends whatever uuid the text's characters happen to make (a 27-character id
 * selects the rows of its first 26, bulk writes included), memory compares strings and matches nothing. Both
 * backends call it before any statement is sent or row read, so the unit of work stays usable.
 */
export const checkFilterIds = (
  criteria: Readonly<Record<string, Ulid | ReadonlyArray<Ulid> | undefined>>
): Effect.Effect<void, InvalidOperationError> => checkIds("filter criterion", criteria)

/**
 * Refuses entity arguments (by name) whose id is not canonical ULID text, before a transition is computed: the
 * model's constructors would throw on such an id, and the statements could not encode it anyway.
 */
export const checkArgumentIds = (ids: Readonly<Record<string, string>>): Effect.Effect<void, InvalidOperationError> =>
  checkIds("argument", ids)

/**
 * Escapes `\`, `%` and `_` so a search term is matched literally by `LIKE`/`ILIKE … ESCAPE '\'`
 * (backslash first, so the escapes added for `%` and `_` are not escaped again).
 */
export const escapeLike = (term: string): string => term.replace(/[\\%_]/g, (c) => `\\${c}`)

/** The `ILIKE` pattern for "contains `term`", taken literally. */
export const containsPattern = (term: string): string => `%${escapeLike(term)}%`

/*
 * How PostgreSQL lowercases (checked against PostgreSQL 15, libc provider, lc_ctype C.UTF-8 and
 * the usual non-Turkish UTF-8 glibc locales): one code point at a time through towlower(), i.e.
 * Unicode *simple* case mapping with no context. JavaScript's toLowerCase() differs in three ways,
 * which `lowerLikePostgres` undoes:
 *   1. U+0130 İ → JS "i̇" (i + U+0307, the full/special mapping), PostgreSQL "i" (simple mapping).
 *   2. Σ at the end of a word → JS final sigma "ς", PostgreSQL always "σ" (no context).
 *   3. Letters newer than the server's glibc Unicode tables (glibc 2.36 on the test server) are left
 *      unchanged by PostgreSQL while Node (ICU; Unicode 17 on Node 20.20) lowercases them; they are listed
 *      in UNMAPPED_BY_SERVER below. The exhaustive test in test/storage-common compares every code
 *      point with the live server, so a server with newer tables shows up as a test failure.
 * ß, accented letters, Greek, Cyrillic and emoji agree. Under lc_ctype "C"/"POSIX" PostgreSQL folds
 * ASCII only; the project's databases are expected to use a UTF-8 ctype (the tests check it).
 * A Turkish ctype (tr_TR: I → ı) is not modelled.
 */
const UNMAPPED_BY_SERVER: ReadonlyArray<readonly [number, number]> = [
  [0x1c89, 0x1c89],
  [0xa7cb, 0xa7cc],
  [0xa7ce, 0xa7ce],
  [0xa7d2, 0xa7d2],
  [0xa7d4, 0xa7d4],
  [0xa7da, 0xa7da],
  [0xa7dc, 0xa7dc],
  [0x10d50, 0x10d65],
  [0x16ea0, 0x16eb8]
]

const unmappedByServer = (cp: number): boolean => {
  for (const [from, to] of UNMAPPED_BY_SERVER) {
    if (cp >= from && cp <= to) return true
  }
  return false
}

const ASCII = /^[\x00-\x7f]*$/

const lowerCodePoint = (ch: string, cp: number): string => {
  if (unmappedByServer(cp)) return ch
  const lowered = ch.toLowerCase()
  // Several code points back means a special (full) mapping; the simple mapping is its first code point.
  const first = lowered.codePointAt(0)!
  return first > 0xffff ? lowered.slice(0, 2) : lowered.length === 1 ? lowered : lowered.slice(0, 1)
}

/** Lowercases `s` exactly as PostgreSQL's `LOWER()` does on the project's databases (see above). */
export const lowerLikePostgres = (s: string): string => {
  if (ASCII.test(s)) return s.toLowerCase()
  let out = ""
  for (const ch of s) out += lowerCodePoint(ch, ch.codePointAt(0)!)
  return out
}

/**
 * In-memory equivalent of `haystack ILIKE '%' || escapeLike(term) || '%' ESCAPE '\'`: PostgreSQL's
 * ILIKE on a UTF-8 database lowercases both sides with LOWER() and then matches case-sensitively.
 */
export const containsInsensitive = (haystack: string, term: string): boolean =>
  lowerLikePostgres(haystack).includes(lowerLikePostgres(term))

/** Code-point order, what PostgreSQL's `COLLATE "C"` gives on UTF-8 text (UTF-16 code-unit order differs above U+FFFF). */
export const compareCodePoints = (a: string, b: string): number => {
  const x = Array.from(a, (c) => c.codePointAt(0)!)
  const y = Array.from(b, (c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!
  }
  return x.length - y.length
}

/** The form emails are compared in, on both sides (`LOWER(email) = LOWER($1)`). */
export const lowerEmail = (email: string): string => lowerLikePostgres(email)
