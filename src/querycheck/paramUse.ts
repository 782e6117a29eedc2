// How a statement uses each $n, read from its text: unguarded `=`/`<>` comparisons and the table columns it is written into as is.
import { Effect } from "effect"
import type { DescribedParam, DescribedType } from "./describe.js"
import { SELECT_LIST_END, type Token, tokenize } from "./sqlText.js"

/** A column a parameter is written into unchanged: `table` is the name as written (regclass text), `column` the attribute name. */
export interface ParamTarget {
  readonly table: string
  readonly column: string
}

export interface ParamUse {
  /**
   * The first comparison of the parameter itself with `=`, `<>` or `!=` (e.g. `users.user_id = $1`), when the
   * statement never tests `$n IS [NOT] NULL`; `undefined` otherwise.
   */
  readonly comparedWithEquals: string | undefined
  /** The columns it is written into directly: INSERT column lists (VALUES or SELECT), UPDATE SET, ON CONFLICT DO UPDATE SET. */
  readonly writes: ReadonlyArray<ParamTarget>
}

const isWord = (t: Token | undefined, ...words: ReadonlyArray<string>) =>
  t !== undefined && t.kind === "word" && words.includes(t.text)

const isOp = (t: Token | undefined, ...ops: ReadonlyArray<string>) =>
  t !== undefined && t.kind === "op" && ops.includes(t.text)

const isName = (t: Token | undefined) => t !== undefined && (t.kind === "word" || t.kind === "quoted")

const COMPARISONS = ["=", "<>", "!="]

/** Words after which `(` opens a parenthesised expression rather than a function's arguments. */
const GROUPING_KEYWORDS = new Set([
  "and",
  "or",
  "not",
  "where",
  "when",
  "then",
  "else",
  "on",
  "select",
  "having",
  "in",
  "values",
  "set",
  "is",
  "between",
  "like",
  "ilike",
  "case",
  "returning",
  "by"
])

/** Strict functions whose result is NULL for a NULL argument: comparing through them is comparing the parameter. */
const STRICT_WRAPPERS = new Set(["lower", "upper", "any", "some", "all"])

/** Words a multi-word type name may continue with after `::type`. */
const TYPE_CONTINUATIONS = new Set(["precision", "varying"])

interface Scan {
  readonly tokens: ReadonlyArray<Token>
  /** For each "open" token, the index of its matching "close" (or tokens.length); -1 elsewhere. */
  readonly closeOf: ReadonlyArray<number>
  /** For each "close" token, the index of its matching "open" (or -1). */
  readonly openOf: ReadonlyArray<number>
  readonly depth: ReadonlyArray<number>
}

const scan = (sql: string): Scan => {
  const tokens = tokenize(sql)
  const closeOf = tokens.map(() => -1)
  const openOf = tokens.map(() => -1)
  const depth = tokens.map(() => 0)
  const stack: Array<number> = []
  tokens.forEach((t, i) => {
    if (t.kind === "close") {
      const open = stack.pop()
      if (open !== undefined) {
        closeOf[open] = i
        openOf[i] = open
      }
    }
    depth[i] = stack.length
    if (t.kind === "open") stack.push(i)
  })
  for (const open of stack) closeOf[open] = tokens.length
  return { tokens, closeOf, openOf, depth }
}

/** Index just past any `::type` casts starting at `i` (`::text[]`, `::varchar(10)`, `::timestamp with time zone`, `::public.mood`). */
const afterCasts = (s: Scan, i: number): number => {
  const t = s.tokens
  while (isOp(t[i], "::") && isName(t[i + 1])) {
    i += 2
    while (isOp(t[i], ".") && isName(t[i + 1])) i += 2
    if (isWord(t[i], ...TYPE_CONTINUATIONS)) i++
    if (t[i]?.kind === "open" && t[i]!.text === "(") i = s.closeOf[i]! + 1
    if (isWord(t[i], "with", "without") && isWord(t[i + 1], "time") && isWord(t[i + 2], "zone")) i += 3
    while (t[i]?.text === "[" && t[i]!.kind === "open") i = s.closeOf[i]! + 1
  }
  return i
}

/**
 * The span [start, end) of the parameter at `p` with what keeps it the same value: casts, parentheses, `CAST(… AS …)`,
 * and, with `throughStrict`, lower()/upper()/ANY()/SOME()/ALL() (NULL in, NULL out).
 */
const operandSpan = (s: Scan, p: number, throughStrict: boolean): readonly [number, number] => {
  const t = s.tokens
  let start = p
  let end = afterCasts(s, p + 1)
  for (;;) {
    const open = start - 1
    if (t[open]?.kind !== "open" || t[open]!.text !== "(") break
    const before = t[open - 1]
    const close = s.closeOf[open]!
    if (close === end) {
      const call = isName(before) && !(before!.kind === "word" && GROUPING_KEYWORDS.has(before!.text))
      if (!call) start = open
      else if (throughStrict && before!.kind === "word" && STRICT_WRAPPERS.has(before!.text)) start = open - 1
      else break
    } else if (isWord(before, "cast") && isWord(t[end], "as")) start = open - 1
    else break
    end = afterCasts(s, close + 1)
  }
  return [start, end]
}

/** The parameter number when `[from, to)` is exactly one parameter, possibly cast (`::type`, `CAST(… AS …)`) or parenthesised. */
const directParam = (s: Scan, from: number, to: number): number | undefined => {
  const t = s.tokens
  if (t[from]?.kind === "param") return afterCasts(s, from + 1) === to ? Number(t[from]!.text.slice(1)) : undefined
  if (t[from]?.kind === "open" && t[from]!.text === "(") {
    const close = s.closeOf[from]!
    return afterCasts(s, close + 1) === to ? directParam(s, from + 1, close) : undefined
  }
  if (isWord(t[from], "cast") && t[from + 1]?.kind === "open") {
    const close = s.closeOf[from + 1]!
    if (afterCasts(s, close + 1) !== to) return undefined
    for (let i = from + 2; i < close; i++) {
      if (t[i]!.kind === "open") i = s.closeOf[i]!
      else if (isWord(t[i], "as")) return directParam(s, from + 2, i)
    }
  }
  return undefined
}

/** Index ranges of the depth-0 (relative to `from`) comma-separated items of `[from, to)`. */
const items = (s: Scan, from: number, to: number): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  let start = from
  for (let i = from; i < to; i++) {
    if (s.tokens[i]!.kind === "open") i = s.closeOf[i]!
    else if (s.tokens[i]!.kind === "comma") {
      out.push([start, i])
      start = i + 1
    }
  }
  if (start < to) out.push([start, to])
  return out
}

const identifierText = (t: Token): string =>
  t.kind === "quoted" ? (/^[a-z_][a-z0-9_$]*$/.test(t.text) ? t.text : `"${t.text.replace(/"/g, '""')}"`) : t.text

/** A possibly schema-qualified name at `i`: its text (as `to_regclass` reads it) and the index after it. */
const qualifiedName = (s: Scan, i: number): { readonly text: string; readonly end: number } | undefined => {
  const t = s.tokens
  if (!isName(t[i])) return undefined
  const parts = [identifierText(t[i]!)]
  let j = i + 1
  while (isOp(t[j], ".") && isName(t[j + 1])) {
    parts.push(identifierText(t[j + 1]!))
    j += 2
  }
  return { text: parts.join("."), end: j }
}

/** The plain column name of `[from, to)` when it is one identifier (not `col.field` or `col[1]`). */
const columnName = (s: Scan, from: number, to: number): string | undefined =>
  to === from + 1 && isName(s.tokens[from]) ? s.tokens[from]!.text : undefined

/** Where the clause starting at `i` ends: a stop word at its depth, the `)` that closes its depth, `;`, or the end. */
const clauseEnd = (s: Scan, i: number, stops: ReadonlySet<string>): number => {
  const t = s.tokens
  for (let j = i; j < t.length; j++) {
    const tok = t[j]!
    if (tok.kind === "open") j = s.closeOf[j]!
    else if (tok.kind === "close" || tok.kind === "semicolon") return j
    else if (tok.kind === "word" && stops.has(tok.text)) return j
  }
  return t.length
}

const SET_END = new Set(["from", "where", "returning", "when"])
// a select list inside a write also ends at a set operation, an ON CONFLICT's ON or a RETURNING
const SELECT_END = new Set([...SELECT_LIST_END, "union", "intersect", "except", "on", "returning"])

/** Tokens as SQL text for messages: spaces between tokens, none around `.` and `::`, inside brackets, or before a call's `(`. */
const render = (tokens: ReadonlyArray<Token>): string => {
  let out = ""
  tokens.forEach((t, i) => {
    const text = t.kind === "quoted" ? `"${t.text}"` : t.text
    const previous = tokens[i - 1]
    const tight =
      previous === undefined ||
      previous.kind === "open" ||
      isOp(previous, ".", "::") ||
      isOp(t, ".", "::") ||
      t.kind === "close" ||
      t.kind === "comma" ||
      (t.kind === "open" && isName(previous))
    out += tight ? text : ` ${text}`
  })
  return out
}

/** The operand on the other side of the comparison operator at `op` (a name, a call, a literal), for messages. */
const otherOperand = (s: Scan, op: number, side: "left" | "right"): ReadonlyArray<Token> => {
  const t = s.tokens
  if (side === "left") {
    let i = op - 1
    if (t[i]?.kind === "close") {
      const open = s.openOf[i]!
      i = isName(t[open - 1]) ? open - 1 : open
    }
    while (isOp(t[i - 1], ".") && isName(t[i - 2])) i -= 2
    return t.slice(Math.max(i, 0), op)
  }
  let i = op + 1
  if (isName(t[i])) {
    i++
    while (isOp(t[i], ".") && isName(t[i + 1])) i += 2
  }
  if (t[i]?.kind === "open") i = s.closeOf[i]! + 1
  else if (i === op + 1) i++
  return t.slice(op + 1, Math.min(i, t.length))
}

/** How each of `$1…$count` is used in `sql` (pure: the text only). Entry `n - 1` is `$n`. */
export const paramUses = (sql: string, count: number): ReadonlyArray<ParamUse> => {
  const s = scan(sql)
  const t = s.tokens
  const highest = t.reduce((max, tok) => (tok.kind === "param" ? Math.max(max, Number(tok.text.slice(1))) : max), count)
  const compared: Array<string | undefined> = Array.from({ length: highest }, () => undefined)
  const guarded: Array<boolean> = Array.from({ length: highest }, () => false)
  const writes: Array<Array<ParamTarget>> = Array.from({ length: highest }, () => [])
  const assignments = new Set<number>()
  // the table of the INSERT (or MERGE) last seen at each depth, for its ON CONFLICT DO UPDATE SET (or WHEN … UPDATE SET)
  const writeTarget = new Map<number, string>()

  const write = (table: string | undefined, column: string | undefined, n: number | undefined) => {
    if (table !== undefined && column !== undefined && n !== undefined && n >= 1 && n <= highest)
      writes[n - 1]!.push({ table, column })
  }

  /** `SET a = …, (b, c) = (…, …)` from the SET word at `at`: marks the assignments' `=` and records direct writes. */
  const setList = (at: number, table: string | undefined) => {
    const end = clauseEnd(s, at + 1, SET_END)
    for (const [from, to] of items(s, at + 1, end)) {
      let eq = -1
      for (let i = from; i < to; i++) {
        if (t[i]!.kind === "open") i = s.closeOf[i]!
        else if (isOp(t[i], "=")) {
          eq = i
          break
        }
      }
      if (eq === -1) continue
      assignments.add(eq)
      if (t[from]!.kind === "open" && s.closeOf[from] === eq - 1) {
        const columns = items(s, from + 1, eq - 1).map(([a, b]) => columnName(s, a, b))
        let open = eq + 1
        if (isWord(t[open], "row")) open++
        if (t[open]?.kind !== "open" || s.closeOf[open] !== to - 1 || isWord(t[open + 1], "select")) continue
        items(s, open + 1, to - 1).forEach(([a, b], k) => write(table, columns[k], directParam(s, a, b)))
      } else write(table, columnName(s, from, eq), directParam(s, eq + 1, to))
    }
  }

  /** `INSERT INTO table [AS alias] [(columns)] [OVERRIDING … VALUE] {VALUES (…), … | SELECT …}` from the INTO at `at`. */
  const insert = (at: number) => {
    const name = qualifiedName(s, at + 1)
    if (name === undefined) return
    writeTarget.set(s.depth[at]!, name.text)
    let i = name.end
    if (isWord(t[i], "as") && isName(t[i + 1])) i += 2
    if (t[i]?.kind !== "open") return // without a column list the positions are the table's: not followed
    const columns = items(s, i + 1, s.closeOf[i]!).map(([a, b]) => columnName(s, a, b))
    i = s.closeOf[i]! + 1
    if (isWord(t[i], "overriding")) i += 3
    if (isWord(t[i], "values")) {
      i++
      while (t[i]?.kind === "open") {
        const close = s.closeOf[i]!
        items(s, i + 1, close).forEach(([a, b], k) => write(name.text, columns[k], directParam(s, a, b)))
        i = close + 1
        if (t[i]?.kind !== "comma") break
        i++
      }
    } else if (isWord(t[i], "select")) {
      i++
      if (isWord(t[i], "all")) i++
      else if (isWord(t[i], "distinct")) {
        i++
        if (isWord(t[i], "on") && t[i + 1]?.kind === "open") i = s.closeOf[i + 1]! + 1
      }
      items(s, i, clauseEnd(s, i, SELECT_END)).forEach(([a, b], k) => {
        // `$1 AS id` and `$1 id` are the parameter under a name
        const bare = isWord(t[b - 2], "as") && isName(t[b - 1]) ? b - 2 : b
        const n = directParam(s, a, bare) ?? (isName(t[b - 1]) && b - 1 > a ? directParam(s, a, b - 1) : undefined)
        write(name.text, columns[k], n)
      })
    }
  }

  /** `UPDATE [ONLY] table [*] [[AS] alias] SET …` from the UPDATE at `at`. */
  const update = (at: number) => {
    let i = at + 1
    if (isWord(t[i], "only")) i++
    const name = qualifiedName(s, i)
    if (name === undefined) return
    i = name.end
    if (isOp(t[i], "*")) i++
    if (isWord(t[i], "as")) i += 2
    else if (isName(t[i]) && !isWord(t[i], "set")) i++
    if (isWord(t[i], "set")) setList(i, name.text)
  }

  t.forEach((tok, i) => {
    if (tok.kind !== "word") return
    if (tok.text === "insert" && isWord(t[i + 1], "into")) insert(i + 1)
    else if (tok.text === "merge" && isWord(t[i + 1], "into")) {
      const name = qualifiedName(s, i + 2)
      if (name !== undefined) writeTarget.set(s.depth[i]!, name.text)
    } else if (tok.text === "update") {
      if (isWord(t[i - 1], "do", "then") && isWord(t[i + 1], "set")) setList(i + 1, writeTarget.get(s.depth[i]!))
      // FOR [NO KEY] UPDATE locks rows; ON UPDATE is a foreign key's action
      else if (!isWord(t[i - 1], "for", "key", "on")) update(i)
    }
  })

  t.forEach((tok, p) => {
    if (tok.kind !== "param") return
    const n = Number(tok.text.slice(1))
    if (n < 1 || n > highest) return
    const [, end] = operandSpan(s, p, false)
    if (
      (isWord(t[end], "is") &&
        (isWord(t[end + 1], "null") || (isWord(t[end + 1], "not") && isWord(t[end + 2], "null")))) ||
      isWord(t[end], "isnull", "notnull")
    ) {
      guarded[n - 1] = true
      return
    }
    if (compared[n - 1] !== undefined) return
    const [from, to] = operandSpan(s, p, true)
    // `f(a := $1)` is a named argument, not a comparison
    const left = isOp(t[from - 1], ...COMPARISONS) && !assignments.has(from - 1) && !isOp(t[from - 2], ":")
    const right = isOp(t[to], ...COMPARISONS) && !assignments.has(to)
    if (left) compared[n - 1] = render([...otherOperand(s, from - 1, "left"), ...t.slice(from - 1, to)])
    else if (right) compared[n - 1] = render([...t.slice(from, to + 1), ...otherOperand(s, to, "right")])
  })

  return Array.from({ length: count }, (_, i) => ({
    comparedWithEquals: guarded[i] ? undefined : compared[i],
    writes: writes[i] ?? []
  }))
}

/** A NOT NULL column among the written targets: its index in the lookup and its catalog name. */
export interface NotNullRow {
  readonly i: number
  readonly relname: string
  readonly attname: string
}

/** Which of `targets` are NOT NULL columns, as one statement for the describer's connection (tables resolved on its search_path). */
export const notNullLookup = (targets: ReadonlyArray<ParamTarget>) => ({
  text: `SELECT t.i::int4 AS i, c.relname::text AS relname, a.attname::text AS attname
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(tbl, col, i)
         JOIN pg_attribute a ON a.attrelid = to_regclass(t.tbl) AND a.attname = t.col AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_class c ON c.oid = a.attrelid
         WHERE a.attnotnull`,
  values: [targets.map((target) => target.table), targets.map((target) => target.column)] as ReadonlyArray<unknown>
})

/**
 * The described parameters with what the text says of their use: the unguarded `=` comparison, and the first NOT NULL
 * column each is written into (looked up through `query`, run on the describer's connection, only when something is written).
 */
export const describeParams = <E>(
  text: string,
  params: ReadonlyArray<DescribedType>,
  query: (text: string, values: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<NotNullRow>, E>
): Effect.Effect<ReadonlyArray<DescribedParam>, E> =>
  Effect.gen(function* () {
    const uses = paramUses(text, params.length)
    const targets = uses.flatMap((use, n) => use.writes.map((target) => ({ n, target })))
    const notNull = new Map<number, string>()
    if (targets.length > 0) {
      const lookup = notNullLookup(targets.map((w) => w.target))
      const rows = [...(yield* query(lookup.text, lookup.values))].sort((a, b) => a.i - b.i)
      for (const row of rows) {
        const n = targets[row.i - 1]!.n
        if (!notNull.has(n)) notNull.set(n, `${row.relname}.${row.attname}`)
      }
    }
    return params.map((param, n): DescribedParam => {
      const compared = uses[n]?.comparedWithEquals
      const target = notNull.get(n)
      return {
        ...param,
        ...(compared === undefined ? {} : { comparedWithEquals: compared }),
        ...(target === undefined ? {} : { notNullTarget: target })
      }
    })
  })
