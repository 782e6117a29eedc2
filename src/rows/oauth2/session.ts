// Stored state of `oauth2_sessions`: the session state from its `finished_at` column.
import { decodeSessionState, encodeSessionState } from "../state.js"

export const decodeOAuth2SessionState = decodeSessionState
export const encodeOAuth2SessionState = encodeSessionState
