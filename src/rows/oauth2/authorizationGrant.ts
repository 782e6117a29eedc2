// Stored state of `oauth2_authorization_grants`: the stage from its stage columns, the code from its code and PKCE columns, and back.
import { Either, Option, Schema } from "effect"
import { Pending } from "../../model/common.js"
import {
  AuthorizationCode,
  AuthorizationGrantCancelled,
  AuthorizationGrantExchanged,
  AuthorizationGrantFulfilled,
  type AuthorizationGrantStage
} from "../../model/oauth2/authorizationGrant.js"
import type { Ulid } from "../../model/Ulid.js"
import { Pkce, PkceChallengeMethod } from "../../model/values.js"
import { describeTuple, stateDecodeFailure, type StateDecodeResult } from "../state.js"

/** Stage columns of `oauth2_authorization_grants`. */
export interface AuthorizationGrantStageColumns {
  readonly fulfilledAt: Date | null
  readonly exchangedAt: Date | null
  readonly cancelledAt: Date | null
  readonly userSessionId: Ulid | null
  readonly oauth2SessionId: Ulid | null
}

/** The legacy tuple (fulfilled, OAuth2 session, no browser session) that reads as Cancelled; repositories log a warning for it. */
export const isLegacyCancelledGrant = (c: AuthorizationGrantStageColumns): boolean =>
  c.fulfilledAt !== null &&
  c.exchangedAt === null &&
  c.cancelledAt === null &&
  c.userSessionId === null &&
  c.oauth2SessionId !== null

export const decodeAuthorizationGrantStage = (
  c: AuthorizationGrantStageColumns
): StateDecodeResult<AuthorizationGrantStage> => {
  const { cancelledAt, exchangedAt, fulfilledAt, oauth2SessionId, userSessionId } = c
  if (fulfilledAt === null && exchangedAt === null && cancelledAt === null) {
    if (userSessionId === null && oauth2SessionId === null) return Either.right(new Pending())
  } else if (fulfilledAt !== null && exchangedAt === null && cancelledAt === null) {
    if (userSessionId !== null && oauth2SessionId === null) {
      return Either.right(new AuthorizationGrantFulfilled({ browserSessionId: userSessionId, fulfilledAt }))
    }
    if (isLegacyCancelledGrant(c)) return Either.right(new AuthorizationGrantCancelled({ cancelledAt: fulfilledAt }))
  } else if (fulfilledAt !== null && exchangedAt !== null && cancelledAt === null) {
    // The browser session that fulfilled the grant normally stays recorded; the domain does not require it.
    if (oauth2SessionId !== null) {
      return Either.right(new AuthorizationGrantExchanged({ sessionId: oauth2SessionId, fulfilledAt, exchangedAt }))
    }
  } else if (fulfilledAt === null && exchangedAt === null && cancelledAt !== null) {
    if (userSessionId === null && oauth2SessionId === null) {
      return Either.right(new AuthorizationGrantCancelled({ cancelledAt }))
    }
  }
  return Either.left(stateDecodeFailure("stage", `impossible stage (${describeTuple(c)})`))
}

/**
 * The stage columns of a stage. An exchanged grant keeps the browser session that fulfilled it,
 * which the stage does not carry, so it is passed in from the stored row.
 */
export const encodeAuthorizationGrantStage = (
  stage: AuthorizationGrantStage,
  browserSessionId: Ulid | null = null
): AuthorizationGrantStageColumns => {
  const none = { fulfilledAt: null, exchangedAt: null, cancelledAt: null, userSessionId: null, oauth2SessionId: null }
  switch (stage._tag) {
    case "Pending":
      return none
    case "Fulfilled":
      return { ...none, fulfilledAt: stage.fulfilledAt, userSessionId: stage.browserSessionId }
    case "Exchanged":
      return {
        ...none,
        fulfilledAt: stage.fulfilledAt,
        exchangedAt: stage.exchangedAt,
        userSessionId: browserSessionId,
        oauth2SessionId: stage.sessionId
      }
    case "Cancelled":
      return { ...none, cancelledAt: stage.cancelledAt }
  }
}

/** Code columns of `oauth2_authorization_grants`. */
export interface AuthorizationCodeColumns {
  readonly authorizationCode: string | null
  readonly codeChallenge: string | null
  readonly codeChallengeMethod: string | null
}

export const decodeAuthorizationCode = (
  c: AuthorizationCodeColumns
): StateDecodeResult<Option.Option<AuthorizationCode>> => {
  let pkce: Option.Option<Pkce>
  if (c.codeChallenge === null && c.codeChallengeMethod === null) {
    pkce = Option.none()
  } else if (c.codeChallenge !== null && c.codeChallengeMethod !== null) {
    const method = Schema.decodeUnknownOption(PkceChallengeMethod)(c.codeChallengeMethod)
    if (Option.isNone(method)) {
      return Either.left(
        stateDecodeFailure("code_challenge_method", `unknown method ${JSON.stringify(c.codeChallengeMethod)}`)
      )
    }
    pkce = Option.some(new Pkce({ challengeMethod: method.value, challenge: c.codeChallenge }))
  } else {
    return Either.left(
      stateDecodeFailure("code_challenge_method", "challenge and method must be both set or both null")
    )
  }
  if (c.authorizationCode === null) {
    return Option.isNone(pkce)
      ? Either.right(Option.none())
      : Either.left(stateDecodeFailure("authorization_code", "a PKCE challenge without an authorization code"))
  }
  return Either.right(Option.some(new AuthorizationCode({ code: c.authorizationCode, pkce })))
}

export const encodeAuthorizationCode = (code: Option.Option<AuthorizationCode>): AuthorizationCodeColumns => ({
  authorizationCode: Option.match(code, { onNone: () => null, onSome: (c) => c.code }),
  codeChallenge: Option.match(
    Option.flatMap(code, (c) => c.pkce),
    { onNone: () => null, onSome: (p) => p.challenge }
  ),
  codeChallengeMethod: Option.match(
    Option.flatMap(code, (c) => c.pkce),
    {
      onNone: () => null,
      onSome: (p) => p.challengeMethod
    }
  )
})

/** `decode<Entity>State` spelling of the stage decoder. */
export const decodeAuthorizationGrantState = decodeAuthorizationGrantStage
export const encodeAuthorizationGrantState = encodeAuthorizationGrantStage
