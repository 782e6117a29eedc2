// Stored upstream OAuth2 columns: the claims-imports JSON of providers and the authorization-session state tuples.
import { assert, describe, expect, it } from "@effect/vitest"
import { Either, Option, Schema } from "effect"
import {
  ClaimsImports,
  Pending,
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  type UpstreamSessionState,
  UpstreamSessionUnlinked
} from "../../src/model/index.js"
import {
  decodeUpstreamSessionState,
  encodeUpstreamSessionState
} from "../../src/rows/upstream/upstreamOAuthAuthorizationSession.js"
import { ClaimsImportsFromJson } from "../../src/rows/upstream/upstreamOAuthProvider.js"
import { at, newId } from "../model/fixtures.js"
import { inconsistent } from "./fixtures.js"

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
    expect(decoded.accountName.template).toEqual(Option.some("{{ user.email }}"))
    assert.strictEqual(decoded.localpart.onConflict, "add")
    assert.isTrue(decoded.skipConfirmation)
    const encoded = Schema.encodeSync(ClaimsImportsFromJson)(decoded) as Record<string, unknown>
    expect(encoded["account_name"]).toEqual({ template: "{{ user.email }}" })
    expect(encoded["localpart"]).toEqual({
      action: "require",
      template: "{{ user.preferred_username }}",
      on_conflict: "add"
    })
    expect(Schema.decodeUnknownSync(ClaimsImportsFromJson)(encoded)).toEqual(decoded)
  })

  it("rejects unknown actions", () => {
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(ClaimsImportsFromJson)({ email: { action: "always" } })))
  })
})

describe("upstream_oauth_authorization_sessions state", () => {
  const linkId = newId()
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

  it("decodes every state from its tuple and back", () => {
    const states: ReadonlyArray<UpstreamSessionState> = [
      new Pending(),
      new UpstreamSessionCompleted({ completedAt: at(1), linkId, ...data }),
      new UpstreamSessionConsumed({ completedAt: at(1), consumedAt: at(2), linkId, ...data }),
      new UpstreamSessionUnlinked({
        completedAt: at(1),
        consumedAt: Option.none(),
        unlinkedAt: at(3),
        idToken: Option.none(),
        idTokenClaims: Option.none()
      }),
      new UpstreamSessionUnlinked({
        completedAt: at(1),
        consumedAt: Option.some(at(2)),
        unlinkedAt: at(3),
        idToken: data.idToken,
        idTokenClaims: data.idTokenClaims
      })
    ]
    for (const s of states) expect(decodeUpstreamSessionState(encodeUpstreamSessionState(s))).toEqual(Either.right(s))
    // Unlinking keeps the stored callback data it does not carry.
    const kept = encodeUpstreamSessionState(states[3]!, { extraCallbackParameters: { x: 1 }, userinfo: null })
    expect(kept.extraCallbackParameters).toEqual({ x: 1 })
    assert.strictEqual(
      decodeUpstreamSessionState(kept).pipe(
        Either.map((s) => s._tag),
        Either.getOrNull
      ),
      "Unlinked"
    )
  })

  it("reads an unlinked row that still names its link as unlinked (unlinked_at decides)", () => {
    const decoded = decodeUpstreamSessionState({
      ...none,
      completedAt: at(1),
      unlinkedAt: at(3),
      upstreamOAuthLinkId: linkId,
      idToken: "t"
    })
    expect(decoded).toEqual(
      Either.right(
        new UpstreamSessionUnlinked({
          completedAt: at(1),
          consumedAt: Option.none(),
          unlinkedAt: at(3),
          idToken: Option.some("t"),
          idTokenClaims: Option.none()
        })
      )
    )
  })

  it("rejects impossible tuples", () => {
    const impossible = [
      { ...none, upstreamOAuthLinkId: linkId },
      { ...none, completedAt: at(1) },
      { ...none, idToken: "t" },
      { ...none, consumedAt: at(2), upstreamOAuthLinkId: linkId },
      { ...none, unlinkedAt: at(3) },
      { ...none, completedAt: at(1), consumedAt: at(2) }
    ]
    for (const tuple of impossible) inconsistent(decodeUpstreamSessionState(tuple), "state")
    inconsistent(
      decodeUpstreamSessionState({
        ...none,
        completedAt: at(1),
        upstreamOAuthLinkId: linkId,
        userinfo: { bad: undefined }
      }),
      "userinfo"
    )
  })
})
