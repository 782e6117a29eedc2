// AppSessionRepository on PostgreSQL: one UNION ALL of compat and OAuth2 sessions, filtered by each kind's own declared filter, for the page and the count; one declared statement that finishes the sessions of a device.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Schema } from "effect"
import { type AppSession, AppSessionCompat, AppSessionOAuth2 } from "../../model/appSession.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { deviceToScopeTokens } from "../../model/values.js"
import { ScopeListColumn } from "../../rows/common.js"
import { COMPAT_SESSIONS, CompatSessionRow, compatSessionFromRow } from "../../rows/compat/compatSession.js"
import { rowDecoder } from "../../rows/decode.js"
import { OAuth2SessionRow, oauth2SessionFromRow } from "../../rows/oauth2/session.js"
import {
  AppSessionRepository,
  checkAppSessionFilter,
  splitAppSessionFilter
} from "../../storage/appSession/AppSessionRepository.js"
import type { InconsistencyError } from "../../storage/common/errors.js"
import { checkArgumentIds } from "../../storage/common/filters.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { compatSessionFilter } from "../compat/CompatSessionRepositoryPg.js"
import { traced } from "../common/tracing.js"
import { countQuery, pageQuery, slot } from "../dynamic.js"
import { oauth2SessionFilter } from "../oauth2/OAuth2SessionRepositoryPg.js"
import { bindAll, declarationsOf, repositoryQueries } from "../query.js"

const OAUTH2_SESSIONS = "oauth2_sessions"

/** What `finishSessionsToReplaceDevice` reads back: whether either update touched a row. */
const FinishedRow = Schema.Struct({ finished: Schema.Boolean })

const q = repositoryQueries({
  prefix: "appSession",
  table: COMPAT_SESSIONS,
  idColumn: "compat_session_id",
  row: FinishedRow
})

const statements = q.statements({
  // Both updates in one statement (MAS sends two): atomic outside a unit of work too. A device that cannot be encoded
  // comes as an empty array of tokens, which no scope overlaps; `&&` is what the scope_list GIN index serves.
  finishSessionsToReplaceDevice: {
    text: [
      "WITH compat AS (",
      "UPDATE compat_sessions SET finished_at = $4",
      "WHERE compat_sessions.user_id = $1 AND compat_sessions.device_id = $2 AND compat_sessions.finished_at IS NULL",
      "RETURNING 1",
      "), oauth2 AS (",
      "UPDATE oauth2_sessions SET finished_at = $4",
      "WHERE oauth2_sessions.user_id = $1 AND oauth2_sessions.scope_list && $3::text[]",
      "AND oauth2_sessions.finished_at IS NULL",
      "RETURNING 1",
      ")",
      `SELECT (EXISTS (SELECT 1 FROM compat) OR EXISTS (SELECT 1 FROM oauth2)) AS "finished!"`
    ].join(" "),
    params: Schema.Tuple(UlidFromUuid, Schema.String, ScopeListColumn, Schema.DateFromSelf)
  }
})

/**
 * The union's columns: `app_session_id` (the one keyset of both kinds), then every column of either kind's row, which
 * the other kind fills with a typed NULL, so each kind's part decodes with its own row schema.
 */
/** The columns both tables have, with the same meaning. */
const sharedColumns = [
  "user_id",
  "user_session_id",
  "human_name",
  "created_at",
  "finished_at",
  "user_agent",
  "last_active_at",
  "last_active_ip"
]

const unionColumns: ReadonlyArray<readonly [name: string, oauth2: string, compat: string]> = [
  ["app_session_id", "oauth2_sessions.oauth2_session_id", "compat_sessions.compat_session_id"],
  ["compat_session_id", "NULL::uuid", "compat_sessions.compat_session_id"],
  ["oauth2_session_id", "oauth2_sessions.oauth2_session_id", "NULL::uuid"],
  ["oauth2_client_id", "oauth2_sessions.oauth2_client_id", "NULL::uuid"],
  ["scope_list", "oauth2_sessions.scope_list", "NULL::text[]"],
  ["device_id", "NULL::text", "compat_sessions.device_id"],
  ["is_synapse_admin", "NULL::boolean", "compat_sessions.is_synapse_admin"],
  ...sharedColumns.map((c) => [c, `oauth2_sessions.${c}`, `compat_sessions.${c}`] as const)
]

const oauth2Select = `SELECT ${unionColumns.map(([name, oauth2]) => `${oauth2} AS ${name}`).join(", ")} FROM oauth2_sessions`
const compatSelect = `SELECT ${unionColumns.map(([name, , compat]) => `${compat} AS ${name}`).join(", ")} FROM compat_sessions`

const oauth2Fields = OAuth2SessionRow.fields
const compatFields = CompatSessionRow.fields

/** A union row: a column of one kind only is NULL in the other kind's rows, a shared one is NULL if either allows it. */
const AppSessionUnionRow = Schema.Struct({
  app_session_id: UlidFromUuid,
  compat_session_id: Schema.NullOr(compatFields.compat_session_id),
  oauth2_session_id: Schema.NullOr(oauth2Fields.oauth2_session_id),
  oauth2_client_id: Schema.NullOr(oauth2Fields.oauth2_client_id),
  scope_list: Schema.NullOr(oauth2Fields.scope_list),
  device_id: compatFields.device_id,
  is_synapse_admin: Schema.NullOr(compatFields.is_synapse_admin),
  user_id: oauth2Fields.user_id,
  user_session_id: oauth2Fields.user_session_id,
  human_name: oauth2Fields.human_name,
  created_at: oauth2Fields.created_at,
  finished_at: oauth2Fields.finished_at,
  user_agent: oauth2Fields.user_agent,
  last_active_at: oauth2Fields.last_active_at,
  last_active_ip: oauth2Fields.last_active_ip
})

// Each kind's part filtered by its own declared filter (the app-session filter split in two).
const slots = { oauth2: oauth2SessionFilter, compat: compatSessionFilter }

const dynamic = q.dynamic({
  list: pageQuery({
    description: "compat and OAuth2 sessions matching an AppSessionFilter, one keyset page over both kinds",
    row: AppSessionUnionRow,
    select: [
      `SELECT * FROM (${oauth2Select} WHERE `,
      slot("oauth2"),
      ` UNION ALL ${compatSelect} WHERE `,
      slot("compat"),
      ") AS app_sessions"
    ],
    slots,
    keyset: "app_sessions.app_session_id"
  }),
  count: countQuery({
    description: "number of compat and OAuth2 sessions matching an AppSessionFilter",
    from: [
      "(SELECT 1 FROM oauth2_sessions WHERE ",
      slot("oauth2"),
      " UNION ALL SELECT 1 FROM compat_sessions WHERE ",
      slot("compat"),
      ") AS app_sessions"
    ],
    slots
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const decodeCompat = rowDecoder(CompatSessionRow, COMPAT_SESSIONS, "compat_session_id")
const decodeOAuth2 = rowDecoder(OAuth2SessionRow, OAUTH2_SESSIONS, "oauth2_session_id")

const pick = (raw: Record<string, unknown>, columns: ReadonlyArray<string>) =>
  Object.fromEntries(columns.map((c) => [c, raw[c]]))
const compatColumns = Object.keys(CompatSessionRow.fields)
const oauth2Columns = Object.keys(OAuth2SessionRow.fields)

/** A union row as the session of its kind, decoded by that kind's row schema (inconsistencies name its table). */
const appSessionOfRow = (raw: object): Either.Either<AppSession, InconsistencyError> => {
  const record = raw as Record<string, unknown>
  return record.compat_session_id !== null
    ? Either.map(
        decodeCompat(pick(record, compatColumns)),
        (row) => new AppSessionCompat({ session: compatSessionFromRow(row) })
      )
    : Either.map(
        decodeOAuth2(pick(record, oauth2Columns)),
        (row) => new AppSessionOAuth2({ session: oauth2SessionFromRow(row) })
      )
}

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return AppSessionRepository.of({
    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkAppSessionFilter(filter)
        const page = yield* dynamic.list.page(sql, splitAppSessionFilter(filter), pagination)
        return yield* page.tryMap(appSessionOfRow)
      }),

    count: (filter) =>
      Effect.zipRight(
        checkAppSessionFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, splitAppSessionFilter(filter)))
      ),

    finishSessionsToReplaceDevice: (user, device) =>
      Effect.gen(function* () {
        yield* checkArgumentIds({ user: user.id })
        yield* checkWellFormed({ device: device.id })
        const tokens = Either.getOrElse(deviceToScopeTokens(device), () => [])
        const rows = yield* db.finishSessionsToReplaceDevice.all(user.id, device.id, [...tokens], yield* now)
        return rows[0]?.finished === true
      })
  })
})

export const layer: Layer.Layer<AppSessionRepository, never, SqlClient.SqlClient> = Layer.effect(
  AppSessionRepository,
  Effect.map(make, traced("appSession"))
)
