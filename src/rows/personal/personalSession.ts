// Stored rows of `personal_sessions`, shared by both backends: the row Schema, the state from `revoked_at`, the owner from its two owner columns, and the mapping to entities.
import { Either, Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import {
  PersonalAccessToken,
  PersonalSession,
  type PersonalSessionOwner,
  PersonalSessionOwnerOAuth2Client,
  PersonalSessionOwnerUser
} from "../../model/personal.js"
import type { User } from "../../model/user.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf, type Scope } from "../../model/values.js"
import { ScopeListColumn, scopeOfList, storedEntity } from "../common.js"
import {
  decodeRevocableState,
  describeTuple,
  encodeRevocableState,
  refusedState,
  stateDecodeFailure,
  type StateDecodeResult
} from "../state.js"

export const decodePersonalSessionState = decodeRevocableState
export const encodePersonalSessionState = encodeRevocableState

/** The owner columns: exactly one is set. */
export interface PersonalSessionOwnerColumns {
  readonly ownerUserId: Ulid | null
  readonly ownerOAuth2ClientId: Ulid | null
}

export const decodePersonalSessionOwner = (c: PersonalSessionOwnerColumns): StateDecodeResult<PersonalSessionOwner> => {
  if (c.ownerUserId !== null && c.ownerOAuth2ClientId === null) {
    return Either.right(new PersonalSessionOwnerUser({ userId: c.ownerUserId }))
  }
  if (c.ownerUserId === null && c.ownerOAuth2ClientId !== null) {
    return Either.right(new PersonalSessionOwnerOAuth2Client({ clientId: c.ownerOAuth2ClientId }))
  }
  return Either.left(stateDecodeFailure("owner_user_id", `exactly one owner must be set (${describeTuple(c)})`))
}

export const encodePersonalSessionOwner = (owner: PersonalSessionOwner): PersonalSessionOwnerColumns =>
  owner._tag === "User"
    ? { ownerUserId: owner.userId, ownerOAuth2ClientId: null }
    : { ownerUserId: null, ownerOAuth2ClientId: owner.clientId }

export const PERSONAL_SESSIONS = "personal_sessions"

const storedPersonalSession = storedEntity(PersonalSession)
const storedPersonalAccessToken = storedEntity(PersonalAccessToken)

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
const NullableTimestamp = Schema.NullOr(Timestamp)

const ownerColumns = (row: {
  readonly owner_user_id: Ulid | null
  readonly owner_oauth2_client_id: Ulid | null
}): PersonalSessionOwnerColumns => ({ ownerUserId: row.owner_user_id, ownerOAuth2ClientId: row.owner_oauth2_client_id })

const sessionFields = {
  personal_session_id: UlidFromUuid,
  owner_user_id: Schema.NullOr(UlidFromUuid),
  owner_oauth2_client_id: Schema.NullOr(UlidFromUuid),
  actor_user_id: UlidFromUuid,
  human_name: Schema.String,
  scope_list: ScopeListColumn,
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
  last_active_at: NullableTimestamp,
  last_active_ip: Schema.NullOr(IpAddressFromSelf)
}

/**
 * `personal_sessions`: every `revoked_at` is a state; a row with no owner or two (which the table's CHECK forbids) is
 * refused naming `owner_user_id`, a bad scope token is an inconsistency on `scope_list`, a stored network on
 * `last_active_ip`.
 */
export const PersonalSessionRow = Schema.Struct(sessionFields).pipe(
  Schema.filter((row) => refusedState(decodePersonalSessionOwner(ownerColumns(row))))
)
export type PersonalSessionRow = typeof PersonalSessionRow.Type

export const personalSessionFromRow = (row: PersonalSessionRow): PersonalSession =>
  storedPersonalSession({
    id: row.personal_session_id,
    // every revoked_at is a state: the decode cannot refuse
    state: Either.getOrThrow(decodePersonalSessionState({ revokedAt: row.revoked_at })),
    // the row schema has refused every owner tuple the decoder refuses
    owner: Either.getOrThrow(decodePersonalSessionOwner(ownerColumns(row))),
    actorUserId: row.actor_user_id,
    humanName: row.human_name,
    scope: scopeOfList(row.scope_list),
    createdAt: row.created_at,
    lastActiveAt: Option.fromNullable(row.last_active_at),
    lastActiveIp: Option.fromNullable(row.last_active_ip)
  })

export const personalSessionToRow = (session: PersonalSession): PersonalSessionRow => {
  const owner = encodePersonalSessionOwner(session.owner)
  return {
    personal_session_id: session.id,
    owner_user_id: owner.ownerUserId,
    owner_oauth2_client_id: owner.ownerOAuth2ClientId,
    actor_user_id: session.actorUserId,
    human_name: session.humanName,
    scope_list: session.scope,
    created_at: session.createdAt,
    revoked_at: encodePersonalSessionState(session.state).revokedAt,
    last_active_at: Option.getOrNull(session.lastActiveAt),
    last_active_ip: Option.getOrNull(session.lastActiveIp)
  }
}

/** The row of a new, valid session (both backends build the entity they return from it); the scope is copied. */
export const newPersonalSessionRow = (
  owner: PersonalSessionOwner,
  actorUser: User,
  humanName: string,
  scope: Scope,
  id: Ulid,
  createdAt: Date
): PersonalSessionRow => {
  const columns = encodePersonalSessionOwner(owner)
  return {
    personal_session_id: id,
    owner_user_id: columns.ownerUserId,
    owner_oauth2_client_id: columns.ownerOAuth2ClientId,
    actor_user_id: actorUser.id,
    human_name: humanName,
    scope_list: [...scope],
    created_at: createdAt,
    revoked_at: null,
    last_active_at: null,
    last_active_ip: null
  }
}

/** The columns `list` reads of a session's unrevoked token (all null when it has none). */
export interface UnrevokedTokenColumns {
  readonly token_id: Ulid | null
  readonly token_created_at: Date | null
  readonly token_expires_at: Date | null
}

/** A token id without a creation instant cannot come from the NOT NULL column: refused naming it. */
const refusedToken = (row: UnrevokedTokenColumns): StateDecodeResult<void> =>
  row.token_id !== null && row.token_created_at === null
    ? Either.left(stateDecodeFailure("token_created_at", `a token without a creation instant (${describeTuple(row)})`))
    : Either.void

/**
 * A row of `list`: the session's columns and those of its unrevoked token, joined (`LEFT JOIN … AND revoked_at IS
 * NULL`, which the partial unique index keeps to one token at most).
 */
export const PersonalSessionWithTokenRow = Schema.Struct({
  ...sessionFields,
  token_id: Schema.NullOr(UlidFromUuid),
  token_created_at: NullableTimestamp,
  token_expires_at: NullableTimestamp
}).pipe(
  Schema.filter((row) => refusedState(decodePersonalSessionOwner(ownerColumns(row)))),
  Schema.filter((row) => refusedState(refusedToken(row)))
)
export type PersonalSessionWithTokenRow = typeof PersonalSessionWithTokenRow.Type

/** The session of a `list` row and its unrevoked token, if it has one. */
export const personalSessionWithTokenFromRow = (
  row: PersonalSessionWithTokenRow
): readonly [PersonalSession, Option.Option<PersonalAccessToken>] => {
  const session = personalSessionFromRow(row)
  const token =
    row.token_id === null
      ? Option.none()
      : Option.some(
          storedPersonalAccessToken({
            id: row.token_id,
            sessionId: session.id,
            // the row schema has refused a token id without it
            createdAt: row.token_created_at!,
            expiresAt: Option.fromNullable(row.token_expires_at),
            revokedAt: Option.none()
          })
        )
  return [session, token] as const
}
