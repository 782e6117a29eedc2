// UserPasswordRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { Password } from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import { storedRowDecoder } from "../../storage/common/storedRow.js"
import { now } from "../../storage/common/time.js"
import { checkPasswordVersion, checkWellFormed } from "../../storage/common/limits.js"
import { passwordFromRow, UserPasswordRow } from "../../rows/user/userPassword.js"
import { UserPasswordRepository } from "../../storage/user/UserPasswordRepository.js"
import type { Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"

const TABLE = "user_passwords"

const decodePassword = storedRowDecoder(UserPasswordRow, TABLE, "user_password_id")

/** A stored created_at as a number PostgreSQL's timestamptz order agrees with (a seeded row may hold 'infinity'). */
const instant = (value: unknown): number =>
  value instanceof Date ? value.getTime() : value === "infinity" ? Infinity : value === "-infinity" ? -Infinity : NaN

/** Of two rows in descending id order, the one with the later created_at; the first (greater id) on a tie. */
const newer = (best: Row | undefined, row: Row): Row =>
  best === undefined || instant(row.created_at) > instant(best.created_at) ? row : best

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  return UserPasswordRepository.of({
    // The newest row by created_at, then the greatest id, as PostgreSQL's ORDER BY created_at DESC, id DESC.
    active: (user) =>
      Effect.flatMap(
        store.read((db) =>
          db
            .rowsDescending<Row>(TABLE)
            .filter((r) => r.user_id === user.id)
            .reduce<Row | undefined>(newer, undefined)
        ),
        (row) => (row === undefined ? Effect.succeedNone : Effect.map(decodePassword(row), (r) => Option.some(passwordFromRow(r))))
      ),

    add: (user, version, hashedPassword, upgradedFrom) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ hashedPassword })
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
