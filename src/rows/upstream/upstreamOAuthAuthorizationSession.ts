// Stored state of `upstream_oauth_authorization_sessions`: the session state from its state and callback columns, and back.
import { Either, Option } from "effect"
import { Pending } from "../../model/common.js"
import type { Ulid } from "../../model/Ulid.js"
import {
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  type UpstreamSessionState,
  UpstreamSessionUnlinked
} from "../../model/upstream.js"
import { isJson, type Json } from "../../model/values.js"
import { describeTuple, stateDecodeFailure, type StateDecodeResult } from "../state.js"

/** State columns of `upstream_oauth_authorization_sessions` (JSON columns as read, validated here). */
export interface UpstreamSessionStateColumns {
  readonly completedAt: Date | null
  readonly consumedAt: Date | null
  readonly unlinkedAt: Date | null
  readonly upstreamOAuthLinkId: Ulid | null
  readonly idToken: string | null
  readonly idTokenClaims: unknown | null
  readonly extraCallbackParameters: unknown | null
  readonly userinfo: unknown | null
}

export const decodeUpstreamSessionState = (c: UpstreamSessionStateColumns): StateDecodeResult<UpstreamSessionState> => {
  for (const column of ["idTokenClaims", "extraCallbackParameters", "userinfo"] as const) {
    const value = c[column]
    if (value !== null && !isJson(value)) {
      return Either.left(stateDecodeFailure(snake(column), "not a JSON value"))
    }
  }
  const json = (u: unknown): Option.Option<Json> => (u === null ? Option.none() : Option.some(u as Json))
  const data = {
    idToken: Option.fromNullable(c.idToken),
    idTokenClaims: json(c.idTokenClaims),
    extraCallbackParameters: json(c.extraCallbackParameters),
    userinfo: json(c.userinfo)
  }
  const { completedAt, consumedAt, unlinkedAt, upstreamOAuthLinkId: linkId } = c
  const noData =
    c.idToken === null && c.idTokenClaims === null && c.extraCallbackParameters === null && c.userinfo === null
  if (completedAt === null && consumedAt === null && unlinkedAt === null && linkId === null && noData) {
    return Either.right(new Pending())
  }
  if (completedAt !== null && consumedAt === null && unlinkedAt === null && linkId !== null) {
    return Either.right(new UpstreamSessionCompleted({ completedAt, linkId, ...data }))
  }
  if (completedAt !== null && consumedAt !== null && unlinkedAt === null && linkId !== null) {
    return Either.right(new UpstreamSessionConsumed({ completedAt, consumedAt, linkId, ...data }))
  }
  if (completedAt !== null && unlinkedAt !== null && linkId === null) {
    return Either.right(
      new UpstreamSessionUnlinked({
        completedAt,
        consumedAt: Option.fromNullable(consumedAt),
        unlinkedAt,
        idToken: data.idToken,
        idTokenClaims: data.idTokenClaims
      })
    )
  }
  return Either.left(stateDecodeFailure("state", `impossible upstream session state (${describeTuple(c)})`))
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/**
 * The state columns. An unlinked session does not carry its extra callback parameters and
 * userinfo; the stored values are passed in (`previous`) so they are kept.
 */
export const encodeUpstreamSessionState = (
  state: UpstreamSessionState,
  previous: Pick<UpstreamSessionStateColumns, "extraCallbackParameters" | "userinfo"> = {
    extraCallbackParameters: null,
    userinfo: null
  }
): UpstreamSessionStateColumns => {
  const none = {
    completedAt: null,
    consumedAt: null,
    unlinkedAt: null,
    upstreamOAuthLinkId: null,
    idToken: null,
    idTokenClaims: null,
    extraCallbackParameters: null,
    userinfo: null
  }
  switch (state._tag) {
    case "Pending":
      return none
    case "Completed":
    case "Consumed":
      return {
        ...none,
        completedAt: state.completedAt,
        consumedAt: state._tag === "Consumed" ? state.consumedAt : null,
        upstreamOAuthLinkId: state.linkId,
        idToken: Option.getOrNull(state.idToken),
        idTokenClaims: Option.getOrNull(state.idTokenClaims),
        extraCallbackParameters: Option.getOrNull(state.extraCallbackParameters),
        userinfo: Option.getOrNull(state.userinfo)
      }
    case "Unlinked":
      return {
        ...none,
        completedAt: state.completedAt,
        consumedAt: Option.getOrNull(state.consumedAt),
        unlinkedAt: state.unlinkedAt,
        idToken: Option.getOrNull(state.idToken),
        idTokenClaims: Option.getOrNull(state.idTokenClaims),
        extraCallbackParameters: previous.extraCallbackParameters,
        userinfo: previous.userinfo
      }
  }
}

/** `decode<Entity>State` spelling of the session-state decoder. */
export const decodeUpstreamOAuthAuthorizationSessionState = decodeUpstreamSessionState
export const encodeUpstreamOAuthAuthorizationSessionState = encodeUpstreamSessionState
