// Splits a SQL script into top-level statements the way PostgreSQL's lexer sees them, to lint `-- no-transaction` files.

// Characters that may continue an identifier: a `$` or `'` right after one of them is not a dollar quote / E-string.
const isIdentifierChar = (ch: string | undefined): boolean =>
  ch !== undefined && (/[A-Za-z0-9_$]/.test(ch) || ch.charCodeAt(0) >= 0x80)

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y

/**
 * The top-level statements of `sql`, trimmed, without their terminating `;`; segments holding only
 * whitespace and comments are dropped. Semicolons inside '…' and E'…' strings, "quoted identifiers",
 * $tag$ dollar quotes, `--` comments and nested block comments do not split.
 *
 * Not understood (counted as several statements, which errs on the side of refusing): the `BEGIN ATOMIC … END`
 * body of a SQL-standard function.
 */
export const splitStatements = (sql: string): ReadonlyArray<string> => {
  const statements: Array<string> = []
  let start = 0
  let hasContent = false
  let i = 0
  const n = sql.length

  const endStatement = (end: number) => {
    if (hasContent) statements.push(sql.slice(start, end).trim())
    start = end + 1
    hasContent = false
  }

  while (i < n) {
    const ch = sql[i]!
    const next = sql[i + 1]
    if (ch === "-" && next === "-") {
      const eol = sql.indexOf("\n", i + 2)
      i = eol === -1 ? n : eol + 1
    } else if (ch === "/" && next === "*") {
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
    } else if (ch === "'") {
      hasContent = true
      const prev = sql[i - 1]
      const escapeString = (prev === "E" || prev === "e") && !isIdentifierChar(sql[i - 2])
      i++
      while (i < n) {
        const c = sql[i]!
        if (escapeString && c === "\\") i += 2
        else if (c === "'") {
          if (sql[i + 1] === "'") i += 2
          else {
            i++
            break
          }
        } else i++
      }
    } else if (ch === '"') {
      hasContent = true
      i++
      while (i < n) {
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') i += 2
          else {
            i++
            break
          }
        } else i++
      }
    } else if (ch === "$" && !isIdentifierChar(sql[i - 1])) {
      hasContent = true
      DOLLAR_TAG.lastIndex = i
      const match = DOLLAR_TAG.exec(sql)
      if (match === null)
        i++ // a positional parameter such as $1
      else {
        const tag = match[0]
        const close = sql.indexOf(tag, i + tag.length)
        i = close === -1 ? n : close + tag.length
      }
    } else if (ch === ";") {
      endStatement(i)
      i++
    } else {
      if (!/\s/.test(ch)) hasContent = true
      i++
    }
  }
  endStatement(n)
  return statements
}
