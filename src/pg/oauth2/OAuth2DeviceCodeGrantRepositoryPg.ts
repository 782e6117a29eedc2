// OAuth2DeviceCodeGrantRepository on PostgreSQL: declared static queries, the single-use transitions guarded in SQL.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import {
  exchangeDeviceCodeGrant,
  fulfillDeviceCodeGrant,
  rejectDeviceCodeGrant
} from "../../model/oauth2/deviceCodeGrant.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf } from "../../model/values.js"
import { optionalEntity, ScopeListColumn } from "../../rows/common.js"
import {
  DEVICE_CODE_GRANTS,
  DeviceCodeGrantRow,
  deviceCodeGrantFromRow,
  newDeviceCodeGrantRow
} from "../../rows/oauth2/deviceCodeGrant.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { checkCleanupLimit, checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkNewDeviceCodeGrant,
  OAuth2DeviceCodeGrantRepository
} from "../../storage/oauth2/OAuth2DeviceCodeGrantRepository.js"
import { ulidCleanupText, UlidCleanupParams } from "../common/cleanup.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const insertedColumns =
  "oauth2_device_code_grant_id, oauth2_client_id, scope_list, device_code, user_code, created_at, expires_at, " +
  "ip_address, user_agent"

const columns = `${insertedColumns}, fulfilled_at, rejected_at, exchanged_at, user_session_id, oauth2_session_id, locale`

// The state columns as the decoder reads Pending and Fulfilled: the guards of the single-use transitions.
const isPending =
  "fulfilled_at IS NULL AND rejected_at IS NULL AND exchanged_at IS NULL AND user_session_id IS NULL AND oauth2_session_id IS NULL"
const isFulfilled =
  "fulfilled_at IS NOT NULL AND rejected_at IS NULL AND exchanged_at IS NULL AND user_session_id IS NOT NULL AND oauth2_session_id IS NULL"

const NullableString = Schema.NullOr(Schema.String)

const q = repositoryQueries({
  prefix: "oauth2DeviceCodeGrant",
  table: DEVICE_CODE_GRANTS,
  idColumn: "oauth2_device_code_grant_id",
  row: DeviceCodeGrantRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM oauth2_device_code_grant WHERE oauth2_device_code_grant_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByDeviceCode: {
    text: `SELECT ${columns} FROM oauth2_device_code_grant WHERE device_code = $1`,
    params: Schema.Tuple(Schema.String)
  },
  findByUserCode: {
    text: `SELECT ${columns} FROM oauth2_device_code_grant WHERE user_code = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // No conflict target: a taken device code and a taken user code are both ignored, and the count reports them
  // (storage rule: Conflicts), so the unit of work stays usable.
  add: {
    text:
      `INSERT INTO oauth2_device_code_grant (${insertedColumns}) ` +
      `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      ScopeListColumn,
      Schema.String,
      Schema.String,
      Schema.DateFromSelf,
      Schema.DateFromSelf,
      Schema.NullOr(IpAddressFromSelf),
      NullableString
    ),
    row: NoRows
  },
  // Guarded, as reject: of concurrent fulfils and rejects only the first to lock the row finds it pending.
  fulfill: {
    text:
      `UPDATE oauth2_device_code_grant SET fulfilled_at = $2, user_session_id = $3, locale = $4 ` +
      `WHERE oauth2_device_code_grant_id = $1 AND ${isPending}`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid, NullableString),
    row: NoRows
  },
  reject: {
    text:
      `UPDATE oauth2_device_code_grant SET rejected_at = $2, user_session_id = $3 ` +
      `WHERE oauth2_device_code_grant_id = $1 AND ${isPending}`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  // Guarded: the device code is single-use, so of concurrent exchanges only the first to lock the row finds it fulfilled.
  exchange: {
    text:
      `UPDATE oauth2_device_code_grant SET exchanged_at = $2, oauth2_session_id = $3 ` +
      `WHERE oauth2_device_code_grant_id = $1 AND ${isFulfilled}`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  cleanup: {
    text: ulidCleanupText("oauth2_device_code_grant", "oauth2_device_code_grant_id"),
    params: UlidCleanupParams,
    row: Schema.Struct({ oauth2_device_code_grant_id: UlidFromUuid })
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toGrant = optionalEntity(deviceCodeGrantFromRow)

export const make = Effect.gen(function* () {
  const db = bindAll(yield* SqlClient.SqlClient, statements)

  return OAuth2DeviceCodeGrantRepository.of({
    add: (params) =>
      Effect.gen(function* () {
        const at = yield* now
        const expiresAt = yield* checkNewDeviceCodeGrant(params, at)
        const id = yield* generateUlid
        const row = newDeviceCodeGrantRow(params, id, at, expiresAt)
        yield* db.add.affectedOne(
          row.oauth2_device_code_grant_id,
          row.oauth2_client_id,
          row.scope_list,
          row.device_code,
          row.user_code,
          row.created_at,
          row.expires_at,
          row.ip_address,
          row.user_agent
        )
        return deviceCodeGrantFromRow(row)
      }),

    lookup: (id) => Effect.flatMap(db.lookup.one(id), toGrant),

    findByDeviceCode: (deviceCode) =>
      Effect.zipRight(checkWellFormed({ deviceCode }), Effect.flatMap(db.findByDeviceCode.one(deviceCode), toGrant)),

    findByUserCode: (userCode) =>
      Effect.zipRight(checkWellFormed({ userCode }), Effect.flatMap(db.findByUserCode.one(userCode), toGrant)),

    fulfill: (grant, browserSession, locale) =>
      Effect.zipRight(
        checkWellFormed({ locale: Option.getOrUndefined(locale) }),
        guardedTransition({
          ids: { grant: grant.id, browserSession: browserSession.id },
          transition: (at) => fulfillDeviceCodeGrant(grant, at, browserSession.id, locale),
          write: (at) => db.fulfill.affectedOne(grant.id, at, browserSession.id, Option.getOrNull(locale))
        })
      ),

    reject: (grant, browserSession) =>
      guardedTransition({
        ids: { grant: grant.id, browserSession: browserSession.id },
        transition: (at) => rejectDeviceCodeGrant(grant, at, browserSession.id),
        write: (at) => db.reject.affectedOne(grant.id, at, browserSession.id)
      }),

    exchange: (grant, session) =>
      guardedTransition({
        ids: { grant: grant.id, session: session.id },
        transition: (at) => exchangeDeviceCodeGrant(grant, at, session.id),
        write: (at) => db.exchange.affectedOne(grant.id, at, session.id)
      }),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanup.all(Option.getOrNull(since), until, batch)
        return CleanupResult.fromKeys(deleted.map((r) => r.oauth2_device_code_grant_id))
      })
  })
})

export const layer: Layer.Layer<OAuth2DeviceCodeGrantRepository, never, SqlClient.SqlClient> = Layer.effect(
  OAuth2DeviceCodeGrantRepository,
  Effect.map(make, traced("oauth2DeviceCodeGrant"))
)
