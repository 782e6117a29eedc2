// UserRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import {
  deactivateUser,
  lockUser,
  reactivateUser,
  setUserCanRequestAdmin,
  unlockUser,
  type User
} from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import { checkMaxBytes, checkWellFormed, USERNAME_MAX_BYTES } from "../../storage/common/limits.js"
import { containsInsensitive, lowerLikePostgres } from "../../storage/common/filters.js"
import { now } from "../../storage/common/time.js"
import { writeIfChanged } from "../../storage/common/transitions.js"
import { UserRow, userFromRow } from "../../rows/user/user.js"
import { checkUserFilter, type UserFilter, UserRepository } from "../../storage/user/UserRepository.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import type { Database, Row } from "../Database.js"
import { rejectNul } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

const activeSession = (db: Database, table: string, userId: string, clients?: ReadonlySet<string>) =>
  db
    .rows<Row>(table)
    .some(
      (s) =>
        s.user_id === userId &&
        s.finished_at === null &&
        (clients === undefined || clients.has(String(s.oauth2_client_id)))
    )

const matches = (db: Database, filter: UserFilter) => {
  const clients =
    filter.activeOAuth2SessionForAnyOfClients === undefined
      ? undefined
      : new Set<string>(filter.activeOAuth2SessionForAnyOfClients)
  return (row: UserRow): boolean =>
    (filter.state !== "active" || (row.locked_at === null && row.deactivated_at === null)) &&
    (filter.state !== "locked" || row.locked_at !== null) &&
    (filter.state !== "deactivated" || row.deactivated_at !== null) &&
    (filter.canRequestAdmin === undefined || row.can_request_admin === filter.canRequestAdmin) &&
    (filter.isGuest === undefined || row.is_guest === filter.isGuest) &&
    (filter.search === undefined || containsInsensitive(row.username, filter.search)) &&
    (clients === undefined || activeSession(db, "oauth2_sessions", row.user_id, clients)) &&
    (filter.hasActiveOAuth2Session === undefined ||
      activeSession(db, "oauth2_sessions", row.user_id) === filter.hasActiveOAuth2Session) &&
    (filter.hasActiveCompatSession === undefined ||
      activeSession(db, "compat_sessions", row.user_id) === filter.hasActiveCompatSession)
}

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const users = memoryTable(store, { table: "users", idColumn: "user_id", row: UserRow })

  const selectUsers = (filter: UserFilter) =>
    Effect.zipRight(
      rejectNul(filter.search),
      store.read((db) => users.rows(db).filter(matches(db, filter)))
    )

  // The twin of `WHERE LOWER(username) = LOWER($1)`.
  const byLowerUsername = (username: string) => {
    const wanted = lowerLikePostgres(username)
    return users.select((r) => lowerLikePostgres(r.username) === wanted, username)
  }

  /** `UPDATE users SET <column> = … WHERE user_id = $1`, touching exactly that one column as PostgreSQL does. */
  const setColumn = (user: User, column: "locked_at" | "deactivated_at", value: Date | null) =>
    users.updateOne(user.id, (row) => ({ ...row, [column]: value }))

  return UserRepository.of({
    lookup: (id) => Effect.map(users.get(id), Option.map(userFromRow)),

    findByUsername: (username) =>
      Effect.zipRight(
        checkWellFormed({ username }),
        Effect.map(byLowerUsername(username), (rows) => {
          if (rows.length === 1) return Option.some(userFromRow(rows[0]!))
          return Option.map(Option.fromNullable(rows.find((r) => r.username === username)), userFromRow)
        })
      ),

    add: (username) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ username })
        yield* checkMaxBytes("username", username, USERNAME_MAX_BYTES)
        const at = yield* now
        const id = yield* generateUlid
        const row: UserRow = {
          user_id: id,
          username,
          created_at: at,
          locked_at: null,
          deactivated_at: null,
          can_request_admin: false,
          is_guest: false
        }
        yield* exactlyOne(users.insertIgnoringConflict(row))
        return userFromRow(row)
      }),

    exists: (username) =>
      Effect.zipRight(
        checkWellFormed({ username }),
        Effect.map(byLowerUsername(username), (rows) => rows.length > 0)
      ),

    lock: (user) =>
      Effect.flatMap(now, (at) =>
        writeIfChanged(user, lockUser(user, at), (next) =>
          setColumn(user, "locked_at", Option.getOrNull(next.lockedAt))
        )
      ),
    unlock: (user) => writeIfChanged(user, unlockUser(user), () => setColumn(user, "locked_at", null)),
    // `… AND deactivated_at IS NULL`, as PostgreSQL's guarded statement: a stored row already deactivated is a RowsAffectedError.
    deactivate: (user) =>
      Effect.flatMap(now, (at) =>
        writeIfChanged(user, deactivateUser(user, at), () =>
          exactlyOne(
            users.updateWhere(
              (r) => r.user_id === user.id && r.deactivated_at === null,
              (r) => ({ ...r, deactivated_at: at })
            )
          )
        )
      ),
    reactivate: (user) => writeIfChanged(user, reactivateUser(user), () => setColumn(user, "deactivated_at", null)),

    deleteUnsupportedThreepids: (user) =>
      store.write((db) => db.deleteWhere("user_unsupported_third_party_ids", (r) => r.user_id === user.id)),

    setCanRequestAdmin: (user, canRequestAdmin) =>
      Effect.gen(function* () {
        yield* users.updateOne(user.id, (r) => ({ ...r, can_request_admin: canRequestAdmin }))
        return setUserCanRequestAdmin(user, canRequestAdmin)
      }),

    // In PostgreSQL's order: the filter's ids, then the cursors, then the parameters as they are sent.
    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUserFilter(filter)
        yield* checkCursors(pagination)
        const rows = yield* selectUsers(filter)
        return yield* paginate(rows, pagination, (r) => r.user_id).tryMap((raw) =>
          Either.map(users.decode(raw), userFromRow)
        )
      }),

    count: (filter) =>
      Effect.zipRight(
        checkUserFilter(filter),
        Effect.flatMap(selectUsers(filter), (rows) => toSafeCountOrFail(rows.length))
      ),

    // Units of work are serialised in memory, so holding the store's permit already excludes every other unit.
    acquireLockForSync: () => store.read(() => undefined)
  })
})

export const layer: Layer.Layer<UserRepository, never, MemoryStore> = Layer.effect(UserRepository, make)
