// Stored state of `compat_refresh_tokens`: the token state from its `consumed_at` column.
import { Either } from "effect"
import { CompatRefreshTokenConsumed, type CompatRefreshTokenState } from "../../model/compat.js"
import { Valid } from "../../model/common.js"
import type { StateDecodeResult } from "../state.js"

/** `consumed_at` alone decides: every tuple is valid. */
export const decodeCompatRefreshTokenState = (c: {
  readonly consumedAt: Date | null
}): StateDecodeResult<CompatRefreshTokenState> =>
  Either.right(c.consumedAt === null ? new Valid() : new CompatRefreshTokenConsumed({ consumedAt: c.consumedAt }))

export const encodeCompatRefreshTokenState = (
  state: CompatRefreshTokenState
): { readonly consumedAt: Date | null } => ({
  consumedAt: state._tag === "Consumed" ? state.consumedAt : null
})
