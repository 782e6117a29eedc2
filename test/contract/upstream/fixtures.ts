// Upstream providers the upstream contract suites start from: the parameters of a plain provider, and a provider added through UpstreamOAuthProviderRepository.
import { Effect, Option } from "effect"
import {
  ClaimsImports,
  ImportPreference,
  LocalpartPreference,
  SubjectPreference,
  type UpstreamOAuthProvider,
  type UpstreamOAuthProviderParams
} from "../../../src/model/upstream.js"
import type { Url } from "../../../src/model/values.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { scope } from "../oauth2/fixtures.js"

/** Claims imports with every member at its default: nothing imported, no template, a localpart conflict fails. */
export const defaultClaimsImports = (): ClaimsImports =>
  new ClaimsImports({
    subject: new SubjectPreference({ template: Option.none() }),
    skipConfirmation: false,
    localpart: new LocalpartPreference({ action: "ignore", template: Option.none(), onConflict: "fail" }),
    displayname: new ImportPreference({ action: "ignore", template: Option.none() }),
    email: new ImportPreference({ action: "ignore", template: Option.none() }),
    accountName: new SubjectPreference({ template: Option.none() })
  })

/**
 * The parameters of a plain OIDC provider (issuer `https://issuer.example.com/`, client `client`, scope `openid`, no
 * secret, no override, default claims imports, no extra parameter, `uiOrder` 0) with `overrides` applied.
 */
export const newProviderParams = (
  overrides: Partial<UpstreamOAuthProviderParams> = {}
): UpstreamOAuthProviderParams => ({
  issuer: Option.some("https://issuer.example.com/"),
  humanName: Option.none(),
  brandName: Option.none(),
  discoveryMode: "oidc",
  pkceMode: "auto",
  jwksUriOverride: Option.none(),
  authorizationEndpointOverride: Option.none(),
  scope: scope("openid"),
  tokenEndpointOverride: Option.none(),
  userinfoEndpointOverride: Option.none(),
  fetchUserinfo: false,
  userinfoSignedResponseAlg: Option.none(),
  clientId: "client",
  encryptedClientSecret: Option.none(),
  tokenEndpointSigningAlg: Option.none(),
  tokenEndpointAuthMethod: "none",
  idTokenSignedResponseAlg: "RS256",
  responseMode: Option.none(),
  claimsImports: defaultClaimsImports(),
  additionalAuthorizationParameters: [],
  forwardLoginHint: false,
  onBackchannelLogout: "do_nothing",
  registrationTokenRequired: false,
  uiOrder: 0,
  ...overrides
})

/** A URL literal (test data only). */
export const url = (text: string): Url => text as Url

/** A provider added through UpstreamOAuthProviderRepository (created now, enabled), from `newProviderParams(overrides)`. */
export const addProvider = (
  overrides: Partial<UpstreamOAuthProviderParams> = {}
): Effect.Effect<UpstreamOAuthProvider, unknown, RepositoryAccess> =>
  Effect.flatMap(RepositoryAccess, ({ upstreamOAuthProviders }) =>
    upstreamOAuthProviders.add(newProviderParams(overrides))
  )
