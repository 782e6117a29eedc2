// Stored state tuples: why a tuple of columns is no state (naming the column), and the one-column states several tables share.
import { Either } from "effect"
import { Finished, type RevocableState, Revoked, type SessionState, Valid } from "../model/common.js"
import type { StateDecodeResult } from "../model/errors.js"

// Defined in the model until the user entities' decoders move here too.
export { describeTuple, type StateDecodeFailure, stateDecodeFailure, type StateDecodeResult } from "../model/errors.js"

/** `finished_at` alone decides: every tuple is valid. */
export const decodeSessionState = (c: { readonly finishedAt: Date | null }): StateDecodeResult<SessionState> =>
  Either.right(c.finishedAt === null ? new Valid() : new Finished({ finishedAt: c.finishedAt }))

export const encodeSessionState = (state: SessionState): { readonly finishedAt: Date | null } => ({
  finishedAt: state._tag === "Finished" ? state.finishedAt : null
})

/** `revoked_at` alone decides: every tuple is valid. */
export const decodeRevocableState = (c: { readonly revokedAt: Date | null }): StateDecodeResult<RevocableState> =>
  Either.right(c.revokedAt === null ? new Valid() : new Revoked({ revokedAt: c.revokedAt }))

export const encodeRevocableState = (state: RevocableState): { readonly revokedAt: Date | null } => ({
  revokedAt: state._tag === "Revoked" ? state.revokedAt : null
})
