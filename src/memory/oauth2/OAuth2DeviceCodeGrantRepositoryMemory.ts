// OAuth2DeviceCodeGrantRepository in memory: the same rows, guards and refusals as PostgreSQL, over the MemoryStore.
import { Effect, Layer, Option } from "effect"
import {
  exchangeDeviceCodeGrant,
  fulfillDeviceCodeGrant,
  rejectDeviceCodeGrant
} from "../../model/oauth2/deviceCodeGrant.js"
import { generateUlid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  DEVICE_CODE_GRANTS,
  DeviceCodeGrantRow,
  deviceCodeGrantFromRow,
  newDeviceCodeGrantRow
} from "../../rows/oauth2/deviceCodeGrant.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkNewDeviceCodeGrant,
  OAuth2DeviceCodeGrantRepository
} from "../../storage/oauth2/OAuth2DeviceCodeGrantRepository.js"
import { ulidCleanup } from "../common/cleanup.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

/** The twins of the PostgreSQL guards: the state columns as the decoder reads Pending and Fulfilled. */
const isPending = (r: DeviceCodeGrantRow): boolean =>
  r.fulfilled_at === null &&
  r.rejected_at === null &&
  r.exchanged_at === null &&
  r.user_session_id === null &&
  r.oauth2_session_id === null

const isFulfilled = (r: DeviceCodeGrantRow): boolean =>
  r.fulfilled_at !== null &&
  r.rejected_at === null &&
  r.exchanged_at === null &&
  r.user_session_id !== null &&
  r.oauth2_session_id === null

const toGrant = optionalEntity(deviceCodeGrantFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const grants = memoryTable(store, {
    table: DEVICE_CODE_GRANTS,
    idColumn: "oauth2_device_code_grant_id",
    row: DeviceCodeGrantRow
  })

  return OAuth2DeviceCodeGrantRepository.of({
    add: (params) =>
      Effect.gen(function* () {
        const at = yield* now
        const expiresAt = yield* checkNewDeviceCodeGrant(params, at)
        yield* requireUlid(params.client.id)
        const id = yield* generateUlid
        const row = newDeviceCodeGrantRow(params, id, at, expiresAt)
        // Both unique codes are ignored as ON CONFLICT DO NOTHING (no target) ignores them; a missing client fails.
        yield* exactlyOne(grants.insertIgnoringConflict(row))
        return deviceCodeGrantFromRow(row)
      }),

    lookup: (id) => Effect.flatMap(grants.get(id), toGrant),

    findByDeviceCode: (deviceCode) =>
      Effect.zipRight(
        checkWellFormed({ deviceCode }),
        Effect.flatMap(
          grants.find((r) => r.device_code === deviceCode, deviceCode),
          toGrant
        )
      ),

    findByUserCode: (userCode) =>
      Effect.zipRight(
        checkWellFormed({ userCode }),
        Effect.flatMap(
          grants.find((r) => r.user_code === userCode, userCode),
          toGrant
        )
      ),

    fulfill: (grant, browserSession, locale) =>
      Effect.zipRight(
        checkWellFormed({ locale: Option.getOrUndefined(locale) }),
        guardedTransition({
          ids: { grant: grant.id, browserSession: browserSession.id },
          transition: (at) => fulfillDeviceCodeGrant(grant, at, browserSession.id, locale),
          // PostgreSQL refuses a NUL parameter even when the guard then matches no row.
          write: (at) =>
            Effect.zipRight(
              rejectNul(Option.getOrUndefined(locale)),
              grants.updateGuarded(grant.id, isPending, (r) => ({
                ...r,
                fulfilled_at: at,
                user_session_id: browserSession.id,
                locale: Option.getOrNull(locale)
              }))
            )
        })
      ),

    reject: (grant, browserSession) =>
      guardedTransition({
        ids: { grant: grant.id, browserSession: browserSession.id },
        transition: (at) => rejectDeviceCodeGrant(grant, at, browserSession.id),
        write: (at) =>
          grants.updateGuarded(grant.id, isPending, (r) => ({
            ...r,
            rejected_at: at,
            user_session_id: browserSession.id
          }))
      }),

    exchange: (grant, session) =>
      guardedTransition({
        ids: { grant: grant.id, session: session.id },
        transition: (at) => exchangeDeviceCodeGrant(grant, at, session.id),
        write: (at) =>
          grants.updateGuarded(grant.id, isFulfilled, (r) => ({
            ...r,
            exchanged_at: at,
            oauth2_session_id: session.id
          }))
      }),

    cleanup: ulidCleanup(store, grants, (r) => r.oauth2_device_code_grant_id)
  })
})

export const layer: Layer.Layer<OAuth2DeviceCodeGrantRepository, never, MemoryStore> = Layer.effect(
  OAuth2DeviceCodeGrantRepository,
  make
)
