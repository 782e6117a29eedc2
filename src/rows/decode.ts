// The one row decoder of both backends: a row that does not decode is an InconsistencyError naming the table, the column and the row.
import { Either, Option, ParseResult, Schema } from "effect"
import { parseUlid, type Ulid, uuidToUlid } from "../model/Ulid.js"
import { InconsistencyError } from "../storage/common/errors.js"
import { compiledDecoder, refused } from "./compile.js"

/** The first path element of a parse issue: the column that failed to decode. */
const failedColumn = (error: ParseResult.ParseError): Option.Option<string> => {
  const head = ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.path[0]
  return head === undefined ? Option.none() : Option.some(String(head))
}

/** The row's id, read from its primary-key column: uuid text as PostgreSQL returns it, or ULID text as memory stores it. */
const rowId = (raw: unknown, idColumn: string | undefined): Option.Option<Ulid> => {
  if (idColumn === undefined || typeof raw !== "object" || raw === null) return Option.none()
  const value = (raw as Record<string, unknown>)[idColumn]
  return typeof value === "string" ? Option.orElse(uuidToUlid(value), () => parseUlid(value)) : Option.none()
}

/** {@link rowDecoder} through Schema's own decoder only: what a compiled decoder must agree with, and its fallback. */
export const schemaRowDecoder = <Row, RowI>(schema: Schema.Schema<Row, RowI>, table: string, idColumn?: string) => {
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

/**
 * Decodes one row with `schema`, turning a failure into an InconsistencyError. PostgreSQL decodes what the driver
 * returns with the row schema itself; memory re-validates the rows it stores with the schema's type side
 * (`Schema.typeSchema`), so a planted impossible row fails there as it does in PostgreSQL. Synchronous (an Either,
 * which is also an Effect): decoding runs for every row, and an Effect per row costs more than the decoding itself.
 *
 * Where the schema compiles (rows/compile.ts), rows decode through the compiled checks, several times faster; a row
 * they refuse is decoded again by Schema, so that the error is the one Schema reports.
 */
export const rowDecoder = <Row, RowI>(schema: Schema.Schema<Row, RowI>, table: string, idColumn?: string) => {
  const decodeWithSchema = schemaRowDecoder(schema, table, idColumn)
  const compiled = compiledDecoder(schema)
  if (compiled === undefined) return decodeWithSchema
  return (raw: unknown): Either.Either<Row, InconsistencyError> => {
    const row = compiled(raw)
    return row === refused ? decodeWithSchema(raw) : Either.right(row)
  }
}

/** Every row decoded, or the first failure (a plain loop: it runs on every page of rows). */
export const decodeRows = <Row>(
  rows: ReadonlyArray<unknown>,
  decodeOne: (raw: unknown) => Either.Either<Row, InconsistencyError>
): Either.Either<ReadonlyArray<Row>, InconsistencyError> => {
  const out: Array<Row> = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const decoded = decodeOne(rows[i])
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
    out[i] = decoded.right
  }
  return Either.right(out)
}
