// Model-level failures: refused state transitions and impossible stored state tuples.
import { Either, Option, Schema } from "effect"

/** A transition the entity's state machine does not allow; repositories wrap it in InvalidOperationError. */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  entity: Schema.String,
  from: Schema.String,
  transition: Schema.String
}) {
  override get message(): string {
    return `Invalid transition "${this.transition}" of ${this.entity} from state ${this.from}`
  }
}

/** Why a stored state tuple cannot be decoded; repositories turn it into InconsistencyError with the table and row id. */
export interface StateDecodeFailure {
  readonly column: Option.Option<string>
  readonly reason: string
}

export type StateDecodeResult<S> = Either.Either<S, StateDecodeFailure>

export const stateDecodeFailure = (column: string | undefined, reason: string): StateDecodeFailure => ({
  column: Option.fromNullable(column),
  reason
})

/** Shorthand for transition functions: the refusal for `entity` in state `from`. */
export const invalidTransition = <A = never>(
  entity: string,
  from: string,
  transition: string
): Either.Either<A, InvalidTransition> => Either.left(new InvalidTransition({ entity, from, transition }))

/** Names which nullable columns are set, for readable inconsistency reasons. */
export const describeTuple = (tuple: object): string => {
  const set = Object.entries(tuple)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k]) => k)
  return set.length === 0 ? "no column set" : `set: ${set.join(", ")}`
}

/** `null` ⇄ `Option` for the stored tuples. */
export const fromNullable = <A>(a: A | null): Option.Option<A> => (a === null ? Option.none() : Option.some(a))
export const toNullable = <A>(o: Option.Option<A>): A | null => Option.getOrNull(o)
