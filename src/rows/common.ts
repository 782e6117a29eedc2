// Shared pieces of the row modules: turning an optional stored row into an optional entity, as both backends do.
import { Either, Option } from "effect"
import type { InconsistencyError } from "../storage/common/errors.js"

/**
 * `Option<Row>` to `Option<Entity>` with a row mapping that may refuse the row (an InconsistencyError naming the
 * column); synchronous, and an Effect too, so a method can `yield*` it.
 */
export const optionalEntity =
  <Row, Entity>(fromRow: (row: Row) => Entity | Either.Either<Entity, InconsistencyError>) =>
  (row: Option.Option<Row>): Either.Either<Option.Option<Entity>, InconsistencyError> => {
    if (Option.isNone(row)) return Either.right(Option.none())
    const entity = fromRow(row.value)
    return Either.isEither(entity) ? Either.map(entity, Option.some) : Either.right(Option.some(entity))
  }
