// A small SQL lexer: the shape of a statement (set operation branches, output items, FROM clause) and which output expressions are never NULL.

export type TokenKind =
  "word" | "quoted" | "string" | "number" | "param" | "op" | "open" | "close" | "comma" | "semicolon"

export interface Token {
  readonly kind: TokenKind
  /** Lower-cased for words; the raw text otherwise (the inner text for quoted identifiers). */
  readonly text: string
  /** Where the token is in the statement: `sql.slice(start, end)` is its source text. */
  readonly start: number
  readonly end: number
}

const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c)
const isWordPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c)

/** Splits SQL into tokens, dropping comments and whitespace. Never throws: unknown characters become operators. */
export const tokenize = (sql: string): ReadonlyArray<Token> => {
  const tokens: Array<{ -readonly [K in keyof Token]: Token[K] }> = []
  let i = 0
  let at = 0
  const n = sql.length
  // each turn of the loop reads one token (or skips blanks): a token ends where the next turn starts
  const push = (token: Pick<Token, "kind" | "text">) => tokens.push({ ...token, start: at, end: at })
  while (i < n) {
    const last = tokens[tokens.length - 1]
    if (last !== undefined && last.start === at && last.end === at) last.end = i
    at = i
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
      push({ kind: "string", text: sql.slice(i, j + 1) })
      i = j + 1
    } else if (c === "$" && /[0-9]/.test(sql[i + 1] ?? "")) {
      let j = i + 1
      while (j < n && /[0-9]/.test(sql[j]!)) j++
      push({ kind: "param", text: sql.slice(i, j) })
      i = j
    } else if (c === "$") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (m === null) {
        push({ kind: "op", text: c })
        i++
      } else {
        const tag = m[0]
        const end = sql.indexOf(tag, i + tag.length)
        const stop = end === -1 ? n : end + tag.length
        push({ kind: "string", text: sql.slice(i, stop) })
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
      push({ kind: "quoted", text })
      i = j + 1
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const m = /^(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][+-]?[0-9]+)?/.exec(sql.slice(i))!
      push({ kind: "number", text: m[0] })
      i += m[0].length
    } else if (isWordStart(c)) {
      let j = i + 1
      while (j < n && isWordPart(sql[j]!)) j++
      push({ kind: "word", text: sql.slice(i, j).toLowerCase() })
      i = j
    } else if (c === "(" || c === "[") {
      push({ kind: "open", text: c })
      i++
    } else if (c === ")" || c === "]") {
      push({ kind: "close", text: c })
      i++
    } else if (c === ",") {
      push({ kind: "comma", text: c })
      i++
    } else if (c === ";") {
      push({ kind: "semicolon", text: c })
      i++
    } else if (c === ":" && sql[i + 1] === ":") {
      push({ kind: "op", text: "::" })
      i += 2
    } else {
      let j = i + 1
      while (j < n && /[+\-*/<>=~!@#%^&|`?]/.test(sql[j]!) && /[+\-*/<>=~!@#%^&|`?]/.test(c)) j++
      push({ kind: "op", text: sql.slice(i, j) })
      i = j
    }
  }
  const last = tokens[tokens.length - 1]
  if (last !== undefined && last.start === at && last.end === at) last.end = i
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

const isName = (t: Token | undefined): t is Token => t !== undefined && (t.kind === "word" || t.kind === "quoted")
const isOp = (t: Token | undefined, text: string) => t !== undefined && t.kind === "op" && t.text === text
const isParen = (t: Token | undefined) => t !== undefined && t.kind === "open" && t.text === "("

/** The source text of tokens[from, to) (token positions are offsets into `sql`). */
const textOf = (sql: string, tokens: ReadonlyArray<Token>, from: number, to: number): string =>
  from >= to ? "" : sql.slice(tokens[from]!.start, tokens[to - 1]!.end)

/** The first index in [from, to) of a depth-0 token that `stop` accepts, else `to`. */
const findTop = (
  tokens: ReadonlyArray<Token>,
  from: number,
  stop: (t: Token, i: number) => boolean,
  to: number = tokens.length
): number => {
  let depth = 0
  for (let i = from; i < to; i++) {
    const t = tokens[i]!
    if (t.kind === "open") depth++
    else if (t.kind === "close") depth--
    else if (depth === 0 && stop(t, i)) return i
  }
  return to
}

/** The clauses after FROM … WHERE: none of them changes what a row of the FROM clause holds. */
const SELECT_TAIL = ["group", "having", "window", "order", "limit", "offset", "fetch", "for"]

/** The words that end a select list (at depth 0). */
export const SELECT_LIST_END: ReadonlySet<string> = new Set(["from", "where", ...SELECT_TAIL, "into"])

/** Words after a FROM item that are not its alias. */
const NOT_ALIAS = new Set([
  "on",
  "using",
  "join",
  "left",
  "right",
  "full",
  "inner",
  "outer",
  "cross",
  "natural",
  "lateral",
  "where",
  ...SELECT_TAIL,
  "union",
  "intersect",
  "except",
  "returning",
  "set",
  "tablesample",
  "with",
  "values",
  "select",
  "default",
  "overriding"
])

/** `from` as a clause keyword, not the one of `IS [NOT] DISTINCT FROM`. */
const isFromClause = (tokens: ReadonlyArray<Token>, i: number) =>
  isWord(tokens[i], "from") && !isWord(tokens[i - 1], "distinct")

/** A common table expression of a WITH clause. */
export interface Cte {
  readonly name: string
  /** Its column list, if it has one. */
  readonly columns: ReadonlyArray<string> | undefined
  /** Its statement, without the parentheses. */
  readonly body: string
}

export interface WithClause {
  readonly recursive: boolean
  readonly ctes: ReadonlyArray<Cte>
  /** The definitions as written (`a AS (…), b AS (…)`). */
  readonly definitions: string
}

/** The names of a parenthesised list (`(a, b)` of a CTE or an alias): the first token of each element. */
const namesOf = (inner: ReadonlyArray<Token>): ReadonlyArray<string> =>
  splitTopLevel(inner).map((item) => (isName(item[0]) ? item[0].text : ""))

/** The WITH clause at the start of `tokens`, and the index of the statement after it; undefined if it cannot be read. */
const parseWith = (
  sql: string,
  tokens: ReadonlyArray<Token>
): { readonly clause: WithClause | undefined; readonly next: number } | undefined => {
  if (!isWord(tokens[0], "with")) return { clause: undefined, next: 0 }
  let i = 1
  const recursive = isWord(tokens[i], "recursive")
  if (recursive) i++
  const first = i
  const ctes: Array<Cte> = []
  for (;;) {
    const name = tokens[i]
    if (!isName(name)) return undefined
    i++
    let columns: ReadonlyArray<string> | undefined
    if (isParen(tokens[i])) {
      const close = skipGroup(tokens, i)
      columns = namesOf(tokens.slice(i + 1, close - 1))
      i = close
    }
    if (!isWord(tokens[i], "as")) return undefined
    i++
    if (isWord(tokens[i], "not")) i++
    if (isWord(tokens[i], "materialized")) i++
    if (!isParen(tokens[i])) return undefined
    const close = skipGroup(tokens, i)
    ctes.push({ name: name.text, columns, body: textOf(sql, tokens, i + 1, close - 1) })
    i = close
    if (tokens[i]?.kind !== "comma") break
    i++
  }
  return { clause: { recursive, ctes, definitions: textOf(sql, tokens, first, i) }, next: i }
}

/** `body` under the WITH clause `clause` (merged with the body's own WITH clause), so it sees the same CTEs. */
export const withPrefix = (clause: WithClause | undefined, body: string): string => {
  if (clause === undefined) return body
  const tokens = tokenize(body)
  if (isWord(tokens[0], "with")) {
    const recursive = isWord(tokens[1], "recursive")
    const rest = tokens[recursive ? 2 : 1]
    if (rest === undefined) return body
    return `WITH ${clause.recursive || recursive ? "RECURSIVE " : ""}${clause.definitions}, ${body.slice(rest.start)}`
  }
  return `WITH ${clause.recursive ? "RECURSIVE " : ""}${clause.definitions} ${body}`
}

/** A column reference: `a`, `t.a` or `s.t.a`. */
export interface ColumnRef {
  /** The name it is qualified with (`t` in `t.a` and `s.t.a`), if any. */
  readonly qualifier: string | undefined
  readonly column: string
  /** Its SQL text. */
  readonly text: string
}

/** Words that read as a bare column name but are values. */
const VALUE_WORDS = new Set([
  "true",
  "false",
  "null",
  "default",
  "current_date",
  "current_time",
  "current_timestamp",
  "localtime",
  "localtimestamp",
  "current_user",
  "current_role",
  "current_catalog",
  "current_schema",
  "session_user",
  "user"
])

const identifierSql = (t: Token) => (t.kind === "quoted" ? `"${t.text.replace(/"/g, '""')}"` : t.text)

/** The column reference `expr` is, if it is one. */
export const columnRefOf = (expr: ReadonlyArray<Token>): ColumnRef | undefined => {
  const n = expr.length
  if (n !== 1 && n !== 3 && n !== 5) return undefined
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0 ? !isName(expr[i]) : !isOp(expr[i], ".")) return undefined
  }
  if (n === 1 && expr[0]!.kind === "word" && VALUE_WORDS.has(expr[0]!.text)) return undefined
  const names = expr.filter((_, i) => i % 2 === 0)
  return {
    qualifier: n === 1 ? undefined : names[names.length - 2]!.text,
    column: names[names.length - 1]!.text,
    text: names.map(identifierSql).join(".")
  }
}

/** An output item of a select list or RETURNING list. */
export type OutputItem =
  | { readonly kind: "expression"; readonly expr: ReadonlyArray<Token>; readonly text: string }
  /** `*` (qualifier undefined) or `t.*`: one output per column of the FROM items it names. */
  | { readonly kind: "star"; readonly qualifier: string | undefined; readonly text: string }
  /** `(expression).*`: the fields of a composite value. */
  | { readonly kind: "composite-star"; readonly text: string }

/** A FROM item, as far as nullability needs it. */
export interface FromItem {
  /** The name its columns are qualified with (its alias, else a table's or function's own name); none for an unaliased subquery. */
  readonly alias: string | undefined
  readonly source:
    | { readonly kind: "relation"; readonly name: string; readonly qualified: boolean }
    | { readonly kind: "subquery"; readonly body: string }
    | { readonly kind: "function" }
  /** Its column alias list, if it has one. */
  readonly columns: ReadonlyArray<string> | undefined
  /** Why its columns can be NULL whatever it holds ("inner side of LEFT JOIN"), when it is on a nullable side of an outer join. */
  readonly outerJoin: string | undefined
}

export interface FromClause {
  readonly items: ReadonlyArray<FromItem>
  /** Whether a join merges columns (USING, NATURAL): an unqualified name may then stand for two items' columns. */
  readonly merges: boolean
}

export type StatementShape =
  /** UNION / INTERSECT / EXCEPT: each branch as a statement of its own (with the WITH clause it can see). */
  | { readonly kind: "set-operation"; readonly operator: string; readonly branches: ReadonlyArray<string> }
  /** VALUES: the expressions of each row. */
  | { readonly kind: "values"; readonly rows: ReadonlyArray<ReadonlyArray<ReadonlyArray<Token>>> }
  /** SELECT, or INSERT / UPDATE / DELETE with their RETURNING list. */
  | {
      readonly kind: "rows"
      readonly items: ReadonlyArray<OutputItem>
      /** The FROM items its output can refer to; undefined when they cannot be read. */
      readonly from: FromClause | undefined
      readonly with: WithClause | undefined
      /** GROUP BY: none, plain, or with grouping sets (ROLLUP, CUBE, GROUPING SETS, `()`), where grouped columns can be NULL. */
      readonly grouping: "none" | "plain" | "sets"
      /** The same statement with `exprs` as its output list and without GROUP BY … FOR: the values of `exprs` per row. */
      readonly derive: (exprs: ReadonlyArray<string>) => string
    }
  | { readonly kind: "other" }

const OTHER: StatementShape = { kind: "other" }

/** The shape of a statement; `other` when it cannot be told reliably, in which case nothing is proven from it. */
export const statementShape = (sql: string): StatementShape => {
  const all = tokenize(sql)
  const semicolon = all.findIndex((t) => t.kind === "semicolon")
  const tokens = semicolon === -1 ? all : all.slice(0, semicolon)
  const withClause = parseWith(sql, tokens)
  if (withClause === undefined) return OTHER
  return bodyShape(sql, tokens, withClause.next, withClause.clause)
}

/** tokens[from, to) without the parentheses that enclose all of it. */
const unwrapped = (sql: string, tokens: ReadonlyArray<Token>, from: number, to: number): string => {
  let a = from
  let b = to
  while (b - a >= 2 && isParen(tokens[a]) && skipGroup(tokens, a) === b) {
    a++
    b--
  }
  return textOf(sql, tokens, a, b)
}

const bodyShape = (
  sql: string,
  tokens: ReadonlyArray<Token>,
  start: number,
  clause: WithClause | undefined
): StatementShape => {
  const operators: Array<number> = []
  let depth = 0
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === "open") depth++
    else if (t.kind === "close") depth--
    else if (depth === 0 && isWord(t, "union", "intersect", "except")) operators.push(i)
  }
  if (operators.length > 0) {
    const branches: Array<string> = []
    for (let k = 0; k <= operators.length; k++) {
      let from = k === 0 ? start : operators[k - 1]! + 1
      if (k > 0 && isWord(tokens[from], "all", "distinct")) from++
      // ORDER BY … LIMIT … after the last branch apply to the whole result
      const to =
        k < operators.length
          ? operators[k]!
          : findTop(tokens, from, (t) => isWord(t, "order", "limit", "offset", "fetch", "for"))
      branches.push(withPrefix(clause, unwrapped(sql, tokens, from, to)))
    }
    const names = new Set(operators.map((i) => tokens[i]!.text.toUpperCase()))
    return { kind: "set-operation", operator: names.size === 1 ? [...names][0]! : "set operation", branches }
  }
  const head = tokens[start]
  if (isParen(head)) {
    const close = skipGroup(tokens, start)
    if (close !== tokens.length && !isWord(tokens[close], "order", "limit", "offset", "fetch", "for")) return OTHER
    return statementShape(withPrefix(clause, unwrapped(sql, tokens, start, close)))
  }
  if (isWord(head, "select")) return selectShape(sql, tokens, start, clause)
  if (isWord(head, "values")) return valuesShape(tokens, start)
  if (isWord(head, "insert", "update", "delete")) return modifyShape(sql, tokens, start, clause)
  return OTHER
}

const outputItems = (sql: string, list: ReadonlyArray<Token>): ReadonlyArray<OutputItem> =>
  splitTopLevel(list).map((item): OutputItem => {
    const n = item.length
    const text = textOf(sql, item, 0, n)
    if (isOp(item[n - 1], "*")) {
      if (n === 1) return { kind: "star", qualifier: undefined, text }
      if (n >= 3 && isOp(item[n - 2], ".") && isName(item[n - 3]) && (n === 3 || isOp(item[n - 4], ".")))
        return { kind: "star", qualifier: item[n - 3]!.text, text }
      return { kind: "composite-star", text }
    }
    const expr = stripAlias(item)
    return { kind: "expression", expr, text: textOf(sql, expr, 0, expr.length) }
  })

const selectShape = (
  sql: string,
  tokens: ReadonlyArray<Token>,
  select: number,
  clause: WithClause | undefined
): StatementShape => {
  const listEnd = findTop(
    tokens,
    select + 1,
    (t, i) => t.kind === "word" && SELECT_LIST_END.has(t.text) && (t.text !== "from" || isFromClause(tokens, i))
  )
  if (isWord(tokens[listEnd], "into")) return OTHER
  let list = tokens.slice(select + 1, listEnd)
  if (isWord(list[0], "all")) list = list.slice(1)
  else if (isWord(list[0], "distinct")) {
    list = list.slice(1)
    if (isWord(list[0], "on") && isParen(list[1])) list = list.slice(skipGroup(list, 1))
  }
  const tail = findTop(tokens, listEnd, (t) => isWord(t, ...SELECT_TAIL))
  let from: FromClause | undefined = { items: [], merges: false }
  if (isWord(tokens[listEnd], "from")) {
    const end = findTop(tokens, listEnd + 1, (t) => isWord(t, "where", ...SELECT_TAIL))
    from = parseFrom(sql, tokens.slice(listEnd + 1, end))
  }
  let grouping: "none" | "plain" | "sets" = "none"
  if (isWord(tokens[tail], "group") && isWord(tokens[tail + 1], "by")) {
    const end = findTop(tokens, tail + 2, (t) =>
      isWord(t, "having", "window", "order", "limit", "offset", "fetch", "for")
    )
    let keys = tokens.slice(tail + 2, end)
    if (isWord(keys[0], "all", "distinct")) keys = keys.slice(1)
    const sets =
      keys.length === 0 ||
      findTop(keys, 0, (t) => isWord(t, "rollup", "cube", "grouping")) < keys.length ||
      splitTopLevel(keys).some((key) => key.length === 2 && isParen(key[0]) && key[1]!.kind === "close")
    grouping = sets ? "sets" : "plain"
  }
  const prefix = sql.slice(0, tokens[select]!.start)
  const rest = textOf(sql, tokens, listEnd, tail)
  return {
    kind: "rows",
    items: outputItems(sql, list),
    from,
    with: clause,
    grouping,
    derive: (exprs) => `${prefix}SELECT ${exprs.join(", ")}${rest === "" ? "" : ` ${rest}`}`
  }
}

const valuesShape = (tokens: ReadonlyArray<Token>, values: number): StatementShape => {
  const end = findTop(tokens, values + 1, (t) => isWord(t, "order", "limit", "offset", "fetch"))
  const rows: Array<ReadonlyArray<ReadonlyArray<Token>>> = []
  for (const row of splitTopLevel(tokens.slice(values + 1, end))) {
    if (!isParen(row[0]) || skipGroup(row, 0) !== row.length) return OTHER
    rows.push(splitTopLevel(row.slice(1, -1)))
  }
  return { kind: "values", rows }
}

const modifyShape = (
  sql: string,
  tokens: ReadonlyArray<Token>,
  head: number,
  clause: WithClause | undefined
): StatementShape => {
  const returning = findTop(tokens, head, (t) => isWord(t, "returning"))
  const derive = (exprs: ReadonlyArray<string>) => `${textOf(sql, tokens, 0, returning)} RETURNING ${exprs.join(", ")}`
  if (returning === tokens.length)
    return { kind: "rows", items: [], from: undefined, with: clause, grouping: "none", derive }
  // the target table, then UPDATE's FROM list or DELETE's USING list
  const verb = tokens[head]!.text
  const targetAt = verb === "update" ? head + 1 : head + 2
  const target =
    verb === "insert"
      ? insertTarget(tokens, head)
      : verb === "update" || isWord(tokens[head + 1], "from")
        ? parsePrimary(sql, tokens.slice(targetAt, returning), 0, { merges: false })
        : undefined
  let from: FromClause | undefined
  if (target !== undefined && target.items.length === 1 && target.items[0]!.source.kind === "relation") {
    from = { items: target.items, merges: false }
    const more = verb === "update" ? "from" : verb === "delete" ? "using" : undefined
    const at =
      more === undefined
        ? returning
        : findTop(
            tokens,
            targetAt,
            (t, i) => isWord(t, more) && (more !== "from" || isFromClause(tokens, i)),
            returning
          )
    if (at < returning) {
      const end = findTop(tokens, at + 1, (t) => isWord(t, "where"), returning)
      const list = parseFrom(sql, tokens.slice(at + 1, end))
      from = list === undefined ? undefined : { items: [...target.items, ...list.items], merges: list.merges }
    }
  }
  return {
    kind: "rows",
    items: outputItems(sql, tokens.slice(returning + 1)),
    from,
    with: clause,
    grouping: "none",
    derive
  }
}

/** `INSERT INTO [schema.]table [AS alias]`: the table (a column list may follow, so no call syntax here). */
const insertTarget = (
  tokens: ReadonlyArray<Token>,
  head: number
): { readonly items: Array<MutableFromItem> } | undefined => {
  if (!isWord(tokens[head + 1], "into")) return undefined
  let i = head + 2
  const parts: Array<string> = []
  while (isName(tokens[i])) {
    parts.push(tokens[i]!.text)
    if (!isOp(tokens[i + 1], ".")) break
    i += 2
  }
  if (parts.length === 0) return undefined
  i++
  const name = parts[parts.length - 1]!
  const alias = isWord(tokens[i], "as") && isName(tokens[i + 1]) ? tokens[i + 1]!.text : name
  return {
    items: [
      {
        alias,
        source: { kind: "relation", name, qualified: parts.length > 1 },
        columns: undefined,
        outerJoin: undefined
      }
    ]
  }
}

type MutableFromItem = { -readonly [K in keyof FromItem]: FromItem[K] }

const parseFrom = (sql: string, tokens: ReadonlyArray<Token>): FromClause | undefined => {
  const state = { merges: false }
  const items: Array<FromItem> = []
  for (const part of splitTopLevel(tokens)) {
    const tree = parseJoinTree(sql, part, state)
    if (tree === undefined) return undefined
    items.push(...tree)
  }
  return { items, merges: state.merges }
}

/** Where an ON condition ends: at the next join of the same level (`left(…)` and `right(…)` are functions). */
const joinConditionEnd = (t: ReadonlyArray<Token>, from: number) =>
  findTop(
    t,
    from,
    (tok, k) =>
      !isOp(t[k - 1], ".") &&
      (isWord(tok, "join", "inner", "cross", "natural", "full") || (isWord(tok, "left", "right") && !isParen(t[k + 1])))
  )

const markOuter = (items: ReadonlyArray<MutableFromItem>, reason: string) => {
  for (const item of items) item.outerJoin ??= reason
}

const parseJoinTree = (
  sql: string,
  t: ReadonlyArray<Token>,
  state: { merges: boolean }
): Array<MutableFromItem> | undefined => {
  const first = parsePrimary(sql, t, 0, state)
  if (first === undefined) return undefined
  let left = first.items
  let i = first.next
  while (i < t.length) {
    if (isWord(t[i], "natural")) {
      state.merges = true
      i++
    }
    let type = "inner"
    if (isWord(t[i], "left", "right", "full")) {
      type = t[i]!.text
      i++
      if (isWord(t[i], "outer")) i++
    } else if (isWord(t[i], "inner", "cross")) i++
    if (!isWord(t[i], "join")) return undefined
    const right = parsePrimary(sql, t, i + 1, state)
    if (right === undefined) return undefined
    i = right.next
    if (isWord(t[i], "on")) i = joinConditionEnd(t, i + 1)
    else if (isWord(t[i], "using") && isParen(t[i + 1])) {
      state.merges = true
      i = skipGroup(t, i + 1)
      if (isWord(t[i], "as")) i += 2
    }
    if (type === "left") markOuter(right.items, "inner side of LEFT JOIN")
    if (type === "right") markOuter(left, "inner side of LEFT JOIN")
    if (type === "full") {
      markOuter(left, "side of FULL JOIN")
      markOuter(right.items, "side of FULL JOIN")
    }
    left = [...left, ...right.items]
  }
  return left
}

/** One FROM item (or a parenthesised join) at tokens[i], and the index after it. */
const parsePrimary = (
  sql: string,
  t: ReadonlyArray<Token>,
  start: number,
  state: { merges: boolean }
): { readonly items: Array<MutableFromItem>; readonly next: number } | undefined => {
  let i = start
  while (isWord(t[i], "lateral", "only")) i++
  const head = t[i]
  let source: FromItem["source"] | undefined
  let nested: Array<MutableFromItem> | undefined
  let alias: string | undefined
  if (isParen(head)) {
    const close = skipGroup(t, i)
    const inner = t.slice(i + 1, close - 1)
    const join = findTop(inner, 0, (x) => isWord(x, "join")) < inner.length
    if (!join && (isWord(inner[0], "select", "with", "values") || isParen(inner[0]))) {
      source = { kind: "subquery", body: textOf(sql, t, i + 1, close - 1) }
    } else {
      nested = parseJoinTree(sql, inner, state)
      if (nested === undefined) return undefined
    }
    i = close
  } else if (isName(head)) {
    const parts = [head.text]
    i++
    while (isOp(t[i], ".") && isName(t[i + 1])) {
      parts.push(t[i + 1]!.text)
      i += 2
    }
    if (isParen(t[i])) {
      source = { kind: "function" }
      alias = parts[parts.length - 1]
      i = skipGroup(t, i)
    } else if (parts.length === 1 && parts[0] === "rows" && isWord(t[i], "from") && isParen(t[i + 1])) {
      source = { kind: "function" }
      i = skipGroup(t, i + 1)
    } else {
      source = { kind: "relation", name: parts[parts.length - 1]!, qualified: parts.length > 1 }
      alias = parts[parts.length - 1]
      if (isOp(t[i], "*")) i++
    }
    if (source.kind === "function" && isWord(t[i], "with") && isWord(t[i + 1], "ordinality")) i += 2
    if (source.kind === "relation" && isWord(t[i], "tablesample")) {
      i += 2
      if (isParen(t[i])) i = skipGroup(t, i)
      if (isWord(t[i], "repeatable") && isParen(t[i + 1])) i = skipGroup(t, i + 1)
    }
  } else return undefined
  let columns: ReadonlyArray<string> | undefined
  const as = isWord(t[i], "as")
  if (as) i++
  if (isName(t[i]) && (as || t[i]!.kind === "quoted" || !NOT_ALIAS.has(t[i]!.text))) {
    alias = t[i]!.text
    i++
  } else if (as && !isParen(t[i])) return undefined
  if (isParen(t[i])) {
    columns = namesOf(t.slice(i + 1, skipGroup(t, i) - 1))
    i = skipGroup(t, i)
  }
  if (nested !== undefined) {
    // an alias on a parenthesised join hides the names inside it
    if (alias !== undefined || columns !== undefined) return undefined
    return { items: nested, next: i }
  }
  return { items: [{ alias, source: source!, columns, outerJoin: undefined }], next: i }
}

/** Words that end an expression and are never an alias written without AS. */
const NOT_BARE_ALIAS = new Set(["end", "null", "true", "false", "unknown", "zone", "precision", "varying"])
/** Words after which the expression goes on (so the next word is not an alias). */
const CONTINUES = new Set([
  "not",
  "distinct",
  "all",
  "any",
  "some",
  "from",
  "is",
  "and",
  "or",
  "in",
  "like",
  "ilike",
  "similar",
  "between",
  "to",
  "at",
  "collate",
  "escape",
  "case",
  "when",
  "then",
  "else",
  "as"
])

const stripAlias = (item: ReadonlyArray<Token>): ReadonlyArray<Token> => {
  const n = item.length
  if (n >= 3 && isWord(item[n - 2], "as")) return item.slice(0, n - 2)
  const last = item[n - 1]
  const before = item[n - 2]
  // `expr alias`: an identifier right after a complete operand (not after `.`, `::`, an operator or a keyword that
  // needs more)
  if (
    n >= 2 &&
    (last?.kind === "quoted" || (last?.kind === "word" && !NOT_BARE_ALIAS.has(last.text))) &&
    before !== undefined &&
    (before.kind === "close" ||
      before.kind === "string" ||
      before.kind === "number" ||
      before.kind === "quoted" ||
      (before.kind === "word" && !CONTINUES.has(before.text)))
  ) {
    return item.slice(0, n - 1)
  }
  return item
}

/** Whether a value can be NULL, and why (a short human text). */
export interface Nullability {
  readonly nullable: boolean
  readonly reason: string
}

/** What an expression's nullability depends on in its statement. */
export interface ExpressionContext {
  /** The nullability of a column reference in a row of the statement's FROM clause, when known. */
  readonly column: (ref: ColumnRef) => Nullability | undefined
  /** Whether the statement has a plain GROUP BY, so that aggregates only ever see non-empty groups. */
  readonly grouped: boolean
}

export const UNKNOWN: Nullability = { nullable: true, reason: "expression: unknown" }
const nonNull = (reason: string): Nullability => ({ nullable: false, reason })
const noContext: ExpressionContext = { column: () => undefined, grouped: false }

/** Words of a type name after `::` (`double precision`, `timestamp with time zone`, `interval day to second`). */
const TYPE_WORDS = [
  "precision",
  "varying",
  "with",
  "without",
  "time",
  "zone",
  "year",
  "month",
  "day",
  "hour",
  "minute",
  "second",
  "to"
]

/**
 * `expr` without the casts at its end (`x::text`, `x::timestamp with time zone::date`): a cast keeps the operand's
 * nullability. Anything after the type name (`x::int + 1`, `x::text IS NULL`) leaves the expression as it is.
 */
const withoutCasts = (expr: ReadonlyArray<Token>): ReadonlyArray<Token> => {
  let depth = 0
  let cases = 0
  for (let i = 0; i < expr.length; i++) {
    const t = expr[i]!
    if (t.kind === "open") depth++
    else if (t.kind === "close") depth--
    else if (depth === 0 && isWord(t, "case")) cases++
    else if (depth === 0 && isWord(t, "end")) cases--
    else if (depth === 0 && cases === 0 && isOp(t, "::") && i > 0) {
      let j = i
      while (isOp(expr[j], "::")) {
        j++
        if (!isName(expr[j])) return expr
        j++
        while (isOp(expr[j], ".") && isName(expr[j + 1])) j += 2
        while (isWord(expr[j], ...TYPE_WORDS)) j++
        if (isParen(expr[j])) j = skipGroup(expr, j)
        while (expr[j]?.kind === "open" && expr[j]!.text === "[") j = skipGroup(expr, j)
      }
      return j === expr.length ? expr.slice(0, i) : expr
    }
  }
  return expr
}

/** Aggregates that return NULL on no input rows, and on a group only when their first argument is NULL for every row. */
const AGGREGATES = new Set([
  "max",
  "min",
  "sum",
  "avg",
  "array_agg",
  "string_agg",
  "bool_and",
  "bool_or",
  "every",
  "bit_and",
  "bit_or",
  "bit_xor",
  "json_agg",
  "jsonb_agg"
])

const caseNullability = (e: ReadonlyArray<Token>, ctx: ExpressionContext): Nullability => {
  let depth = 0
  let nested = 0
  let end = -1
  const marks: Array<number> = []
  for (let i = 1; i < e.length && end === -1; i++) {
    const t = e[i]!
    if (t.kind === "open") depth++
    else if (t.kind === "close") depth--
    else if (depth !== 0 || t.kind !== "word") continue
    else if (t.text === "case") nested++
    else if (t.text === "end") {
      if (nested === 0) end = i
      else nested--
    } else if (nested === 0 && (t.text === "when" || t.text === "then" || t.text === "else")) marks.push(i)
  }
  if (end !== e.length - 1) return UNKNOWN
  const results = marks.flatMap((at, k) =>
    isWord(e[at], "then", "else") ? [{ label: e[at]!.text, tokens: e.slice(at + 1, marks[k + 1] ?? end) }] : []
  )
  if (!results.some((r) => r.label === "else"))
    return { nullable: true, reason: "CASE without ELSE: NULL when no WHEN matches" }
  // every result is looked at, so that one pass sees every column the answer depends on
  const each = results.map((r) => nullabilityOf(r.tokens, ctx))
  const k = each.findIndex((n) => n.nullable)
  if (k === -1) return nonNull("CASE with every result non-null")
  return {
    nullable: true,
    reason: `CASE ${results[k]!.label === "else" ? "ELSE" : `THEN ${k + 1}`}: ${each[k]!.reason}`
  }
}

const aggregateNullability = (
  name: string,
  e: ReadonlyArray<Token>,
  call: number,
  ctx: ExpressionContext
): Nullability => {
  let tail = e.slice(call)
  let filtered = false
  if (isWord(tail[0], "filter") && isParen(tail[1])) {
    filtered = true
    tail = tail.slice(skipGroup(tail, 1))
  }
  // OVER (…): the frame may hold no row; WITHIN GROUP: another kind of aggregate
  if (tail.length > 0) return UNKNOWN
  if (!ctx.grouped) return { nullable: true, reason: `${name}() over no GROUP BY: NULL on no rows` }
  if (filtered) return { nullable: true, reason: `${name}() with FILTER: NULL when no row of a group passes` }
  let args = e.slice(2, call - 1)
  if (isWord(args[0], "distinct", "all")) args = args.slice(1)
  args = args.slice(
    0,
    findTop(args, 0, (t) => isWord(t, "order"))
  )
  const first = splitTopLevel(args)[0]
  if (first === undefined) return UNKNOWN
  const arg = nullabilityOf(first, ctx)
  return { nullable: arg.nullable, reason: `${name}() per group: ${arg.reason}` }
}

/**
 * Whether the expression can be NULL, and why. Only what is proven is non-null: anything not understood is
 * nullable ("expression: unknown"). Column references are answered by `ctx`.
 */
export const nullabilityOf = (expr: ReadonlyArray<Token>, ctx: ExpressionContext): Nullability => {
  const e = withoutCasts(expr)
  if (e.length === 0) return UNKNOWN
  if (isParen(e[0]) && skipGroup(e, 0) === e.length) {
    const inner = e.slice(1, -1)
    // no row gives NULL, whatever the sub-select's column is
    if (isWord(inner[0], "select", "with", "values")) return { nullable: true, reason: "scalar sub-select" }
    return nullabilityOf(inner, ctx)
  }
  if (e.length === 1) {
    const t = e[0]!
    if (t.kind === "number" || t.kind === "string") return nonNull("literal")
    if (isWord(t, "true", "false")) return nonNull("literal")
  }
  // typed literal: `interval '1 day'`, `date '2020-01-01'`
  if (e.length === 2 && e[0]!.kind === "word" && e[1]!.kind === "string") return nonNull("literal")
  // -1
  if (e.length === 2 && isOp(e[0], "-") && e[1]!.kind === "number") return nonNull("literal")
  const ref = columnRefOf(e)
  if (ref !== undefined) return ctx.column(ref) ?? UNKNOWN
  if (isWord(e[0], "case")) return caseNullability(e, ctx)
  if (isWord(e[0], "not") && isWord(e[1], "exists") && isParen(e[2]) && skipGroup(e, 2) === e.length)
    return nonNull("exists")
  // ARRAY[…] and ARRAY(SELECT …) are arrays even when empty
  if (isWord(e[0], "array") && e[1]?.kind === "open" && skipGroup(e, 1) === e.length)
    return nonNull("ARRAY constructor")
  const head = e[0]!
  const call = isParen(e[1]) ? skipGroup(e, 1) : -1
  if (head.kind !== "word" || call === -1) return UNKNOWN
  const name = head.text
  if (name === "cast" && call === e.length) {
    const inner = e.slice(2, -1)
    const as = findTop(inner, 1, (t) => isWord(t, "as"))
    return as === inner.length ? UNKNOWN : nullabilityOf(inner.slice(0, as), ctx)
  }
  // count(…) [FILTER (…)] [OVER …]
  if (name === "count") {
    const tail = e.slice(call)
    return tail.length === 0 || isWord(tail[0], "filter", "over") ? nonNull("count(*)") : UNKNOWN
  }
  if (name === "exists" && call === e.length) return nonNull("exists")
  if (name === "coalesce" && call === e.length) {
    const each = splitTopLevel(e.slice(2, -1)).map((arg) => nullabilityOf(arg, ctx))
    return each.some((n) => !n.nullable)
      ? nonNull("coalesce with a non-null argument")
      : { nullable: true, reason: "coalesce: no argument is known to be non-null" }
  }
  if (AGGREGATES.has(name)) return aggregateNullability(name, e, call, ctx)
  return UNKNOWN
}

/** Why an expression is never NULL, or `undefined` when that cannot be proven from its text alone. */
export const provenNotNull = (expr: ReadonlyArray<Token>): string | undefined => {
  const n = nullabilityOf(expr, noContext)
  return n.nullable ? undefined : n.reason
}
