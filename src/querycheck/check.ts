// The offline check: declared queries against the committed cache, with no database; every failure names the query, the field and the fix.
import { Effect, Schema, SchemaAST } from "effect"
import type { MigrationSourceError } from "../migrate/MigrationSource.js"
import { type AnyQuery, combinationId, type DynamicQuery } from "./declaration.js"
import {
  type CacheEntry,
  type CacheFile,
  type DynamicCacheEntry,
  isDynamicEntry,
  cacheFileName,
  type CacheReadError,
  defaultCacheDir,
  type MigrationFingerprint,
  migrationFingerprint,
  readCache,
  sha256
} from "./cache.js"
import { checkParamNulls } from "./paramCheck.js"
import { bindable, driverType, encodedShape, rowAccepts, showShape } from "./pgTypes.js"

export type IssueKind =
  | "missing-entry"
  | "invalid-entry"
  | "text-changed"
  | "migrations-changed"
  | "param-count"
  | "param-type"
  | "param-null-compared"
  | "param-null-not-null-column"
  | "row-not-struct"
  | "duplicate-column"
  | "field-without-column"
  | "column-without-field"
  | "column-type"
  | "column-nullable"
  | "field-nullable"
  | "orphan-entry"
  | "missing-combination"
  | "orphan-combination"

export interface CheckIssue {
  readonly severity: "error" | "warning"
  readonly kind: IssueKind
  /** The query name (for an orphan file, the name the file stands for). */
  readonly query: string
  /** For a dynamic query: the combination (criteria, and the pagination form of a page query). */
  readonly combination?: string
  /** What disagrees: "entry", "text", "migrations", "params", "param $2", "row", "column locked_at", "file x.json". */
  readonly field: string
  readonly message: string
}

/**
 * What became of one statement the program can send: `checked` (its cache entry is current and agrees),
 * `failed` (current, but the check found errors), `stale` (text or migrations changed since the prepare, or the
 * combination is not in the cache), `unchecked` (nothing the check can read: a query declared by description only, or
 * no cache entry at all).
 */
export type StatementState = "checked" | "failed" | "stale" | "unchecked"

export interface StatementReport {
  readonly query: string
  /** For a dynamic query's combination. */
  readonly combination?: string
  readonly kind: "static" | "dynamic"
  readonly state: StatementState
}

export interface CheckTotals {
  readonly statements: number
  readonly static: number
  /** Combinations of dynamic queries (a query declared by description only counts as one unchecked statement). */
  readonly dynamic: number
  readonly dynamicQueries: number
  readonly checked: number
  readonly failed: number
  readonly stale: number
  readonly unchecked: number
}

export interface CheckReport {
  /** Every statement, in query then combination order. */
  readonly statements: ReadonlyArray<StatementReport>
  readonly totals: CheckTotals
  /** Dynamic queries declared by a description only: nothing about them can be checked. */
  readonly undeclared: ReadonlyArray<DynamicQuery>
  readonly errors: ReadonlyArray<CheckIssue>
  readonly warnings: ReadonlyArray<CheckIssue>
}

export class QueryCheckFailed extends Schema.TaggedError<QueryCheckFailed>()("QueryCheckFailed", {
  errors: Schema.Number,
  report: Schema.String
}) {
  override get message() {
    return `the query cache check found ${this.errors} error(s):\n${this.report}`
  }
}

const PREPARE = "run npm run query:prepare and commit src/querycheck/cache"

const checkParams = (
  query: { readonly params: Schema.Schema.AnyNoContext },
  entry: Pick<CacheEntry, "params">,
  issue: (i: Omit<CheckIssue, "query">) => void
) => {
  const ast = SchemaAST.encodedAST(query.params.ast)
  if (ast._tag !== "TupleType" || ast.rest.length > 0) {
    issue({
      severity: "error",
      kind: "param-count",
      field: "params",
      message: `the params schema must be a Schema.Tuple of fixed length (found ${ast._tag === "TupleType" ? "a tuple with a rest element" : ast._tag}): declare one element per $n`
    })
    return
  }
  if (ast.elements.length !== entry.params.length) {
    issue({
      severity: "error",
      kind: "param-count",
      field: "params",
      message: `the SQL has ${entry.params.length} parameter(s) ($1…$${entry.params.length}) but the params schema has ${ast.elements.length} element(s): make Schema.Tuple(…) match the $n of the text`
    })
    return
  }
  ast.elements.forEach((element, i) => {
    const param = entry.params[i]!
    const shape = encodedShape(element.type)
    const bad = [...shape.kinds].filter((k) => !bindable(k, param))
    if (bad.length > 0 || shape.kinds.size === 0) {
      issue({
        severity: "error",
        kind: "param-type",
        field: `param $${i + 1}`,
        message: `PostgreSQL expects ${param.type}${param.kind === "enum" ? " (enum)" : ""}, but the schema's encoded side is ${showShape(shape)}, which cannot be bound to it: change the schema, or add a cast ($${i + 1}::type) to the SQL and ${PREPARE}`
      })
    }
  })
  checkParamNulls(ast.elements, entry.params, issue)
}

const checkRow = (
  query: { readonly row: Schema.Schema.AnyNoContext },
  entry: Pick<CacheEntry, "columns">,
  issue: (i: Omit<CheckIssue, "query">) => void
) => {
  const ast = SchemaAST.encodedAST(query.row.ast)
  if (ast._tag !== "TypeLiteral" || ast.indexSignatures.length > 0) {
    issue({
      severity: "error",
      kind: "row-not-struct",
      field: "row",
      message: `the row schema must be a Schema.Struct (its encoded side is ${ast._tag}): declare one field per column`
    })
    return
  }
  const seen = new Set<string>()
  for (const column of entry.columns) {
    if (seen.has(column.name)) {
      issue({
        severity: "error",
        kind: "duplicate-column",
        field: `column ${column.name}`,
        message: `the statement returns two columns named "${column.name}" and the driver keeps only the last: give them distinct aliases and ${PREPARE}`
      })
    }
    seen.add(column.name)
  }
  // an empty row schema means "the rows are not read" (writes run with `.affected`): no column is required
  if (ast.propertySignatures.length === 0) return
  const columns = new Map(entry.columns.map((c) => [c.name, c]))
  const fields = new Set<string>()
  for (const ps of ast.propertySignatures) {
    const name = String(ps.name)
    fields.add(name)
    const column = columns.get(name)
    if (column === undefined) {
      issue({
        severity: "error",
        kind: "field-without-column",
        field: `column ${name}`,
        message: `the row schema has a field "${name}" but the statement returns no such column (it returns ${entry.columns.map((c) => c.name).join(", ") || "no columns"}): remove the field or select the column`
      })
      continue
    }
    const shape = encodedShape(ps.type)
    const driver = driverType(column)
    if (!rowAccepts(shape.kinds, driver)) {
      const hint =
        column.type === "int8" || column.type === "numeric"
          ? ` (node-postgres returns ${column.type} as decimal text: decode it from a string, e.g. Schema.NumberFromString, or cast the column to int4 in SQL)`
          : ""
      issue({
        severity: "error",
        kind: "column-type",
        field: `column ${name}`,
        message: `the column is ${column.type}${column.kind === "enum" ? " (enum)" : ""}, which the driver returns as ${driver}, but the field's encoded side is ${showShape(shape)}${hint}: change the field's schema`
      })
    }
    if (column.nullable && !shape.nullable) {
      issue({
        severity: "error",
        kind: "column-nullable",
        field: `column ${name}`,
        message: `the column can be NULL (${column.reason}) but the field's encoded side does not accept null: wrap it in Schema.NullOr(…), or, if the SQL guarantees a value, alias it AS "${name}!" and ${PREPARE}`
      })
    } else if (!column.nullable && shape.nullable) {
      issue({
        severity: "warning",
        kind: "field-nullable",
        field: `column ${name}`,
        message: `the field accepts null but the column is never NULL (${column.reason}): the NullOr can go`
      })
    }
  }
  for (const column of entry.columns) {
    if (!fields.has(column.name)) {
      issue({
        severity: "error",
        kind: "column-without-field",
        field: `column ${column.name}`,
        message: `the statement returns a column "${column.name}" (${column.type}) that the row schema does not declare: add the field, or drop the column from the SQL and ${PREPARE}`
      })
    }
  }
}

/** Checks the given declarations against the given cache files (pure: no file system, no database). */
export const checkDeclarations = (options: {
  readonly queries: ReadonlyArray<AnyQuery>
  readonly cache: ReadonlyArray<CacheFile>
  readonly migrations: MigrationFingerprint
}): CheckReport => {
  const issues: Array<CheckIssue> = []
  const statements: Array<StatementReport> = []
  const byFile = new Map(options.cache.map((f) => [f.file, f]))
  const used = new Set<string>()
  const undeclared: Array<DynamicQuery> = []

  /** Checks one statement against its cached description; returns its state. */
  const checkStatement = (
    declared: {
      readonly text: string
      readonly params: Schema.Schema.AnyNoContext
      readonly row: Schema.Schema.AnyNoContext
    },
    cached: Pick<CacheEntry, "textSha256" | "params" | "columns">,
    issue: (i: Omit<CheckIssue, "query">) => void,
    textChanged: string
  ): StatementState => {
    if (cached.textSha256 !== sha256(declared.text)) {
      issue({ severity: "error", kind: "text-changed", field: "text", message: `${textChanged}: ${PREPARE}` })
      return "stale"
    }
    let errors = 0
    const counted = (i: Omit<CheckIssue, "query">) => {
      if (i.severity === "error") errors++
      issue(i)
    }
    checkParams(declared, cached, counted)
    checkRow(declared, cached, counted)
    return errors === 0 ? "checked" : "failed"
  }

  /** The query's cache file, if current: else the issue is reported and `undefined` returned. */
  const entryFor = (query: AnyQuery, issue: (i: Omit<CheckIssue, "query">) => void) => {
    const file = cacheFileName(query.name)
    used.add(file)
    const cached = byFile.get(file)
    if (cached === undefined) {
      issue({
        severity: "error",
        kind: "missing-entry",
        field: "entry",
        message: `no cache entry (${file}): ${PREPARE}`
      })
      return { state: "unchecked" as const }
    }
    if (cached._tag === "Invalid") {
      issue({
        severity: "error",
        kind: "invalid-entry",
        field: "entry",
        message: `the cache file ${file} is not a valid entry (${cached.detail}): ${PREPARE}`
      })
      return { state: "unchecked" as const }
    }
    const entry = cached.entry
    if (entry.name !== query.name || isDynamicEntry(entry) !== (query.kind === "dynamic")) {
      issue({
        severity: "error",
        kind: "invalid-entry",
        field: "entry",
        message: `the cache file ${file} holds ${isDynamicEntry(entry) ? "a dynamic" : "a static"} query ${entry.name}: ${PREPARE}`
      })
      return { state: "stale" as const }
    }
    if (entry.migrations.fingerprint !== options.migrations.fingerprint) {
      issue({
        severity: "error",
        kind: "migrations-changed",
        field: "migrations",
        message: `the cache was prepared against ${entry.migrations.count} migration(s) up to ${entry.migrations.latest || "none"}, but the migrations are now ${options.migrations.count} up to ${options.migrations.latest || "none"} (or a file changed): ${PREPARE}`
      })
      return { state: "stale" as const }
    }
    return { entry }
  }

  for (const query of options.queries) {
    const issueOf =
      (combination?: string) =>
      (i: Omit<CheckIssue, "query">): void => {
        issues.push({ query: query.name, ...(combination === undefined ? {} : { combination }), ...i })
      }
    if (query.kind === "static") {
      const found = entryFor(query, issueOf())
      const state =
        "entry" in found
          ? checkStatement(
              query,
              found.entry as CacheEntry,
              issueOf(),
              "the SQL text changed since the cache was prepared"
            )
          : found.state
      statements.push({ query: query.name, kind: "static", state })
      continue
    }
    if (query.combinations.length === 0) {
      undeclared.push(query)
      statements.push({ query: query.name, kind: "dynamic", state: "unchecked" })
      continue
    }
    const found = entryFor(query, issueOf())
    const cached = "entry" in found ? (found.entry as DynamicCacheEntry) : undefined
    const byId = new Map((cached?.combinations ?? []).map((c) => [combinationId(c), c]))
    const declaredIds = new Set<string>()
    for (const combination of query.combinations) {
      const id = combinationId(combination)
      declaredIds.add(id)
      const issue = issueOf(id)
      const report = (state: StatementState) =>
        statements.push({ query: query.name, combination: id, kind: "dynamic", state })
      if (cached === undefined) {
        report("entry" in found ? "stale" : found.state)
        continue
      }
      const entry = byId.get(id)
      if (entry === undefined) {
        issue({
          severity: "error",
          kind: "missing-combination",
          field: "combination",
          message: `the declaration has a combination the cache does not (a criterion or pagination form was added or renamed): ${PREPARE}`
        })
        report("stale")
        continue
      }
      report(
        checkStatement(
          { text: combination.text, params: combination.params, row: query.row },
          entry,
          issue,
          "the text of this combination changed since the cache was prepared (a piece of the query, a criterion or the select, was edited)"
        )
      )
    }
    for (const [id] of byId) {
      if (declaredIds.has(id)) continue
      issueOf(id)({
        severity: "error",
        kind: "orphan-combination",
        field: "combination",
        message: `the cache has a combination the declaration no longer makes (a criterion was removed or renamed): ${PREPARE}`
      })
    }
  }
  for (const f of options.cache) {
    if (used.has(f.file)) continue
    issues.push({
      severity: "error",
      kind: "orphan-entry",
      query: f.file.replace(/\.json$/, ""),
      field: `file ${f.file}`,
      message: `the cache file ${f.file} belongs to no declared query: ${PREPARE} (it removes stale files), or delete the file`
    })
  }
  const count = (state: StatementState) => statements.filter((s) => s.state === state).length
  const dynamicStatements = statements.filter((s) => s.kind === "dynamic").length
  return {
    statements,
    totals: {
      statements: statements.length,
      static: statements.length - dynamicStatements,
      dynamic: dynamicStatements,
      dynamicQueries: options.queries.filter((q) => q.kind === "dynamic").length,
      checked: count("checked"),
      failed: count("failed"),
      stale: count("stale"),
      unchecked: count("unchecked")
    },
    undeclared,
    errors: issues.filter((i) => i.severity === "error"),
    warnings: issues.filter((i) => i.severity === "warning")
  }
}

/** Checks declarations against a cache folder and a migrations folder (defaults: the committed cache, the shipped migrations). */
export const checkCacheDir = (options: {
  readonly queries: ReadonlyArray<AnyQuery>
  readonly cacheDir?: string
  readonly migrationsDir?: string
}): Effect.Effect<CheckReport, CacheReadError | MigrationSourceError> =>
  Effect.gen(function* () {
    const cache = yield* readCache(options.cacheDir ?? defaultCacheDir)
    const migrations = yield* migrationFingerprint(options.migrationsDir)
    return checkDeclarations({ queries: options.queries, cache, migrations })
  })

/** The real check: the given declarations (the program's are `declaredQueries` of src/pg/queries.ts) against the committed cache. */
export const checkAll = (
  queries: ReadonlyArray<AnyQuery>,
  options?: { readonly cacheDir?: string; readonly migrationsDir?: string }
) => checkCacheDir({ queries, ...options })

export type CheckAllError = CacheReadError | MigrationSourceError

const line = (i: CheckIssue) =>
  `${i.severity === "error" ? "error" : "warning"}: ${i.query}${i.combination === undefined ? "" : ` [${i.combination}]`}: ${i.field}: ${i.message}`

const percent = (part: number, whole: number) => (whole === 0 ? "100" : ((100 * part) / whole).toFixed(1))

/** The totals line `npm test` prints: every statement the program can send, by state. */
export const formatTotals = (t: CheckTotals): string =>
  `${t.statements} statements (${t.static} static, ${t.dynamic} combinations of ${t.dynamicQueries} dynamic queries): ` +
  `${t.checked} checked, ${t.failed} failed, ${t.stale} stale, ${t.unchecked} unchecked (${percent(t.checked, t.statements)} % checked offline)`

/**
 * The report as text: errors, then warnings, then the statements (each one with `all`, else only those not
 * checked), then the totals line.
 */
export const formatReport = (report: CheckReport, options?: { readonly all?: boolean }): string => {
  const out: Array<string> = []
  for (const i of report.errors) out.push(line(i))
  for (const i of report.warnings) out.push(line(i))
  for (const q of report.undeclared) {
    out.push(
      `unchecked: ${q.name} (${q.table}): ${q.description}: declared by description only; declare it from pieces (src/pg/dynamic.ts)`
    )
  }
  const listed = options?.all === true ? report.statements : report.statements.filter((s) => s.state !== "checked")
  if (listed.length > 0) {
    const width = Math.max(...listed.map((s) => s.state.length))
    for (const s of listed) {
      out.push(`${s.state.padEnd(width)}  ${s.query}${s.combination === undefined ? "" : ` [${s.combination}]`}`)
    }
  }
  out.push(formatTotals(report.totals))
  out.push(`${report.errors.length} error(s), ${report.warnings.length} warning(s)`)
  return out.join("\n")
}

/** Fails with the formatted report when there is any error. */
export const requireClean = (report: CheckReport): Effect.Effect<CheckReport, QueryCheckFailed> =>
  report.errors.length === 0
    ? Effect.succeed(report)
    : Effect.fail(new QueryCheckFailed({ errors: report.errors.length, report: formatReport(report) }))
