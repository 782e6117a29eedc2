// User-group entities: predicates, idempotent user transitions, pending/completed flows.
import { assert, describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import {
  BrowserSession,
  completeUserEmailAuthentication,
  completeUserRegistration,
  consumeUserRecoverySession,
  deactivateUser,
  finishBrowserSession,
  lockUser,
  Password,
  reactivateUser,
  revokeUserRegistrationToken,
  setUserCanRequestAdmin,
  setUserRegistrationTokenExpiry,
  setUserRegistrationTokenUsageLimit,
  unlockUser,
  unrevokeUserRegistrationToken,
  updateUserRegistration,
  type Url,
  User,
  UserEmailAuthentication,
  UserRecoverySession,
  UserRecoveryTicket,
  UserRegistration,
  UserRegistrationToken,
  useUserRegistrationToken
} from "../../src/model/index.js"
import { at, newId, refused, right, T0 } from "./fixtures.js"

const makeUser = (patch: Partial<User> = {}) =>
  new User({
    id: newId(),
    username: "alice",
    createdAt: T0,
    lockedAt: Option.none(),
    deactivatedAt: Option.none(),
    canRequestAdmin: false,
    isGuest: false,
    ...patch
  })

describe("User", () => {
  it("derives sub and the validity predicates", () => {
    const user = makeUser()
    assert.strictEqual(user.sub, user.id)
    assert.isTrue(user.isValid && user.isValidActor)
    const locked = makeUser({ lockedAt: Option.some(T0) })
    assert.isFalse(locked.isValid)
    assert.isTrue(locked.isValidActor)
    const deactivated = makeUser({ deactivatedAt: Option.some(T0) })
    assert.isFalse(deactivated.isValid || deactivated.isValidActor)
  })

  it("validates its fields", () => {
    assert.throws(() => makeUser({ createdAt: new Date(NaN) }))
    assert.throws(() => makeUser({ id: "not-a-ulid" as never }))
  })

  it("locks and unlocks, idempotently", () => {
    const user = makeUser()
    const locked = right(lockUser(user, at(1)))
    expect(locked.lockedAt).toEqual(Option.some(at(1)))
    assert.strictEqual(locked.id, user.id)
    // Already in the target state: the same value, unchanged (no write).
    assert.strictEqual(right(lockUser(locked, at(2))), locked)
    const unlocked = right(unlockUser(locked))
    assert.isTrue(Option.isNone(unlocked.lockedAt))
    assert.strictEqual(right(unlockUser(user)), user)
  })

  it("deactivates and reactivates, idempotently", () => {
    const user = makeUser()
    const deactivated = right(deactivateUser(user, at(1)))
    expect(deactivated.deactivatedAt).toEqual(Option.some(at(1)))
    assert.strictEqual(right(deactivateUser(deactivated, at(2))), deactivated)
    assert.isTrue(Option.isNone(right(reactivateUser(deactivated)).deactivatedAt))
    assert.strictEqual(right(reactivateUser(user)), user)
  })

  it("sets canRequestAdmin", () => {
    assert.isTrue(setUserCanRequestAdmin(makeUser(), true).canRequestAdmin)
  })
})

describe("UserEmailAuthentication and UserRecoverySession", () => {
  it("completes a pending authentication once", () => {
    const pending = new UserEmailAuthentication({
      id: newId(),
      userSessionId: Option.some(newId()),
      userRegistrationId: Option.none(),
      email: "a@example.com",
      createdAt: T0,
      completedAt: Option.none()
    })
    const completed = right(completeUserEmailAuthentication(pending, at(1)))
    assert.isTrue(completed.isCompleted)
    expect(completed.completedAt).toEqual(Option.some(at(1)))
    refused(completeUserEmailAuthentication(completed, at(2)), "UserEmailAuthentication", "Completed", "complete")
  })

  it("consumes a recovery session once", () => {
    const session = new UserRecoverySession({
      id: newId(),
      email: "a@example.com",
      userAgent: "UA",
      ipAddress: Option.none(),
      locale: "en",
      createdAt: T0,
      consumedAt: Option.none()
    })
    const consumed = right(consumeUserRecoverySession(session, at(1)))
    assert.isTrue(consumed.isConsumed)
    refused(consumeUserRecoverySession(consumed, at(2)), "UserRecoverySession", "Consumed", "consume")
  })

  it("recovery tickets are valid before their expiry only", () => {
    const ticket = new UserRecoveryTicket({
      id: newId(),
      userRecoverySessionId: newId(),
      userEmailId: newId(),
      ticket: "t",
      createdAt: T0,
      expiresAt: at(60)
    })
    assert.isTrue(ticket.isValid(at(59)))
    assert.isFalse(ticket.isValid(at(60)))
  })
})

describe("UserRegistration", () => {
  const registration = new UserRegistration({
    id: newId(),
    username: "bob",
    displayName: Option.none(),
    termsUrl: Option.none(),
    emailAuthenticationId: Option.none(),
    userRegistrationTokenId: Option.none(),
    password: Option.none(),
    upstreamOAuthAuthorizationSessionId: Option.none(),
    postAuthAction: Option.some({ kind: "continue" }),
    ipAddress: Option.none(),
    userAgent: Option.none(),
    createdAt: T0,
    completedAt: Option.none()
  })

  it("setters overwrite while pending and are refused once completed", () => {
    const named = right(updateUserRegistration(registration, { displayName: Option.some("Bob") }))
    expect(named.displayName).toEqual(Option.some("Bob"))
    const renamed = right(
      updateUserRegistration(named, {
        displayName: Option.some("Robert"),
        termsUrl: Option.some("https://example.com/tos" as Url)
      })
    )
    expect(renamed.displayName).toEqual(Option.some("Robert"))
    const completed = right(completeUserRegistration(renamed, at(5)))
    expect(completed.completedAt).toEqual(Option.some(at(5)))
    assert.isTrue(completed.isCompleted)
    refused(completeUserRegistration(completed, at(6)), "UserRegistration", "Completed", "complete")
    refused(
      updateUserRegistration(completed, { displayName: Option.none() }, "setDisplayName"),
      "UserRegistration",
      "Completed",
      "setDisplayName"
    )
  })

  it("Password versions are 16-bit unsigned", () => {
    const make = (version: number) =>
      new Password({ id: newId(), hashedPassword: "h", version, upgradedFromId: Option.none(), createdAt: T0 })
    assert.strictEqual(make(65535).version, 65535)
    assert.throws(() => make(65536))
    assert.throws(() => make(-1))
    assert.throws(() => make(1.5))
  })
})

describe("UserRegistrationToken", () => {
  const token = new UserRegistrationToken({
    id: newId(),
    token: "invite",
    usageLimit: Option.some(2),
    timesUsed: 0,
    createdAt: T0,
    lastUsedAt: Option.none(),
    expiresAt: Option.some(at(100)),
    revokedAt: Option.none()
  })

  it("isValid: not revoked, not expired (now >= expiresAt), under the usage limit", () => {
    assert.isTrue(token.isValid(at(99)))
    assert.isFalse(token.isValid(at(100)))
    assert.isTrue(token.isExpired(at(100)))
    assert.isFalse(token.isExpired(at(99)))
    const used = right(useUserRegistrationToken(right(useUserRegistrationToken(token, at(1))), at(2)))
    assert.strictEqual(used.timesUsed, 2)
    expect(used.lastUsedAt).toEqual(Option.some(at(2)))
    assert.isTrue(used.hasBeenUsed)
    assert.isFalse(used.isValid(at(3)))
    assert.isTrue(setUserRegistrationTokenUsageLimit(used, Option.none()).isValid(at(3)))
    assert.isTrue(setUserRegistrationTokenExpiry(token, Option.none()).isValid(at(1000)))
  })

  it("revoke/unrevoke apply in any state; use refuses a revoked token", () => {
    const revoked = right(revokeUserRegistrationToken(token, at(1)))
    assert.isTrue(revoked.isRevoked)
    assert.isFalse(revoked.isValid(at(2)))
    expect(right(revokeUserRegistrationToken(revoked, at(3))).revokedAt).toEqual(Option.some(at(3)))
    refused(useUserRegistrationToken(revoked, at(4)), "UserRegistrationToken", "Revoked", "use")
    const unrevoked = right(unrevokeUserRegistrationToken(revoked))
    assert.isFalse(unrevoked.isRevoked)
    assert.isFalse(right(unrevokeUserRegistrationToken(unrevoked)).isRevoked)
  })
})

describe("BrowserSession and Authentication", () => {
  it("finish stamps and re-stamps (no state union, as in MAS)", () => {
    const session = new BrowserSession({
      id: newId(),
      user: makeUser(),
      createdAt: T0,
      finishedAt: Option.none(),
      userAgent: Option.some("UA"),
      lastActiveAt: Option.none(),
      lastActiveIp: Option.none()
    })
    assert.isTrue(session.isActive)
    const finished = right(finishBrowserSession(session, at(1)))
    assert.isFalse(finished.isActive)
    expect(right(finishBrowserSession(finished, at(2))).finishedAt).toEqual(Option.some(at(2)))
  })
})
