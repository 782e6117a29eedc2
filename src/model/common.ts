// Field schemas and state variants shared by several entities.
import { Schema } from "effect"
import { Ulid } from "./Ulid.js"

/** A valid instant (millisecond precision). */
export const Timestamp = Schema.ValidDateFromSelf
export const OptionalTimestamp = Schema.OptionFromSelf(Schema.ValidDateFromSelf)
export const OptionalUlid = Schema.OptionFromSelf(Ulid)
export const OptionalString = Schema.OptionFromSelf(Schema.String)
/** A non-negative safe integer (counters, versions). */
export const Count = Schema.Int.pipe(Schema.nonNegative())

/** The live state of sessions and tokens. */
export class Valid extends Schema.TaggedClass<Valid>("Valid")("Valid", {}) {}

/** A session ended at `finishedAt`. */
export class Finished extends Schema.TaggedClass<Finished>("Finished")("Finished", {
  finishedAt: Timestamp
}) {}

/** A session or token revoked at `revokedAt`. */
export class Revoked extends Schema.TaggedClass<Revoked>("Revoked")("Revoked", {
  revokedAt: Timestamp
}) {}

/** A flow that has not progressed yet. */
export class Pending extends Schema.TaggedClass<Pending>("Pending")("Pending", {}) {}

/** `Valid | Finished`, the state of OAuth2 and compat sessions. */
export const SessionState = Schema.Union(Valid, Finished)
export type SessionState = typeof SessionState.Type

/** `Valid | Revoked`, the state of access tokens and personal sessions. */
export const RevocableState = Schema.Union(Valid, Revoked)
export type RevocableState = typeof RevocableState.Type

/** Copies a Schema class instance with some fields replaced (re-validated by the constructor). */
export const copy = <A extends object>(ctor: new (props: any) => A, self: NoInfer<A>, patch: Partial<NoInfer<A>>): A =>
  new ctor({ ...self, ...patch })
