// Schema drift: every declared statement described again on the live database and compared with the committed query cache, so a start can refuse a schema the check never saw.
import { Effect, Schema, type Scope } from "effect"
import pg from "pg"
import {
  type AnyCacheEntry,
  CacheReadError,
  type CacheEntry,
  cacheFileName,
  defaultCacheDir,
  isDynamicEntry,
  readCache,
  sha256
} from "./cache.js"
import { type AnyQuery, combinationId } from "./declaration.js"
import {
  type AttributeRow,
  attributesSql,
  DescribeError,
  describedType,
  type DescribedType,
  errorText,
  overrideOf,
  ProtocolExchange,
  type ProtocolConnection,
  type TypeRow
} from "./describe.js"

/** One way the live database disagrees with what the cache recorded of a statement. */
export const Drift = Schema.Struct({
  query: Schema.String,
  /** For a dynamic query's combination (criteria, and the pagination form of a page query). */
  combination: Schema.optional(Schema.String),
  /** What disagrees: "statement", "cache", "params", "param $2", "columns", "column username". */
  field: Schema.String,
  detail: Schema.String
})
export type Drift = typeof Drift.Type

export const driftLine = (d: Drift): string =>
  `${d.query}${d.combination === undefined ? "" : ` [${d.combination}]`}: ${d.field}: ${d.detail}`

export class SchemaDrift extends Schema.TaggedError<SchemaDrift>()("SchemaDrift", {
  /** How many statements were described. */
  statements: Schema.Number,
  differences: Schema.Array(Drift)
}) {
  override get message() {
    const statements = new Set(this.differences.map((d) => `${d.query}\u0000${d.combination ?? ""}`)).size
    return [
      `the database schema no longer matches the query cache (${this.differences.length} difference(s) in ${statements} of ${this.statements} statement(s)):`,
      ...this.differences.map((d) => `  ${driftLine(d)}`),
      "restore the columns as the migrations made them; if the change is intended, make it a migration, run npm run query:prepare (it describes against the migrated schema) and ship the new src/querycheck/cache"
    ].join("\n")
  }
}

export interface DriftReport {
  /** The statements described (each static query, each combination of each dynamic one). */
  readonly statements: number
  readonly differences: ReadonlyArray<Drift>
}

/** One statement the program can send: a static query, or one combination of a dynamic one. */
interface Statement {
  readonly query: string
  readonly combination?: string
  readonly text: string
}

/** Every statement of the declarations, in their order. */
const statementsOf = (queries: ReadonlyArray<AnyQuery>): ReadonlyArray<Statement> =>
  queries.flatMap((query): ReadonlyArray<Statement> =>
    query.kind === "static"
      ? [{ query: query.name, text: query.text }]
      : query.combinations.map((c) => ({ query: query.name, combination: combinationId(c), text: c.text }))
  )

const PREPARE = "run npm run query:prepare and ship src/querycheck/cache"

type Cached = { readonly cached: Pick<CacheEntry, "params" | "columns"> } | { readonly uncached: string }

/** What the cache recorded of the statement, when it has this text; else why there is nothing to compare with. */
const cachedOf = (statement: Statement, entries: ReadonlyMap<string, AnyCacheEntry>): Cached => {
  const entry = entries.get(cacheFileName(statement.query))
  const cached =
    entry === undefined
      ? undefined
      : isDynamicEntry(entry)
        ? entry.combinations.find((c) => combinationId(c) === statement.combination)
        : statement.combination === undefined
          ? entry
          : undefined
  if (cached === undefined) return { uncached: `the query cache has no description of this statement: ${PREPARE}` }
  if (cached.textSha256 !== sha256(statement.text))
    return {
      uncached: `the query cache describes another text of this statement (the SQL changed since the prepare): ${PREPARE}`
    }
  return { cached }
}

interface ProtocolDescription {
  readonly paramOids: ReadonlyArray<number>
  readonly fields: ReadonlyArray<pg.FieldDef>
}

interface PipelineResult {
  /** The descriptions of the first statements, in order, up to the one that failed. */
  readonly described: ReadonlyArray<ProtocolDescription>
  /** The failure of statement `described.length`, if one failed (the server skipped the rest). */
  readonly error?: unknown
}

/**
 * Parse + Describe(statement) of every text as the unnamed statement, then ONE Sync, through node-postgres's
 * Submittable hook: one round trip for all. Each statement answers ParameterDescription then RowDescription or
 * NoData (neither handled by the client, except RowDescription, so the others are read from the connection).
 * After an error the server skips to the Sync: the statements before it are described, the one at
 * `described.length` failed, the rest were not looked at.
 */
class DescribePipeline extends ProtocolExchange {
  private readonly described: Array<ProtocolDescription> = []
  private paramOids: ReadonlyArray<number> = []
  private readonly onParameters = (msg: { readonly dataTypeIDs: ReadonlyArray<number> }) => {
    this.paramOids = msg.dataTypeIDs
  }
  private readonly onNoData = () => {
    this.described.push({ paramOids: this.paramOids, fields: [] })
  }

  constructor(
    private readonly texts: ReadonlyArray<string>,
    private readonly done: (result: PipelineResult) => void
  ) {
    super()
  }

  protected listeners() {
    return [
      ["parameterDescription", this.onParameters],
      ["noData", this.onNoData]
    ] as const
  }

  protected send(c: ProtocolConnection) {
    // one write for the whole pipeline rather than two per statement
    c.stream.cork?.()
    for (const text of this.texts) {
      c.parse({ name: "", text, types: [] })
      c.describe({ type: "S", name: "" })
    }
    c.sync()
    c.stream.uncork?.()
  }

  override handleRowDescription(msg: { readonly fields: ReadonlyArray<pg.FieldDef> }) {
    this.described.push({ paramOids: this.paramOids, fields: msg.fields })
  }

  protected end(error: unknown) {
    this.done(error === undefined ? { described: this.described } : { described: this.described, error })
  }
}

type Described = { readonly ok: ProtocolDescription } | { readonly error: string }

/** Sends the pipeline at once (the client is idle, so it goes out before this returns); the promise is its answer. */
const submit = (client: pg.Client, texts: ReadonlyArray<string>): Promise<PipelineResult> =>
  new Promise((resolve) => {
    client.query(new DescribePipeline(texts, resolve))
  })

/**
 * Every text described, in order, the first pipeline being `first` when already sent. A statement the server
 * refuses is recorded with PostgreSQL's message and a pipeline of the rest goes out, so every culprit is named, not
 * only the first.
 */
const describeTexts = (
  client: pg.Client,
  texts: ReadonlyArray<string>,
  first?: Promise<PipelineResult>
): Effect.Effect<ReadonlyArray<Described>, DescribeError> =>
  Effect.gen(function* () {
    const out: Array<Described> = []
    let round = first
    while (out.length < texts.length) {
      const rest = texts.slice(out.length)
      const pending = round ?? submit(client, rest)
      round = undefined
      const result = yield* Effect.promise(() => pending)
      for (const ok of result.described) out.push({ ok })
      if (result.error === undefined) {
        if (result.described.length !== rest.length)
          return yield* new DescribeError({
            step: "describing",
            detail: `the server described ${result.described.length} of ${rest.length} statements`
          })
        break
      }
      // an error that is not the server's answer to a statement (the connection went away) ends the check
      if (!(result.error instanceof pg.DatabaseError) || result.described.length >= rest.length)
        return yield* new DescribeError({ step: "describing", detail: errorText(result.error) })
      out.push({ error: errorText(result.error) })
    }
    return out
  })

const query = <R extends object>(client: pg.Client, step: string, text: string, values: ReadonlyArray<unknown>) =>
  Effect.tryPromise({
    try: () => client.query<R>(text, [...values]),
    catch: (cause) => new DescribeError({ step, detail: errorText(cause) })
  }).pipe(Effect.map((r) => r.rows))

/** The given types and every type they refer to (a domain's base type, an array's element type), in one query. */
const typesSql = `WITH RECURSIVE wanted(oid) AS (
  SELECT unnest($1::oid[])
  UNION
  SELECT ref.oid FROM wanted JOIN pg_type t ON t.oid = wanted.oid
  CROSS JOIN LATERAL (VALUES (t.typelem), (t.typbasetype)) AS ref(oid) WHERE ref.oid <> 0
)
SELECT t.oid::int8::float8 AS oid, t.typname::text AS typname, t.typtype::text AS typtype, t.typelem::int8::float8 AS typelem,
  t.typbasetype::int8::float8 AS typbasetype, t.typcategory::text AS typcategory
FROM pg_type t JOIN wanted ON wanted.oid = t.oid`

const showType = (t: DescribedType) => `${t.type}${t.kind === "enum" ? " (enum)" : ""}`

/** `NOT NULL column t.c` / `column t.c is nullable`: the reasons that come from the table column alone. */
const tableColumnReason = /^(?:NOT NULL column \S+|column \S+ is nullable)$/

const liveReason = (a: AttributeRow) =>
  a.attnotnull ? `NOT NULL column ${a.relname}.${a.attname}` : `column ${a.relname}.${a.attname} is nullable`

/** The differences of one statement between its cache record and its live description. */
const compare = (
  statement: Statement,
  cached: Pick<CacheEntry, "params" | "columns">,
  live: ProtocolDescription,
  types: ReadonlyMap<number, TypeRow>,
  attributes: ReadonlyMap<string, AttributeRow>
): ReadonlyArray<Drift> => {
  const out: Array<Drift> = []
  const drift = (field: string, detail: string) =>
    out.push({
      query: statement.query,
      ...(statement.combination === undefined ? {} : { combination: statement.combination }),
      field,
      detail
    })
  const { params, columns } = cached

  const liveParams = live.paramOids.map((oid) => describedType(types, oid))
  if (liveParams.length !== params.length) {
    drift("params", `cached ${params.length} parameter(s), live ${liveParams.length}`)
  } else {
    liveParams.forEach((p, i) => {
      const c = params[i]!
      if (p.type !== c.type || p.kind !== c.kind) drift(`param $${i + 1}`, `cached ${showType(c)}, live ${showType(p)}`)
    })
  }

  const liveColumns = live.fields.map((f) => ({
    name: overrideOf(f.name).name,
    ...describedType(types, f.dataTypeID),
    attribute: f.tableID === 0 ? undefined : attributes.get(`${f.tableID}:${f.columnID}`)
  }))
  if (liveColumns.length !== columns.length) {
    const names = (cs: ReadonlyArray<{ readonly name: string }>) => cs.map((c) => c.name).join(", ")
    drift(
      "columns",
      `cached ${columns.length} column(s) (${names(columns)}), live ${liveColumns.length} (${names(liveColumns)})`
    )
    return out
  }
  liveColumns.forEach((l, i) => {
    const c = columns[i]!
    const field = `column ${c.name}`
    if (l.name !== c.name) drift(field, `cached name ${c.name}, live ${l.name} (column ${i + 1})`)
    if (l.type !== c.type || l.kind !== c.kind) drift(field, `cached ${showType(c)}, live ${showType(l)}`)
    // other reasons (outer joins, expressions, overrides) follow from the SQL text, which the offline check covers
    if (l.attribute !== undefined && tableColumnReason.test(c.reason) && l.attribute.attnotnull === c.nullable) {
      drift(
        field,
        `cached ${c.nullable ? "nullable" : "NOT NULL"} (${c.reason}), live ${c.nullable ? "NOT NULL" : "nullable"} (${liveReason(l.attribute)})`
      )
    }
  })
  return out
}

/**
 * The described statements against the cache: the types and table columns they use read in two catalog queries,
 * then per statement the parameter count and types, the column count, names and types, and the NOT NULL of each
 * table column whose cached nullability came from the table. A statement that no longer describes is a difference
 * with PostgreSQL's message; one the cache does not describe (no entry, another text) is a difference too.
 */
const compareAll = (
  client: pg.Client,
  statements: ReadonlyArray<Statement>,
  described: ReadonlyArray<Described>,
  entries: ReadonlyMap<string, AnyCacheEntry>
): Effect.Effect<DriftReport, DescribeError> =>
  Effect.gen(function* () {
    const oids = new Set<number>()
    const relids: Array<number> = []
    const attnums: Array<number> = []
    const pairs = new Set<string>()
    for (const d of described) {
      if (!("ok" in d)) continue
      for (const oid of d.ok.paramOids) oids.add(oid)
      for (const f of d.ok.fields) {
        oids.add(f.dataTypeID)
        const key = `${f.tableID}:${f.columnID}`
        if (f.tableID === 0 || pairs.has(key)) continue
        pairs.add(key)
        relids.push(f.tableID)
        attnums.push(f.columnID)
      }
    }
    const typeRows = yield* query<TypeRow>(client, "reading pg_type", typesSql, [[...oids]])
    const types = new Map(typeRows.map((t) => [t.oid, t]))
    const attributeRows =
      relids.length === 0
        ? []
        : yield* query<AttributeRow>(client, "reading pg_attribute", attributesSql, [relids, attnums])
    const attributes = new Map(attributeRows.map((a) => [`${a.attrelid}:${a.attnum}`, a]))

    const differences: Array<Drift> = []
    statements.forEach((s, i) => {
      const drift = (field: string, detail: string) =>
        differences.push({
          query: s.query,
          ...(s.combination === undefined ? {} : { combination: s.combination }),
          field,
          detail
        })
      const cached = cachedOf(s, entries)
      const d = described[i]!
      if ("uncached" in cached) drift("cache", cached.uncached)
      else if ("error" in d) drift("statement", `no longer describes: ${d.error}`)
      else differences.push(...compare(s, cached.cached, d.ok, types, attributes))
    })
    return { statements: statements.length, differences }
  })

/**
 * On an open connection: every statement of `queries` (each static query, each combination of each dynamic one)
 * described in one pipeline and compared with the cache `entries` (see `compareAll`).
 */
export const driftOn = (
  client: pg.Client,
  queries: ReadonlyArray<AnyQuery>,
  entries: ReadonlyMap<string, AnyCacheEntry>
): Effect.Effect<DriftReport, DescribeError> =>
  Effect.gen(function* () {
    const statements = statementsOf(queries)
    const described = yield* describeTexts(
      client,
      statements.map((s) => s.text)
    )
    return yield* compareAll(client, statements, described, entries)
  })

/** The cache folder's entries by file name; an empty or missing folder is an error (nothing to compare with). */
export const loadCacheEntries = (cacheDir: string): Effect.Effect<ReadonlyMap<string, AnyCacheEntry>, CacheReadError> =>
  Effect.gen(function* () {
    const files = yield* readCache(cacheDir)
    if (files.length === 0)
      return yield* new CacheReadError({
        path: cacheDir,
        detail: "no cache files (an installed package ships them under src/querycheck/cache)"
      })
    const entries = new Map<string, AnyCacheEntry>()
    for (const f of files) if (f._tag === "Entry") entries.set(f.file, f.entry)
    return entries
  })

/** A connection of its own to `url`, closed with the scope. */
const connect = (url: string): Effect.Effect<pg.Client, DescribeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const c = new pg.Client({ connectionString: url, application_name: "mas-data drift check" })
        // a connection error after connect would otherwise be an unhandled 'error' event
        c.on("error", () => undefined)
        await c.connect()
        return c
      },
      catch: (cause) => new DescribeError({ step: "connecting", detail: errorText(cause) })
    }),
    (c) => Effect.promise(() => c.end().catch(() => undefined))
  )

/**
 * Every declared statement described on the database at `url` and compared with the cache in `cacheDir` (default:
 * the committed one): the differences, empty when the live schema is the one the cache was prepared against.
 */
export const checkDrift = (options: {
  readonly url: string
  readonly queries: ReadonlyArray<AnyQuery>
  readonly cacheDir?: string | undefined
}): Effect.Effect<DriftReport, DescribeError | CacheReadError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* connect(options.url)
      const statements = statementsOf(options.queries)
      const texts = statements.map((s) => s.text)
      // the pipeline goes out first: the cache is read and decoded (synchronously) while the server parses
      const first = yield* Effect.sync(() => submit(client, texts))
      const entries = yield* loadCacheEntries(options.cacheDir ?? defaultCacheDir)
      const described = yield* describeTexts(client, texts, first)
      return yield* compareAll(client, statements, described, entries)
    })
  )

/** `checkDrift`, failing with SchemaDrift when there is any difference. */
export const requireNoDrift = (options: Parameters<typeof checkDrift>[0]) =>
  Effect.gen(function* () {
    const report = yield* checkDrift(options)
    if (report.differences.length > 0)
      return yield* new SchemaDrift({ statements: report.statements, differences: report.differences })
    return report
  })
