// Stored state of `oauth2_access_tokens`: the token state from its `revoked_at` column.
import { decodeRevocableState, encodeRevocableState } from "../state.js"

export const decodeAccessTokenState = decodeRevocableState
export const encodeAccessTokenState = encodeRevocableState
