// Value types: IP canonical form, URLs, JSON, scope tokens and scopes, devices, JWKS and enumerations.
import { assert, describe, expect, it } from "@effect/vitest"
import { Either, Option, Schema } from "effect"
import {
  ActivityRecord,
  ApplicationType,
  ClientAuthMethod,
  Device,
  deviceFromScopeToken,
  DeviceNotEncodable,
  devicesInScope,
  deviceToScopeTokens,
  emptyScope,
  GrantType,
  IpAddress,
  IpAddressFromSelf,
  Json,
  Jwks,
  JwsAlg,
  makeScope,
  parseIpAddress,
  parseScope,
  Pkce,
  ResponseMode,
  Scope,
  scopeContainsAll,
  ScopeFromSelf,
  scopeFromStrings,
  scopeHasDevice,
  ScopeToken,
  scopeToString,
  sortActivity,
  ulidAt,
  Url
} from "../../src/model/index.js"

const decodes = <A, I>(schema: Schema.Schema<A, I>, input: unknown): boolean =>
  Either.isRight(Schema.decodeUnknownEither(schema)(input))

describe("IpAddress", () => {
  // Expected values were printed by PostgreSQL 15 (`host('…'::inet)`).
  const canonical: ReadonlyArray<readonly [string, string]> = [
    ["127.0.0.1", "127.0.0.1"],
    ["001.2.3.4", "1.2.3.4"],
    ["2001:DB8::0:1", "2001:db8::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::", "::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:0:1:0:0:1:1", "1::1:0:0:1:1"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["::FFFF:0102:0304", "::ffff:1.2.3.4"],
    ["::1.2.3.4", "::1.2.3.4"],
    ["::0.0.0.1", "::1"],
    ["::0.0.0.2", "::2"],
    ["::0.1.0.0", "::0.1.0.0"],
    ["0:0:0:0:0:0:1:1", "::0.1.0.1"],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
    ["::ffff:1:2", "::ffff:0.1.0.2"],
    ["fe80::1:0:0:0", "fe80::1:0:0:0"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"]
  ]

  it("decodes to PostgreSQL's canonical text", () => {
    for (const [input, expected] of canonical) {
      expect(Schema.decodeUnknownEither(IpAddress)(input), input).toEqual(Either.right(expected as IpAddress))
      expect(parseIpAddress(input)).toEqual(Option.some(expected as IpAddress))
      // The canonical form is a fixpoint and is the only form the type side accepts.
      assert.isTrue(Schema.is(IpAddressFromSelf)(expected))
    }
    assert.isFalse(Schema.is(IpAddressFromSelf)("2001:DB8::1"))
  })

  it("rejects invalid addresses", () => {
    const bad = [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "127.1",
      "1.2.3.4/32",
      "::1/128",
      "1:2:3:4:5:6:7:8:9",
      "1:::2",
      "1::2::3",
      ":1::",
      "::1:",
      "12345::",
      "fe80::1%eth0",
      "g::1",
      "１.2.3.4",
      "1.2.3.4\u0000",
      " 1.2.3.4",
      "::1.2.3",
      "1:2:3:4:5:6:7:1.2.3.4"
    ]
    for (const input of bad) {
      assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(IpAddress)(input)), JSON.stringify(input))
      assert.isTrue(Option.isNone(parseIpAddress(input)))
    }
  })
})

describe("Url", () => {
  it("accepts absolute URLs kept as written", () => {
    for (const u of [
      "https://example.com",
      "https://example.com/cb?x=1#f",
      "http://[::1]:8080/",
      "urn:ietf:wg:oauth:2.0:oob",
      "com.example.app:/callback",
      "https://exämple.com/ü"
    ]) {
      expect(Schema.decodeUnknownEither(Url)(u), u).toEqual(Either.right(u as Url))
    }
  })

  it("rejects relative URLs, whitespace and control characters", () => {
    for (const u of [
      "",
      "/path",
      "example.com",
      " https://example.com",
      "https://exa mple.com",
      "https://example.com/\u0000",
      "https://example.com\n",
      3
    ]) {
      assert.isFalse(decodes(Url, u), JSON.stringify(u))
    }
  })
})

describe("Json", () => {
  it("accepts JSON values only", () => {
    for (const j of [null, true, 1.5, "é\u0000", [], [1, "a", null], { a: { b: [1] } }, Object.create(null)]) {
      assert.isTrue(decodes(Json, j), JSON.stringify(j))
    }
    const bad = [undefined, NaN, Infinity, () => 1, new Date(0), 1n, { a: undefined }, [Symbol("x")], new Map()]
    bad.forEach((j, i) => assert.isFalse(decodes(Json, j), `bad JSON #${i}`))
  })

  it("Jwks wants a public key set", () => {
    assert.isTrue(decodes(Jwks, { keys: [] }))
    assert.isTrue(decodes(Jwks, { keys: [{ kty: "RSA", n: "x", e: "AQAB" }] }))
    assert.isFalse(decodes(Jwks, { keys: [{ kty: "RSA", n: "x", e: "AQAB", d: "secret" }] }))
    assert.isFalse(decodes(Jwks, { keys: [{ kty: "oct", k: "secret" }] }))
    assert.isFalse(decodes(Jwks, { keys: [{ n: "x" }] }))
    assert.isFalse(decodes(Jwks, { keys: {} }))
    assert.isFalse(decodes(Jwks, [{ kty: "RSA" }]))
  })
})

describe("ScopeToken and Scope", () => {
  it("validates RFC 6749 scope tokens", () => {
    for (const t of ["openid", "urn:matrix:client:api:*", "!#[]~", "a"]) assert.isTrue(decodes(ScopeToken, t), t)
    for (const t of ["", "a b", 'a"b', "a\\b", "é", "a\u0000", "tab\t", "\u007f", "ｏｐｅｎｉｄ"]) {
      assert.isFalse(decodes(ScopeToken, t), JSON.stringify(t))
    }
  })

  it("decodes a stored list into a sorted set and encodes it back", () => {
    const scope = Schema.decodeSync(Scope)(["openid", "email", "openid", "a:b"])
    expect([...scope]).toEqual(["a:b", "email", "openid"])
    expect(Schema.encodeSync(Scope)(scope)).toEqual(["a:b", "email", "openid"])
    assert.isTrue(Schema.is(ScopeFromSelf)(scope))
    assert.isFalse(Schema.is(ScopeFromSelf)(["openid", "email"]))
    assert.isFalse(Schema.is(ScopeFromSelf)(["email", "email"]))
  })

  it("makes a stored invalid token detectable", () => {
    const result = Schema.decodeUnknownEither(Scope)(["openid", "bad token"])
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.include(result.left.message, 'Invalid scope token "bad token"')
    expect(scopeFromStrings(["openid", "a\u0000"])).toEqual(Either.left("a\u0000"))
  })

  it("parses, prints and queries scopes", () => {
    const scope = Either.getOrThrow(parseScope("openid  email openid"))
    assert.strictEqual(scopeToString(scope), "email openid")
    assert.isTrue(scopeContainsAll(scope, ["openid"]))
    assert.isTrue(scopeContainsAll(scope, []))
    assert.isFalse(scopeContainsAll(scope, ["openid", "profile"]))
    expect([...Either.getOrThrow(parseScope(""))]).toEqual([])
    expect(emptyScope).toEqual(makeScope([]))
    assert.isTrue(Either.isLeft(parseScope("openid é")))
  })
})

describe("Device", () => {
  it("maps to the stable and unstable scope tokens and back", () => {
    const device = new Device({ id: "ABCDEF" })
    const tokens = Either.getOrThrow(deviceToScopeTokens(device))
    expect(tokens).toEqual(["urn:matrix:client:device:ABCDEF", "urn:matrix:org.matrix.msc2967.client:device:ABCDEF"])
    for (const t of tokens) expect(deviceFromScopeToken(t)).toEqual(Option.some(device))
    assert.isTrue(Option.isNone(deviceFromScopeToken("openid")))
    assert.isTrue(Option.isNone(deviceFromScopeToken("urn:matrix:client:api:*")))
  })

  it("cannot encode a device id whose tokens are invalid", () => {
    for (const id of ["with space", 'quote"', "back\\slash", "é", "nul\u0000"]) {
      const result = deviceToScopeTokens(new Device({ id }))
      assert.isTrue(Either.isLeft(result), JSON.stringify(id))
      if (Either.isLeft(result)) {
        assert.instanceOf(result.left, DeviceNotEncodable)
        assert.strictEqual(result.left.deviceId, id)
      }
    }
  })

  it("finds devices in a scope by either token", () => {
    const scope = Either.getOrThrow(
      scopeFromStrings([
        "openid",
        "urn:matrix:org.matrix.msc2967.client:device:D1",
        "urn:matrix:client:device:D2",
        "urn:matrix:client:device:D1"
      ])
    )
    assert.isTrue(scopeHasDevice(scope, new Device({ id: "D1" })))
    assert.isTrue(scopeHasDevice(scope, new Device({ id: "D2" })))
    assert.isFalse(scopeHasDevice(scope, new Device({ id: "D3" })))
    assert.isFalse(scopeHasDevice(scope, new Device({ id: "D 1" })))
    expect(
      devicesInScope(scope)
        .map((d) => d.id)
        .sort()
    ).toEqual(["D1", "D2"])
  })
})

describe("enumerations and records", () => {
  it("accept exactly the listed strings", () => {
    assert.isTrue(decodes(GrantType, "urn:ietf:params:oauth:grant-type:device_code"))
    assert.isFalse(decodes(GrantType, "implicit"))
    assert.isTrue(decodes(ApplicationType, "native"))
    assert.isFalse(decodes(ApplicationType, "Web"))
    assert.isTrue(decodes(ResponseMode, "form_post"))
    assert.isFalse(decodes(ResponseMode, "form-post"))
    assert.isTrue(decodes(ClientAuthMethod, "private_key_jwt"))
    assert.isFalse(decodes(ClientAuthMethod, "sign_in_with_apple"))
    assert.isTrue(decodes(JwsAlg, "ES256"))
    assert.isFalse(decodes(JwsAlg, "es256"))
  })

  it("Pkce wants a known challenge method", () => {
    assert.strictEqual(new Pkce({ challengeMethod: "S256", challenge: "abc" }).challengeMethod, "S256")
    assert.throws(() => new Pkce({ challengeMethod: "s256" as "S256", challenge: "abc" }))
  })

  it("ActivityRecord and the activity lock order", () => {
    const a = ulidAt(2, new Uint8Array(10))
    const b = ulidAt(1, new Uint8Array(10))
    const records: ReadonlyArray<ActivityRecord> = [
      [a, new Date(5), Option.none()],
      [b, new Date(6), Option.some("::1" as IpAddress)]
    ]
    assert.isTrue(records.every((r) => Schema.is(ActivityRecord)(r)))
    assert.isFalse(Schema.is(ActivityRecord)([a, new Date(NaN), Option.none()]))
    assert.isFalse(Schema.is(ActivityRecord)([a, new Date(1), Option.some("::0:1")]))
    expect(sortActivity(records).map((r) => r[0])).toEqual([b, a])
  })
})
