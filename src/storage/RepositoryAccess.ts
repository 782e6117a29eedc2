// One service that gives every repository and the unit of work (MAS's RepositoryAccess): what application code depends on.
import { Context, type Effect } from "effect"
import type { DriverError } from "./common/errors.js"
import type { UserRepositoryShape } from "./UserRepository.js"

export interface RepositoryAccessShape {
  readonly users: UserRepositoryShape
  /**
   * Runs `effect` as one unit of work: every repository call inside it is bound to one transaction,
   * committed when it succeeds (MAS's `save`) and rolled back when it fails or is interrupted
   * (MAS's `cancel`). A driver error caught inside still dooms the unit: it then fails with a
   * DriverError instead of committing. Nested calls are savepoints.
   */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DriverError, R>
}

export class RepositoryAccess extends Context.Tag("storage/RepositoryAccess")<RepositoryAccess, RepositoryAccessShape>() {}
