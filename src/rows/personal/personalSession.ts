// Stored state and owner of `personal_sessions`: the state from `revoked_at`, the owner from its two owner columns, and back.
import { Either } from "effect"
import {
  type PersonalSessionOwner,
  PersonalSessionOwnerOAuth2Client,
  PersonalSessionOwnerUser
} from "../../model/personal.js"
import type { Ulid } from "../../model/Ulid.js"
import {
  decodeRevocableState,
  describeTuple,
  encodeRevocableState,
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
