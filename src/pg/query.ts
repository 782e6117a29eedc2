// One declaration per SQL query (name, text, parameter and row schemas), run through SqlClient and decoded with Schema.
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Option, Schema } from "effect"
import { type Ulid, uuidToUlid } from "../model/Ulid.js"
import { decodeRows, rowDecoder } from "../rows/decode.js"
import {
  type DriverError,
  expectRowsAffected,
  InconsistencyError,
  InvalidOperationError,
  type RowsAffectedError
} from "../storage/common/errors.js"
import { declarePreparedStatement } from "./client.js"
import { mapSqlError } from "./common/errors.js"
import { executorOf } from "./common/execute.js"
import { abortOnDriverError } from "../storage/common/UnitOfWork.js"
import type { CachedRows } from "../querycheck/cache/types.js"
import type { DynamicDeclaration, StaticDeclaration } from "../querycheck/declaration.js"
import type { Unnamed } from "./dynamic.js"

/** A static query bound to a client: what a repository's methods call (the client is resolved once, in `make`). */
export interface BoundQuery<P extends ReadonlyArray<unknown>, Row> {
  /** All decoded rows. */
  readonly all: (
    ...params: P
  ) => Effect.Effect<ReadonlyArray<Row>, DriverError | InconsistencyError | InvalidOperationError>
  /** The first decoded row, if any. */
  readonly one: (
    ...params: P
  ) => Effect.Effect<Option.Option<Row>, DriverError | InconsistencyError | InvalidOperationError>
  /** The number of rows the statement touched (for writes without RETURNING). */
  readonly affected: (...params: P) => Effect.Effect<number, DriverError | InvalidOperationError>
  /** A write that must touch exactly one row: any other count is a RowsAffectedError (storage rule: Transitions). */
  readonly affectedOne: (...params: P) => Effect.Effect<void, DriverError | InvalidOperationError | RowsAffectedError>
}

/** One declaration per statement: the offline check reads the text and schemas, the repository binds it to its client. */
export interface StaticQuery<
  P extends ReadonlyArray<unknown>,
  PI extends ReadonlyArray<unknown>,
  Row,
  RowI
> extends StaticDeclaration {
  readonly params: Schema.Schema<P, PI>
  readonly row: Schema.Schema<Row, RowI>
  readonly bind: (sql: SqlClient.SqlClient) => BoundQuery<P, Row>
}

export type AnyStaticQuery = StaticQuery<any, any, any, any>
export type AnyQuery = AnyStaticQuery | DynamicDeclaration

/** The cursor of a raw row: its uuid primary key read back as a ULID (any 16 bytes are one). */
export const uuidCursor =
  (column: string) =>
  (raw: object): Ulid =>
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
  for (const [key, value] of Object.entries(raw))
    row[key.endsWith("!") || key.endsWith("?") ? key.slice(0, -1) : key] = value
  return row
}

/**
 * Encodes the parameters, runs the text, and maps driver errors; a failed parameter encode is the caller's mistake.
 * The text is declared as a prepared statement (see src/pg/client.ts) and sent through the client's executor.
 */
const bindStatement = <P extends ReadonlyArray<unknown>, PI extends ReadonlyArray<unknown>, Row, RowI>(
  definition: {
    readonly name: string
    readonly text: string
    readonly params: Schema.Schema<P, PI>
    readonly row: Schema.Schema<Row, RowI>
  },
  table: string,
  idColumn: string | undefined
) => {
  declarePreparedStatement(definition.name, definition.text)
  const text = definition.text
  const encodeParams = Schema.encodeEither(definition.params)
  const decodeRow = rowDecoder<Row, RowI>(definition.row, table, idColumn)
  // only texts with a quoted alias ending in ! or ? pay for the key rewrite
  const decodeOne = /"[^"]*[!?]"/.test(text) ? (raw: unknown) => decodeRow(stripOverrideSuffixes(raw)) : decodeRow
  return (sql: SqlClient.SqlClient): BoundQuery<P, Row> => {
    const execute = executorOf(sql)
    const run = <A>(
      params: P,
      send: (encoded: ReadonlyArray<unknown>) => Effect.Effect<A, SqlError>
    ): Effect.Effect<A, DriverError | InvalidOperationError> =>
      Either.match(encodeParams(params), {
        onLeft: (cause) => Effect.fail(new InvalidOperationError({ cause: Option.some(cause) })),
        onRight: (encoded) => abortOnDriverError(mapSqlError(send(encoded)))
      })
    const all = (...params: P) =>
      Effect.flatMap(
        run(params, (encoded) => execute.rows(text, encoded)),
        (rows) => decodeRows(rows, decodeOne)
      )
    const affected = (...params: P) => run(params, (encoded) => execute.rowCount(text, encoded))
    return {
      all,
      one: (...params: P) => Effect.map(all(...params), (rows) => Option.fromNullable(rows[0])),
      affected,
      affectedOne: (...params: P) => Effect.flatMap(affected(...params), expectRowsAffected(1))
    }
  }
}

/** One statement declared on its own (the repositories use {@link repositoryQueries}). */
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
}): StaticQuery<P, PI, Row, RowI> => ({
  kind: "static",
  name: definition.name,
  text: definition.text,
  params: definition.params,
  row: definition.row,
  table: definition.table,
  bind: bindStatement(definition, definition.table, definition.idColumn)
})

/** A row with no columns: the statement's rows are not read (a write, or a function called for its effect). */
export const NoRows = Schema.Struct({})

/** A statement of a repository: its text and parameters, and its row schema when it is not the repository's row. */
export interface StatementDefinition {
  readonly text: string
  readonly params: Schema.Schema.AnyNoContext
  readonly row?: Schema.Schema.AnyNoContext
  /** When the rows come from another table than the repository's (for inconsistency errors). */
  readonly table?: string
  /** The primary-key column of a `row` of another table, so that inconsistency errors can name the row. */
  readonly idColumn?: string
}

type ParamsOf<D> = D extends { readonly params: Schema.Schema<infer P extends ReadonlyArray<unknown>, any> } ? P : never
type ParamsIOf<D> = D extends { readonly params: Schema.Schema<any, infer PI extends ReadonlyArray<unknown>> }
  ? PI
  : never
type RowOf<D, Row> = D extends { readonly row: Schema.Schema<infer R, any> } ? R : Row
type RowIOf<D, RowI> = D extends { readonly row: Schema.Schema<any, infer RI> } ? RI : RowI

/** Each definition checked against the committed cache under its full name `<prefix>.<key>` (see RowMatchesCache). */
type CheckedDefinitions<Prefix extends string, D, RowI> = {
  readonly [K in keyof D]: D[K] & RowMatchesCache<`${Prefix}.${K & string}`, RowIOf<D[K], RowI>>
}

export type Statements<D, Row, RowI> = {
  readonly [K in keyof D]: StaticQuery<ParamsOf<D[K]>, ParamsIOf<D[K]>, RowOf<D[K], Row>, RowIOf<D[K], RowI>>
}

export type Bound<Q> = {
  readonly [K in keyof Q]: Q[K] extends StaticQuery<infer P, any, infer Row, any> ? BoundQuery<P, Row> : never
}

/**
 * The query builder of one repository: the name prefix, table, primary-key column and row schema are given once.
 * `statements({ lookup: { text, params }, … })` declares the static queries, named `<prefix>.<key>`, whose rows are
 * the repository's row unless a definition names its own `row`; `dynamic({ list: pageQuery({…}) })` names the queries
 * assembled at run time from declared pieces.
 */
export const repositoryQueries = <const Prefix extends string, Row, RowI>(options: {
  readonly prefix: Prefix
  readonly table: string
  readonly idColumn: string
  readonly row: Schema.Schema<Row, RowI>
}) => ({
  /** The repository row's decoder, for the rows of dynamic queries. */
  decodeRow: rowDecoder(options.row, options.table, options.idColumn),
  statements: <const D extends Record<string, StatementDefinition>>(
    definitions: D & CheckedDefinitions<Prefix, D, RowI>
  ): Statements<D, Row, RowI> =>
    Object.fromEntries(
      Object.entries(definitions as Record<string, StatementDefinition>).map(([key, d]) => {
        const table = d.table ?? options.table
        const definition = {
          name: `${options.prefix}.${key}`,
          text: d.text,
          params: d.params,
          row: d.row ?? options.row
        }
        const query: AnyStaticQuery = {
          kind: "static",
          table,
          ...definition,
          // The primary key names the row only when the rows are the repository's own.
          bind: bindStatement(definition, table, d.idColumn ?? (d.row === undefined ? options.idColumn : undefined))
        }
        return [key, query]
      })
    ) as Statements<D, Row, RowI>,
  /** Names the dynamic queries declared with `pageQuery`, `countQuery` and `filteredStatement` (src/pg/dynamic.ts). */
  dynamic: <const D extends Record<string, Unnamed<DynamicDeclaration>>>(
    definitions: D
  ): { readonly [K in keyof D]: D[K] extends Unnamed<infer Q> ? Q : never } =>
    Object.fromEntries(
      Object.entries(definitions).map(([key, definition]) => [
        key,
        definition(`${options.prefix}.${key}`, options.table)
      ])
    ) as { readonly [K in keyof D]: D[K] extends Unnamed<infer Q> ? Q : never }
})

/** Every statement bound to one client: called once in a repository's `make`. */
export const bindAll = <Q extends Record<string, AnyStaticQuery>>(sql: SqlClient.SqlClient, queries: Q): Bound<Q> =>
  Object.fromEntries(Object.entries(queries).map(([key, query]) => [key, query.bind(sql)])) as Bound<Q>

/** The declarations of a repository, as one list for the offline check. */
export const declarationsOf = (...groups: ReadonlyArray<Readonly<Record<string, AnyQuery>>>): ReadonlyArray<AnyQuery> =>
  groups.flatMap((group) => Object.values(group))
