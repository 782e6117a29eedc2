// UserRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { deactivateUser, lockUser, reactivateUser, setUserCanRequestAdmin, unlockUser, type User } from "../../model/user.js"
import { generateUlid } from "../../model/Ulid.js"
import { type DriverError, RowsAffectedError } from "../../storage/common/errors.js"
import { checkMaxBytes, checkWellFormed, USERNAME_MAX_BYTES } from "../../storage/common/limits.js"
import { containsInsensitive, lowerLikePostgres } from "../../storage/common/filters.js"
import { now } from "../../storage/common/time.js"
import { type UserRow, userFromRow, userToRow } from "../../rows/user/user.js"
import { checkUserFilter, type UserFilter, UserRepository } from "../../storage/user/UserRepository.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import type { Database, Row } from "../Database.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"

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
    filter.activeOAuth2SessionForAnyOfClients === undefined ? undefined : new Set<string>(filter.activeOAuth2SessionForAnyOfClients)
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

  const selectUsers = (filter: UserFilter) =>
    Effect.zipRight(rejectNul(filter.search), store.read((db) => db.rows<UserRow>("users").filter(matches(db, filter))))

  const byLowerUsername = (username: string) =>
    Effect.zipRight(Effect.zipRight(checkWellFormed({ username }), rejectNul(username)), store.read((db) => {
      const wanted = lowerLikePostgres(username)
      return db.rows<UserRow>("users").filter((r) => lowerLikePostgres(r.username) === wanted)
    }))

  /**
   * Writes the one column the transition changes (only when the model says it changed), as PostgreSQL's
   * single-column UPDATE does: the entity passed in may be stale in its other column. `onlyWhereNull`
   * is PostgreSQL's `AND <column> IS NULL` guard: a stored row already set is a RowsAffectedError.
   */
  const transition = (
    user: User,
    next: Either.Either<User, unknown>,
    column: "locked_at" | "deactivated_at",
    onlyWhereNull = false
  ) =>
    Effect.gen(function* () {
      const moved = Either.getOrElse(next, () => user)
      if (moved === user) return user
      const value = userToRow(moved)[column]
      yield* store.write((db) => {
        const guarded = onlyWhereNull && Option.exists(db.get<UserRow>("users", user.id), (row) => row[column] !== null)
        return guarded
          ? Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
          : Either.map(
              db.updateOne("users", user.id, (current) => ({ ...current, [column]: value })),
              (next) => [undefined, next] as const
            )
      })
      return moved
    })

  return UserRepository.of({
    lookup: (id) => Effect.zipRight(requireUlid(id), store.read((db) => Option.map(db.get<UserRow>("users", id), userFromRow))),

    findByUsername: (username) =>
      Effect.map(byLowerUsername(username), (rows) => {
        if (rows.length === 1) return Option.some(userFromRow(rows[0]!))
        return Option.map(Option.fromNullable(rows.find((r) => r.username === username)), userFromRow)
      }),

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
        yield* store.write((db) =>
          Either.flatMap(
            db.insertIgnoringConflict("users", row),
            ([next, inserted]): Either.Either<readonly [void, Database], DriverError | RowsAffectedError> =>
              inserted ? Either.right([undefined, next] as const) : Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
          )
        )
        return userFromRow(row)
      }),

    exists: (username) => Effect.map(byLowerUsername(username), (rows) => rows.length > 0),

    lock: (user) => Effect.flatMap(now, (at) => transition(user, lockUser(user, at), "locked_at")),
    unlock: (user) => transition(user, unlockUser(user), "locked_at"),
    deactivate: (user) =>
      Effect.flatMap(now, (at) => transition(user, deactivateUser(user, at), "deactivated_at", true)),
    reactivate: (user) => transition(user, reactivateUser(user), "deactivated_at"),

    deleteUnsupportedThreepids: (user) =>
      store.write((db) => db.deleteWhere("user_unsupported_third_party_ids", (r) => r.user_id === user.id)),

    setCanRequestAdmin: (user, canRequestAdmin) =>
      Effect.gen(function* () {
        yield* store.write((db) =>
          Either.map(db.updateOne("users", user.id, (r) => ({ ...r, can_request_admin: canRequestAdmin })), (next) => [undefined, next] as const)
        )
        return setUserCanRequestAdmin(user, canRequestAdmin)
      }),

    // In PostgreSQL's order: the filter's ids, then the cursors, then the parameters as they are sent.
    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUserFilter(filter)
        yield* checkCursors(pagination)
        const rows = yield* selectUsers(filter)
        return paginate(rows, pagination, (r) => r.user_id).map(userFromRow)
      }),

    count: (filter) =>
      Effect.zipRight(checkUserFilter(filter), Effect.flatMap(selectUsers(filter), (rows) => toSafeCountOrFail(rows.length))),

    // Units of work are serialised in memory, so holding the store's permit already excludes every other unit.
    acquireLockForSync: () => store.read(() => undefined)
  })
})

export const layer: Layer.Layer<UserRepository, never, MemoryStore> = Layer.effect(UserRepository, make)
