// The row decoder memory uses for the rows it stores: the one row decoder, on the row schema's type side.
import { Schema } from "effect"
import { rowDecoder } from "../../rows/decode.js"

/** Checks a stored row against the type side of `schema` (ids as ULIDs, times as Dates), as PostgreSQL's decode does. */
export const storedRowDecoder = <A, I>(schema: Schema.Schema<A, I>, table: string, idColumn: string) =>
  rowDecoder(Schema.typeSchema(schema), table, idColumn)
