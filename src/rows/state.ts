// Stored state tuples: the refusal naming the column (as a failure and as a row-schema issue), and states tables share.
import { Either, Option, type Schema } from "effect"
import { Finished, type RevocableState, Revoked, type SessionState, Valid } from "../model/common.js"

/** Why a stored state tuple cannot be decoded; a row schema reports it through `refusedState`. */
export interface StateDecodeFailure {
  readonly column: Option.Option<string>
  readonly reason: string
}

export type StateDecodeResult<S> = Either.Either<S, StateDecodeFailure>

export const stateDecodeFailure = (column: string | undefined, reason: string): StateDecodeFailure => ({
  column: Option.fromNullable(column),
  reason
})

/** Names which nullable columns are set, for readable inconsistency reasons. */
export const describeTuple = (tuple: object): string => {
  const set = Object.entries(tuple)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k]) => k)
  return set.length === 0 ? "no column set" : `set: ${set.join(", ")}`
}

/**
 * A state decoder's refusal as a row-schema filter issue at the column it names, so that the one row decoder reports
 * an impossible tuple as it reports a column that does not decode (table, column and row, on both backends).
 */
export const refusedState = (result: StateDecodeResult<unknown>): true | Schema.FilterIssue =>
  Either.isRight(result) || { path: Option.toArray(result.left.column), message: result.left.reason }

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
