// A typed handle on one in-memory table: reads and writes through the row schema, with the parameter checks PostgreSQL makes.
import { Effect, Either, Option, Schema } from "effect"
import type { Ulid } from "../model/Ulid.js"
import { decodeRows, rowDecoder } from "../rows/decode.js"
import {
  type DriverError,
  expectRowsAffected,
  type InconsistencyError,
  type InvalidOperationError,
  type RowsAffectedError
} from "../storage/common/errors.js"
import { nulError, rejectNul, requireUlid } from "./common/parameters.js"
import type { Database, Row as AnyRow } from "./Database.js"
import type { MemoryStoreShape } from "./MemoryStore.js"

type ReadError = DriverError | InvalidOperationError | InconsistencyError

/**
 * The statements of one table, as its PostgreSQL twin sends them: `get` is `WHERE id = $1`, `find`/`select` a
 * `WHERE` with the statement's text parameters given as `texts` (refused when they hold NUL, as PostgreSQL refuses
 * them), and the writes check the text they store the same way. Every row read is decoded with the one row decoder,
 * so a planted impossible row is an InconsistencyError naming table, column and row, as in PostgreSQL.
 */
export interface MemoryTable<Row> {
  readonly name: string
  /** The row with this primary key; a malformed id is refused as the uuid encode refuses it. */
  readonly get: (id: Ulid) => Effect.Effect<Option.Option<Row>, ReadError>
  /** The first matching row in primary-key order (`… LIMIT 1`). */
  readonly find: (
    predicate: (row: Row) => boolean,
    ...texts: ReadonlyArray<string | undefined>
  ) => Effect.Effect<Option.Option<Row>, ReadError>
  /** Every matching row in primary-key order. */
  readonly select: (
    predicate: (row: Row) => boolean,
    ...texts: ReadonlyArray<string | undefined>
  ) => Effect.Effect<ReadonlyArray<Row>, ReadError>
  /** `INSERT`: a key or constraint violation is a DriverError with PostgreSQL's SQLSTATE. */
  readonly insert: (row: Row) => Effect.Effect<void, DriverError>
  /** `INSERT … ON CONFLICT DO NOTHING`: the number of rows inserted (0 or 1). */
  readonly insertIgnoringConflict: (row: Row) => Effect.Effect<number, DriverError>
  /** `UPDATE … WHERE id = $1` that must touch exactly one row (`affectedOne`). */
  readonly updateOne: (
    id: Ulid,
    change: (row: Row) => Row
  ) => Effect.Effect<void, DriverError | InvalidOperationError | RowsAffectedError>
  /**
   * `UPDATE … WHERE id = $1 AND <guard>` that must touch exactly one row (`affectedOne`): a row that is missing or no
   * longer in the state the guard repeats is a RowsAffectedError; a malformed id is refused as `updateOne` refuses it.
   */
  readonly updateGuarded: (
    id: Ulid,
    guard: (row: Row) => boolean,
    change: (row: Row) => Row
  ) => Effect.Effect<void, DriverError | InvalidOperationError | RowsAffectedError>
  /** `UPDATE … WHERE predicate`: how many rows changed. */
  readonly updateWhere: (
    predicate: (row: Row) => boolean,
    change: (row: Row) => Row
  ) => Effect.Effect<number, DriverError>
  /** `DELETE … WHERE predicate` (with the table's ON DELETE rules): how many rows went. */
  readonly deleteWhere: (predicate: (row: Row) => boolean) => Effect.Effect<number, DriverError>
  /** The stored rows, inside a read or write of several tables at once (not decoded: decode with `decode`). */
  readonly rows: (db: Database) => ReadonlyArray<Row>
  readonly decode: (raw: unknown) => Either.Either<Row, InconsistencyError>
}

const textsOf = (row: object): ReadonlyArray<string> =>
  Object.values(row).filter((value): value is string => typeof value === "string")

export const memoryTable = <Row extends object, RowI>(
  store: MemoryStoreShape,
  options: { readonly table: string; readonly idColumn: keyof Row & string; readonly row: Schema.Schema<Row, RowI> }
): MemoryTable<Row> => {
  const { table } = options
  const decode = rowDecoder(Schema.typeSchema(options.row), table, options.idColumn)
  const rows = (db: Database) => db.rows<AnyRow>(table) as unknown as ReadonlyArray<Row>
  const asAny = (change: (row: Row) => Row) => (row: AnyRow) => change(row as unknown as Row) as unknown as AnyRow
  const select = (predicate: (row: Row) => boolean, ...texts: ReadonlyArray<string | undefined>) =>
    Effect.zipRight(
      rejectNul(...texts),
      Effect.flatMap(
        store.read((db) => rows(db).filter(predicate)),
        (found) => decodeRows(found, decode)
      )
    )
  return {
    name: table,
    decode,
    rows,
    get: (id) =>
      Effect.zipRight(
        requireUlid(id),
        Effect.flatMap(
          store.read((db) => db.get<AnyRow>(table, id)),
          (row) => (Option.isNone(row) ? Either.right(Option.none()) : Either.map(decode(row.value), Option.some))
        )
      ),
    find: (predicate, ...texts) =>
      Effect.zipRight(
        rejectNul(...texts),
        Effect.flatMap(
          store.read((db) => Option.fromNullable(rows(db).find(predicate))),
          (row) => (Option.isNone(row) ? Either.right(Option.none()) : Either.map(decode(row.value), Option.some))
        )
      ),
    select,
    insert: (row) =>
      Effect.zipRight(
        rejectNul(...textsOf(row)),
        store.write((db) =>
          Either.map(db.insert(table, row as unknown as AnyRow), (next) => [undefined, next] as const)
        )
      ),
    insertIgnoringConflict: (row) =>
      Effect.zipRight(
        rejectNul(...textsOf(row)),
        store.write((db) =>
          Either.map(
            db.insertIgnoringConflict(table, row as unknown as AnyRow),
            ([next, inserted]) => [inserted ? 1 : 0, next] as const
          )
        )
      ),
    updateOne: (id, change) =>
      Effect.zipRight(
        requireUlid(id),
        store.write((db) =>
          Either.flatMap(
            db.get<AnyRow>(table, id).pipe(
              Option.map((r) => change(r as unknown as Row)),
              Option.match({
                onNone: () => Either.right(undefined),
                // the new values are the statement's parameters: text holding NUL is refused as PostgreSQL refuses it
                onSome: (next) =>
                  textsOf(next).some((t) => t.includes("\u0000")) ? Either.left(nulError()) : Either.right(undefined)
              })
            ),
            () => Either.map(db.updateOne(table, id, asAny(change)), (next) => [undefined, next] as const)
          )
        )
      ),
    updateGuarded: (id, guard, change) =>
      Effect.zipRight(
        requireUlid(id),
        Effect.flatMap(
          store.write((db) =>
            db.updateWhere(
              table,
              (row) => row[options.idColumn as string] === id && guard(row as unknown as Row),
              asAny(change)
            )
          ),
          expectRowsAffected(1)
        )
      ),
    updateWhere: (predicate, change) =>
      store.write((db) => db.updateWhere(table, (row) => predicate(row as unknown as Row), asAny(change))),
    deleteWhere: (predicate) => store.write((db) => db.deleteWhere(table, (row) => predicate(row as unknown as Row)))
  }
}

/** Mirrors `affectedOne` of a PostgreSQL statement: exactly one row, else RowsAffectedError. */
export const exactlyOne = (count: Effect.Effect<number, DriverError>) => Effect.flatMap(count, expectRowsAffected(1))
