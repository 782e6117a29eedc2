// PersonalSessionRepository on PostgreSQL: its declared static queries, plus the filter, page and bulk queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Schema } from "effect"
import { revokePersonalSession } from "../../model/personal.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
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
import { lastActiveCriteria } from "../common/filters.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { countQuery, filter, pageQuery, piece, stampQuery } from "../dynamic.js"

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

/** The session's unrevoked token (at most one: the partial unique index) satisfies `condition` on alias `token`. */
const unrevokedTokenWhere = (condition: string) =>
  "EXISTS (SELECT 1 FROM personal_access_tokens token " +
  "WHERE token.personal_session_id = personal_sessions.personal_session_id AND token.revoked_at IS NULL " +
  `AND ${condition})`

/**
 * The filter over `personal_sessions` (unaliased, so it serves SELECT, COUNT and UPDATE alike). The expiry criteria
 * look at the session's unrevoked token through an EXISTS, whatever the statement joins: a session without one has no
 * expiry, so it matches neither bound, and `expires: false`. The scope and device criteria are array operators the GIN
 * index on `scope_list` serves: containment (`@>`) and overlap (`&&`).
 */
export const personalSessionFilter = filter<PersonalSessionFilter>()(
  "PersonalSessionFilter",
  {
    ownerUser: piece("personal_sessions.owner_user_id = $1", Schema.Tuple(UlidFromUuid)),
    ownerOAuth2Client: piece("personal_sessions.owner_oauth2_client_id = $1", Schema.Tuple(UlidFromUuid)),
    actorUser: piece("personal_sessions.actor_user_id = $1", Schema.Tuple(UlidFromUuid)),
    // the device's two scope tokens, none for a device that cannot be encoded (an empty overlap matches nothing)
    device: piece("personal_sessions.scope_list && $1::text[]", Schema.Tuple(ScopeListColumn)),
    active: piece("personal_sessions.revoked_at IS NULL"),
    revoked: piece("personal_sessions.revoked_at IS NOT NULL"),
    scope: piece("personal_sessions.scope_list @> $1::text[]", Schema.Tuple(ScopeListColumn)),
    ...lastActiveCriteria("personal_sessions"),
    expiresBefore: piece(unrevokedTokenWhere("token.expires_at < $1"), Schema.Tuple(Schema.DateFromSelf)),
    expiresAfter: piece(unrevokedTokenWhere("token.expires_at > $1"), Schema.Tuple(Schema.DateFromSelf)),
    expires: piece(unrevokedTokenWhere("token.expires_at IS NOT NULL")),
    neverExpires: piece(`NOT ${unrevokedTokenWhere("token.expires_at IS NOT NULL")}`)
  },
  (f, use) => [
    f.ownerUser !== undefined && use.ownerUser(f.ownerUser),
    f.ownerOAuth2Client !== undefined && use.ownerOAuth2Client(f.ownerOAuth2Client),
    f.actorUser !== undefined && use.actorUser(f.actorUser),
    f.device !== undefined &&
      use.device(Either.match(deviceToScopeTokens(f.device), { onLeft: () => [], onRight: (tokens) => tokens })),
    f.state === "active" && use.active(),
    f.state === "revoked" && use.revoked(),
    f.scope !== undefined && use.scope(f.scope),
    f.lastActiveBefore !== undefined && use.lastActiveBefore(f.lastActiveBefore),
    f.lastActiveAfter !== undefined && use.lastActiveAfter(f.lastActiveAfter),
    f.expiresBefore !== undefined && use.expiresBefore(f.expiresBefore),
    f.expiresAfter !== undefined && use.expiresAfter(f.expiresAfter),
    f.expires === true && use.expires(),
    f.expires === false && use.neverExpires()
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "personal sessions matching a PersonalSessionFilter, each with its unrevoked token, one keyset page",
    row: PersonalSessionWithTokenRow,
    select: `SELECT ${withTokenColumns} FROM ${withUnrevokedToken}`,
    slots: { filter: personalSessionFilter },
    where: "filter",
    keyset: "personal_sessions.personal_session_id"
  }),
  count: countQuery({
    description: "number of personal sessions matching a PersonalSessionFilter",
    from: "personal_sessions",
    slots: { filter: personalSessionFilter },
    where: "filter"
  }),
  revokeBulk: stampQuery({
    description: "stamps revoked_at on the personal sessions matching a PersonalSessionFilter",
    table: "personal_sessions",
    column: "revoked_at",
    filter: personalSessionFilter
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const toSession = optionalEntity(personalSessionFromRow)

const decodeWithToken = rowDecoder(PersonalSessionWithTokenRow, PERSONAL_SESSIONS, "personal_session_id")

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

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

    revokeBulk: (filter) => Effect.zipRight(checkPersonalSessionFilter(filter), dynamic.revokeBulk.stamp(sql, filter)),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkPersonalSessionFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(decodeWithToken(raw), personalSessionWithTokenFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkPersonalSessionFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    recordBatchActivity: (activity) => recordBatchActivity(db.recordBatchActivity, activity)
  })
})

export const layer: Layer.Layer<PersonalSessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  PersonalSessionRepository,
  Effect.map(make, traced("personalSession"))
)
