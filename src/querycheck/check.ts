// The offline check: declared queries against the committed cache, with no database; every failure names the query, the field and the fix.
import { Effect, Schema, SchemaAST } from "effect"
import type { MigrationSourceError } from "../migrate/MigrationSource.js"
import type { AnyQuery, AnyStaticQuery, DynamicQuery } from "./declaration.js"
import {
  type CacheEntry,
  type CacheFile,
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

export interface CheckIssue {
  readonly severity: "error" | "warning"
  readonly kind: IssueKind
  /** The query name (for an orphan file, the name the file stands for). */
  readonly query: string
  /** What disagrees: "entry", "text", "migrations", "params", "param $2", "row", "column locked_at", "file x.json". */
  readonly field: string
  readonly message: string
}

export interface CheckReport {
  /** Static queries checked. */
  readonly checked: number
  /** Dynamic queries: listed, not checkable offline (covered by the contract suite). */
  readonly dynamic: ReadonlyArray<DynamicQuery>
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

const checkParams = (query: AnyStaticQuery, entry: CacheEntry, issue: (i: Omit<CheckIssue, "query">) => void) => {
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

const checkRow = (query: AnyStaticQuery, entry: CacheEntry, issue: (i: Omit<CheckIssue, "query">) => void) => {
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
  const byFile = new Map(options.cache.map((f) => [f.file, f]))
  const used = new Set<string>()
  const statics = options.queries.filter((q): q is AnyStaticQuery => q.kind === "static")
  const dynamic = options.queries.filter((q): q is DynamicQuery => q.kind === "dynamic")
  for (const query of statics) {
    const issue = (i: Omit<CheckIssue, "query">) => issues.push({ query: query.name, ...i })
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
      continue
    }
    if (cached._tag === "Invalid") {
      issue({
        severity: "error",
        kind: "invalid-entry",
        field: "entry",
        message: `the cache file ${file} is not a valid entry (${cached.detail}): ${PREPARE}`
      })
      continue
    }
    const entry = cached.entry
    if (entry.name !== query.name || entry.textSha256 !== sha256(query.text)) {
      issue({
        severity: "error",
        kind: "text-changed",
        field: "text",
        message: `the SQL text changed since the cache was prepared: ${PREPARE}`
      })
      continue
    }
    if (entry.migrations.fingerprint !== options.migrations.fingerprint) {
      issue({
        severity: "error",
        kind: "migrations-changed",
        field: "migrations",
        message: `the cache was prepared against ${entry.migrations.count} migration(s) up to ${entry.migrations.latest || "none"}, but the migrations are now ${options.migrations.count} up to ${options.migrations.latest || "none"} (or a file changed): ${PREPARE}`
      })
      continue
    }
    checkParams(query, entry, issue)
    checkRow(query, entry, issue)
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
  return {
    checked: statics.length,
    dynamic,
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

const line = (i: CheckIssue) => `${i.severity === "error" ? "error" : "warning"}: ${i.query}: ${i.field}: ${i.message}`

/** The report as text: errors, then warnings, then the dynamic queries, then a summary line. */
export const formatReport = (report: CheckReport): string => {
  const out: Array<string> = []
  for (const i of report.errors) out.push(line(i))
  for (const i of report.warnings) out.push(line(i))
  if (report.dynamic.length > 0) {
    out.push(
      `dynamic queries (assembled at run time, not checked offline; covered by the contract suite): ${report.dynamic.length}`
    )
    for (const q of report.dynamic) out.push(`  ${q.name} (${q.table}): ${q.description}`)
  }
  out.push(
    `${report.checked} static quer${report.checked === 1 ? "y" : "ies"} checked: ${report.errors.length} error(s), ${report.warnings.length} warning(s)`
  )
  return out.join("\n")
}

/** Fails with the formatted report when there is any error. */
export const requireClean = (report: CheckReport): Effect.Effect<CheckReport, QueryCheckFailed> =>
  report.errors.length === 0
    ? Effect.succeed(report)
    : Effect.fail(new QueryCheckFailed({ errors: report.errors.length, report: formatReport(report) }))
