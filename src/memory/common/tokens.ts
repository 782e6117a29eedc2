// Token lookups and inserts as both memory token families run them, in PostgreSQL's order of checks.
import { Effect, Option } from "effect"
import { checkWellFormed } from "../../storage/common/limits.js"
import { requireUlid } from "./parameters.js"
import { exactlyOne, type MemoryTable } from "../Table.js"

/** `findByToken`: the text refused as PostgreSQL's parameter encoding refuses it, then the row whose `text` it is. */
export const findByTokenText =
  <Row, A>(
    table: MemoryTable<Row>,
    name: "accessToken" | "refreshToken",
    text: (row: Row) => string,
    fromRow: (row: Row) => A
  ) =>
  (token: string) =>
    Effect.zipRight(
      checkWellFormed({ [name]: token }),
      Effect.map(
        table.find((r) => text(r) === token, token),
        Option.map(fromRow)
      )
    )

/** The insert of a new token row: the entities' ids encoded first, as PostgreSQL's parameters are, then the row. */
export const insertTokenRow =
  <Row>(table: MemoryTable<Row>) =>
  (row: Row, ...entities: ReadonlyArray<{ readonly id: string }>) =>
    Effect.zipRight(requireUlid(...entities.map((e) => e.id)), exactlyOne(table.insertIgnoringConflict(row)))
