// Re-validates rows the in-memory backend stores (the Type side of a row Schema), so a planted impossible row is an InconsistencyError there as in PostgreSQL.
import { Either, Option, ParseResult, Schema } from "effect"
import { parseUlid, type Ulid } from "../../model/Ulid.js"
import { InconsistencyError } from "./errors.js"

const failedColumn = (error: ParseResult.ParseError): Option.Option<string> => {
  const head = ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.path[0]
  return head === undefined ? Option.none() : Option.some(String(head))
}

const storedId = (raw: unknown, idColumn: string): Option.Option<Ulid> => {
  if (typeof raw !== "object" || raw === null) return Option.none()
  const value = (raw as Record<string, unknown>)[idColumn]
  return typeof value === "string" ? parseUlid(value) : Option.none()
}

/**
 * Checks a stored row against the Type side of `schema` (ids as ULIDs, times as Dates), naming
 * the table, the failing column and the row id as PostgreSQL's `rowDecoder` does.
 */
export const storedRowDecoder = <A, I>(schema: Schema.Schema<A, I>, table: string, idColumn: string) => {
  const decode = Schema.decodeUnknownEither(Schema.typeSchema(schema))
  return (raw: unknown): Either.Either<A, InconsistencyError> =>
    Either.mapLeft(
      decode(raw),
      (cause) =>
        new InconsistencyError({
          table,
          column: failedColumn(cause),
          row: storedId(raw, idColumn),
          cause: Option.some(cause)
        })
    )
}
