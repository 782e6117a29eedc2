// Shared pieces of the row modules: turning an optional stored row into an optional entity, as both backends do.
import { Either, Option, Schema } from "effect"
import { makeScope, type Scope, ScopeToken } from "../model/values.js"
import type { InconsistencyError } from "../storage/common/errors.js"

/**
 * A `scope_list` column: a text array whose every element is a scope token. Kept a plain array of refined strings so
 * that the row decoder compiles; a bad token is an inconsistency on column `scope_list`. Order and duplicates are
 * not checked: {@link scopeOfList} normalises, as the stored form allows any order.
 */
export const ScopeListColumn = Schema.Array(ScopeToken)

/** The entity's scope from a decoded `scope_list` (sorted, without duplicates). */
export const scopeOfList = (list: ReadonlyArray<ScopeToken>): Scope => makeScope(list)

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

/**
 * A constructor of stored entities for the row mappings: the row was validated when decoded (PostgreSQL) or written
 * (memory), so the entity is built as `new Entity(props, true)` builds it, without the constructor's per-field
 * walk for defaults (about 1 µs a row, as much as decoding the row). Only for a `Schema.Class` none of whose fields
 * has a constructor default (a `TaggedClass`'s `_tag` is one): for any other class it is the constructor itself.
 */
export const storedEntity = <A, P>(Entity: {
  new (props: P, options: true): A
  readonly fields: Readonly<Record<PropertyKey, unknown>>
  readonly prototype: A
}): ((props: P) => A) => {
  const hasDefault = Object.values(Entity.fields).some((field) => {
    const ast = (
      field as {
        readonly ast?: {
          readonly _tag?: string
          readonly defaultValue?: unknown
          readonly to?: { readonly defaultValue?: unknown }
        }
      }
    ).ast
    return ast !== undefined && (ast.defaultValue !== undefined || ast.to?.defaultValue !== undefined)
  })
  if (hasDefault || Object.getPrototypeOf(Entity.prototype) === Object.prototype)
    return (props) => new Entity(props, true)
  const prototype = Entity.prototype as object
  return (props) => Object.assign(Object.create(prototype) as object, props) as A
}
