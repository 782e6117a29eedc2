// Stored personal-session state and owner columns.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { PersonalSessionOwnerOAuth2Client, PersonalSessionOwnerUser, Revoked, Valid } from "../../src/model/index.js"
import {
  decodePersonalSessionOwner,
  decodePersonalSessionState,
  encodePersonalSessionOwner,
  encodePersonalSessionState
} from "../../src/rows/personal/personalSession.js"
import { at, newId } from "../model/fixtures.js"
import { inconsistent } from "./fixtures.js"

describe("personal_sessions state and owner", () => {
  const userId = newId()

  it("every revoked_at decodes", () => {
    const revoked = new Revoked({ revokedAt: at(1) })
    expect(decodePersonalSessionState(encodePersonalSessionState(revoked))).toEqual(Either.right(revoked))
    expect(decodePersonalSessionState({ revokedAt: null })).toEqual(Either.right(new Valid()))
  })

  it("decodes exactly one owner", () => {
    const clientId = newId()
    expect(decodePersonalSessionOwner({ ownerUserId: userId, ownerOAuth2ClientId: null })).toEqual(
      Either.right(new PersonalSessionOwnerUser({ userId }))
    )
    const owner = new PersonalSessionOwnerOAuth2Client({ clientId })
    expect(decodePersonalSessionOwner(encodePersonalSessionOwner(owner))).toEqual(Either.right(owner))
    inconsistent(decodePersonalSessionOwner({ ownerUserId: null, ownerOAuth2ClientId: null }), "owner_user_id")
    inconsistent(decodePersonalSessionOwner({ ownerUserId: userId, ownerOAuth2ClientId: clientId }), "owner_user_id")
  })
})
