// Stored rows of `compat_sso_logins`, shared by both backends: the row Schema, the login state from its four state columns (and back), and the mapping to entities.
import { Either, Schema } from "effect"
import { Pending, Timestamp } from "../../model/common.js"
import {
  CompatSsoLogin,
  CompatSsoLoginExchanged,
  CompatSsoLoginFulfilled,
  type CompatSsoLoginState
} from "../../model/compat.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { Url } from "../../model/values.js"
import { storedEntity } from "../common.js"
import { describeTuple, refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"

export const COMPAT_SSO_LOGINS = "compat_sso_logins"

export interface CompatSsoLoginStateColumns {
  readonly fulfilledAt: Date | null
  readonly exchangedAt: Date | null
  readonly userSessionId: Ulid | null
  readonly compatSessionId: Ulid | null
}

export const decodeCompatSsoLoginState = (c: CompatSsoLoginStateColumns): StateDecodeResult<CompatSsoLoginState> => {
  const { compatSessionId, exchangedAt, fulfilledAt, userSessionId } = c
  if (fulfilledAt === null && exchangedAt === null && userSessionId === null && compatSessionId === null) {
    return Either.right(new Pending())
  }
  if (fulfilledAt !== null && exchangedAt === null && userSessionId !== null && compatSessionId === null) {
    return Either.right(new CompatSsoLoginFulfilled({ fulfilledAt, browserSessionId: userSessionId }))
  }
  // The fulfilling browser session normally stays recorded on an exchanged login; the state does not carry it.
  if (fulfilledAt !== null && exchangedAt !== null && compatSessionId !== null) {
    return Either.right(new CompatSsoLoginExchanged({ fulfilledAt, exchangedAt, compatSessionId }))
  }
  return Either.left(stateDecodeFailure("state", `impossible compat SSO login state (${describeTuple(c)})`))
}

/** The state columns; an exchanged login keeps the browser session of the stored row (passed in). */
export const encodeCompatSsoLoginState = (
  state: CompatSsoLoginState,
  browserSessionId: Ulid | null = null
): CompatSsoLoginStateColumns => {
  switch (state._tag) {
    case "Pending":
      return { fulfilledAt: null, exchangedAt: null, userSessionId: null, compatSessionId: null }
    case "Fulfilled":
      return {
        fulfilledAt: state.fulfilledAt,
        exchangedAt: null,
        userSessionId: state.browserSessionId,
        compatSessionId: null
      }
    case "Exchanged":
      return {
        fulfilledAt: state.fulfilledAt,
        exchangedAt: state.exchangedAt,
        userSessionId: browserSessionId,
        compatSessionId: state.compatSessionId
      }
  }
}

const storedCompatSsoLogin = storedEntity(CompatSsoLogin)

const NullableDate = Schema.NullOr(Timestamp)
const NullableUlid = Schema.NullOr(UlidFromUuid)

const stateColumns = (row: {
  readonly fulfilled_at: Date | null
  readonly exchanged_at: Date | null
  readonly user_session_id: Ulid | null
  readonly compat_session_id: Ulid | null
}): CompatSsoLoginStateColumns => ({
  fulfilledAt: row.fulfilled_at,
  exchangedAt: row.exchanged_at,
  userSessionId: row.user_session_id,
  compatSessionId: row.compat_session_id
})

/**
 * `compat_sso_logins`. An impossible state tuple is an inconsistency on `state`, a redirect URI that is not an
 * absolute URL one on `redirect_uri` (as MAS reads them); memory decodes its rows with this schema's type side.
 */
export const CompatSsoLoginRow = Schema.Struct({
  compat_sso_login_id: UlidFromUuid,
  login_token: Schema.String,
  redirect_uri: Url,
  created_at: Timestamp,
  fulfilled_at: NullableDate,
  exchanged_at: NullableDate,
  user_session_id: NullableUlid,
  compat_session_id: NullableUlid
}).pipe(Schema.filter((row) => refusedState(decodeCompatSsoLoginState(stateColumns(row)))))
export type CompatSsoLoginRow = typeof CompatSsoLoginRow.Type

/** The selected columns, unqualified, in the row's order. */
export const compatSsoLoginColumnNames: ReadonlyArray<string> = Object.keys(CompatSsoLoginRow.from.fields)

/** Only for rows the row schema accepted, whose state decodes. */
export const compatSsoLoginFromRow = (row: CompatSsoLoginRow): CompatSsoLogin =>
  storedCompatSsoLogin({
    id: row.compat_sso_login_id,
    redirectUri: row.redirect_uri,
    loginToken: row.login_token,
    createdAt: row.created_at,
    state: Either.getOrElse(decodeCompatSsoLoginState(stateColumns(row)), (failure) => {
      throw new Error(`a row the row schema refuses: ${failure.reason}`)
    })
  })

/** The state columns of a login moving to `state`, keeping the browser session the stored row records. */
export const compatSsoLoginStateRow = (
  state: CompatSsoLoginState,
  browserSessionId: Ulid | null = null
): Pick<CompatSsoLoginRow, "fulfilled_at" | "exchanged_at" | "user_session_id" | "compat_session_id"> => {
  const c = encodeCompatSsoLoginState(state, browserSessionId)
  return {
    fulfilled_at: c.fulfilledAt,
    exchanged_at: c.exchangedAt,
    user_session_id: c.userSessionId,
    compat_session_id: c.compatSessionId
  }
}

/** The row of a new, pending login (both backends insert it and build the entity they return from it). */
export const newCompatSsoLoginRow = (
  loginToken: string,
  redirectUri: Url,
  id: Ulid,
  createdAt: Date
): CompatSsoLoginRow => ({
  compat_sso_login_id: id,
  login_token: loginToken,
  redirect_uri: redirectUri,
  created_at: createdAt,
  ...compatSsoLoginStateRow(new Pending())
})
