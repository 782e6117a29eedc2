// Model-level failures: refused state transitions.
import { Either, Schema } from "effect"

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

/** Shorthand for transition functions: the refusal for `entity` in state `from`. */
export const invalidTransition = <A = never>(
  entity: string,
  from: string,
  transition: string
): Either.Either<A, InvalidTransition> => Either.left(new InvalidTransition({ entity, from, transition }))
