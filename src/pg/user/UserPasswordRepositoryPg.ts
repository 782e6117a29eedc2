// UserPasswordRepository on PostgreSQL: the append-only password history through declared static queries.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { Password } from "../../model/user.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { now } from "../../storage/common/time.js"
import { checkPasswordVersion, checkWellFormed } from "../../storage/common/limits.js"
import { passwordFromRow, UserPasswordRow } from "../../rows/user/userPassword.js"
import { UserPasswordRepository } from "../../storage/user/UserPasswordRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const columns = "user_password_id, user_id, hashed_password, version, upgraded_from_id, created_at"

const q = repositoryQueries({
  prefix: "userPassword",
  table: "user_passwords",
  idColumn: "user_password_id",
  row: UserPasswordRow
})

const statements = q.statements({
  // The newest row by created_at, as MAS; the id breaks ties, so both backends pick the same row.
  active: {
    text: `SELECT ${columns} FROM user_passwords WHERE user_id = $1 ORDER BY created_at DESC, user_password_id DESC LIMIT 1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text: `INSERT INTO user_passwords (${columns}) VALUES ($1, $2, $3, $4, $5, $6)`,
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      Schema.String,
      Schema.Int,
      Schema.NullOr(UlidFromUuid),
      Schema.DateFromSelf
    ),
    row: NoRows
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const db = bindAll(yield* SqlClient.SqlClient, statements)

  return UserPasswordRepository.of({
    active: (user) => Effect.map(db.active.one(user.id), Option.map(passwordFromRow)),

    add: (user, version, hashedPassword, upgradedFrom) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ hashedPassword })
        yield* checkPasswordVersion(version)
        const at = yield* now
        const id = yield* generateUlid
        const upgradedFromId = Option.map(upgradedFrom, (p) => p.id)
        yield* db.add.affectedOne(id, user.id, hashedPassword, version, Option.getOrNull(upgradedFromId), at)
        return new Password({ id, hashedPassword, version, upgradedFromId, createdAt: at })
      })
  })
})

export const layer: Layer.Layer<UserPasswordRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserPasswordRepository,
  Effect.map(make, traced("userPassword"))
)
