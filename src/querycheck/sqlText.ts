// A small SQL lexer: finds the output expressions of a statement (select list or RETURNING) and proves some of them non-null.

export type TokenKind =
  "word" | "quoted" | "string" | "number" | "param" | "op" | "open" | "close" | "comma" | "semicolon"

export interface Token {
  readonly kind: TokenKind
  /** Lower-cased for words; the raw text otherwise (the inner text for quoted identifiers). */
  readonly text: string
}

const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c)
const isWordPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c)

/** Splits SQL into tokens, dropping comments and whitespace. Never throws: unknown characters become operators. */
export const tokenize = (sql: string): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++
    } else if (c === "/" && sql[i + 1] === "*") {
      // block comments nest in PostgreSQL
      let depth = 1
      i += 2
      while (i < n && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") {
          depth++
          i += 2
        } else if (sql[i] === "*" && sql[i + 1] === "/") {
          depth--
          i += 2
        } else i++
      }
    } else if (c === "'" || ((c === "E" || c === "e") && sql[i + 1] === "'")) {
      const escapes = c !== "'"
      let j = escapes ? i + 2 : i + 1
      while (j < n) {
        if (escapes && sql[j] === "\\") j += 2
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2
        else if (sql[j] === "'") break
        else j++
      }
      tokens.push({ kind: "string", text: sql.slice(i, j + 1) })
      i = j + 1
    } else if (c === "$" && /[0-9]/.test(sql[i + 1] ?? "")) {
      let j = i + 1
      while (j < n && /[0-9]/.test(sql[j]!)) j++
      tokens.push({ kind: "param", text: sql.slice(i, j) })
      i = j
    } else if (c === "$") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (m === null) {
        tokens.push({ kind: "op", text: c })
        i++
      } else {
        const tag = m[0]
        const end = sql.indexOf(tag, i + tag.length)
        const stop = end === -1 ? n : end + tag.length
        tokens.push({ kind: "string", text: sql.slice(i, stop) })
        i = stop
      }
    } else if (c === '"') {
      let j = i + 1
      let text = ""
      while (j < n) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          text += '"'
          j += 2
        } else if (sql[j] === '"') break
        else {
          text += sql[j]
          j++
        }
      }
      tokens.push({ kind: "quoted", text })
      i = j + 1
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const m = /^(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][+-]?[0-9]+)?/.exec(sql.slice(i))!
      tokens.push({ kind: "number", text: m[0] })
      i += m[0].length
    } else if (isWordStart(c)) {
      let j = i + 1
      while (j < n && isWordPart(sql[j]!)) j++
      tokens.push({ kind: "word", text: sql.slice(i, j).toLowerCase() })
      i = j
    } else if (c === "(" || c === "[") {
      tokens.push({ kind: "open", text: c })
      i++
    } else if (c === ")" || c === "]") {
      tokens.push({ kind: "close", text: c })
      i++
    } else if (c === ",") {
      tokens.push({ kind: "comma", text: c })
      i++
    } else if (c === ";") {
      tokens.push({ kind: "semicolon", text: c })
      i++
    } else if (c === ":" && sql[i + 1] === ":") {
      tokens.push({ kind: "op", text: "::" })
      i += 2
    } else {
      let j = i + 1
      while (j < n && /[+\-*/<>=~!@#%^&|`?]/.test(sql[j]!) && /[+\-*/<>=~!@#%^&|`?]/.test(c)) j++
      tokens.push({ kind: "op", text: sql.slice(i, j) })
      i = j
    }
  }
  return tokens
}

const isWord = (t: Token | undefined, ...words: ReadonlyArray<string>) =>
  t !== undefined && t.kind === "word" && words.includes(t.text)

/** Index just past the group opened at `start` (which must be an "open" token). */
const skipGroup = (tokens: ReadonlyArray<Token>, start: number): number => {
  let depth = 0
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === "open") depth++
    else if (t.kind === "close" && --depth === 0) return i + 1
  }
  return tokens.length
}

/** Splits tokens at depth-0 commas. */
const splitTopLevel = (tokens: ReadonlyArray<Token>): Array<Array<Token>> => {
  const items: Array<Array<Token>> = [[]]
  let depth = 0
  for (const t of tokens) {
    if (t.kind === "open") depth++
    if (t.kind === "close") depth--
    if (t.kind === "comma" && depth === 0) items.push([])
    else items[items.length - 1]!.push(t)
  }
  return items.filter((item) => item.length > 0)
}

const SELECT_LIST_END = new Set([
  "from",
  "where",
  "group",
  "having",
  "window",
  "order",
  "limit",
  "offset",
  "fetch",
  "for",
  "union",
  "intersect",
  "except",
  "into"
])

/**
 * The output expressions of the statement, in order, without their aliases; `undefined` when they cannot be
 * told apart reliably (`*`, set operations, VALUES, parenthesised statements), in which case nothing is proven.
 */
export const outputExpressions = (sql: string): ReadonlyArray<ReadonlyArray<Token>> | undefined => {
  const tokens = tokenize(sql)
  let i = 0
  if (isWord(tokens[i], "with")) {
    i++
    if (isWord(tokens[i], "recursive")) i++
    // name [(columns)] AS [NOT] [MATERIALIZED] (statement) [, …]
    for (;;) {
      while (i < tokens.length && tokens[i]!.kind !== "open") i++
      // a column list comes before AS; the statement after it
      if (!isWord(tokens[i - 1], "as", "materialized")) {
        i = skipGroup(tokens, i)
        continue
      }
      i = skipGroup(tokens, i)
      if (tokens[i]?.kind === "comma") {
        i++
        continue
      }
      break
    }
  }
  const head = tokens[i]
  if (isWord(head, "select")) {
    const rest = tokens.slice(i + 1)
    let depth = 0
    let end = rest.length
    for (let j = 0; j < rest.length; j++) {
      const t = rest[j]!
      if (t.kind === "open") depth++
      else if (t.kind === "close") depth--
      else if (depth === 0 && (t.kind === "semicolon" || (t.kind === "word" && SELECT_LIST_END.has(t.text)))) {
        end = j
        break
      }
    }
    // a set operation anywhere at depth 0 makes a column's nullability depend on every branch
    let d = 0
    for (const t of rest) {
      if (t.kind === "open") d++
      else if (t.kind === "close") d--
      else if (d === 0 && isWord(t, "union", "intersect", "except")) return undefined
    }
    let list = rest.slice(0, end)
    if (isWord(list[0], "all")) list = list.slice(1)
    else if (isWord(list[0], "distinct")) {
      list = list.slice(1)
      if (isWord(list[0], "on") && list[1]?.kind === "open") list = list.slice(skipGroup(list, 1))
    }
    return itemsWithoutAliases(list)
  }
  if (isWord(head, "insert", "update", "delete", "merge")) {
    let depth = 0
    for (let j = i; j < tokens.length; j++) {
      const t = tokens[j]!
      if (t.kind === "open") depth++
      else if (t.kind === "close") depth--
      else if (depth === 0 && isWord(t, "returning")) {
        const rest = tokens.slice(j + 1)
        const stop = rest.findIndex((r) => r.kind === "semicolon")
        return itemsWithoutAliases(stop === -1 ? rest : rest.slice(0, stop))
      }
    }
    return []
  }
  return undefined
}

const itemsWithoutAliases = (list: ReadonlyArray<Token>): ReadonlyArray<ReadonlyArray<Token>> | undefined => {
  const items = splitTopLevel(list)
  const stripped: Array<ReadonlyArray<Token>> = []
  for (const item of items) {
    const last = item[item.length - 1]!
    if (last.kind === "op" && last.text === "*") return undefined
    stripped.push(stripAlias(item))
  }
  return stripped
}

const stripAlias = (item: ReadonlyArray<Token>): ReadonlyArray<Token> => {
  const n = item.length
  if (n >= 3 && isWord(item[n - 2], "as")) return item.slice(0, n - 2)
  const last = item[n - 1]
  const before = item[n - 2]
  // `expr alias`: an identifier right after a complete operand (not after `.`, `::` or an operator)
  if (
    n >= 2 &&
    (last?.kind === "word" || last?.kind === "quoted") &&
    before !== undefined &&
    (before.kind === "close" ||
      before.kind === "string" ||
      before.kind === "number" ||
      before.kind === "quoted" ||
      (before.kind === "word" && !isWord(before, "not", "distinct", "all")))
  ) {
    return item.slice(0, n - 1)
  }
  return item
}

/** Why an expression is never NULL, or `undefined` when that cannot be proven from its text. */
export const provenNotNull = (expr: ReadonlyArray<Token>): string | undefined => {
  let e = expr
  // a cast keeps the operand's nullability: look at what comes before the first depth-0 `::`
  let depth = 0
  for (let i = 0; i < e.length; i++) {
    const t = e[i]!
    if (t.kind === "open") depth++
    else if (t.kind === "close") depth--
    else if (depth === 0 && t.kind === "op" && t.text === "::" && i > 0) {
      e = e.slice(0, i)
      break
    }
  }
  if (e.length === 0) return undefined
  // (expr)
  if (e[0]!.kind === "open" && skipGroup(e, 0) === e.length) return provenNotNull(e.slice(1, -1))
  if (e.length === 1) {
    const t = e[0]!
    if (t.kind === "number" || t.kind === "string") return "literal"
    if (isWord(t, "true", "false")) return "literal"
    return undefined
  }
  // typed literal: `interval '1 day'`, `date '2020-01-01'`
  if (e.length === 2 && e[0]!.kind === "word" && e[1]!.kind === "string") return "literal"
  // -1
  if (e.length === 2 && e[0]!.kind === "op" && e[0]!.text === "-" && e[1]!.kind === "number") return "literal"
  const head = e[0]!
  const call = e[1]?.kind === "open" ? skipGroup(e, 1) : -1
  if (isWord(head, "cast") && call === e.length) {
    const inner = e.slice(2, -1)
    const as = inner.findIndex((t, i) => isWord(t, "as") && i > 0)
    return as === -1 ? undefined : provenNotNull(inner.slice(0, as))
  }
  if (isWord(head, "count") && call !== -1) {
    // count(…) [FILTER (…)] [OVER …]
    const tail = e.slice(call)
    if (tail.length === 0 || isWord(tail[0], "filter", "over")) return "count(*)"
    return undefined
  }
  if (isWord(head, "exists") && call === e.length) return "exists"
  if (isWord(head, "not") && isWord(e[1], "exists") && e[2]?.kind === "open" && skipGroup(e, 2) === e.length)
    return "exists"
  if (isWord(head, "coalesce") && call === e.length) {
    const args = splitTopLevel(e.slice(2, -1))
    if (args.some((arg) => provenNotNull(arg) !== undefined)) return "coalesce with a non-null argument"
  }
  return undefined
}
