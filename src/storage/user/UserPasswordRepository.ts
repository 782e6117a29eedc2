// The port for the append-only password history (domain.md §3.1 UserPasswordRepository) and the Tag both backends implement.
import { Context, Effect, Option, Schema } from "effect"
import { type Password, PasswordVersion, type User } from "../../model/user.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"

/** Both backends refuse a version outside the column's 16-bit range before writing (memory has no CHECK constraints). */
export const checkPasswordVersion = (version: number): Effect.Effect<number, InvalidOperationError> =>
  Schema.is(PasswordVersion)(version)
    ? Effect.succeed(version)
    : Effect.fail(
        new InvalidOperationError({ cause: Option.some(`Password version must be an integer in 0..65535, got ${version}`) })
      )

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
