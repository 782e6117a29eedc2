// The port for the append-only password history and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { Password, User } from "../../model/user.js"
import type { DatabaseError } from "../common/errors.js"

export interface UserPasswordRepositoryShape {
  /** The user's newest password by `createdAt` (the greatest id among equals), if any. */
  readonly active: (user: User) => Effect.Effect<Option.Option<Password>, DatabaseError>
  /**
   * Appends a password, which becomes the active one. A `version` outside 0–65535 is an
   * InvalidOperationError (nothing written).
   */
  readonly add: (
    user: User,
    version: number,
    hashedPassword: string,
    upgradedFrom: Option.Option<Password>
  ) => Effect.Effect<Password, DatabaseError>
}

export class UserPasswordRepository extends Context.Tag("storage/UserPasswordRepository")<
  UserPasswordRepository,
  UserPasswordRepositoryShape
>() {}
