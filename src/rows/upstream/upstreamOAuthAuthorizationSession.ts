// Stored rows of `upstream_oauth_authorization_sessions`, shared by both backends: the row Schema, the session state from its state and callback columns (and back), and the mapping to entities.
import { Either, Option, Schema } from "effect"
import { Pending, Timestamp } from "../../model/common.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import {
  UpstreamOAuthAuthorizationSession,
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  type UpstreamSessionState,
  UpstreamSessionUnlinked
} from "../../model/upstream.js"
import { isJson, type Json } from "../../model/values.js"
import { storedEntity } from "../common.js"
import { describeTuple, refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"

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
  // Unlinking clears the link, but a row that still names one reads as unlinked too: `unlinked_at` decides, as the
  // catalogue's decoding rule says and MAS reads it.
  if (completedAt !== null && unlinkedAt !== null) {
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

export const UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS = "upstream_oauth_authorization_sessions"

const NullableDate = Schema.NullOr(Timestamp)
const NullableUlid = Schema.NullOr(UlidFromUuid)
const NullableString = Schema.NullOr(Schema.String)

const stateColumns = (row: {
  readonly completed_at: Date | null
  readonly consumed_at: Date | null
  readonly unlinked_at: Date | null
  readonly upstream_oauth_link_id: Ulid | null
  readonly id_token: string | null
  readonly id_token_claims: unknown
  readonly extra_callback_parameters: unknown
  readonly userinfo: unknown
}): UpstreamSessionStateColumns => ({
  completedAt: row.completed_at,
  consumedAt: row.consumed_at,
  unlinkedAt: row.unlinked_at,
  upstreamOAuthLinkId: row.upstream_oauth_link_id,
  idToken: row.id_token,
  idTokenClaims: row.id_token_claims ?? null,
  extraCallbackParameters: row.extra_callback_parameters ?? null,
  userinfo: row.userinfo ?? null
})

/**
 * `upstream_oauth_authorization_sessions`. The jsonb columns are read as the driver parses them (a JSON `null`
 * document and SQL NULL both arrive as null); an impossible state tuple, or a document that is not a JSON value, is an
 * inconsistency on the column the state decoder names. `user_session_id` is not part of the entity; memory needs it
 * for the cleanup and the browser-session filter.
 */
export const UpstreamOAuthAuthorizationSessionRow = Schema.Struct({
  upstream_oauth_authorization_session_id: UlidFromUuid,
  upstream_oauth_provider_id: UlidFromUuid,
  upstream_oauth_link_id: NullableUlid,
  user_session_id: NullableUlid,
  state: Schema.String,
  code_challenge_verifier: NullableString,
  nonce: NullableString,
  id_token: NullableString,
  id_token_claims: Schema.NullOr(Schema.Unknown),
  extra_callback_parameters: Schema.NullOr(Schema.Unknown),
  userinfo: Schema.NullOr(Schema.Unknown),
  created_at: Timestamp,
  completed_at: NullableDate,
  consumed_at: NullableDate,
  unlinked_at: NullableDate
}).pipe(Schema.filter((row) => refusedState(decodeUpstreamSessionState(stateColumns(row)))))
export type UpstreamOAuthAuthorizationSessionRow = typeof UpstreamOAuthAuthorizationSessionRow.Type

/** The selected columns, unqualified, in the row's order. */
export const upstreamOAuthAuthorizationSessionColumnNames: ReadonlyArray<string> = Object.keys(
  UpstreamOAuthAuthorizationSessionRow.from.fields
)

const storedSession = storedEntity(UpstreamOAuthAuthorizationSession)

/** Only for rows the row schema accepted, whose state decodes. */
export const upstreamOAuthAuthorizationSessionFromRow = (
  row: UpstreamOAuthAuthorizationSessionRow
): UpstreamOAuthAuthorizationSession =>
  storedSession({
    id: row.upstream_oauth_authorization_session_id,
    providerId: row.upstream_oauth_provider_id,
    stateStr: row.state,
    codeChallengeVerifier: Option.fromNullable(row.code_challenge_verifier),
    nonce: Option.fromNullable(row.nonce),
    createdAt: row.created_at,
    state: Either.getOrElse(decodeUpstreamSessionState(stateColumns(row)), (failure) => {
      throw new Error(`a row the row schema refuses: ${failure.reason}`)
    })
  })

/** The state and callback columns of a session moving to `state` (an unlinked one keeps `previous` documents). */
export const upstreamOAuthAuthorizationSessionStateRow = (
  state: UpstreamSessionState,
  previous?: Pick<UpstreamSessionStateColumns, "extraCallbackParameters" | "userinfo">
): Pick<
  UpstreamOAuthAuthorizationSessionRow,
  | "completed_at"
  | "consumed_at"
  | "unlinked_at"
  | "upstream_oauth_link_id"
  | "id_token"
  | "id_token_claims"
  | "extra_callback_parameters"
  | "userinfo"
> => {
  const c = encodeUpstreamSessionState(state, previous)
  return {
    completed_at: c.completedAt,
    consumed_at: c.consumedAt,
    unlinked_at: c.unlinkedAt,
    upstream_oauth_link_id: c.upstreamOAuthLinkId,
    id_token: c.idToken,
    id_token_claims: c.idTokenClaims,
    extra_callback_parameters: c.extraCallbackParameters,
    userinfo: c.userinfo
  }
}

/** The row of a new, pending session (both backends insert it and build the entity they return from it). */
export const newUpstreamOAuthAuthorizationSessionRow = (
  providerId: Ulid,
  state: string,
  codeChallengeVerifier: Option.Option<string>,
  nonce: Option.Option<string>,
  id: Ulid,
  createdAt: Date
): UpstreamOAuthAuthorizationSessionRow => ({
  upstream_oauth_authorization_session_id: id,
  upstream_oauth_provider_id: providerId,
  user_session_id: null,
  state,
  code_challenge_verifier: Option.getOrNull(codeChallengeVerifier),
  nonce: Option.getOrNull(nonce),
  created_at: createdAt,
  ...upstreamOAuthAuthorizationSessionStateRow(new Pending())
})
