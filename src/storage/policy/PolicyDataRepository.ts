// The port for the versions of the authorization-policy data: its shape and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { PolicyData } from "../../model/policy.js"
import type { Json } from "../../model/values.js"
import type { DatabaseError } from "../common/errors.js"

export interface PolicyDataRepositoryShape {
  /** The current data: the newest version (greatest id), none before the first `set`. */
  readonly get: () => Effect.Effect<Option.Option<PolicyData>, DatabaseError>
  /**
   * Stores `data` as a new version (always an insert; older versions stay until `prune`) and returns it. A value that
   * is not JSON (a non-finite number, a function, a cycle) or holds text with an unpaired UTF-16 surrogate is an
   * InvalidOperationError; text holding NUL is a DriverError (22P05, as PostgreSQL's jsonb refuses it). Nothing is
   * written when it fails.
   */
  readonly set: (data: Json) => Effect.Effect<PolicyData, DatabaseError>
  /**
   * Deletes every version but the `keep` newest and returns how many it deleted (`keep = 0` deletes them all). A
   * `keep` that is not a non-negative safe integer is an InvalidOperationError (nothing deleted).
   */
  readonly prune: (keep: number) => Effect.Effect<number, DatabaseError>
}

export class PolicyDataRepository extends Context.Tag("storage/PolicyDataRepository")<
  PolicyDataRepository,
  PolicyDataRepositoryShape
>() {}
