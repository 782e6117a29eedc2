// Upstream OAuth2 entities: provider, link and the authorization-session machine.
import { assert, describe, expect, it } from "@effect/vitest"
import { Option, Schema } from "effect"
import {
  associateUpstreamOAuthLinkToUser,
  ClaimsImports,
  completeUpstreamOAuthAuthorizationSession,
  consumeUpstreamOAuthAuthorizationSession,
  disableUpstreamOAuthProvider,
  emptyScope,
  ImportPreference,
  LocalpartPreference,
  Pending,
  SubjectPreference,
  unlinkUpstreamOAuthAuthorizationSession,
  UpstreamOAuthAuthorizationSession,
  UpstreamOAuthLink,
  UpstreamOAuthProvider,
  UpstreamOAuthProviderParams,
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  UpstreamSessionUnlinked
} from "../../src/model/index.js"
import { at, newId, refused, right, T0 } from "./fixtures.js"

describe("UpstreamOAuthProvider and UpstreamOAuthLink", () => {
  const fields = {
    issuer: Option.some("https://id.example.com"),
    humanName: Option.none(),
    brandName: Option.none(),
    discoveryMode: "oidc" as const,
    pkceMode: "auto" as const,
    jwksUriOverride: Option.none(),
    authorizationEndpointOverride: Option.none(),
    scope: emptyScope,
    tokenEndpointOverride: Option.none(),
    userinfoEndpointOverride: Option.none(),
    fetchUserinfo: false,
    userinfoSignedResponseAlg: Option.none(),
    clientId: "client",
    encryptedClientSecret: Option.none(),
    tokenEndpointSigningAlg: Option.none(),
    tokenEndpointAuthMethod: "sign_in_with_apple" as const,
    idTokenSignedResponseAlg: "RS256" as const,
    responseMode: Option.some("form_post" as const),
    claimsImports: new ClaimsImports({
      subject: new SubjectPreference({ template: Option.none() }),
      skipConfirmation: false,
      localpart: new LocalpartPreference({ action: "ignore", template: Option.none(), onConflict: "fail" }),
      displayname: new ImportPreference({ action: "ignore", template: Option.none() }),
      email: new ImportPreference({ action: "ignore", template: Option.none() }),
      accountName: new SubjectPreference({ template: Option.none() })
    }),
    additionalAuthorizationParameters: [["prompt", "login"] as const],
    forwardLoginHint: true,
    onBackchannelLogout: "logout_all" as const,
    registrationTokenRequired: false
  }

  it("builds a provider and its params, and disables it", () => {
    const provider = new UpstreamOAuthProvider({ id: newId(), ...fields, createdAt: T0, disabledAt: Option.none() })
    assert.isTrue(provider.isEnabled)
    const disabled = right(disableUpstreamOAuthProvider(provider, at(1)))
    assert.isFalse(disabled.isEnabled)
    assert.isTrue(Schema.is(UpstreamOAuthProviderParams)({ ...fields, uiOrder: 3 }))
    assert.isFalse(Schema.is(UpstreamOAuthProviderParams)({ ...fields, uiOrder: 1.5 }))
    assert.throws(
      () =>
        new UpstreamOAuthProvider({
          id: newId(),
          ...fields,
          discoveryMode: "auto" as never,
          createdAt: T0,
          disabledAt: Option.none()
        })
    )
  })

  it("associates a link to a user", () => {
    const link = new UpstreamOAuthLink({
      id: newId(),
      providerId: newId(),
      userId: Option.none(),
      subject: "sub",
      humanAccountName: Option.none(),
      createdAt: T0
    })
    const user = newId()
    expect(associateUpstreamOAuthLinkToUser(link, user).userId).toEqual(Option.some(user))
  })
})

describe("UpstreamOAuthAuthorizationSession", () => {
  const linkId = newId()
  const session = new UpstreamOAuthAuthorizationSession({
    id: newId(),
    state: new Pending(),
    providerId: newId(),
    stateStr: "state",
    codeChallengeVerifier: Option.some("verifier"),
    nonce: Option.some("nonce"),
    createdAt: T0
  })
  const data = {
    idToken: Option.some("id.token.jwt"),
    idTokenClaims: Option.some({ sub: "abc", sid: "s1" }),
    extraCallbackParameters: Option.some({ x: 1 }),
    userinfo: Option.none()
  }
  it("moves Pending → Completed → Consumed, and Completed/Consumed → Unlinked", () => {
    const completed = right(completeUpstreamOAuthAuthorizationSession(session, at(1), linkId, data))
    expect(completed.state).toEqual(new UpstreamSessionCompleted({ completedAt: at(1), linkId, ...data }))
    expect(completed.idTokenClaims).toEqual(Option.some({ sub: "abc", sid: "s1" }))
    const consumed = right(consumeUpstreamOAuthAuthorizationSession(completed, at(2)))
    expect(consumed.state).toEqual(
      new UpstreamSessionConsumed({ completedAt: at(1), consumedAt: at(2), linkId, ...data })
    )
    const unlinked = right(unlinkUpstreamOAuthAuthorizationSession(consumed, at(3)))
    expect(unlinked.state).toEqual(
      new UpstreamSessionUnlinked({
        completedAt: at(1),
        consumedAt: Option.some(at(2)),
        unlinkedAt: at(3),
        idToken: data.idToken,
        idTokenClaims: data.idTokenClaims
      })
    )
    expect(
      (right(unlinkUpstreamOAuthAuthorizationSession(completed, at(3))).state as UpstreamSessionUnlinked).consumedAt
    ).toEqual(Option.none())

    const S = "UpstreamOAuthAuthorizationSession"
    refused(consumeUpstreamOAuthAuthorizationSession(session, at(2)), S, "Pending", "consume")
    refused(unlinkUpstreamOAuthAuthorizationSession(session, at(2)), S, "Pending", "unlink")
    refused(
      completeUpstreamOAuthAuthorizationSession(completed, at(2), linkId, data),
      S,
      "Completed",
      "completeWithLink"
    )
    refused(consumeUpstreamOAuthAuthorizationSession(consumed, at(3)), S, "Consumed", "consume")
    refused(completeUpstreamOAuthAuthorizationSession(unlinked, at(4), linkId, data), S, "Unlinked", "completeWithLink")
    refused(consumeUpstreamOAuthAuthorizationSession(unlinked, at(4)), S, "Unlinked", "consume")
    refused(unlinkUpstreamOAuthAuthorizationSession(unlinked, at(4)), S, "Unlinked", "unlink")
  })
})
