// Refuses to apply a CREATE INDEX CONCURRENTLY migration over the invalid index an interrupted earlier attempt left.
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import { InvalidIndexLeftBehind, MigrationDatabaseError } from "./errors.js"
import type { Migration } from "./MigrationSource.js"
import { splitStatements } from "./StatementSplitter.js"
import { quoteIdent } from "../pg/common/identifiers.js"

/** What one `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] [name] ON [ONLY] [schema.]table` statement builds. */
export interface ConcurrentIndexTarget {
  /** The index name as PostgreSQL stores it (unquoted names folded to lower case, truncated to 63 bytes). */
  readonly index: Option.Option<string>
  readonly tableSchema: Option.Option<string>
  readonly table: string
}

type Token =
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "quoted"; readonly text: string }
  | { readonly kind: "other"; readonly text: string }

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y

// Just enough of PostgreSQL's lexer for the head of a CREATE INDEX statement: comments, words, "quoted" names.
const tokenize = (sql: string, limit: number): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < sql.length && tokens.length < limit) {
    const ch = sql[i]!
    if (/\s/.test(ch)) i++
    else if (ch === "-" && sql[i + 1] === "-") {
      const eol = sql.indexOf("\n", i)
      i = eol === -1 ? sql.length : eol + 1
    } else if (ch === "/" && sql[i + 1] === "*") {
      let depth = 1
      i += 2
      while (i < sql.length && depth > 0) {
        if (sql.startsWith("/*", i)) depth++
        else if (sql.startsWith("*/", i)) depth--
        else {
          i++
          continue
        }
        i += 2
      }
    } else if (ch === '"') {
      let text = ""
      i++
      while (i < sql.length) {
        if (sql.startsWith('""', i)) {
          text += '"'
          i += 2
        } else if (sql[i] === '"') {
          i++
          break
        } else text += sql[i++]
      }
      tokens.push({ kind: "quoted", text })
    } else {
      WORD.lastIndex = i
      const match = WORD.exec(sql)
      if (match === null) tokens.push({ kind: "other", text: sql[i++]! })
      else {
        tokens.push({ kind: "word", text: match[0] })
        i += match[0].length
      }
    }
  }
  return tokens
}

const NAME_MAX_BYTES = 63

// PostgreSQL folds only ASCII letters of unquoted names, and truncates every name to NAMEDATALEN - 1 bytes.
const identifier = (token: Token): string => {
  const text = token.kind === "word" ? token.text.replace(/[A-Z]/g, (c) => c.toLowerCase()) : token.text
  let bytes = 0
  let end = 0
  for (const ch of text) {
    const size = Buffer.byteLength(ch)
    if (bytes + size > NAME_MAX_BYTES) break
    bytes += size
    end += ch.length
  }
  return text.slice(0, end)
}

/** The index one statement builds concurrently, or none when it is not a `CREATE INDEX CONCURRENTLY`. */
export const parseConcurrentIndex = (statement: string): Option.Option<ConcurrentIndexTarget> => {
  const tokens = tokenize(statement, 14)
  let at = 0
  const keyword = (word: string) => {
    const token = tokens[at]
    if (token?.kind === "word" && token.text.toLowerCase() === word) {
      at++
      return true
    }
    return false
  }
  const name = (): Option.Option<string> => {
    const token = tokens[at]
    if (token === undefined || token.kind === "other") return Option.none()
    at++
    return Option.some(identifier(token))
  }
  if (!keyword("create")) return Option.none()
  keyword("unique")
  if (!keyword("index") || !keyword("concurrently")) return Option.none()
  if (keyword("if") && !(keyword("not") && keyword("exists"))) return Option.none()
  // the name is optional, and ON is reserved, so an unquoted `on` here is the keyword
  const index = keyword("on") ? Option.none() : name()
  if (Option.isSome(index) && !keyword("on")) return Option.none()
  keyword("only")
  const first = name()
  if (Option.isNone(first)) return Option.none()
  const dotted = tokens[at]?.kind === "other" && tokens[at]!.text === "."
  if (!dotted) return Option.some({ index, tableSchema: Option.none(), table: first.value })
  at++
  const second = name()
  if (Option.isNone(second)) return Option.none()
  return Option.some({ index, tableSchema: first, table: second.value })
}

/** Every index a migration's statements build concurrently. */
export const concurrentIndexTargets = (sql: string): ReadonlyArray<ConcurrentIndexTarget> =>
  splitStatements(sql).flatMap((statement) => Option.toArray(parseConcurrentIndex(statement)))

// A match is an invalid index in the table's schema with the statement's name (which IF NOT EXISTS would silently
// accept) or, for an unnamed statement, any invalid index on that table (a rerun would add a second one beside it).
const FIND_INVALID = `SELECT t.ord::int AS ord, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS index
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(tbl, idx, ord)
  JOIN pg_class tc ON tc.oid = to_regclass(t.tbl)
  JOIN pg_class c ON c.relnamespace = tc.relnamespace AND c.relkind IN ('i', 'I')
  JOIN pg_index i ON i.indexrelid = c.oid AND NOT i.indisvalid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE CASE WHEN t.idx = '' THEN i.indrelid = tc.oid ELSE c.relname = t.idx END
 ORDER BY t.ord, index`

/**
 * Fails with `InvalidIndexLeftBehind` for the first pending `-- no-transaction` migration whose
 * `CREATE INDEX CONCURRENTLY` target already exists as an invalid index (`pg_index.indisvalid = false`): what a
 * build interrupted by a crash or a lost connection leaves, with no history row. Costs no round trip when no
 * pending migration builds an index concurrently.
 */
export const refuseInvalidIndexes = (
  conn: Connection,
  pending: ReadonlyArray<Migration>
): Effect.Effect<void, InvalidIndexLeftBehind | MigrationDatabaseError> =>
  Effect.gen(function* () {
    const targets = pending.flatMap((migration) =>
      migration.noTransaction ? concurrentIndexTargets(migration.sql).map((target) => ({ migration, target })) : []
    )
    if (targets.length === 0) return
    const tables = targets.map(({ target }) =>
      Option.match(target.tableSchema, {
        onNone: () => quoteIdent(target.table),
        onSome: (schema) => `${quoteIdent(schema)}.${quoteIdent(target.table)}`
      })
    )
    const names = targets.map(({ target }) => Option.getOrElse(target.index, () => ""))
    const rows = yield* (
      conn.execute(FIND_INVALID, [tables, names], undefined) as Effect.Effect<
        ReadonlyArray<Record<string, unknown>>,
        SqlError
      >
    ).pipe(
      Effect.mapError(
        (error) =>
          new MigrationDatabaseError({
            operation: "looking for invalid indexes",
            cause: error.cause instanceof Error ? error.cause.message : error.message
          })
      )
    )
    if (rows.length === 0) return
    const first = targets[(rows[0]!.ord as number) - 1]!.migration
    const indexes = rows
      .filter((row) => targets[(row.ord as number) - 1]!.migration === first)
      .map((row) => row.index as string)
    return yield* new InvalidIndexLeftBehind({
      version: first.version,
      description: first.description,
      path: first.path,
      indexes: [...new Set(indexes)]
    })
  })
