// UserPasswordRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { Password } from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import { storedRowDecoder } from "../../storage/common/storedRow.js"
import { now } from "../../storage/common/time.js"
import { passwordFromRow, UserPasswordRow } from "../../rows/user/userPassword.js"
import { checkPasswordVersion, UserPasswordRepository } from "../../storage/user/UserPasswordRepository.js"
import type { Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"

const TABLE = "user_passwords"

const decodePassword = storedRowDecoder(UserPasswordRow, TABLE, "user_password_id")

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  return UserPasswordRepository.of({
    // The newest row by id (creation millisecond, then random bits), as PostgreSQL's ORDER BY id DESC.
    active: (user) =>
      Effect.flatMap(
        store.read((db) => db.rowsDescending<Row>(TABLE).find((r) => r.user_id === user.id)),
        (row) => (row === undefined ? Effect.succeedNone : Effect.map(decodePassword(row), (r) => Option.some(passwordFromRow(r))))
      ),

    add: (user, version, hashedPassword, upgradedFrom) =>
      Effect.gen(function* () {
        yield* checkPasswordVersion(version)
        const at = yield* now
        const id = yield* generateUlid
        const upgradedFromId = Option.map(upgradedFrom, (p) => p.id)
        const row: UserPasswordRow = {
          user_password_id: id,
          user_id: user.id,
          hashed_password: hashedPassword,
          version,
          upgraded_from_id: Option.getOrNull(upgradedFromId),
          created_at: at
        }
        yield* store.write((db) => Either.map(db.insert(TABLE, row), (next) => [undefined, next] as const))
        return new Password({ id, hashedPassword, version, upgradedFromId, createdAt: at })
      })
  })
})

export const layer: Layer.Layer<UserPasswordRepository, never, MemoryStore> = Layer.effect(UserPasswordRepository, make)
