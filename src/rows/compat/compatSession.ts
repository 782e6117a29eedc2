// Stored state of `compat_sessions`: the session state from its `finished_at` column.
import { decodeSessionState, encodeSessionState } from "../state.js"

export const decodeCompatSessionState = decodeSessionState
export const encodeCompatSessionState = encodeSessionState
