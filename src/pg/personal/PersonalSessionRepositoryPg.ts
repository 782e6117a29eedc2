// PersonalSessionRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries assembled from fragments.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Either, Layer, Schema } from "effect"
import { revokePersonalSession } from "../../model/personal.js"
import { generateUlid, UlidFromUuid, ulidToUuid } from "../../model/Ulid.js"
import { deviceToScopeTokens } from "../../model/values.js"
import { ScopeListColumn, optionalEntity } from "../../rows/common.js"
import {
  newPersonalSessionRow,
  PERSONAL_SESSIONS,
  PersonalSessionRow,
  personalSessionFromRow,
  PersonalSessionWithTokenRow,
  personalSessionWithTokenFromRow
} from "../../rows/personal/personalSession.js"
import { rowDecoder } from "../../rows/decode.js"
import { checkArgumentIds } from "../../storage/common/filters.js"
import { checkScope, checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkPersonalSessionFilter,
  type PersonalSessionFilter,
  PersonalSessionRepository
} from "../../storage/personal/PersonalSessionRepository.js"
import { BatchActivityParams, batchActivityText, recordBatchActivity } from "../common/activity.js"
import { countRows } from "../common/count.js"
import { executorOf } from "../common/execute.js"
import { listPage } from "../common/pagination.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const sessionColumns = [
  "personal_sessions.personal_session_id",
  "personal_sessions.owner_user_id",
  "personal_sessions.owner_oauth2_client_id",
  "personal_sessions.actor_user_id",
  "personal_sessions.human_name",
  "personal_sessions.scope_list",
  "personal_sessions.created_at",
  "personal_sessions.revoked_at",
  "personal_sessions.last_active_at",
  "personal_sessions.last_active_ip"
].join(", ")

/** `list`'s columns: the session's, then its unrevoked token's under names of their own. */
const withTokenColumns =
  `${sessionColumns}, personal_access_tokens.personal_access_token_id AS token_id, ` +
  `personal_access_tokens.created_at AS token_created_at, personal_access_tokens.expires_at AS token_expires_at`

/** Each session with its unrevoked token, if any: the partial unique index keeps it to one row per session. */
const withUnrevokedToken =
  "personal_sessions LEFT JOIN personal_access_tokens " +
  "ON personal_access_tokens.personal_session_id = personal_sessions.personal_session_id " +
  "AND personal_access_tokens.revoked_at IS NULL"

const q = repositoryQueries({
  prefix: "personalSession",
  table: PERSONAL_SESSIONS,
  idColumn: "personal_session_id",
  row: PersonalSessionRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${sessionColumns} FROM personal_sessions WHERE personal_sessions.personal_session_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text:
      "INSERT INTO personal_sessions (personal_session_id, owner_user_id, owner_oauth2_client_id, actor_user_id, " +
      "human_name, scope_list, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    params: Schema.Tuple(
      UlidFromUuid,
      Schema.NullOr(UlidFromUuid),
      Schema.NullOr(UlidFromUuid),
      UlidFromUuid,
      Schema.String,
      ScopeListColumn,
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  // One statement, guarded: the tokens are revoked only with the session, at the same instant, and a session
  // revoked meanwhile revokes nothing (its row count, the sessions returned, is then 0).
  revoke: {
    text: [
      "WITH revoked AS (",
      "UPDATE personal_sessions SET revoked_at = $2",
      "WHERE personal_sessions.personal_session_id = $1 AND personal_sessions.revoked_at IS NULL",
      "RETURNING personal_sessions.personal_session_id",
      "), revoked_tokens AS (",
      "UPDATE personal_access_tokens SET revoked_at = $2 FROM revoked",
      "WHERE personal_access_tokens.personal_session_id = revoked.personal_session_id",
      "AND personal_access_tokens.revoked_at IS NULL",
      ")",
      "SELECT revoked.personal_session_id FROM revoked"
    ].join(" "),
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  recordBatchActivity: {
    text: batchActivityText(PERSONAL_SESSIONS, "personal_session_id"),
    params: BatchActivityParams,
    row: NoRows
  }
})

const dynamic = q.dynamic({
  list: "personal sessions matching a PersonalSessionFilter, each with its unrevoked token, one keyset page",
  count: "number of personal sessions matching a PersonalSessionFilter",
  revokeBulk: "stamps revoked_at on the personal sessions matching a PersonalSessionFilter"
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

/** Whether the filter looks at the unrevoked token (its expiry), so that the statement must join it. */
const readsToken = (filter: PersonalSessionFilter): boolean =>
  filter.expiresBefore !== undefined || filter.expiresAfter !== undefined || filter.expires !== undefined

/**
 * The filter over `personal_sessions` (unaliased); the expiry criteria name `personal_access_tokens`, so a statement
 * using them selects from `withUnrevokedToken`, where a session without an unrevoked token has a NULL expiry. The
 * scope and device criteria are array operators the GIN index on `scope_list` serves: containment (`@>`) and
 * overlap (`&&`).
 */
export const personalSessionFilterFragment = (sql: SqlClient.SqlClient, filter: PersonalSessionFilter): Fragment => {
  const clauses: Array<Fragment> = []
  if (filter.ownerUser !== undefined)
    clauses.push(sql`personal_sessions.owner_user_id = ${ulidToUuid(filter.ownerUser)}`)
  if (filter.ownerOAuth2Client !== undefined)
    clauses.push(sql`personal_sessions.owner_oauth2_client_id = ${ulidToUuid(filter.ownerOAuth2Client)}`)
  if (filter.actorUser !== undefined)
    clauses.push(sql`personal_sessions.actor_user_id = ${ulidToUuid(filter.actorUser)}`)
  if (filter.device !== undefined) {
    clauses.push(
      Either.match(deviceToScopeTokens(filter.device), {
        onLeft: () => sql`FALSE`,
        onRight: (tokens) => sql`personal_sessions.scope_list && ${[...tokens]}::text[]`
      })
    )
  }
  if (filter.state === "active") clauses.push(sql`personal_sessions.revoked_at IS NULL`)
  if (filter.state === "revoked") clauses.push(sql`personal_sessions.revoked_at IS NOT NULL`)
  if (filter.scope !== undefined) clauses.push(sql`personal_sessions.scope_list @> ${[...filter.scope]}::text[]`)
  if (filter.lastActiveBefore !== undefined)
    clauses.push(sql`personal_sessions.last_active_at < ${filter.lastActiveBefore}`)
  if (filter.lastActiveAfter !== undefined)
    clauses.push(sql`personal_sessions.last_active_at > ${filter.lastActiveAfter}`)
  if (filter.expiresBefore !== undefined) clauses.push(sql`personal_access_tokens.expires_at < ${filter.expiresBefore}`)
  if (filter.expiresAfter !== undefined) clauses.push(sql`personal_access_tokens.expires_at > ${filter.expiresAfter}`)
  if (filter.expires === true) clauses.push(sql`personal_access_tokens.expires_at IS NOT NULL`)
  if (filter.expires === false) clauses.push(sql`personal_access_tokens.expires_at IS NULL`)
  return sql.and(clauses)
}

const toSession = optionalEntity(personalSessionFromRow)

const decodeWithToken = rowDecoder(PersonalSessionWithTokenRow, PERSONAL_SESSIONS, "personal_session_id")

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)
  const from = (filter: PersonalSessionFilter) =>
    readsToken(filter) ? sql.unsafe(withUnrevokedToken) : sql`personal_sessions`

  return PersonalSessionRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toSession),

    add: (owner, actorUser, humanName, scope) =>
      Effect.gen(function* () {
        yield* checkArgumentIds({
          owner: owner._tag === "User" ? owner.userId : owner.clientId,
          actorUser: actorUser.id
        })
        yield* checkScope("scope", scope)
        yield* checkWellFormed({ humanName })
        const at = yield* now
        const row = newPersonalSessionRow(owner, actorUser, humanName, scope, yield* generateUlid, at)
        yield* db.add.affectedOne(
          row.personal_session_id,
          row.owner_user_id,
          row.owner_oauth2_client_id,
          row.actor_user_id,
          row.human_name,
          row.scope_list,
          row.created_at
        )
        return personalSessionFromRow(row)
      }),

    revoke: (session) =>
      guardedTransition({
        ids: { session: session.id },
        transition: (at) => revokePersonalSession(session, at),
        write: (at) => db.revoke.affectedOne(session.id, at)
      }),

    revokeBulk: (filter) =>
      dynamic.revokeBulk.run(
        Effect.gen(function* () {
          yield* checkPersonalSessionFilter(filter)
          const at = yield* now
          const where = personalSessionFilterFragment(sql, filter)
          // The join is read in a subquery (an UPDATE cannot LEFT JOIN its own table); only the sessions are stamped.
          const selected = readsToken(filter)
            ? sql`personal_sessions.personal_session_id IN (SELECT personal_sessions.personal_session_id FROM ${from(filter)} WHERE ${where})`
            : where
          return yield* executorOf(sql).statementRowCount(
            sql`UPDATE personal_sessions SET revoked_at = ${at} WHERE ${selected}`
          )
        })
      ),

    list: (filter, pagination) =>
      dynamic.list.run(
        Effect.gen(function* () {
          yield* checkPersonalSessionFilter(filter)
          const page = yield* listPage<object>(sql, {
            select: sql`SELECT ${sql.unsafe(withTokenColumns)} FROM ${sql.unsafe(withUnrevokedToken)}`,
            filter: personalSessionFilterFragment(sql, filter),
            idColumn: sql`personal_sessions.personal_session_id`,
            pagination,
            cursorOf: q.cursorOf
          })
          return yield* page.tryMap((raw) => Either.map(decodeWithToken(raw), personalSessionWithTokenFromRow))
        })
      ),

    count: (filter) =>
      Effect.zipRight(
        checkPersonalSessionFilter(filter),
        Effect.suspend(() =>
          dynamic.count.run(countRows(sql, { from: from(filter), filter: personalSessionFilterFragment(sql, filter) }))
        )
      ),

    recordBatchActivity: (activity) => recordBatchActivity(db.recordBatchActivity, activity)
  })
})

export const layer: Layer.Layer<PersonalSessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  PersonalSessionRepository,
  Effect.map(make, traced("personalSession"))
)
