// The port for OAuth2 device authorization grants (RFC 8628): its shape, its argument checks, its Tag.
import { Context, Effect, Option, Schema } from "effect"
import type { DeviceCodeGrant, NewDeviceCodeGrant } from "../../model/oauth2/deviceCodeGrant.js"
import type { OAuth2Session } from "../../model/oauth2/session.js"
import type { BrowserSession } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import { IpAddressFromSelf } from "../../model/values.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkMaxBytes, checkScope, checkWellFormed } from "../common/limits.js"
import { expiryAfter } from "../common/time.js"
import { GRANT_CODE_MAX_BYTES } from "./OAuth2AuthorizationGrantRepository.js"

const isIpAddress = Schema.is(IpAddressFromSelf)

/**
 * What both backends check before `add` sends or writes anything; gives `expiresAt = createdAt + expiresIn`. Text
 * without a UTF-8 form, a device or user code over {@link GRANT_CODE_MAX_BYTES}, an invalid scope token, an IP address
 * that is not in canonical form, and an `expiresIn` that gives no valid instant (infinite, or beyond Date's range) are
 * an InvalidOperationError. NUL in text is left to the write, which refuses it as PostgreSQL does (a DriverError).
 */
export const checkNewDeviceCodeGrant = (
  params: NewDeviceCodeGrant,
  createdAt: Date
): Effect.Effect<Date, InvalidOperationError> =>
  Effect.gen(function* () {
    yield* checkWellFormed({
      deviceCode: params.deviceCode,
      userCode: params.userCode,
      userAgent: Option.getOrUndefined(params.userAgent)
    })
    yield* checkMaxBytes("device code", params.deviceCode, GRANT_CODE_MAX_BYTES)
    yield* checkMaxBytes("user code", params.userCode, GRANT_CODE_MAX_BYTES)
    yield* checkScope("scope", params.scope)
    if (Option.isSome(params.ipAddress) && !isIpAddress(params.ipAddress.value)) {
      yield* Effect.fail(
        new InvalidOperationError({
          cause: Option.some(
            `ipAddress is not an IP address in canonical form: ${JSON.stringify(params.ipAddress.value)}`
          )
        })
      )
    }
    return yield* expiryAfter(createdAt, params.expiresIn)
  })

export interface OAuth2DeviceCodeGrantRepositoryShape {
  /**
   * A new pending grant of `params.client`, created now, expiring at `createdAt + expiresIn`. Bad arguments (see
   * `checkNewDeviceCodeGrant`) and a malformed client id are an InvalidOperationError; a device code or a user code
   * already stored is a RowsAffectedError (expected 1, actual 0) and the unit of work stays usable. NUL in text is a
   * DriverError (22021) and a client that is not stored a DriverError (23503): both doom the unit of work.
   */
  readonly add: (params: NewDeviceCodeGrant) => Effect.Effect<DeviceCodeGrant, DatabaseError>
  /** A malformed id is an InvalidOperationError; an impossible stored row an InconsistencyError naming the column. */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<DeviceCodeGrant>, DatabaseError>
  /** Exact match on the unique device code; text without a UTF-8 form is an InvalidOperationError, NUL a DriverError. */
  readonly findByDeviceCode: (deviceCode: string) => Effect.Effect<Option.Option<DeviceCodeGrant>, DatabaseError>
  /** Exact match on the unique user code; text without a UTF-8 form is an InvalidOperationError, NUL a DriverError. */
  readonly findByUserCode: (userCode: string) => Effect.Effect<Option.Option<DeviceCodeGrant>, DatabaseError>
  /**
   * Pending → Fulfilled by `browserSession`, now, storing `locale`. A grant passed in that is not pending is an
   * InvalidOperationError (InvalidTransition) and nothing is written; the write is guarded (the row must still be
   * pending), so of concurrent fulfils and rejects exactly one succeeds and every other gets a RowsAffectedError
   * (expected 1, actual 0). A browser session that is not stored is a DriverError (23503); NUL in the locale a
   * DriverError (22021); a malformed id of either argument an InvalidOperationError.
   */
  readonly fulfill: (
    grant: DeviceCodeGrant,
    browserSession: BrowserSession,
    locale: Option.Option<string>
  ) => Effect.Effect<DeviceCodeGrant, DatabaseError>
  /** Pending → Rejected by `browserSession`, now; refused and guarded exactly as `fulfill`. */
  readonly reject: (
    grant: DeviceCodeGrant,
    browserSession: BrowserSession
  ) => Effect.Effect<DeviceCodeGrant, DatabaseError>
  /**
   * Fulfilled → Exchanged for `session`, now. Single-use: a grant passed in that is not fulfilled is an
   * InvalidOperationError (InvalidTransition) and nothing is written; the write is guarded (the row must still be
   * fulfilled and not exchanged), so of concurrent exchanges exactly one succeeds and every other gets a
   * RowsAffectedError (expected 1, actual 0). A session that is not stored is a DriverError (23503); a malformed id of
   * either argument an InvalidOperationError.
   */
  readonly exchange: (grant: DeviceCodeGrant, session: OAuth2Session) => Effect.Effect<DeviceCodeGrant, DatabaseError>
  /**
   * Storage rule "Cleanups", ULID key (`since < id <= until`, in id order, at most `limit`): deletes grants in any
   * state. A malformed id or a limit that is not a non-negative safe integer is an InvalidOperationError.
   */
  readonly cleanup: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class OAuth2DeviceCodeGrantRepository extends Context.Tag("storage/OAuth2DeviceCodeGrantRepository")<
  OAuth2DeviceCodeGrantRepository,
  OAuth2DeviceCodeGrantRepositoryShape
>() {}
