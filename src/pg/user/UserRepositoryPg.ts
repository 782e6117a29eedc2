// UserRepository on PostgreSQL: declared static queries, plus the filter and page queries assembled from fragments.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { deactivateUser, lockUser, reactivateUser, setUserCanRequestAdmin, unlockUser } from "../../model/user.js"
import { generateUlid, ulidToBytes, UlidFromUuid, type Ulid } from "../../model/Ulid.js"
import { checkMaxBytes, checkWellFormed, USERNAME_MAX_BYTES } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { writeIfChanged } from "../../storage/common/transitions.js"
import { UserRow, userFromRow } from "../../rows/user/user.js"
import { checkUserFilter, UserRepository, type UserFilter } from "../../storage/user/UserRepository.js"
import { containsCriterion } from "../common/filters.js"
import { countQuery, filter, pageQuery, piece } from "../dynamic.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const columns = "user_id, username, created_at, locked_at, deactivated_at, can_request_admin, is_guest"

const q = repositoryQueries({ prefix: "user", table: "users", idColumn: "user_id", row: UserRow })

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM users WHERE user_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // The expression index on LOWER(username) serves this; case variants are told apart in code.
  findByUsername: {
    text: `SELECT ${columns} FROM users WHERE LOWER(username) = LOWER($1)`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the username is taken (storage rule: Conflicts).
  add: {
    text: `INSERT INTO users (${columns}) VALUES ($1, $2, $3, NULL, NULL, FALSE, FALSE) ON CONFLICT (username) DO NOTHING`,
    params: Schema.Tuple(UlidFromUuid, Schema.String, Schema.DateFromSelf),
    row: NoRows
  },
  exists: {
    text: `SELECT EXISTS (SELECT 1 FROM users WHERE LOWER(username) = LOWER($1)) AS "exists"`,
    params: Schema.Tuple(Schema.String),
    row: Schema.Struct({ exists: Schema.Boolean })
  },
  setLockedAt: {
    text: `UPDATE users SET locked_at = $2 WHERE user_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.NullOr(Schema.DateFromSelf)),
    row: NoRows
  },
  // Guarded as in MAS: a row deactivated meanwhile (a stale entity) keeps its instant and is reported by the count.
  deactivate: {
    text: `UPDATE users SET deactivated_at = $2 WHERE user_id = $1 AND deactivated_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  reactivate: {
    text: `UPDATE users SET deactivated_at = NULL WHERE user_id = $1`,
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows
  },
  setCanRequestAdmin: {
    text: `UPDATE users SET can_request_admin = $2 WHERE user_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.Boolean),
    row: NoRows
  },
  deleteUnsupportedThreepids: {
    text: `DELETE FROM user_unsupported_third_party_ids WHERE user_id = $1`,
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows,
    table: "user_unsupported_third_party_ids"
  },
  // The key is passed as decimal text and cast, since JavaScript numbers cannot hold 64 bits.
  acquireLockForSync: {
    text: `SELECT pg_advisory_xact_lock($1::bigint)`,
    params: Schema.Tuple(Schema.String),
    row: NoRows
  }
})

const activeOAuth2Session =
  "EXISTS (SELECT 1 FROM oauth2_sessions s WHERE s.user_id = users.user_id AND s.finished_at IS NULL)"
const activeCompatSession =
  "EXISTS (SELECT 1 FROM compat_sessions s WHERE s.user_id = users.user_id AND s.finished_at IS NULL)"

/** The UserFilter over `users`: one declared criterion per condition it can add. */
export const userFilter = filter<UserFilter>()(
  "UserFilter",
  {
    active: piece("users.locked_at IS NULL AND users.deactivated_at IS NULL"),
    locked: piece("users.locked_at IS NOT NULL"),
    deactivated: piece("users.deactivated_at IS NOT NULL"),
    canRequestAdmin: piece("users.can_request_admin = $1", Schema.Tuple(Schema.Boolean)),
    isGuest: piece("users.is_guest = $1", Schema.Tuple(Schema.Boolean)),
    search: containsCriterion("users.username"),
    // one array parameter, so the text does not depend on how many clients are given (none matches nothing)
    activeOAuth2SessionForAnyOfClients: piece(
      "EXISTS (SELECT 1 FROM oauth2_sessions s WHERE s.user_id = users.user_id AND s.finished_at IS NULL AND s.oauth2_client_id = ANY($1))",
      Schema.Tuple(Schema.Array(UlidFromUuid))
    ),
    hasActiveOAuth2Session: piece(activeOAuth2Session),
    hasNoActiveOAuth2Session: piece(`NOT ${activeOAuth2Session}`),
    hasActiveCompatSession: piece(activeCompatSession),
    hasNoActiveCompatSession: piece(`NOT ${activeCompatSession}`)
  },
  (f, use) => [
    f.state === "active" && use.active(),
    f.state === "locked" && use.locked(),
    f.state === "deactivated" && use.deactivated(),
    f.canRequestAdmin !== undefined && use.canRequestAdmin(f.canRequestAdmin),
    f.isGuest !== undefined && use.isGuest(f.isGuest),
    f.search !== undefined && use.search(f.search),
    f.activeOAuth2SessionForAnyOfClients !== undefined &&
      use.activeOAuth2SessionForAnyOfClients(f.activeOAuth2SessionForAnyOfClients),
    f.hasActiveOAuth2Session === true && use.hasActiveOAuth2Session(),
    f.hasActiveOAuth2Session === false && use.hasNoActiveOAuth2Session(),
    f.hasActiveCompatSession === true && use.hasActiveCompatSession(),
    f.hasActiveCompatSession === false && use.hasNoActiveCompatSession()
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "users matching a UserFilter, one keyset page",
    row: UserRow,
    select: `SELECT ${columns} FROM users`,
    slots: { filter: userFilter },
    where: "filter",
    keyset: "users.user_id"
  }),
  count: countQuery({
    description: "number of users matching a UserFilter",
    from: "users",
    slots: { filter: userFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

/** The low 64 bits of the id as a signed integer, MAS's advisory-lock key for a user. */
export const userLockKey = (id: Ulid): bigint => {
  const bytes = ulidToBytes(id)
  let key = 0n
  for (let i = 8; i < 16; i++) key = (key << 8n) | BigInt(bytes[i]!)
  return BigInt.asIntN(64, key)
}

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return UserRepository.of({
    lookup: (id) => Effect.map(db.lookup.one(id), Option.map(userFromRow)),

    findByUsername: (username) =>
      Effect.zipRight(
        checkWellFormed({ username }),
        Effect.map(db.findByUsername.all(username), (rows) => {
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
        yield* db.add.affectedOne(id, username, at)
        return userFromRow({
          user_id: id,
          username,
          created_at: at,
          locked_at: null,
          deactivated_at: null,
          can_request_admin: false,
          is_guest: false
        })
      }),

    exists: (username) =>
      Effect.zipRight(
        checkWellFormed({ username }),
        Effect.map(db.exists.one(username), (row) => Option.isSome(row) && row.value.exists)
      ),

    lock: (user) =>
      Effect.flatMap(now, (at) =>
        writeIfChanged(user, lockUser(user, at), (next) =>
          db.setLockedAt.affectedOne(user.id, Option.getOrNull(next.lockedAt))
        )
      ),
    unlock: (user) => writeIfChanged(user, unlockUser(user), () => db.setLockedAt.affectedOne(user.id, null)),
    deactivate: (user) =>
      Effect.flatMap(now, (at) =>
        writeIfChanged(user, deactivateUser(user, at), () => db.deactivate.affectedOne(user.id, at))
      ),
    reactivate: (user) => writeIfChanged(user, reactivateUser(user), () => db.reactivate.affectedOne(user.id)),

    deleteUnsupportedThreepids: (user) => db.deleteUnsupportedThreepids.affected(user.id),

    setCanRequestAdmin: (user, canRequestAdmin) =>
      Effect.gen(function* () {
        yield* db.setCanRequestAdmin.affectedOne(user.id, canRequestAdmin)
        return setUserCanRequestAdmin(user, canRequestAdmin)
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUserFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), userFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkUserFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    acquireLockForSync: (user) => Effect.asVoid(db.acquireLockForSync.all(userLockKey(user.id).toString()))
  })
})

export const layer: Layer.Layer<UserRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserRepository,
  Effect.map(make, traced("user"))
)
