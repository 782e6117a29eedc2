// One declaration per SQL query (name, text, parameter and row schemas), run through SqlClient and decoded with Schema.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Option, ParseResult, Schema } from "effect"
import { type Ulid, uuidToUlid } from "../model/Ulid.js"
import {
  type DriverError,
  expectRowsAffected,
  InconsistencyError,
  InvalidOperationError,
  mapSqlError,
  type RowsAffectedError
} from "../storage/common/errors.js"
import { abortOnDriverError } from "../storage/common/UnitOfWork.js"
import type { CachedRows } from "../querycheck/cache/types.js"

/** A query whose full text is known ahead of time: the offline check describes it against the schema. */
export interface StaticQuery<P extends ReadonlyArray<unknown>, PI extends ReadonlyArray<unknown>, Row, RowI> {
  readonly kind: "static"
  /** `<repository>.<method>[.<step>]`; the span is `db.<name>`. */
  readonly name: string
  readonly text: string
  readonly params: Schema.Schema<P, PI>
  readonly row: Schema.Schema<Row, RowI>
  /** The table rows come from, for inconsistency errors. */
  readonly table: string
  /** All decoded rows. */
  readonly all: (...params: P) => Effect.Effect<ReadonlyArray<Row>, DriverError | InconsistencyError | InvalidOperationError, SqlClient.SqlClient>
  /** The first decoded row, if any. */
  readonly one: (...params: P) => Effect.Effect<Option.Option<Row>, DriverError | InconsistencyError | InvalidOperationError, SqlClient.SqlClient>
  /** The number of rows the statement touched (for writes without RETURNING). */
  readonly affected: (...params: P) => Effect.Effect<number, DriverError | InvalidOperationError, SqlClient.SqlClient>
  /** A write that must touch exactly one row: any other count is a RowsAffectedError (§1.2). */
  readonly affectedOne: (
    ...params: P
  ) => Effect.Effect<void, DriverError | InvalidOperationError | RowsAffectedError, SqlClient.SqlClient>
}

/** A query assembled from fragments at run time (filters, pagination): listed by the check, covered by the contract suite. */
export interface DynamicQuery {
  readonly kind: "dynamic"
  readonly name: string
  readonly description: string
  readonly table: string
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStaticQuery = StaticQuery<any, any, any, any>
export type AnyQuery = AnyStaticQuery | DynamicQuery

const declared = new Map<string, AnyQuery>()

/** Every query declared by the modules loaded so far, by name. */
export const declaredQueries = (): ReadonlyMap<string, AnyQuery> => declared

const register = <Q extends AnyQuery>(query: Q): Q => {
  const existing = declared.get(query.name)
  if (existing !== undefined && existing !== query) {
    // A second declaration under one name would make the query cache ambiguous: a programming error.
    throw new Error(`query "${query.name}" is declared twice`)
  }
  declared.set(query.name, query)
  return query
}

/** The first path element of a parse issue: the column that failed to decode. */
const failedColumn = (error: ParseResult.ParseError): Option.Option<string> => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const head = issues[0]?.path[0]
  return head === undefined ? Option.none() : Option.some(String(head))
}

/** The row's id, read from its uuid primary-key column when it decodes. */
const rowId = (raw: unknown, idColumn: string | undefined): Option.Option<Ulid> => {
  if (idColumn === undefined || typeof raw !== "object" || raw === null) return Option.none()
  const value = (raw as Record<string, unknown>)[idColumn]
  return typeof value === "string" ? uuidToUlid(value) : Option.none()
}

/**
 * Decodes one raw row, turning a failure into an InconsistencyError naming the table, the column and the row.
 * Synchronous (an Either, which is also an Effect): decoding runs for every row, and an Effect per row costs more
 * than the decoding itself.
 */
export const rowDecoder = <Row, RowI>(schema: Schema.Schema<Row, RowI>, table: string, idColumn?: string) => {
  const decodeRow = Schema.decodeUnknownEither(schema)
  return (raw: unknown): Either.Either<Row, InconsistencyError> =>
    Either.mapLeft(
      decodeRow(raw),
      (cause) =>
        new InconsistencyError({
          table,
          column: failedColumn(cause),
          row: rowId(raw, idColumn),
          cause: Option.some(cause)
        })
    )
}

/** Every row decoded, or the first failure. */
const decodeAll = <Row>(rows: ReadonlyArray<unknown>, decodeOne: (raw: unknown) => Either.Either<Row, InconsistencyError>) => {
  const out: Array<Row> = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const decoded = decodeOne(rows[i])
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
    out[i] = decoded.right
  }
  return Either.right(out as ReadonlyArray<Row>)
}

/** The cursor of a raw row: its uuid primary key read back as a ULID (any 16 bytes are one). */
export const uuidCursor = (column: string) => (raw: object): Ulid =>
  Option.getOrThrow(uuidToUlid(String((raw as Record<string, unknown>)[column])))

/** Literal types widened to their primitive, through arrays: an enum column's `string` matches a field of literals. */
type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends bigint
        ? bigint
        : T extends ReadonlyArray<infer E>
          ? ReadonlyArray<Widen<E>>
          : T
type Accepts<I, C> = [C] extends [Widen<I>] ? true : false

/**
 * Whether a row field's encoded type accepts what the driver returns for the cached column (literal fields are
 * widened: an enum column's `string` fits a field of literals), and null when the column is nullable (a nullable
 * field over a NOT NULL column is allowed). JSON columns are `unknown` in the cache and take any field.
 */
type FieldFits<I, C> = unknown extends C
  ? true
  : null extends C
    ? null extends I
      ? Accepts<NonNullable<I>, NonNullable<C>>
      : false
    : Accepts<NonNullable<I>, C>

/** The error type a row schema gets when it disagrees with the committed cache (see src/querycheck/README.md). */
export interface RowDisagreesWithQueryCache<Name extends string, Fields> {
  readonly "query cache: the row schema disagrees with the prepared columns (run npm run query:check)": Name
  readonly fields: Fields
}

/**
 * `unknown` (no constraint) when the query is not in the cache yet (the offline check reports it) or when the row
 * schema fits the cached columns; an impossible-to-satisfy object type naming the bad fields otherwise. An empty row
 * schema means "rows are not read" and always fits.
 */
export type RowMatchesCache<Name extends string, RowI> = Name extends keyof CachedRows
  ? keyof RowI extends never
    ? unknown
    : CachedRows[Name] extends infer C
      ? [Exclude<keyof RowI, keyof C> | Exclude<keyof C, keyof RowI>] extends [never]
        ? {
            [K in keyof RowI]: FieldFits<RowI[K], C[K & keyof C]> extends true ? never : K
          }[keyof RowI] extends infer Bad
          ? [Bad] extends [never]
            ? unknown
            : RowDisagreesWithQueryCache<Name, Bad>
          : never
        : RowDisagreesWithQueryCache<Name, Exclude<keyof RowI, keyof C> | Exclude<keyof C, keyof RowI>>
      : never
  : unknown

/** Result columns aliased `"name!"` / `"name?"` (nullability overrides for the query cache) are read under `name`. */
const stripOverrideSuffixes = (raw: unknown): unknown => {
  if (typeof raw !== "object" || raw === null) return raw
  const row: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) row[key.endsWith("!") || key.endsWith("?") ? key.slice(0, -1) : key] = value
  return row
}

export const staticQuery = <
  const Name extends string,
  P extends ReadonlyArray<unknown>,
  PI extends ReadonlyArray<unknown>,
  Row,
  RowI
>(definition: {
  readonly name: Name
  readonly text: string
  readonly params: Schema.Schema<P, PI>
  readonly row: Schema.Schema<Row, RowI> & RowMatchesCache<Name, RowI>
  readonly table: string
  /** The primary-key column, so that inconsistency errors can name the row. */
  readonly idColumn?: string
}): StaticQuery<P, PI, Row, RowI> => {
  const encodeParams = Schema.encodeEither(definition.params)
  const span = `db.${definition.name}`
  // The stack trace a span captures by default would point here, not at the caller: not worth its cost per query.
  const spanOptions = { attributes: { "db.query.text": definition.text, "db.system.name": "postgresql" }, captureStackTrace: false }

  const statement = (params: P) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const encoded = yield* Either.mapLeft(
        encodeParams(params),
        (cause) => new InvalidOperationError({ cause: Option.some(cause) })
      )
      return sql.unsafe<object>(definition.text, encoded as ReadonlyArray<unknown> as Array<unknown>)
    })

  const decodeRow = rowDecoder<Row, RowI>(definition.row, definition.table, definition.idColumn)
  // only texts with a quoted alias ending in ! or ? pay for the key rewrite
  const decodeOne = /"[^"]*[!?]"/.test(definition.text) ? (raw: unknown) => decodeRow(stripOverrideSuffixes(raw)) : decodeRow
  const decode = (rows: ReadonlyArray<unknown>) => decodeAll(rows, decodeOne)

  const all = (...params: P) =>
    Effect.flatMap(statement(params), (s) => mapSqlError(s)).pipe(
      Effect.flatMap(decode),
      abortOnDriverError,
      Effect.withSpan(span, spanOptions)
    )

  const affected = (...params: P) =>
    Effect.flatMap(statement(params), (s) => mapSqlError(s.raw)).pipe(
      Effect.map((result) => Number((result as { rowCount?: number | null }).rowCount ?? 0)),
      abortOnDriverError,
      Effect.withSpan(span, spanOptions)
    )

  const query: StaticQuery<P, PI, Row, RowI> = {
    kind: "static",
    name: definition.name,
    text: definition.text,
    params: definition.params,
    row: definition.row,
    table: definition.table,
    all,
    one: (...params: P) => Effect.map(all(...params), (rows) => Option.fromNullable(rows[0])),
    affected,
    affectedOne: (...params: P) => Effect.flatMap(affected(...params), expectRowsAffected(1))
  }
  register(query)
  return query
}

/** Declares a run-time assembled query so that the offline check lists it. */
export const dynamicQuery = (definition: { readonly name: string; readonly description: string; readonly table: string }): DynamicQuery =>
  register({ kind: "dynamic", ...definition })

/** Runs the effect of a dynamic query under its span, mapping driver errors and recording them in the unit of work. */
export const runDynamic = <A, E, R>(query: DynamicQuery, effect: Effect.Effect<A, E, R>) =>
  mapSqlError(effect).pipe(abortOnDriverError, Effect.withSpan(`db.${query.name}`, { attributes: { "db.query.dynamic": query.description }, captureStackTrace: false }))

/** A row with no columns (for statements whose result is ignored). */
export const NoParams = Schema.Tuple()
