// Stored user-group columns with rules: the registration's password pair and the authentication method.
import { assert, describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import {
  Authentication,
  AuthenticationMethodPassword,
  AuthenticationMethodUnknown,
  AuthenticationMethodUpstreamOAuth2,
  UserRegistrationPassword
} from "../../src/model/index.js"
import { decodeAuthenticationMethod, encodeAuthenticationMethod } from "../../src/rows/user/browserSession.js"
import { decodeUserRegistrationPassword } from "../../src/rows/user/userRegistration.js"
import { newId, T0 } from "../model/fixtures.js"
import { inconsistent } from "./fixtures.js"

describe("user_registrations password columns", () => {
  it("decodes the password columns", () => {
    expect(decodeUserRegistrationPassword({ hashedPassword: null, hashedPasswordVersion: null })).toEqual(
      Either.right(Option.none())
    )
    expect(decodeUserRegistrationPassword({ hashedPassword: "$argon2", hashedPasswordVersion: 1 })).toEqual(
      Either.right(Option.some(new UserRegistrationPassword({ hashedPassword: "$argon2", version: 1 })))
    )
    inconsistent(
      decodeUserRegistrationPassword({ hashedPassword: "$argon2", hashedPasswordVersion: null }),
      "hashed_password_version"
    )
    inconsistent(decodeUserRegistrationPassword({ hashedPassword: null, hashedPasswordVersion: 1 }), "hashed_password")
    inconsistent(
      decodeUserRegistrationPassword({ hashedPassword: "x", hashedPasswordVersion: 70000 }),
      "hashed_password_version"
    )
  })
})

describe("user_session_authentications method columns", () => {
  it("decodes the authentication method from its two columns", () => {
    const p = newId()
    const u = newId()
    const password = Either.getOrThrow(
      decodeAuthenticationMethod({ userPasswordId: p, upstreamOAuthAuthorizationSessionId: null })
    )
    expect(password).toEqual(new AuthenticationMethodPassword({ userPasswordId: p }))
    const upstream = Either.getOrThrow(
      decodeAuthenticationMethod({ userPasswordId: null, upstreamOAuthAuthorizationSessionId: u })
    )
    expect(upstream).toEqual(new AuthenticationMethodUpstreamOAuth2({ upstreamOAuth2SessionId: u }))
    const unknown = Either.getOrThrow(
      decodeAuthenticationMethod({ userPasswordId: null, upstreamOAuthAuthorizationSessionId: null })
    )
    assert.strictEqual(unknown._tag, "Unknown")
    inconsistent(
      decodeAuthenticationMethod({ userPasswordId: p, upstreamOAuthAuthorizationSessionId: u }),
      "upstream_oauth_authorization_session_id"
    )
    for (const m of [password, upstream, new AuthenticationMethodUnknown()]) {
      expect(decodeAuthenticationMethod(encodeAuthenticationMethod(m))).toEqual(Either.right(m))
    }
    assert.strictEqual(
      new Authentication({ id: newId(), createdAt: T0, authenticationMethod: password }).authenticationMethod._tag,
      "Password"
    )
  })
})
