// Describes a SQL statement against a live database: parameter and column types, and why each column is (not) nullable.
import { Effect, Schema, type Scope } from "effect"
import pg from "pg"
import { forcedNullable, type PlanNode } from "./plan.js"
import { describeParams, type NotNullRow } from "./paramUse.js"
import {
  columnRefOf,
  type ColumnRef,
  type ExpressionContext,
  type Nullability,
  nullabilityOf,
  type OutputItem,
  type StatementShape,
  statementShape,
  UNKNOWN,
  withPrefix
} from "./sqlText.js"

export class DescribeError extends Schema.TaggedError<DescribeError>()("DescribeError", {
  /** What was being done ("connecting", "describing", …). */
  step: Schema.String,
  /** The statement, when the failure is about one. */
  text: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message() {
    return `${this.step} failed: ${this.detail}${this.text === undefined ? "" : `\n--- statement:\n${this.text}`}`
  }
}

/** The kind of a type (of its element type, for arrays), from `pg_type.typtype`. */
export type TypeKind = "base" | "enum" | "composite" | "range" | "multirange" | "pseudo"

/** A PostgreSQL type as the driver sees it: domains are replaced by their base type. */
export interface DescribedType {
  /** `pg_type.typname` of the (base) type; arrays are `<element typname>[]`. */
  readonly type: string
  readonly kind: TypeKind
}

/** A parameter, with what the statement's text says of its use (see paramUse.ts). */
export interface DescribedParam extends DescribedType {
  /** The first `=`/`<>` comparison of it (`users.user_id = $1`) when the statement never tests it with IS [NOT] NULL. */
  readonly comparedWithEquals?: string
  /** The first NOT NULL column (`users.username`) it is written into as is (INSERT, UPDATE SET, ON CONFLICT DO UPDATE SET). */
  readonly notNullTarget?: string
}

export interface DescribedColumn extends DescribedType {
  /** The column name without a `!`/`?` override suffix. */
  readonly name: string
  readonly nullable: boolean
  readonly reason: string
  /** The table column the value comes from (Describe's table OID and attribute number, resolved), if any. Not cached: OIDs differ between databases. */
  readonly origin?: {
    readonly table: string
    readonly column: string
    readonly tableOid: number
    readonly attnum: number
  }
}

export interface Description {
  readonly params: ReadonlyArray<DescribedParam>
  readonly columns: ReadonlyArray<DescribedColumn>
}

export interface Describer {
  readonly describe: (text: string) => Effect.Effect<Description, DescribeError>
}

interface ProtocolDescription {
  readonly paramOids: ReadonlyArray<number>
  readonly fields: ReadonlyArray<pg.FieldDef>
}

/** A driver or server error as one line: message, SQLSTATE, position, hint. */
export const errorText = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const e = error as Error & { readonly code?: string; readonly position?: string; readonly hint?: string }
  return [
    e.message,
    e.code ? `(SQLSTATE ${e.code})` : "",
    e.position ? `at character ${e.position}` : "",
    e.hint ? `hint: ${e.hint}` : ""
  ]
    .filter((s) => s !== "")
    .join(" ")
}

/** The extended-protocol messages an exchange sends, on node-postgres's connection (not in its public types). */
export interface ProtocolConnection {
  readonly stream: { cork?: () => void; uncork?: () => void }
  parse(q: { name: string; text: string; types: Array<number> }): void
  describe(q: { type: "S"; name: string }): void
  sync(): void
}

/**
 * A Parse/Describe/Sync exchange through node-postgres's Submittable hook. The messages the client does not hand to
 * a submittable (ParameterDescription, NoData) are read from the connection while it is active; the client drops a
 * submittable on an error, before the ReadyForQuery the server still sends, so an error or ReadyForQuery ends it,
 * once.
 */
export abstract class ProtocolExchange implements pg.Submittable {
  protected error: unknown = undefined
  private connection: pg.Connection | undefined
  private ended = false

  /** The connection events to listen to while the exchange is active. */
  protected abstract listeners(): ReadonlyArray<readonly [event: string, listener: (msg: any) => void]>
  protected abstract send(connection: ProtocolConnection): void
  protected abstract end(error: unknown): void

  submit(connection: pg.Connection) {
    this.connection = connection
    for (const [event, listener] of this.listeners()) connection.on(event, listener)
    this.send(connection as unknown as ProtocolConnection)
  }

  handleError(error: unknown) {
    this.error = error
    this.finish()
  }

  handleReadyForQuery() {
    this.finish()
  }

  handleRowDescription(_msg: { readonly fields: ReadonlyArray<pg.FieldDef> }) {}
  handleDataRow() {}
  handlePortalSuspended() {}
  handleEmptyQuery() {}
  handleCommandComplete() {}
  handleCopyInResponse() {}
  handleCopyData() {}

  private finish() {
    if (this.ended) return
    this.ended = true
    for (const [event, listener] of this.listeners()) this.connection?.removeListener(event, listener)
    this.end(this.error)
  }
}

/**
 * Parse + Describe(statement) + Sync: the statement is prepared under `name` (so `EXPLAIN EXECUTE name(…)` can use
 * it) but never executed.
 */
class DescribeStatement extends ProtocolExchange {
  private paramOids: ReadonlyArray<number> = []
  private fields: ReadonlyArray<pg.FieldDef> = []
  private readonly onParameters = (msg: { readonly dataTypeIDs: ReadonlyArray<number> }) => {
    this.paramOids = msg.dataTypeIDs
  }

  constructor(
    readonly statementName: string,
    readonly text: string,
    private readonly done: (result: { ok: ProtocolDescription } | { error: unknown }) => void,
    /** Parameter type OIDs to parse with (0 or none: inferred). */
    private readonly types: ReadonlyArray<number> = []
  ) {
    super()
  }

  protected listeners() {
    return [["parameterDescription", this.onParameters]] as const
  }

  protected send(c: ProtocolConnection) {
    c.parse({ name: this.statementName, text: this.text, types: [...this.types] })
    c.describe({ type: "S", name: this.statementName })
    c.sync()
  }

  override handleRowDescription(msg: { readonly fields: ReadonlyArray<pg.FieldDef> }) {
    this.fields = msg.fields
  }

  protected end(error: unknown) {
    if (error !== undefined) this.done({ error })
    else this.done({ ok: { paramOids: this.paramOids, fields: this.fields } })
  }
}

export interface TypeRow {
  readonly oid: number
  readonly typname: string
  readonly typtype: string
  readonly typelem: number
  readonly typbasetype: number
  readonly typcategory: string
}

export interface AttributeRow {
  readonly attrelid: number
  readonly attnum: number
  readonly attname: string
  readonly attnotnull: boolean
  readonly relname: string
}

export const kindOf = (typtype: string): TypeKind =>
  typtype === "e"
    ? "enum"
    : typtype === "c"
      ? "composite"
      : typtype === "r"
        ? "range"
        : typtype === "m"
          ? "multirange"
          : typtype === "p"
            ? "pseudo"
            : "base"

/** The type `oid` stands for, from loaded pg_type rows (domains and arrays resolved through the rows they refer to). */
export const describedType = (types: ReadonlyMap<number, TypeRow>, oid: number): DescribedType => {
  let row = types.get(oid)
  for (let guard = 0; row !== undefined && row.typtype === "d" && guard < 32; guard++) row = types.get(row.typbasetype)
  if (row === undefined) return { type: `oid ${oid}`, kind: "base" }
  if (row.typcategory === "A" && row.typelem !== 0) {
    const element = describedType(types, row.typelem)
    return { type: `${element.type}[]`, kind: element.kind }
  }
  return { type: row.typname, kind: kindOf(row.typtype) }
}

/** The pg_attribute rows (with their table's name) of the given (table OID, attnum) pairs: `$1` the OIDs, `$2` the attnums. */
export const attributesSql = `SELECT a.attrelid::int8::float8 AS attrelid, a.attnum::int4 AS attnum, a.attname::text AS attname, a.attnotnull, c.relname::text AS relname
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN unnest($1::oid[], $2::int2[]) AS k(relid, num) ON k.relid = a.attrelid AND k.num = a.attnum`

/** The state of one describe's analysis of the statements derived from it. */
interface Analysis {
  /** The described statement's parameter types, for every derived statement. */
  readonly types: ReadonlyArray<number>
  /** Derived statements already analysed (undefined: could not be, or under way). */
  readonly memo: Map<string, Analysed | undefined>
  readonly depth: number
}

/** A derived statement's outputs: their names as the server gives them, and their nullability. */
interface Analysed {
  readonly names: ReadonlyArray<string>
  readonly columns: ReadonlyArray<Nullability>
}

/** How deep statements are derived from statements (subquery in a CTE in a branch …) before giving up. */
const MAX_DEPTH = 8

const GROUPING_SETS: Nullability = {
  nullable: true,
  reason: "GROUP BY with grouping sets: grouped columns are NULL in the rows of other sets"
}

const valuesColumn = (shape: Extract<StatementShape, { kind: "values" }>, i: number): Nullability => {
  const each = shape.rows.map((row) =>
    row[i] === undefined ? UNKNOWN : nullabilityOf(row[i]!, { column: () => undefined, grouped: false })
  )
  const k = each.findIndex((n) => n.nullable)
  return k === -1
    ? { nullable: false, reason: "every VALUES row is non-null" }
    : { nullable: true, reason: `VALUES row ${k + 1}: ${each[k]!.reason}` }
}

// `?column?` is the server's name for an unnamed output (a branch's literal, say), not an override
export const overrideOf = (name: string): { readonly name: string; readonly override: "!" | "?" | undefined } =>
  name !== "?column?" && (name.endsWith("!") || name.endsWith("?"))
    ? { name: name.slice(0, -1), override: name.endsWith("!") ? "!" : "?" }
    : { name, override: undefined }

/**
 * A describer on its own connection to `url` (closed with the scope). Type and column facts are cached for the
 * connection's life: describe many statements with one describer, against a schema that does not change meanwhile.
 */
export const openDescriber = (url: string): Effect.Effect<Describer, DescribeError, Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const c = new pg.Client({ connectionString: url, application_name: "mas-data query describe" })
          // a connection error after connect would otherwise be an unhandled 'error' event
          c.on("error", () => undefined)
          await c.connect()
          return c
        },
        catch: (cause) => new DescribeError({ step: "connecting", detail: errorText(cause) })
      }),
      (c) => Effect.promise(() => c.end().catch(() => undefined))
    )

    const run = <R extends object>(step: string, text: string, values?: ReadonlyArray<unknown>, statement?: string) =>
      Effect.tryPromise({
        try: () => client.query<R>(text, values as Array<unknown> | undefined),
        catch: (cause) =>
          new DescribeError({ step, detail: errorText(cause), ...(statement === undefined ? {} : { text: statement }) })
      })

    // EXPLAIN EXECUTE with NULL parameters must not be planned for those NULLs (which could fold joins away)
    yield* run("setting plan_cache_mode", "SET plan_cache_mode = force_generic_plan")

    const types = new Map<number, TypeRow>()
    const loadTypes = (oids: ReadonlyArray<number>) =>
      Effect.gen(function* () {
        let missing = [...new Set(oids)].filter((oid) => oid !== 0 && !types.has(oid))
        // domains and arrays refer to other types: load until closed
        while (missing.length > 0) {
          const result = yield* run<TypeRow>(
            "reading pg_type",
            "SELECT oid::int4 AS oid, typname::text AS typname, typtype::text AS typtype, typelem::int4 AS typelem, typbasetype::int4 AS typbasetype, typcategory::text AS typcategory FROM pg_type WHERE oid = ANY($1::oid[])",
            [missing]
          )
          for (const row of result.rows) types.set(row.oid, row)
          const next = new Set<number>()
          for (const row of result.rows) {
            for (const ref of [row.typelem, row.typbasetype]) if (ref !== 0 && !types.has(ref)) next.add(ref)
          }
          missing = [...next]
        }
      })

    const typeOf = (oid: number): DescribedType => describedType(types, oid)

    const attributes = new Map<string, AttributeRow>()
    const loadAttributes = (fields: ReadonlyArray<pg.FieldDef>) =>
      Effect.gen(function* () {
        const missing = fields.filter((f) => f.tableID !== 0 && !attributes.has(`${f.tableID}:${f.columnID}`))
        if (missing.length === 0) return
        const result = yield* run<AttributeRow>("reading pg_attribute", attributesSql, [
          missing.map((f) => f.tableID),
          missing.map((f) => f.columnID)
        ])
        for (const row of result.rows) attributes.set(`${row.attrelid}:${row.attnum}`, row)
      })

    let counter = 0
    const prepare = (statementName: string, text: string, types: ReadonlyArray<number> = []) =>
      Effect.async<ProtocolDescription, DescribeError>((resume) => {
        client.query(
          new DescribeStatement(
            statementName,
            text,
            (result) =>
              resume(
                "ok" in result
                  ? Effect.succeed(result.ok)
                  : Effect.fail(new DescribeError({ step: "describing", text, detail: errorText(result.error) }))
              ),
            types
          )
        )
      })
    const deallocating = (statementName: string) =>
      run("deallocating", `DEALLOCATE ${statementName}`).pipe(Effect.ignore)

    /**
     * Why each output of a statement prepared as `statementName` is (not) nullable: the alias override, then an outer
     * join in the plan, then the table column's NOT NULL, then what the statement's shape proves (set operation
     * branches, expressions, columns of subqueries and CTEs, each learnt from a statement derived from this one).
     */
    const columnNullability = (
      text: string,
      statementName: string,
      protocol: ProtocolDescription,
      analysis: Analysis
    ): Effect.Effect<ReadonlyArray<Nullability>, DescribeError> =>
      Effect.gen(function* () {
        const args = protocol.paramOids.length === 0 ? "" : `(${protocol.paramOids.map(() => "NULL").join(", ")})`
        const explained = yield* run<{ "QUERY PLAN": ReadonlyArray<{ readonly Plan: PlanNode }> }>(
          "explaining",
          `EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE ${statementName}${args}`,
          undefined,
          text
        )
        const plan = explained.rows[0]?.["QUERY PLAN"][0]?.Plan
        const forced = plan === undefined ? [] : forcedNullable(plan)
        const fields = protocol.fields
        const shape = statementShape(text)
        const branches =
          shape.kind === "set-operation" ? yield* setOperation(shape, fields.length, analysis) : undefined
        const items = shape.kind === "rows" ? yield* itemsPerField(shape, fields.length, analysis) : undefined
        const leaves =
          shape.kind === "rows" && items !== undefined ? yield* columnLeaves(shape, items, analysis) : undefined

        return yield* Effect.forEach(fields, (field, i): Effect.Effect<Nullability> =>
          Effect.gen(function* () {
            const { override } = overrideOf(field.name)
            if (override === "!") return { nullable: false, reason: "alias override !" }
            if (override === "?") return { nullable: true, reason: "alias override ?" }
            const item = items?.[i]
            if (shape.kind === "rows" && shape.grouping === "sets") {
              return item?.kind === "expression"
                ? nullabilityOf(item.expr, { column: () => GROUPING_SETS, grouped: false })
                : GROUPING_SETS
            }
            const join = forced[i]
            if (join !== undefined && join !== null) return { nullable: true, reason: join }
            const ref =
              shape.kind !== "rows" || item === undefined || item.kind === "composite-star"
                ? undefined
                : item.kind === "star"
                  ? { qualifier: item.qualifier, column: field.name, text: field.name }
                  : columnRefOf(item.expr)
            if (field.tableID !== 0) {
              const attribute = attributes.get(`${field.tableID}:${field.columnID}`)
              if (attribute !== undefined) {
                const qualified = `${attribute.relname}.${attribute.attname}`
                if (!attribute.attnotnull) return { nullable: true, reason: `column ${qualified} is nullable` }
                // through a subquery or CTE, the table's value can still come out NULL (grouping sets in there)
                const through =
                  shape.kind === "rows" && ref !== undefined ? yield* resolveRef(shape, ref, analysis) : undefined
                return through?.nullable ? through : { nullable: false, reason: `NOT NULL column ${qualified}` }
              }
            }
            if (branches !== undefined) return branches[i]!
            if (shape.kind === "values") return valuesColumn(shape, i)
            if (shape.kind !== "rows" || item === undefined || item.kind === "composite-star") return UNKNOWN
            if (ref !== undefined) return (yield* resolveRef(shape, ref, analysis)) ?? UNKNOWN
            if (item.kind === "star") return UNKNOWN
            return nullabilityOf(item.expr, {
              column: (r) => leaves?.get(r.text),
              grouped: shape.grouping === "plain"
            })
          })
        )
      })

    /** A statement derived from the one described (a branch, a subquery, a CTE), analysed alone; undefined if it cannot be. */
    const analyse = (text: string, analysis: Analysis): Effect.Effect<Analysed | undefined> =>
      Effect.gen(function* () {
        if (analysis.depth >= MAX_DEPTH) return undefined
        if (analysis.memo.has(text)) return analysis.memo.get(text)
        // a statement that needs its own answer (through a recursive CTE) gets none
        analysis.memo.set(text, undefined)
        const statementName = `mas_querycheck_${counter++}`
        const protocol = yield* prepare(statementName, text, analysis.types)
        const analysed = yield* Effect.gen(function* () {
          yield* loadAttributes(protocol.fields)
          const columns = yield* columnNullability(text, statementName, protocol, {
            ...analysis,
            depth: analysis.depth + 1
          })
          return { names: protocol.fields.map((f) => f.name), columns }
        }).pipe(Effect.ensuring(deallocating(statementName)))
        analysis.memo.set(text, analysed)
        return analysed
      }).pipe(Effect.catchAll(() => Effect.succeed(undefined)))

    /** Each output of a set operation: nullable when a branch's is, non-null when every branch's is. */
    const setOperation = (
      shape: Extract<StatementShape, { kind: "set-operation" }>,
      count: number,
      analysis: Analysis
    ) =>
      Effect.gen(function* () {
        const branches = yield* Effect.forEach(shape.branches, (branch) => analyse(branch, analysis))
        if (branches.some((b) => b === undefined || b.columns.length !== count)) return undefined
        return Array.from({ length: count }, (_, i): Nullability => {
          const k = branches.findIndex((b) => b!.columns[i]!.nullable)
          return k === -1
            ? { nullable: false, reason: `every ${shape.operator} branch is non-null` }
            : { nullable: true, reason: `${shape.operator} branch ${k + 1}: ${branches[k]!.columns[i]!.reason}` }
        })
      })

    /** The output item behind each output, `*` and `t.*` standing for as many outputs as they expand to. */
    const itemsPerField = (
      shape: Extract<StatementShape, { kind: "rows" }>,
      count: number,
      analysis: Analysis
    ): Effect.Effect<ReadonlyArray<OutputItem> | undefined> =>
      Effect.gen(function* () {
        const stars = shape.items.filter((item) => item.kind !== "expression").length
        const widths: Array<number | undefined> = []
        for (const item of shape.items) {
          if (item.kind === "expression") widths.push(1)
          else if (stars === 1) widths.push(count - (shape.items.length - 1))
          // several stars: each one's width is that of the statement with it alone
          else widths.push((yield* analyse(shape.derive([item.text]), analysis))?.columns.length)
        }
        if (widths.some((w) => w === undefined || w < 0) || widths.reduce((a, w) => a! + w!, 0) !== count)
          return undefined
        return shape.items.flatMap((item, k) => Array.from({ length: widths[k]! }, () => item))
      })

    /**
     * The nullability of the column references inside output expressions (coalesce's arguments, CASE results,
     * aggregated values), from one statement with those references as its outputs over the same FROM … WHERE.
     */
    const columnLeaves = (
      shape: Extract<StatementShape, { kind: "rows" }>,
      items: ReadonlyArray<OutputItem>,
      analysis: Analysis
    ) =>
      Effect.gen(function* () {
        const wanted = new Map<string, ColumnRef>()
        const recording: ExpressionContext = {
          column: (ref) => {
            wanted.set(ref.text, ref)
            return undefined
          },
          grouped: shape.grouping === "plain"
        }
        for (const item of new Set(items)) {
          if (item.kind === "expression" && columnRefOf(item.expr) === undefined) nullabilityOf(item.expr, recording)
        }
        const leaves = new Map<string, Nullability>()
        if (wanted.size === 0) return leaves
        const refs = [...wanted.keys()]
        const analysed = yield* analyse(shape.derive(refs), analysis)
        if (analysed !== undefined && analysed.columns.length === refs.length)
          refs.forEach((ref, k) => leaves.set(ref, analysed.columns[k]!))
        return leaves
      })

    /**
     * A column reference with no table origin: a column of a subquery or CTE in the FROM clause, as that statement
     * gives it (and nullable on the nullable side of an outer join). Undefined when it cannot be told.
     */
    const resolveRef = (
      shape: Extract<StatementShape, { kind: "rows" }>,
      ref: ColumnRef,
      analysis: Analysis
    ): Effect.Effect<Nullability | undefined> =>
      Effect.gen(function* () {
        const from = shape.from
        if (from === undefined || (ref.qualifier === undefined && from.merges)) return undefined
        const candidates =
          ref.qualifier === undefined ? from.items : from.items.filter((item) => item.alias === ref.qualifier)
        if (ref.qualifier !== undefined && candidates.length !== 1) return undefined
        const found: Array<Nullability> = []
        for (const item of candidates) {
          const source = item.source
          let body: string
          let columns = item.columns
          if (source.kind === "function") return undefined
          if (source.kind === "subquery") body = source.body
          else {
            const cte = source.qualified ? undefined : shape.with?.ctes.find((c) => c.name === source.name)
            // a table's columns have an origin, so the reference is not to this item
            if (cte === undefined && ref.qualifier === undefined) continue
            if (cte === undefined || shape.with!.recursive) return undefined
            body = cte.body
            columns ??= cte.columns
          }
          const analysed = yield* analyse(withPrefix(shape.with, body), analysis)
          if (analysed === undefined) return undefined
          const matches = analysed.columns.filter((_, k) => (columns?.[k] ?? analysed.names[k]) === ref.column)
          if (matches.length === 0) {
            if (ref.qualifier !== undefined) return undefined
            continue
          }
          found.push(
            item.outerJoin !== undefined
              ? { nullable: true, reason: item.outerJoin }
              : (matches.find((m) => m.nullable) ?? matches[0]!)
          )
        }
        return found.find((n) => n.nullable) ?? found[0]
      })

    const describe = (text: string) =>
      Effect.gen(function* () {
        const statementName = `mas_querycheck_${counter++}`
        const protocol = yield* prepare(statementName, text)
        const deallocate = deallocating(statementName)
        return yield* Effect.gen(function* () {
          yield* loadTypes([...protocol.paramOids, ...protocol.fields.map((f) => f.dataTypeID)])
          yield* loadAttributes(protocol.fields)
          const params = yield* describeParams(text, protocol.paramOids.map(typeOf), (lookup, values) =>
            Effect.map(run<NotNullRow>("reading NOT NULL targets", lookup, values, text), (r) => r.rows)
          )
          if (protocol.fields.length === 0) return { params, columns: [] } satisfies Description

          // derived statements are parsed with the statement's parameter types, so a parameter they leave out is no error
          const nullability = yield* columnNullability(text, statementName, protocol, {
            types: protocol.paramOids,
            memo: new Map(),
            depth: 0
          })
          const columns = protocol.fields.map((field, i): DescribedColumn => {
            const { name } = overrideOf(field.name)
            const type = typeOf(field.dataTypeID)
            const attribute = field.tableID === 0 ? undefined : attributes.get(`${field.tableID}:${field.columnID}`)
            const origin =
              attribute === undefined
                ? {}
                : {
                    origin: {
                      table: attribute.relname,
                      column: attribute.attname,
                      tableOid: field.tableID,
                      attnum: field.columnID
                    }
                  }
            return { name, ...type, ...nullability[i]!, ...origin }
          })
          return { params, columns } satisfies Description
        }).pipe(Effect.ensuring(deallocate))
      })

    return { describe } satisfies Describer
  })
