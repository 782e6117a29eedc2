// UserPasswordRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer, Option } from "effect"
import { Password } from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import { now } from "../../storage/common/time.js"
import { checkPasswordVersion, checkWellFormed } from "../../storage/common/limits.js"
import { optionalEntity } from "../../rows/common.js"
import { passwordFromRow, UserPasswordRow } from "../../rows/user/userPassword.js"
import { UserPasswordRepository } from "../../storage/user/UserPasswordRepository.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

/** A stored created_at as a number PostgreSQL's timestamptz order agrees with (a seeded row may hold 'infinity'). */
const instant = (value: unknown): number =>
  value instanceof Date ? value.getTime() : value === "infinity" ? Infinity : value === "-infinity" ? -Infinity : NaN

/** Folding from the greatest id down: the row with the later created_at, the greater id on a tie. */
const newer = (best: UserPasswordRow | undefined, row: UserPasswordRow): UserPasswordRow =>
  best === undefined || instant(row.created_at) > instant(best.created_at) ? row : best

const toEntity = optionalEntity(passwordFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const passwords = memoryTable(store, { table: "user_passwords", idColumn: "user_password_id", row: UserPasswordRow })

  return UserPasswordRepository.of({
    // The newest row by created_at, then the greatest id, as PostgreSQL's ORDER BY created_at DESC, id DESC.
    // Only the row picked is decoded, as PostgreSQL decodes only the row its LIMIT 1 returns.
    active: (user) =>
      Effect.flatMap(
        store.read((db) =>
          Option.fromNullable(
            passwords
              .rows(db)
              .filter((r) => r.user_id === user.id)
              .reduceRight<UserPasswordRow | undefined>(newer, undefined)
          )
        ),
        (row) => Effect.flatMap(Effect.transposeOption(Option.map(row, passwords.decode)), toEntity)
      ),

    add: (user, version, hashedPassword, upgradedFrom) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ hashedPassword })
        yield* checkPasswordVersion(version)
        const at = yield* now
        const id = yield* generateUlid
        const upgradedFromId = Option.map(upgradedFrom, (p) => p.id)
        yield* passwords.insert({
          user_password_id: id,
          user_id: user.id,
          hashed_password: hashedPassword,
          version,
          upgraded_from_id: Option.getOrNull(upgradedFromId),
          created_at: at
        })
        return new Password({ id, hashedPassword, version, upgradedFromId, createdAt: at })
      })
  })
})

export const layer: Layer.Layer<UserPasswordRepository, never, MemoryStore> = Layer.effect(UserPasswordRepository, make)
