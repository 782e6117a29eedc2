// Queries assembled at run time from declared pieces (filter criteria, filter slots, keyset pagination): the statement sent is always one of a known set, which the offline check describes and checks.
import type { SqlClient } from "@effect/sql"
import { Effect, Either, Option, type ParseResult, Schema } from "effect"
import { UlidFromUuid, type Ulid } from "../model/Ulid.js"
import { type DriverError, InvalidOperationError } from "../storage/common/errors.js"
import { Page, type Pagination, readCursor } from "../storage/common/Pagination.js"
import { now } from "../storage/common/time.js"
import { abortOnDriverError } from "../storage/common/UnitOfWork.js"
import type { Combination, DynamicDeclaration } from "../querycheck/declaration.js"
import { toSafeCount } from "./common/count.js"
import { mapSqlError } from "./common/errors.js"
import { executorOf } from "./common/execute.js"
import { NoRows, uuidCursor } from "./query.js"

/** A Schema.Tuple: one element per `$n` of a piece's text. */
export type TupleSchema = Schema.Schema.AnyNoContext & {
  readonly elements: ReadonlyArray<Schema.Schema.AnyNoContext>
}

/**
 * A declared piece of SQL. Its parameters are numbered `$1…` within the piece and renumbered where it is put into a
 * statement, so its text must not contain `$<digit>` anywhere else (in a string literal, say).
 */
export interface Piece<T extends TupleSchema = TupleSchema> {
  readonly _tag: "Piece"
  readonly text: string
  readonly params: T
}

const NoParams = Schema.Tuple()

/** A piece of SQL with its parameters' schema (none by default). */
export function piece(text: string): Piece<typeof NoParams>
export function piece<T extends TupleSchema>(text: string, params: T): Piece<T>
export function piece(text: string, params: TupleSchema = NoParams): Piece {
  return { _tag: "Piece", text, params }
}

/** A criterion that holds another filter: `before`, that filter's condition, `after` (no parameters of its own). */
export interface Nested<F> {
  readonly _tag: "Nested"
  readonly before: string
  readonly filter: Filter<F>
  readonly after: string
}

export const nested = <F>(before: string, filter: Filter<F>, after: string): Nested<F> => ({
  _tag: "Nested",
  before,
  filter,
  after
})

export type Criterion = Piece<any> | Nested<any>

/** A criterion chosen for one run, with its values (none when only the text is wanted). */
export interface Applied {
  readonly key: string
  readonly values?: ReadonlyArray<unknown>
  readonly inner?: ReadonlyArray<Applied>
}

/** The criteria of a filter, each as a function taking its values. */
export type Use<C> = {
  readonly [K in keyof C]: C[K] extends Piece<infer T>
    ? (...params: Schema.Schema.Type<T>) => Applied
    : C[K] extends Nested<infer G>
      ? (filter: G) => Applied
      : never
}

/** A filter: its declared criteria, and which of them a filter value selects (in the order they are AND-ed). */
export interface Filter<F> {
  readonly _tag: "Filter"
  /** The filter type's name, for messages. */
  readonly name: string
  readonly criteria: Readonly<Record<string, Criterion>>
  readonly select: (filter: F) => ReadonlyArray<Applied>
}

/**
 * Declares a filter: `filter<UserFilter>()("UserFilter", { criteria… }, (f, use) => [f.x !== undefined && use.x(f.x), …])`.
 * Entries that are `false` or `undefined` are dropped; the rest are AND-ed, each in parentheses.
 */
export const filter =
  <F>() =>
  <const C extends Record<string, Criterion>>(
    name: string,
    criteria: C,
    select: (filter: F, use: Use<C>) => ReadonlyArray<Applied | false | undefined>
  ): Filter<F> => {
    const use = Object.fromEntries(
      Object.entries(criteria).map(([key, criterion]) => [
        key,
        criterion._tag === "Piece"
          ? (...values: ReadonlyArray<unknown>): Applied => ({ key, values })
          : (inner: unknown): Applied => ({ key, inner: criterion.filter.select(inner) })
      ])
    ) as Use<C>
    return {
      _tag: "Filter",
      name,
      criteria,
      select: (value) => select(value, use).filter((a): a is Applied => a !== false && a !== undefined)
    }
  }

/** Where a filter's condition goes inside a statement's text (a slot with no criterion reads `TRUE`). */
export interface SlotRef {
  readonly _tag: "Slot"
  readonly key: string
}

export const slot = (key: string): SlotRef => ({ _tag: "Slot", key })

type FilterValues<S> = { readonly [K in keyof S]: S[K] extends Filter<infer F> ? F : never }

interface Spec {
  readonly description: string
  /** Every column of the rows (an empty Struct when they are not read). */
  readonly row: Schema.Schema.AnyNoContext
  /** The statement's own parameters, `$1…` of its text parts (never renumbered). */
  readonly params: TupleSchema
  readonly slots: Readonly<Record<string, Filter<any>>>
  readonly parts: ReadonlyArray<string | SlotRef>
  /** A slot rendered after the parts as ` WHERE …` (with the keyset conditions of a page query), none when empty. */
  readonly where?: string
  /** The uuid primary key a page query is ordered by, e.g. `users.user_id`. */
  readonly keyset?: string
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering: the same code builds the text for the cache (no values) and the statement sent (values encoded).

class Builder {
  text = ""
  readonly elements: Array<Schema.Schema.AnyNoContext> = []
  readonly values: Array<unknown> | undefined
  error: ParseResult.ParseError | undefined

  constructor(withValues: boolean) {
    this.values = withValues ? [] : undefined
  }

  add(p: Piece, values: ReadonlyArray<unknown> | undefined) {
    const offset = this.elements.length
    this.text += offset === 0 ? p.text : p.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
    this.elements.push(...p.params.elements)
    if (this.values === undefined || this.error !== undefined) return
    const encoded = Schema.encodeEither(p.params)(values ?? [])
    if (Either.isLeft(encoded)) this.error = encoded.left
    else this.values.push(...encoded.right)
  }
}

const condition = (b: Builder, f: Filter<any>, applied: ReadonlyArray<Applied>) => {
  if (applied.length === 0) {
    b.text += "TRUE"
    return
  }
  applied.forEach((a, i) => {
    if (i > 0) b.text += " AND "
    b.text += "("
    const criterion = f.criteria[a.key]!
    if (criterion._tag === "Piece") b.add(criterion, a.values)
    else {
      b.text += criterion.before
      condition(b, criterion.filter, a.inner ?? [])
      b.text += criterion.after
    }
    b.text += ")"
  })
}

/** A pagination form: what the text depends on (direction, which cursors are set), not the values. */
interface PaginationForm {
  readonly direction: "forward" | "backward"
  readonly after: boolean
  readonly before: boolean
}

const formLabel = (form: PaginationForm) =>
  `${form.direction === "forward" ? "first" : "last"}${form.after ? " after" : ""}${form.before ? " before" : ""}`

const FORMS: ReadonlyArray<PaginationForm> = (["forward", "backward"] as const).flatMap((direction) =>
  [
    [false, false],
    [true, false],
    [false, true],
    [true, true]
  ].map(([after, before]) => ({ direction, after: after!, before: before! }))
)

const CursorParam = Schema.Tuple(UlidFromUuid)
const LimitParam = Schema.Tuple(Schema.Number)

interface PageValues {
  readonly after?: Ulid
  readonly before?: Ulid
  readonly limit: number
}

const render = (
  spec: Spec,
  plans: Readonly<Record<string, ReadonlyArray<Applied>>>,
  own: ReadonlyArray<unknown> | undefined,
  form: PaginationForm | undefined,
  page: PageValues | undefined,
  withValues: boolean
): Builder => {
  const b = new Builder(withValues)
  b.add({ _tag: "Piece", text: "", params: spec.params }, own)
  for (const part of spec.parts) {
    if (typeof part === "string") b.text += part
    else condition(b, spec.slots[part.key]!, plans[part.key] ?? [])
  }
  const where = spec.where === undefined ? [] : (plans[spec.where] ?? [])
  const keyset: Array<[string, Ulid | undefined]> = []
  if (spec.keyset !== undefined && form !== undefined) {
    if (form.after) keyset.push([`${spec.keyset} > $1`, page?.after])
    if (form.before) keyset.push([`${spec.keyset} < $1`, page?.before])
  }
  if (where.length > 0 || keyset.length > 0) {
    b.text += " WHERE "
    if (where.length > 0) condition(b, spec.slots[spec.where!]!, where)
    keyset.forEach(([text, cursor], i) => {
      if (i > 0 || where.length > 0) b.text += " AND "
      b.text += "("
      b.add({ _tag: "Piece", text, params: CursorParam }, [cursor])
      b.text += ")"
    })
  }
  if (spec.keyset !== undefined && form !== undefined) {
    b.text += ` ORDER BY ${spec.keyset} ${form.direction === "forward" ? "ASC" : "DESC"} `
    b.add({ _tag: "Piece", text: "LIMIT $1", params: LimitParam }, [page?.limit])
  }
  return b
}

// ---------------------------------------------------------------------------------------------------------------
// The combinations the check describes.

const everyCriterion = (f: Filter<any>, depth = 0): ReadonlyArray<Applied> => {
  // a filter nested in itself would never end: the schema has no such filter, and this keeps it so
  if (depth > 8) throw new Error(`filter ${f.name} nests too deep`)
  return Object.entries(f.criteria).map(([key, criterion]) =>
    criterion._tag === "Piece" ? { key } : { key, inner: everyCriterion(criterion.filter, depth + 1) }
  )
}

const combinationsOf = (spec: Spec): ReadonlyArray<Combination> => {
  const keys = Object.keys(spec.slots)
  const none = Object.fromEntries(keys.map((k) => [k, []]))
  const all = Object.fromEntries(keys.map((k) => [k, everyCriterion(spec.slots[k]!)]))
  const sets: Array<{ criteria: string; plans: Record<string, ReadonlyArray<Applied>> }> = [
    { criteria: "none", plans: none }
  ]
  for (const k of keys) {
    for (const applied of all[k]!) {
      sets.push({ criteria: keys.length > 1 ? `${k}.${applied.key}` : applied.key, plans: { ...none, [k]: [applied] } })
    }
  }
  sets.push({ criteria: "all", plans: all })
  const first = FORMS[0]!
  const out: Array<Combination> = []
  const push = (criteria: string, plans: Record<string, ReadonlyArray<Applied>>, form?: PaginationForm) => {
    const b = render(spec, plans, undefined, form, undefined, false)
    out.push({
      criteria,
      ...(form === undefined ? {} : { pagination: formLabel(form) }),
      text: b.text,
      params: Schema.Tuple(...b.elements)
    })
  }
  for (const set of sets) push(set.criteria, set.plans, spec.keyset === undefined ? undefined : first)
  if (spec.keyset !== undefined) for (const form of FORMS.slice(1)) push("all", all, form)
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Running.

const invalid = (cause: unknown) => new InvalidOperationError({ cause: Option.some(cause) })

const rendered = (
  spec: Spec,
  values: Readonly<Record<string, unknown>>,
  own: ReadonlyArray<unknown>,
  form?: PaginationForm,
  page?: PageValues
): Either.Either<RenderedStatement, InvalidOperationError> => {
  const plans = Object.fromEntries(Object.entries(spec.slots).map(([k, f]) => [k, f.select(values[k])]))
  const b = render(spec, plans, own, form, page, true)
  return b.error === undefined ? Either.right({ text: b.text, values: b.values! }) : Either.left(invalid(b.error))
}

const rowsOf = (
  sql: SqlClient.SqlClient,
  statement: { readonly text: string; readonly values: ReadonlyArray<unknown> }
) => abortOnDriverError(mapSqlError(executorOf(sql).rows(statement.text, statement.values)))

const countOf = (
  sql: SqlClient.SqlClient,
  statement: { readonly text: string; readonly values: ReadonlyArray<unknown> }
) => Effect.flatMap(rowsOf(sql, statement), (rows) => toSafeCount((rows[0] as { count?: unknown } | undefined)?.count))

/** A dynamic query before `repositoryQueries(…).dynamic` names it. */
export type Unnamed<Q> = (name: string, table: string) => Q

const declaration = (spec: Spec, name: string, table: string): DynamicDeclaration => ({
  kind: "dynamic",
  name,
  description: spec.description,
  table,
  row: spec.row,
  combinations: combinationsOf(spec)
})

/** A statement as sent: its text and encoded parameters. */
export interface RenderedStatement {
  readonly text: string
  readonly values: ReadonlyArray<unknown>
}

export interface PageQuery<S> extends DynamicDeclaration {
  /** The statement `page` sends for these filters and pagination (refused as `page` refuses them). */
  readonly statement: (
    filters: FilterValues<S>,
    pagination: Pagination
  ) => Either.Either<RenderedStatement, InvalidOperationError>
  /** One keyset page of raw rows (decode them with `page.tryMap`). */
  readonly page: (
    sql: SqlClient.SqlClient,
    filters: FilterValues<S>,
    pagination: Pagination
  ) => Effect.Effect<Page<object>, DriverError | InvalidOperationError>
}

/**
 * `SELECT … [WHERE filter AND keyset] ORDER BY keyset LIMIT count + 1`: `select` is text (then `filter` is the
 * WHERE), or parts with slots of their own (`slots`), as a UNION of filtered selects is.
 */
export const pageQuery =
  <S extends Record<string, Filter<any>>>(options: {
    readonly description: string
    readonly row: Schema.Schema.AnyNoContext
    readonly select: string | ReadonlyArray<string | SlotRef>
    readonly slots: S
    /** The slot that is the statement's WHERE. */
    readonly where?: keyof S & string
    /** The uuid primary key, qualified (`users.user_id`); its last part names the column read back as the cursor. */
    readonly keyset: string
  }): Unnamed<PageQuery<S>> =>
  (name, table) => {
    const spec: Spec = {
      description: options.description,
      row: options.row,
      params: NoParams,
      slots: options.slots,
      parts: typeof options.select === "string" ? [options.select] : options.select,
      ...(options.where === undefined ? {} : { where: options.where }),
      keyset: options.keyset
    }
    const cursorOf = uuidCursor(options.keyset.split(".").pop()!)
    const statement = (filters: FilterValues<S>, pagination: Pagination) =>
      Either.gen(function* () {
        const after = Option.isSome(pagination.after) ? yield* readCursor(pagination.after.value) : undefined
        const before = Option.isSome(pagination.before) ? yield* readCursor(pagination.before.value) : undefined
        const form = { direction: pagination.direction, after: after !== undefined, before: before !== undefined }
        return yield* rendered(spec, filters, [], form, {
          ...(after === undefined ? {} : { after }),
          ...(before === undefined ? {} : { before }),
          limit: pagination.limit
        })
      })
    return {
      ...declaration(spec, name, table),
      statement,
      page: (sql, filters, pagination) =>
        Effect.gen(function* () {
          const rows = yield* rowsOf(sql, yield* statement(filters, pagination))
          return Page.process(rows, pagination, cursorOf)
        })
    }
  }

/** The row of a count query, for the check: `COUNT(*)` is a bigint, which the driver returns as decimal text. */
export const CountRow = Schema.Struct({ count: Schema.String })

export interface CountQuery<S> extends DynamicDeclaration {
  /** The statement `count` sends for these filters. */
  readonly statement: (filters: FilterValues<S>) => Either.Either<RenderedStatement, InvalidOperationError>
  /** The number of rows, as a safe integer. */
  readonly count: (
    sql: SqlClient.SqlClient,
    filters: FilterValues<S>
  ) => Effect.Effect<number, DriverError | InvalidOperationError>
}

/** `SELECT COUNT(*) AS count FROM from [WHERE filter]`; `from` may hold slots of its own. */
export const countQuery =
  <S extends Record<string, Filter<any>>>(options: {
    readonly description: string
    readonly from: string | ReadonlyArray<string | SlotRef>
    readonly slots: S
    readonly where?: keyof S & string
  }): Unnamed<CountQuery<S>> =>
  (name, table) => {
    const spec: Spec = {
      description: options.description,
      row: CountRow,
      params: NoParams,
      slots: options.slots,
      parts: ["SELECT COUNT(*) AS count FROM ", ...(typeof options.from === "string" ? [options.from] : options.from)],
      ...(options.where === undefined ? {} : { where: options.where })
    }
    return {
      ...declaration(spec, name, table),
      statement: (filters) => rendered(spec, filters, []),
      count: (sql, filters) => Effect.flatMap(rendered(spec, filters, []), (statement) => countOf(sql, statement))
    }
  }

export interface FilteredStatement<S, P extends TupleSchema> extends DynamicDeclaration {
  /** The statement `rows` and `rowCount` send for these filters and parameters. */
  readonly statement: (
    filters: FilterValues<S>,
    ...params: Schema.Schema.Type<P>
  ) => Either.Either<RenderedStatement, InvalidOperationError>
  /** The rows it returns. */
  readonly rows: (
    sql: SqlClient.SqlClient,
    filters: FilterValues<S>,
    ...params: Schema.Schema.Type<P>
  ) => Effect.Effect<ReadonlyArray<object>, DriverError | InvalidOperationError>
  /** The number of rows it touched (a write without RETURNING). */
  readonly rowCount: (
    sql: SqlClient.SqlClient,
    filters: FilterValues<S>,
    ...params: Schema.Schema.Type<P>
  ) => Effect.Effect<number, DriverError | InvalidOperationError>
}

/** A statement of its own text and `$1…` parameters, then ` WHERE filter`: a bulk update or delete. */
export const filteredStatement =
  <S extends Record<string, Filter<any>>, P extends TupleSchema>(options: {
    readonly description: string
    readonly text: string
    readonly params: P
    readonly row: Schema.Schema.AnyNoContext
    readonly slots: S
    readonly where: keyof S & string
  }): Unnamed<FilteredStatement<S, P>> =>
  (name, table) => {
    const spec: Spec = {
      description: options.description,
      row: options.row,
      params: options.params,
      slots: options.slots,
      parts: [options.text],
      where: options.where
    }
    return {
      ...declaration(spec, name, table),
      statement: (filters, ...params) => rendered(spec, filters, params),
      rows: (sql, filters, ...params) =>
        Effect.flatMap(rendered(spec, filters, params), (statement) => rowsOf(sql, statement)),
      rowCount: (sql, filters, ...params) =>
        Effect.flatMap(rendered(spec, filters, params), (statement) =>
          abortOnDriverError(mapSqlError(executorOf(sql).rowCount(statement.text, statement.values)))
        )
    }
  }

export interface StampQuery<F> extends DynamicDeclaration {
  /** Stamps the column with `now` on every row the filter selects; the number of rows touched. */
  readonly stamp: (sql: SqlClient.SqlClient, filter: F) => Effect.Effect<number, DriverError | InvalidOperationError>
}

/** `UPDATE table SET column = now WHERE filter`: how the session repositories finish or revoke in bulk. */
export const stampQuery =
  <F>(options: {
    readonly description: string
    readonly table: string
    readonly column: string
    readonly filter: Filter<F>
  }): Unnamed<StampQuery<F>> =>
  (name, table) => {
    const statement = filteredStatement({
      description: options.description,
      text: `UPDATE ${options.table} SET ${options.column} = $1`,
      params: Schema.Tuple(Schema.DateFromSelf),
      row: NoRows,
      slots: { filter: options.filter },
      where: "filter"
    })(name, table)
    return {
      ...statement,
      stamp: (sql, filter) =>
        Effect.flatMap(now, (at) => statement.rowCount(sql, { filter } as FilterValues<{ filter: Filter<F> }>, at))
    }
  }
