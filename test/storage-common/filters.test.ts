// LIKE escaping and case folding checked against the real server: memory must lowercase and match like PostgreSQL.
import { describe, expect, it, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { containsCriterion, lowerEqualsCriterion } from "../../src/pg/common/filters.js"
import { filter, filteredStatement } from "../../src/pg/dynamic.js"
import {
  containsInsensitive,
  containsPattern,
  escapeLike,
  lowerEmail,
  lowerLikePostgres
} from "../../src/storage/common/filters.js"
import { freshDatabaseLayer } from "../support/database.js"

const strings = [
  "İstanbul",
  "ISTANBUL",
  "istanbul",
  "ıstanbul",
  "İ",
  "i̇",
  "I",
  "ı",
  "Straße",
  "STRASSE",
  "strasse",
  "ẞ",
  "ß",
  "ΟΔΟΣ",
  "οδος",
  "οδοσ",
  "Σίσυφος",
  "ΣΊΣΥΦΟΣ",
  "Σ",
  "ς",
  "σ",
  "Élodie",
  "élodie",
  "ÉLODIE",
  "Ünïcödé",
  "ÅNGSTRÖM",
  "Ångström",
  "Ǆ",
  "ǅ",
  "ǆ",
  "Kelvin K",
  "kelvin k",
  "Ω ohm",
  "ω OHM",
  "ﬁle",
  "FILE",
  "emoji 😀 Party",
  "EMOJI 😀 PARTY",
  "😀",
  "👩‍💻 dev",
  "Привет",
  "ПРИВЕТ",
  "Ꭰ cherokee",
  "ꭰ CHEROKEE",
  "100% sure",
  "100 sure",
  "a_b",
  "axb",
  "a\\b",
  "a\\\\b",
  "under_score",
  "per%cent",
  "Alice@Example.COM",
  "alice@example.com",
  ""
]
const terms = [
  ...strings,
  "%",
  "_",
  "\\",
  "%%",
  "_b",
  "a%",
  "0%",
  "STR",
  "ss",
  "SS",
  "ß",
  "σ",
  "ς",
  "Σ",
  "i",
  "I",
  "ı",
  "İ",
  "😀",
  "stanbul",
  "LODIE",
  "k",
  "K",
  "ω",
  "ﬁ",
  "fi",
  "привет",
  "@example.com"
]

describe("escapeLike", () => {
  it("escapes backslash, percent and underscore, backslash first", () => {
    expect(escapeLike("plain")).toBe("plain")
    expect(escapeLike("100%_done\\")).toBe("100\\%\\_done\\\\")
    expect(escapeLike("\\%")).toBe("\\\\\\%")
    expect(containsPattern("a_b")).toBe("%a\\_b%")
  })

  it("lowerLikePostgres undoes the JavaScript-only mappings", () => {
    expect(lowerLikePostgres("İ")).toBe("i")
    expect("İ".toLowerCase()).toBe("i\u0307")
    expect(lowerLikePostgres("ΟΔΟΣ")).toBe("οδοσ")
    expect("ΟΔΟΣ".toLowerCase()).toBe("οδος")
    expect(lowerLikePostgres("\u{A7CB}")).toBe("\u{A7CB}")
    expect(lowerLikePostgres("Straße 😀 ÉTÉ")).toBe("straße 😀 été")
    expect(lowerEmail("Alice@Example.COM")).toBe("alice@example.com")
  })
})

layer(freshDatabaseLayer())("against PostgreSQL", (it) => {
  it.effect("the server uses a UTF-8, non-Turkish ctype (what lowerLikePostgres models)", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ ctype: string; encoding: string }>`
        SELECT current_setting('lc_ctype') AS ctype, current_setting('server_encoding') AS encoding`
      expect(row!.encoding).toBe("UTF8")
      expect(row!.ctype).toMatch(/utf-?8/i)
      expect(row!.ctype).not.toMatch(/^(tr|az)_/i)
    })
  )

  it.effect("LOWER agrees on the sample strings and email equality agrees", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const lowered = yield* sql<{ s: string; l: string }>`
        SELECT s, lower(s) AS l FROM unnest(${strings}::text[]) WITH ORDINALITY AS x(s, i) ORDER BY i`
      expect(lowered.map((r) => lowerLikePostgres(r.s))).toEqual(lowered.map((r) => r.l))
      const pairs = yield* sql<{ a: string; b: string; eq: boolean }>`
        SELECT a, b, lower(a) = lower(b) AS eq
        FROM unnest(${strings}::text[]) AS a, unnest(${strings}::text[]) AS b`
      const mismatches = pairs.filter((p) => (lowerEmail(p.a) === lowerEmail(p.b)) !== p.eq)
      expect(mismatches).toEqual([])
      // Some pairs must really be equal only case-insensitively, or the test proves little.
      expect(pairs.filter((p) => p.eq && p.a !== p.b).length).toBeGreaterThan(20)
    })
  )

  it.effect("ILIKE with the escaped pattern agrees with containsInsensitive on every pair", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const patterns = terms.map(containsPattern)
      const rows = yield* sql<{ h: string; i: number; m: boolean }>`
        SELECT h, t.i::int AS i, h ILIKE t.p ESCAPE '\\' AS m
        FROM unnest(${strings}::text[]) AS h, unnest(${patterns}::text[]) WITH ORDINALITY AS t(p, i)`
      expect(rows.length).toBe(strings.length * terms.length)
      const mismatches = rows
        .filter((r) => containsInsensitive(r.h, terms[r.i - 1]!) !== r.m)
        .map((r) => ({ haystack: r.h, term: terms[r.i - 1], postgres: r.m }))
      expect(mismatches).toEqual([])
      // The escapes matter: unescaped, "_b" would match "axb" and "%" would match everything.
      const literal = (h: string, t: string) => rows.find((r) => r.h === h && terms[r.i - 1] === t)!.m
      expect(literal("axb", "_b")).toBe(false)
      expect(literal("a_b", "_b")).toBe(true)
      expect(literal("100 sure", "%")).toBe(false)
      expect(literal("100% sure", "0%")).toBe(true)
      expect(literal("a\\b", "\\")).toBe(true)
      expect(literal("axb", "\\")).toBe(false)
      expect(literal("İstanbul", "I")).toBe(true)
      expect(literal("ΟΔΟΣ", "ς")).toBe(false)
    })
  )

  it.effect("the pg text criteria select what the memory predicates select", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE words (w text NOT NULL)`
      yield* sql`INSERT INTO words ${sql.insert(strings.map((w) => ({ w })))}`
      const wordFilter = filter<{ readonly contains?: string; readonly equals?: string }>()(
        "WordFilter",
        { contains: containsCriterion("words.w"), equals: lowerEqualsCriterion("words.w") },
        (f, use) => [
          f.contains !== undefined && use.contains(f.contains),
          f.equals !== undefined && use.equals(f.equals)
        ]
      )
      const words = filteredStatement({
        description: "the words matching a WordFilter",
        text: "SELECT w FROM words",
        params: Schema.Tuple(),
        row: Schema.Struct({ w: Schema.String }),
        slots: { filter: wordFilter },
        where: "filter"
      })("test.words", "words")
      const matching = (where: { readonly contains?: string; readonly equals?: string }) =>
        Effect.map(words.rows(sql, { filter: where }), (rows) => rows.map((r) => (r as { w: string }).w).sort())
      for (const term of ["_b", "%", "\\", "ß", "İ", "σ", "😀", "STR", "alice@EXAMPLE.com", ""]) {
        const found = yield* matching({ contains: term })
        const expected = strings.filter((w) => containsInsensitive(w, term))
        expect({ term, found }).toEqual({ term, found: [...expected].sort() })
        const equal = yield* matching({ equals: term })
        expect({ term, equal }).toEqual({
          term,
          equal: strings.filter((w) => lowerEmail(w) === lowerEmail(term)).sort()
        })
      }
    })
  )

  it.effect("LOWER agrees on every Unicode code point", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      // U+0001 separates the code points (U+0000 cannot be stored in text; surrogates are not characters).
      const all: Array<number> = []
      for (let cp = 2; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) all.push(cp)
      const mismatches: Array<string> = []
      const chunk = 100_000
      for (let start = 0; start < all.length; start += chunk) {
        const part = all.slice(start, start + chunk).map((cp) => String.fromCodePoint(cp))
        const [row] = yield* sql<{ l: string }>`SELECT lower(${part.join("\u0001")}) AS l`
        const fromServer = row!.l.split("\u0001")
        expect(fromServer.length).toBe(part.length)
        part.forEach((ch, j) => {
          if (lowerLikePostgres(ch) !== fromServer[j]) {
            mismatches.push(
              `U+${ch.codePointAt(0)!.toString(16).toUpperCase()} server=${fromServer[j]} memory=${lowerLikePostgres(ch)}`
            )
          }
        })
      }
      expect(mismatches).toEqual([])
    })
  )
})
