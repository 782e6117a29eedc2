// Upstream OAuth2 entities: claims-imports JSON, provider, link and the authorization-session machine.
import { assert, describe, it } from "@effect/vitest"
import { Either, Option, Schema } from "effect"
import {
  associateUpstreamOAuthLinkToUser,
  ClaimsImports,
  ClaimsImportsFromJson,
  completeUpstreamOAuthAuthorizationSession,
  consumeUpstreamOAuthAuthorizationSession,
  decodeUpstreamSessionState,
  disableUpstreamOAuthProvider,
  emptyScope,
  encodeUpstreamSessionState,
  Pending,
  unlinkUpstreamOAuthAuthorizationSession,
  UpstreamOAuthAuthorizationSession,
  UpstreamOAuthLink,
  UpstreamOAuthProvider,
  UpstreamOAuthProviderParams,
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  type UpstreamSessionState,
  UpstreamSessionUnlinked
} from "../../src/model/index.js"
import { at, inconsistent, newId, refused, right, T0 } from "./fixtures.js"

describe("ClaimsImports", () => {
  it("decodes stored snake_case JSON with defaults and encodes it back", () => {
    const defaults = Schema.decodeUnknownSync(ClaimsImportsFromJson)({})
    assert.strictEqual(defaults.localpart.action, "ignore")
    assert.strictEqual(defaults.localpart.onConflict, "fail")
    assert.isFalse(defaults.skipConfirmation)
    assert.isTrue(Option.isNone(defaults.subject.template))

    const stored = {
      subject: { template: "{{ user.sub }}" },
      skip_confirmation: true,
      localpart: { action: "require", template: "{{ user.preferred_username }}", on_conflict: "add" },
      displayname: { action: "suggest" },
      email: { action: "force", template: null },
      account_name: { template: "{{ user.email }}" }
    }
    const decoded = Schema.decodeUnknownSync(ClaimsImportsFromJson)(stored)
    assert.instanceOf(decoded, ClaimsImports)
    assert.deepStrictEqual(decoded.accountName.template, Option.some("{{ user.email }}"))
    assert.strictEqual(decoded.localpart.onConflict, "add")
    assert.isTrue(decoded.skipConfirmation)
    const encoded = Schema.encodeSync(ClaimsImportsFromJson)(decoded) as Record<string, unknown>
    assert.deepStrictEqual(encoded["account_name"], { template: "{{ user.email }}" })
    assert.deepStrictEqual(encoded["localpart"], { action: "require", template: "{{ user.preferred_username }}", on_conflict: "add" })
    assert.deepStrictEqual(Schema.decodeUnknownSync(ClaimsImportsFromJson)(encoded), decoded)
  })

  it("rejects unknown actions", () => {
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(ClaimsImportsFromJson)({ email: { action: "always" } })))
  })
})

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
    claimsImports: Schema.decodeUnknownSync(ClaimsImportsFromJson)({}),
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
    assert.throws(() => new UpstreamOAuthProvider({ id: newId(), ...fields, discoveryMode: "auto" as never, createdAt: T0, disabledAt: Option.none() }))
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
    assert.deepStrictEqual(associateUpstreamOAuthLinkToUser(link, user).userId, Option.some(user))
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

  it("moves Pending → Completed → Consumed, and Completed/Consumed → Unlinked", () => {
    const completed = right(completeUpstreamOAuthAuthorizationSession(session, at(1), linkId, data))
    assert.deepStrictEqual(completed.state, new UpstreamSessionCompleted({ completedAt: at(1), linkId, ...data }))
    assert.deepStrictEqual(completed.idTokenClaims, Option.some({ sub: "abc", sid: "s1" }))
    const consumed = right(consumeUpstreamOAuthAuthorizationSession(completed, at(2)))
    assert.deepStrictEqual(consumed.state, new UpstreamSessionConsumed({ completedAt: at(1), consumedAt: at(2), linkId, ...data }))
    const unlinked = right(unlinkUpstreamOAuthAuthorizationSession(consumed, at(3)))
    assert.deepStrictEqual(
      unlinked.state,
      new UpstreamSessionUnlinked({
        completedAt: at(1),
        consumedAt: Option.some(at(2)),
        unlinkedAt: at(3),
        idToken: data.idToken,
        idTokenClaims: data.idTokenClaims
      })
    )
    assert.deepStrictEqual(
      (right(unlinkUpstreamOAuthAuthorizationSession(completed, at(3))).state as UpstreamSessionUnlinked).consumedAt,
      Option.none()
    )

    const S = "UpstreamOAuthAuthorizationSession"
    refused(consumeUpstreamOAuthAuthorizationSession(session, at(2)), S, "Pending", "consume")
    refused(unlinkUpstreamOAuthAuthorizationSession(session, at(2)), S, "Pending", "unlink")
    refused(completeUpstreamOAuthAuthorizationSession(completed, at(2), linkId, data), S, "Completed", "completeWithLink")
    refused(consumeUpstreamOAuthAuthorizationSession(consumed, at(3)), S, "Consumed", "consume")
    refused(completeUpstreamOAuthAuthorizationSession(unlinked, at(4), linkId, data), S, "Unlinked", "completeWithLink")
    refused(consumeUpstreamOAuthAuthorizationSession(unlinked, at(4)), S, "Unlinked", "consume")
    refused(unlinkUpstreamOAuthAuthorizationSession(unlinked, at(4)), S, "Unlinked", "unlink")
  })

  it("decodes every state from its tuple and back", () => {
    const states: ReadonlyArray<UpstreamSessionState> = [
      new Pending(),
      new UpstreamSessionCompleted({ completedAt: at(1), linkId, ...data }),
      new UpstreamSessionConsumed({ completedAt: at(1), consumedAt: at(2), linkId, ...data }),
      new UpstreamSessionUnlinked({ completedAt: at(1), consumedAt: Option.none(), unlinkedAt: at(3), idToken: Option.none(), idTokenClaims: Option.none() }),
      new UpstreamSessionUnlinked({ completedAt: at(1), consumedAt: Option.some(at(2)), unlinkedAt: at(3), idToken: data.idToken, idTokenClaims: data.idTokenClaims })
    ]
    for (const s of states) assert.deepStrictEqual(decodeUpstreamSessionState(encodeUpstreamSessionState(s)), Either.right(s))
    // Unlinking keeps the stored callback data it does not carry.
    const kept = encodeUpstreamSessionState(states[3]!, { extraCallbackParameters: { x: 1 }, userinfo: null })
    assert.deepStrictEqual(kept.extraCallbackParameters, { x: 1 })
    assert.strictEqual(decodeUpstreamSessionState(kept).pipe(Either.map((s) => s._tag), Either.getOrNull), "Unlinked")
  })

  it("rejects impossible tuples", () => {
    const impossible = [
      { ...none, upstreamOAuthLinkId: linkId },
      { ...none, completedAt: at(1) },
      { ...none, idToken: "t" },
      { ...none, consumedAt: at(2), upstreamOAuthLinkId: linkId },
      { ...none, unlinkedAt: at(3) },
      { ...none, completedAt: at(1), unlinkedAt: at(3), upstreamOAuthLinkId: linkId },
      { ...none, completedAt: at(1), consumedAt: at(2) }
    ]
    for (const tuple of impossible) inconsistent(decodeUpstreamSessionState(tuple), "state")
    inconsistent(
      decodeUpstreamSessionState({ ...none, completedAt: at(1), upstreamOAuthLinkId: linkId, userinfo: { bad: undefined } }),
      "userinfo"
    )
  })
})
