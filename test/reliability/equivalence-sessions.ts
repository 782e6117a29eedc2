// Backend equivalence for the session families of #13: compat sessions, SSO logins and tokens, upstream providers, links and authorization sessions, personal sessions and tokens, app sessions.
import { Duration, Effect, FastCheck as fc, Option } from "effect"
import type {
  CompatAccessToken,
  CompatRefreshToken,
  CompatSession,
  CompatSessionAuthType,
  CompatSsoLogin,
  CompatSsoLoginStateFilter
} from "../../src/model/compat.js"
import type { Client } from "../../src/model/oauth2/client.js"
import type { OAuth2Session } from "../../src/model/oauth2/session.js"
import {
  ownedByOAuth2Client,
  ownedByUser,
  type PersonalAccessToken,
  type PersonalSession
} from "../../src/model/personal.js"
import {
  associateUpstreamOAuthLinkToUser,
  type UpstreamOAuthAuthorizationSession,
  type UpstreamOAuthLink,
  type UpstreamOAuthProvider,
  type UpstreamOAuthProviderParams
} from "../../src/model/upstream.js"
import type { BrowserSession, User } from "../../src/model/user.js"
import { type Ulid, ulidAt } from "../../src/model/Ulid.js"
import { type ActivityRecord, Device, type IpAddress, type Json } from "../../src/model/values.js"
import type { AppSessionFilter } from "../../src/storage/appSession/AppSessionRepository.js"
import type { CompatSessionFilter } from "../../src/storage/compat/CompatSessionRepository.js"
import type { PersonalSessionFilter } from "../../src/storage/personal/PersonalSessionRepository.js"
import type { UpstreamOAuthLinkFilter } from "../../src/storage/upstream/UpstreamOAuthLinkRepository.js"
import type { UpstreamOAuthSessionFilter } from "../../src/storage/upstream/UpstreamOAuthSessionRepository.js"
import type { RepositoryAccessShape } from "../../src/storage/RepositoryAccess.js"
import { newProviderParams } from "../contract/upstream/fixtures.js"
import {
  cleanupLimit,
  everything,
  fromPool,
  offset,
  outcome,
  type Paging,
  paging,
  pick,
  randomUlid,
  type Ref,
  ref,
  replacing,
  scopeOf,
  SKIPPED,
  toPagination,
  url,
  withEntities,
  withEntity
} from "./equivalence-support.js"

// ---------------------------------------------------------------------------------------------
// Operations

/** Provider parameters drawn from small pools (an out-of-range `uiOrder` and a non-canonical URL among them). */
export interface ProviderSpec {
  readonly uiOrder: number
  readonly humanName: string | null
  readonly clientId: string
  readonly jwksUri: string | null
}

export type SessionsOp =
  | { readonly _tag: "ssoLoginAdd"; readonly token: string; readonly redirectUri: string }
  | { readonly _tag: "ssoLoginFulfill"; readonly login: Ref; readonly browserSession: Ref }
  | { readonly _tag: "ssoLoginExchange"; readonly login: Ref; readonly session: Ref }
  | { readonly _tag: "ssoLoginFindByToken"; readonly token: string }
  | { readonly _tag: "ssoLoginFindForSession"; readonly session: Ref }
  | { readonly _tag: "ssoLoginList"; readonly filter: SsoLoginFilterSpec; readonly paging: Paging }
  | { readonly _tag: "ssoLoginCount"; readonly filter: SsoLoginFilterSpec }
  | {
      readonly _tag: "compatSessionAdd"
      readonly user: Ref
      readonly device: string
      readonly browserSession: Ref | null
      readonly isSynapseAdmin: boolean
      readonly humanName: string | null
    }
  | { readonly _tag: "compatSessionFinish"; readonly session: Ref }
  | { readonly _tag: "compatSessionFinishBulk"; readonly filter: CompatSessionFilterSpec }
  | { readonly _tag: "compatSessionList"; readonly filter: CompatSessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "compatSessionCount"; readonly filter: CompatSessionFilterSpec }
  | { readonly _tag: "compatSessionSetHumanName"; readonly session: Ref; readonly name: string | null }
  | { readonly _tag: "compatSessionRecordUserAgent"; readonly session: Ref; readonly userAgent: string }
  | { readonly _tag: "compatSessionActivity"; readonly activity: ReadonlyArray<ActivitySpec> }
  | { readonly _tag: "compatSessionCleanupFinished"; readonly until: number; readonly limit: number }
  | { readonly _tag: "compatSessionCleanupInactiveIps"; readonly threshold: number; readonly limit: number }
  | {
      readonly _tag: "compatAccessTokenAdd"
      readonly session: Ref
      readonly token: string
      readonly expiresIn: number | null
    }
  | { readonly _tag: "compatAccessTokenExpire"; readonly token: Ref }
  | { readonly _tag: "compatAccessTokenFindByToken"; readonly token: string }
  | {
      readonly _tag: "compatRefreshTokenAdd"
      readonly session: Ref
      readonly accessToken: Ref
      readonly token: string
    }
  | {
      readonly _tag: "compatRefreshTokenConsumeAndReplace"
      readonly token: Ref
      /** Among the other tokens of the token's session, or among every token (itself or another session's too). */
      readonly successor: Ref
      readonly sameSession: boolean
    }
  | { readonly _tag: "compatRefreshTokenFindByToken"; readonly token: string }
  | { readonly _tag: "providerAdd"; readonly params: ProviderSpec }
  | { readonly _tag: "providerUpsert"; readonly which: number; readonly params: ProviderSpec }
  | { readonly _tag: "providerLookup"; readonly provider: Ref }
  | { readonly _tag: "providerDisable"; readonly provider: Ref }
  | { readonly _tag: "providerDelete"; readonly provider: Ref | string }
  | { readonly _tag: "providerList"; readonly filter: ProviderFilterSpec; readonly paging: Paging }
  | { readonly _tag: "providerCount"; readonly filter: ProviderFilterSpec }
  | { readonly _tag: "providerAllEnabled" }
  | {
      readonly _tag: "linkAdd"
      readonly provider: Ref
      readonly subject: string
      readonly humanAccountName: string | null
    }
  | { readonly _tag: "linkFindBySubject"; readonly provider: Ref; readonly subject: string }
  | { readonly _tag: "linkAssociate"; readonly link: Ref; readonly user: Ref }
  | { readonly _tag: "linkRemove"; readonly link: Ref }
  | { readonly _tag: "linkList"; readonly filter: LinkFilterSpec; readonly paging: Paging }
  | { readonly _tag: "linkCount"; readonly filter: LinkFilterSpec }
  | { readonly _tag: "linkCleanupOrphaned"; readonly bounds: UlidBoundsSpec; readonly limit: number }
  | { readonly _tag: "upstreamSessionAdd"; readonly provider: Ref; readonly state: string; readonly nonce: boolean }
  | {
      readonly _tag: "upstreamSessionComplete"
      readonly session: Ref
      readonly link: Ref
      /** The ID-token claims stored (none, or a document with `sub` / `sid` from the pools). */
      readonly claims: ClaimsSpec | null
    }
  | { readonly _tag: "upstreamSessionConsume"; readonly session: Ref; readonly browserSession: Ref }
  | { readonly _tag: "upstreamSessionLookup"; readonly session: Ref }
  | { readonly _tag: "upstreamSessionList"; readonly filter: UpstreamSessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "upstreamSessionCount"; readonly filter: UpstreamSessionFilterSpec }
  | { readonly _tag: "upstreamSessionCleanupOrphaned"; readonly bounds: UlidBoundsSpec; readonly limit: number }
  | { readonly _tag: "browserSessionAuthenticateWithUpstream"; readonly browserSession: Ref; readonly session: Ref }
  | {
      readonly _tag: "personalSessionAdd"
      /** Owned by a user or by an OAuth2 client. */
      readonly owner: { readonly user: Ref } | { readonly client: Ref }
      readonly actor: Ref
      readonly name: string
      /** An index into `personalScopes`. */
      readonly scope: number
    }
  | { readonly _tag: "personalSessionRevoke"; readonly session: Ref }
  | { readonly _tag: "personalSessionRevokeBulk"; readonly filter: PersonalSessionFilterSpec }
  | { readonly _tag: "personalSessionList"; readonly filter: PersonalSessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "personalSessionCount"; readonly filter: PersonalSessionFilterSpec }
  | { readonly _tag: "personalSessionActivity"; readonly activity: ReadonlyArray<ActivitySpec> }
  | {
      readonly _tag: "personalTokenAdd"
      readonly session: Ref
      readonly token: string
      readonly expiresIn: number | null
    }
  | { readonly _tag: "personalTokenRevoke"; readonly token: Ref }
  | { readonly _tag: "personalTokenFindByToken"; readonly token: string }
  | { readonly _tag: "personalTokenFindActiveForSession"; readonly session: Ref }
  | { readonly _tag: "appSessionList"; readonly filter: AppSessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "appSessionCount"; readonly filter: AppSessionFilterSpec }
  | { readonly _tag: "appSessionFinishToReplaceDevice"; readonly user: Ref; readonly device: string }

/** One entry of a batched-activity call: a session of the kind, an instant offset from now, an IP or none. */
export interface ActivitySpec {
  readonly session: Ref
  readonly at: number
  readonly ip: string | null
}

export interface SsoLoginFilterSpec {
  readonly user?: Ref
  readonly state?: CompatSsoLoginStateFilter
}

/** Time bounds are offsets in milliseconds from the current (test) time. */
export interface CompatSessionFilterSpec {
  readonly user?: Ref
  readonly browserSession?: Ref
  /** A nested browser-session filter on this state. */
  readonly browserSessionState?: "active" | "finished"
  readonly state?: "active" | "finished"
  readonly authType?: CompatSessionAuthType
  readonly device?: string
  readonly lastActiveBefore?: number
  readonly lastActiveAfter?: number
  readonly createdBefore?: number
  readonly createdAfter?: number
}

export interface ProviderFilterSpec {
  readonly enabled?: boolean
}

export interface LinkFilterSpec {
  readonly user?: Ref
  readonly provider?: Ref
  readonly providerEnabled?: boolean
  readonly subject?: string
  readonly humanAccountName?: string
}

export interface UpstreamSessionFilterSpec {
  readonly provider?: Ref
  readonly subClaim?: string
  readonly sidClaim?: string
}

/** `sub` / `sid` members of a claims document (absent when unset); a number among the `sub` values. */
export interface ClaimsSpec {
  readonly sub?: string | number
  readonly sid?: string
}

/**
 * The bounds of a ULID-keyed cleanup: `since` none or the id of an entity of the kind; `until` the id of an entity
 * of the kind, or the largest id of an instant offset from now.
 */
export interface UlidBoundsSpec {
  readonly since: Ref | null
  readonly until: { readonly entity: Ref } | { readonly at: number }
}

export interface PersonalSessionFilterSpec {
  readonly ownerUser?: Ref
  readonly ownerClient?: Ref
  readonly actorUser?: Ref
  readonly device?: string
  readonly state?: "active" | "revoked"
  /** An index into `personalFilterScopes`. */
  readonly scope?: number
  readonly lastActiveBefore?: number
  readonly lastActiveAfter?: number
  readonly expiresBefore?: number
  readonly expiresAfter?: number
  readonly expires?: boolean
}

export interface AppSessionFilterSpec {
  readonly user?: Ref
  readonly browserSession?: Ref
  readonly state?: "active" | "finished"
  readonly device?: string
  readonly lastActiveBefore?: number
  readonly lastActiveAfter?: number
  readonly createdBefore?: number
  readonly createdAfter?: number
}

const SESSIONS_OP_TAGS: ReadonlySet<string> = new Set<SessionsOp["_tag"]>([
  "ssoLoginAdd",
  "ssoLoginFulfill",
  "ssoLoginExchange",
  "ssoLoginFindByToken",
  "ssoLoginFindForSession",
  "ssoLoginList",
  "ssoLoginCount",
  "compatSessionAdd",
  "compatSessionFinish",
  "compatSessionFinishBulk",
  "compatSessionList",
  "compatSessionCount",
  "compatSessionSetHumanName",
  "compatSessionRecordUserAgent",
  "compatSessionActivity",
  "compatSessionCleanupFinished",
  "compatSessionCleanupInactiveIps",
  "compatAccessTokenAdd",
  "compatAccessTokenExpire",
  "compatAccessTokenFindByToken",
  "compatRefreshTokenAdd",
  "compatRefreshTokenConsumeAndReplace",
  "compatRefreshTokenFindByToken",
  "providerAdd",
  "providerUpsert",
  "providerLookup",
  "providerDisable",
  "providerDelete",
  "providerList",
  "providerCount",
  "providerAllEnabled",
  "linkAdd",
  "linkFindBySubject",
  "linkAssociate",
  "linkRemove",
  "linkList",
  "linkCount",
  "linkCleanupOrphaned",
  "upstreamSessionAdd",
  "upstreamSessionComplete",
  "upstreamSessionConsume",
  "upstreamSessionLookup",
  "upstreamSessionList",
  "upstreamSessionCount",
  "upstreamSessionCleanupOrphaned",
  "browserSessionAuthenticateWithUpstream",
  "personalSessionAdd",
  "personalSessionRevoke",
  "personalSessionRevokeBulk",
  "personalSessionList",
  "personalSessionCount",
  "personalSessionActivity",
  "personalTokenAdd",
  "personalTokenRevoke",
  "personalTokenFindByToken",
  "personalTokenFindActiveForSession",
  "appSessionList",
  "appSessionCount",
  "appSessionFinishToReplaceDevice"
])

export const isSessionsOp = (op: { readonly _tag: string }): op is SessionsOp => SESSIONS_OP_TAGS.has(op._tag)

// ---------------------------------------------------------------------------------------------
// Arbitraries: small pools, so that unique texts collide, device ids repeat and stale entities are common.

const ssoLoginTokens = ["sso-a", "sso-b", "SSO-A"]
// the same URL in two spellings (one normalised on the way in) and text that is no URL at all
const redirectUris = [
  "https://client.example.com/sso/callback",
  "HTTPS://Client.Example.com:443/sso/callback",
  "not a url"
]
// a case variant, and an id no scope token can hold (so the OAuth2 and personal device criteria match nothing)
const deviceIds = ["DEV1", "DEV2", "dev1", "a b"]
const humanNames = [null, "Phone", ""]
const userAgents = ["Mozilla/5.0", "", "agent\\%_"]
const ips = [null, "127.0.0.1", "::1"]
const compatAccessTokenTexts = ["cat-a", "cat-b", "CAT-A"]
const compatRefreshTokenTexts = ["crt-a", "crt-b", "CRT-A"]
const personalTokenTexts = ["pat-a", "pat-b", "PAT-A"]
const personalNames = ["token", "Token", ""]
const tokenExpiry = fc.oneof(fc.constant(null), fc.constantFrom(0, 500, 1000, 60_000))
/** The ids `providerUpsert` writes (fixed, as a configuration names them). */
const PROVIDER_IDS = [
  "01FSHN9AG0CCCCCCCCCCCCCCCC",
  "01FSHN9AG0DDDDDDDDDDDDDDDD"
] as ReadonlyArray<string> as ReadonlyArray<Ulid>
const personalScopes: ReadonlyArray<ReadonlyArray<string>> = [
  ["urn:matrix:client:api:*"],
  ["openid", "urn:matrix:client:device:DEV1"],
  ["urn:matrix:org.matrix.msc2967.client:device:DEV1"],
  []
]
const personalFilterScopes: ReadonlyArray<ReadonlyArray<string>> = [
  ["urn:matrix:client:api:*"],
  ["openid"],
  ["urn:matrix:client:device:DEV1"],
  []
]

// case variants so that the exact subject / state / claim matches and the case-insensitive name search differ
const linkSubjects = ["sub-a", "sub-b", "SUB-A"]
const accountNames = [null, "Alice", "alice", "a%_b"]
const accountNameSearches = ["ali", "ALI", "%", "_", "x"]
const upstreamStates = ["st-a", "st-b", "ST-A"]
const subClaims = ["sub-a", "SUB-A", "1"]
const sidClaims = ["sid-a", "sid-b"]

const ulidBounds: fc.Arbitrary<UlidBoundsSpec> = fc.record({
  since: fc.oneof(fc.constant(null), ref),
  until: fc.oneof(fc.record({ entity: ref }), fc.record({ at: offset }))
})

const linkFilter: fc.Arbitrary<LinkFilterSpec> = fc.record(
  {
    user: ref,
    provider: ref,
    providerEnabled: fc.boolean(),
    subject: fromPool(linkSubjects),
    humanAccountName: fromPool(accountNameSearches)
  },
  { requiredKeys: [] }
)

const upstreamSessionFilter: fc.Arbitrary<UpstreamSessionFilterSpec> = fc.record(
  { provider: ref, subClaim: fromPool(subClaims), sidClaim: fromPool(sidClaims) },
  { requiredKeys: [] }
)

const claimsSpec: fc.Arbitrary<ClaimsSpec | null> = fc.oneof(
  fc.constant(null),
  fc.record(
    { sub: fc.oneof(fromPool<string | number>(["sub-a", "SUB-A"]), fc.constant(1)), sid: fromPool(sidClaims) },
    { requiredKeys: [] }
  )
)

const providerSpec: fc.Arbitrary<ProviderSpec> = fc.record({
  uiOrder: fc.constantFrom(0, 1, -1, 2 ** 31),
  humanName: fromPool([null, "Google", "google"]),
  clientId: fromPool(["client", "Client"]),
  jwksUri: fromPool([null, "https://keys.example.com/jwks", "HTTPS://Keys.Example.com:443/jwks"])
})

const activity: fc.Arbitrary<ReadonlyArray<ActivitySpec>> = fc.array(
  fc.record({ session: ref, at: offset, ip: fromPool(ips) }),
  { minLength: 1, maxLength: 2 }
)

const ssoLoginFilter: fc.Arbitrary<SsoLoginFilterSpec> = fc.record(
  { user: ref, state: fc.constantFrom("pending" as const, "fulfilled" as const, "exchanged" as const) },
  { requiredKeys: [] }
)

const compatSessionFilter: fc.Arbitrary<CompatSessionFilterSpec> = fc.record(
  {
    user: ref,
    browserSession: ref,
    browserSessionState: fc.constantFrom("active" as const, "finished" as const),
    state: fc.constantFrom("active" as const, "finished" as const),
    authType: fc.constantFrom("sso_login" as const, "unknown" as const),
    device: fromPool(deviceIds),
    lastActiveBefore: offset,
    lastActiveAfter: offset,
    createdBefore: offset,
    createdAfter: offset
  },
  { requiredKeys: [] }
)

const providerFilter: fc.Arbitrary<ProviderFilterSpec> = fc.record({ enabled: fc.boolean() }, { requiredKeys: [] })

const personalSessionFilter: fc.Arbitrary<PersonalSessionFilterSpec> = fc.record(
  {
    ownerUser: ref,
    ownerClient: ref,
    actorUser: ref,
    device: fromPool(deviceIds),
    state: fc.constantFrom("active" as const, "revoked" as const),
    scope: fc.nat({ max: personalFilterScopes.length - 1 }),
    lastActiveBefore: offset,
    lastActiveAfter: offset,
    expiresBefore: offset,
    expiresAfter: offset,
    expires: fc.boolean()
  },
  { requiredKeys: [] }
)

const appSessionFilter: fc.Arbitrary<AppSessionFilterSpec> = fc.record(
  {
    user: ref,
    browserSession: ref,
    state: fc.constantFrom("active" as const, "finished" as const),
    device: fromPool(deviceIds),
    lastActiveBefore: offset,
    lastActiveAfter: offset,
    createdBefore: offset,
    createdAfter: offset
  },
  { requiredKeys: [] }
)

const ssoLoginAdd = fc.record({
  _tag: fc.constant("ssoLoginAdd" as const),
  token: fromPool(ssoLoginTokens),
  redirectUri: fromPool(redirectUris)
})
const ssoLoginFulfill = fc.record({ _tag: fc.constant("ssoLoginFulfill" as const), login: ref, browserSession: ref })
const ssoLoginExchange = fc.record({ _tag: fc.constant("ssoLoginExchange" as const), login: ref, session: ref })
const compatSessionAdd = fc.record({
  _tag: fc.constant("compatSessionAdd" as const),
  user: ref,
  device: fromPool(deviceIds),
  browserSession: fc.oneof(fc.constant(null), ref),
  isSynapseAdmin: fc.boolean(),
  humanName: fromPool(humanNames)
})
const compatAccessTokenAdd = fc.record({
  _tag: fc.constant("compatAccessTokenAdd" as const),
  session: ref,
  token: fromPool(compatAccessTokenTexts),
  expiresIn: tokenExpiry
})
const compatRefreshTokenAdd = fc.record({
  _tag: fc.constant("compatRefreshTokenAdd" as const),
  session: ref,
  accessToken: ref,
  token: fromPool(compatRefreshTokenTexts)
})
const providerAdd = fc.record({ _tag: fc.constant("providerAdd" as const), params: providerSpec })
const providerUpsert = fc.record({
  _tag: fc.constant("providerUpsert" as const),
  which: fc.nat({ max: PROVIDER_IDS.length - 1 }),
  params: providerSpec
})
const linkAdd = fc.record({
  _tag: fc.constant("linkAdd" as const),
  provider: ref,
  subject: fromPool(linkSubjects),
  humanAccountName: fromPool(accountNames)
})
const linkAssociate = fc.record({ _tag: fc.constant("linkAssociate" as const), link: ref, user: ref })
const upstreamSessionAdd = fc.record({
  _tag: fc.constant("upstreamSessionAdd" as const),
  provider: ref,
  state: fromPool(upstreamStates),
  nonce: fc.boolean()
})
const upstreamSessionComplete = fc.record({
  _tag: fc.constant("upstreamSessionComplete" as const),
  session: ref,
  link: ref,
  claims: claimsSpec
})
const upstreamSessionConsume = fc.record({
  _tag: fc.constant("upstreamSessionConsume" as const),
  session: ref,
  browserSession: ref
})
const authenticateWithUpstream = fc.record({
  _tag: fc.constant("browserSessionAuthenticateWithUpstream" as const),
  browserSession: ref,
  session: ref
})
const personalSessionAdd = fc.record({
  _tag: fc.constant("personalSessionAdd" as const),
  owner: fc.oneof(fc.record({ user: ref }), fc.record({ client: ref })),
  actor: ref,
  name: fromPool(personalNames),
  scope: fc.nat({ max: personalScopes.length - 1 })
})
const personalTokenAdd = fc.record({
  _tag: fc.constant("personalTokenAdd" as const),
  session: ref,
  token: fromPool(personalTokenTexts),
  expiresIn: tokenExpiry
})

export const sessionsOp: fc.Arbitrary<SessionsOp> = fc.oneof(
  { arbitrary: ssoLoginAdd, weight: 3 },
  { arbitrary: ssoLoginFulfill, weight: 3 },
  { arbitrary: ssoLoginExchange, weight: 3 },
  {
    arbitrary: fc.record({ _tag: fc.constant("ssoLoginFindByToken" as const), token: fromPool(ssoLoginTokens) }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("ssoLoginFindForSession" as const), session: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("ssoLoginList" as const), filter: ssoLoginFilter, paging }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("ssoLoginCount" as const), filter: ssoLoginFilter }), weight: 1 },
  { arbitrary: compatSessionAdd, weight: 4 },
  { arbitrary: fc.record({ _tag: fc.constant("compatSessionFinish" as const), session: ref }), weight: 2 },
  {
    arbitrary: fc.record({ _tag: fc.constant("compatSessionFinishBulk" as const), filter: compatSessionFilter }),
    weight: 1
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("compatSessionList" as const), filter: compatSessionFilter, paging }),
    weight: 2
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("compatSessionCount" as const), filter: compatSessionFilter }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatSessionSetHumanName" as const),
      session: ref,
      name: fromPool(humanNames)
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatSessionRecordUserAgent" as const),
      session: ref,
      userAgent: fromPool(userAgents)
    }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("compatSessionActivity" as const), activity }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatSessionCleanupFinished" as const),
      until: offset,
      limit: cleanupLimit
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatSessionCleanupInactiveIps" as const),
      threshold: offset,
      limit: cleanupLimit
    }),
    weight: 1
  },
  { arbitrary: compatAccessTokenAdd, weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("compatAccessTokenExpire" as const), token: ref }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatAccessTokenFindByToken" as const),
      token: fromPool(compatAccessTokenTexts)
    }),
    weight: 1
  },
  { arbitrary: compatRefreshTokenAdd, weight: 3 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatRefreshTokenConsumeAndReplace" as const),
      token: ref,
      successor: ref,
      sameSession: fc.boolean()
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("compatRefreshTokenFindByToken" as const),
      token: fromPool(compatRefreshTokenTexts)
    }),
    weight: 1
  },
  { arbitrary: providerAdd, weight: 2 },
  { arbitrary: providerUpsert, weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("providerLookup" as const), provider: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("providerDisable" as const), provider: ref }), weight: 2 },
  {
    arbitrary: fc.record({ _tag: fc.constant("providerDelete" as const), provider: fc.oneof(ref, randomUlid) }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("providerList" as const), filter: providerFilter, paging }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("providerCount" as const), filter: providerFilter }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("providerAllEnabled" as const) }), weight: 1 },
  { arbitrary: linkAdd, weight: 3 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("linkFindBySubject" as const),
      provider: ref,
      subject: fromPool(linkSubjects)
    }),
    weight: 2
  },
  { arbitrary: linkAssociate, weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("linkRemove" as const), link: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("linkList" as const), filter: linkFilter, paging }), weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("linkCount" as const), filter: linkFilter }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("linkCleanupOrphaned" as const),
      bounds: ulidBounds,
      limit: cleanupLimit
    }),
    weight: 2
  },
  { arbitrary: upstreamSessionAdd, weight: 3 },
  { arbitrary: upstreamSessionComplete, weight: 3 },
  { arbitrary: upstreamSessionConsume, weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("upstreamSessionLookup" as const), session: ref }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("upstreamSessionList" as const),
      filter: upstreamSessionFilter,
      paging
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("upstreamSessionCount" as const), filter: upstreamSessionFilter }),
    weight: 2
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("upstreamSessionCleanupOrphaned" as const),
      bounds: ulidBounds,
      limit: cleanupLimit
    }),
    weight: 2
  },
  { arbitrary: authenticateWithUpstream, weight: 2 },
  { arbitrary: personalSessionAdd, weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("personalSessionRevoke" as const), session: ref }), weight: 2 },
  {
    arbitrary: fc.record({ _tag: fc.constant("personalSessionRevokeBulk" as const), filter: personalSessionFilter }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("personalSessionList" as const),
      filter: personalSessionFilter,
      paging
    }),
    weight: 2
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("personalSessionCount" as const), filter: personalSessionFilter }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("personalSessionActivity" as const), activity }), weight: 1 },
  { arbitrary: personalTokenAdd, weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("personalTokenRevoke" as const), token: ref }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("personalTokenFindByToken" as const),
      token: fromPool(personalTokenTexts)
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("personalTokenFindActiveForSession" as const), session: ref }),
    weight: 1
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("appSessionList" as const), filter: appSessionFilter, paging }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("appSessionCount" as const), filter: appSessionFilter }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("appSessionFinishToReplaceDevice" as const),
      user: ref,
      device: fromPool(deviceIds)
    }),
    weight: 2
  }
)

/** A few entities of each kind, so that the transitions, rotations and filters have something to act on. */
export const sessionsSetup: fc.Arbitrary<ReadonlyArray<SessionsOp>> = fc
  .tuple(
    fc.array(compatSessionAdd, { minLength: 1, maxLength: 3 }),
    // a login with a valid redirect URI, then perhaps one fulfilled and one exchanged, so the single-use steps come up
    fc.array(
      ssoLoginAdd.map((o) => ({ ...o, redirectUri: redirectUris[0]! })),
      { minLength: 1, maxLength: 2 }
    ),
    fc.array(ssoLoginFulfill, { maxLength: 1 }),
    fc.array(ssoLoginExchange, { maxLength: 1 }),
    fc.array(compatAccessTokenAdd, { minLength: 1, maxLength: 2 }),
    fc.array(compatRefreshTokenAdd, { minLength: 1, maxLength: 3 }),
    // a provider at least, so that links and authorization sessions have one; a link and a session perhaps completed
    fc.array(fc.oneof(providerAdd, providerUpsert), { minLength: 1, maxLength: 2 }),
    fc.array(linkAdd, { minLength: 1, maxLength: 2 }),
    fc.array(linkAssociate, { maxLength: 1 }),
    fc.array(upstreamSessionAdd, { minLength: 1, maxLength: 2 }),
    fc.array(upstreamSessionComplete, { maxLength: 1 }),
    fc.array(personalSessionAdd, { minLength: 1, maxLength: 2 }),
    fc.array(personalTokenAdd, { maxLength: 2 })
  )
  .map((groups): ReadonlyArray<SessionsOp> => groups.flat())

// ---------------------------------------------------------------------------------------------
// Running the operations

/** What the session families read of the other families' entities. */
export interface SharedEntities {
  readonly users: ReadonlyArray<User>
  readonly sessions: ReadonlyArray<BrowserSession>
  readonly clients: ReadonlyArray<Client>
  readonly oauth2Sessions: ReadonlyArray<OAuth2Session>
}

export interface SessionsEntities {
  compatSessions: Array<CompatSession>
  ssoLogins: Array<CompatSsoLogin>
  compatAccessTokens: Array<CompatAccessToken>
  compatRefreshTokens: Array<CompatRefreshToken>
  providers: Array<UpstreamOAuthProvider>
  links: Array<UpstreamOAuthLink>
  upstreamSessions: Array<UpstreamOAuthAuthorizationSession>
  personalSessions: Array<PersonalSession>
  personalTokens: Array<PersonalAccessToken>
}

export const noSessionsEntities = (): SessionsEntities => ({
  compatSessions: [],
  ssoLogins: [],
  compatAccessTokens: [],
  compatRefreshTokens: [],
  providers: [],
  links: [],
  upstreamSessions: [],
  personalSessions: [],
  personalTokens: []
})

const providerParams = (spec: ProviderSpec): UpstreamOAuthProviderParams =>
  newProviderParams({
    uiOrder: spec.uiOrder,
    humanName: Option.fromNullable(spec.humanName),
    clientId: spec.clientId,
    jwksUriOverride: Option.map(Option.fromNullable(spec.jwksUri), url)
  })

const expiry = (ms: number | null) => (ms === null ? Option.none() : Option.some(Duration.millis(ms)))

/** Records a provider `upsert` returned: in place of the one with its id, else as a new one. */
const upserted = (providers: Array<UpstreamOAuthProvider>) => (p: UpstreamOAuthProvider) => {
  const i = providers.findIndex((known) => known.id === p.id)
  if (i >= 0) providers[i] = p
  else providers.push(p)
}

export const runSessionsOp = (
  repos: RepositoryAccessShape,
  state: SharedEntities & SessionsEntities,
  op: SessionsOp,
  at: (offsetMs: number) => Date
): Effect.Effect<unknown> => {
  const idAt = <T extends { readonly id: Ulid }>(list: ReadonlyArray<T>, r: Ref | undefined) =>
    r === undefined ? undefined : Option.getOrUndefined(Option.map(pick(list, r), ([e]) => e.id))
  const criteria = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as { readonly [P in K]?: V }
  const time = (key: string, offsetMs: number | undefined) =>
    criteria(key, offsetMs === undefined ? undefined : at(offsetMs))
  const device = (id: string | undefined) => (id === undefined ? undefined : new Device({ id }))
  const compatFilter = (f: CompatSessionFilterSpec): CompatSessionFilter => ({
    ...criteria("user", idAt(state.users, f.user)),
    ...criteria("browserSession", idAt(state.sessions, f.browserSession)),
    ...criteria(
      "browserSessionFilter",
      f.browserSessionState === undefined ? undefined : { state: f.browserSessionState }
    ),
    ...criteria("state", f.state),
    ...criteria("authType", f.authType),
    ...criteria("device", device(f.device)),
    ...time("lastActiveBefore", f.lastActiveBefore),
    ...time("lastActiveAfter", f.lastActiveAfter),
    ...time("createdBefore", f.createdBefore),
    ...time("createdAfter", f.createdAfter)
  })
  const personalFilter = (f: PersonalSessionFilterSpec): PersonalSessionFilter => ({
    ...criteria("ownerUser", idAt(state.users, f.ownerUser)),
    ...criteria("ownerOAuth2Client", idAt(state.clients, f.ownerClient)),
    ...criteria("actorUser", idAt(state.users, f.actorUser)),
    ...criteria("device", device(f.device)),
    ...criteria("state", f.state),
    ...criteria("scope", f.scope === undefined ? undefined : scopeOf(personalFilterScopes[f.scope]!)),
    ...time("lastActiveBefore", f.lastActiveBefore),
    ...time("lastActiveAfter", f.lastActiveAfter),
    ...time("expiresBefore", f.expiresBefore),
    ...time("expiresAfter", f.expiresAfter),
    ...criteria("expires", f.expires)
  })
  const appFilter = (f: AppSessionFilterSpec): AppSessionFilter => ({
    ...criteria("user", idAt(state.users, f.user)),
    ...criteria("browserSession", idAt(state.sessions, f.browserSession)),
    ...criteria("state", f.state),
    ...criteria("device", device(f.device)),
    ...time("lastActiveBefore", f.lastActiveBefore),
    ...time("lastActiveAfter", f.lastActiveAfter),
    ...time("createdBefore", f.createdBefore),
    ...time("createdAfter", f.createdAfter)
  })
  // entries whose kind has no session yet are left out; an empty batch is still a call
  const activityOf = (list: ReadonlyArray<{ readonly id: Ulid }>, specs: ReadonlyArray<ActivitySpec>) =>
    specs.flatMap((s): Array<ActivityRecord> =>
      Option.match(pick(list, s.session), {
        onNone: () => [],
        onSome: ([e]) => [[e.id, at(s.at), Option.fromNullable(s.ip as IpAddress | null)]]
      })
    )
  const ids = (list: ReadonlyArray<{ readonly id: Ulid }>) => list.map((e) => e.id)
  const linkFilter = (f: LinkFilterSpec): UpstreamOAuthLinkFilter => ({
    ...criteria("user", idAt(state.users, f.user)),
    ...criteria("provider", idAt(state.providers, f.provider)),
    ...criteria("providerEnabled", f.providerEnabled),
    ...criteria("subject", f.subject),
    ...criteria("humanAccountName", f.humanAccountName)
  })
  const upstreamSessionFilter = (f: UpstreamSessionFilterSpec): UpstreamOAuthSessionFilter => ({
    ...criteria("provider", idAt(state.providers, f.provider)),
    ...criteria("subClaim", f.subClaim),
    ...criteria("sidClaim", f.sidClaim)
  })
  // the largest id of an instant keeps every row created then inside the bound
  const bounds = (list: ReadonlyArray<{ readonly id: Ulid }>, b: UlidBoundsSpec) => ({
    since: b.since === null ? Option.none<Ulid>() : Option.fromNullable(idAt(list, b.since)),
    until:
      "at" in b.until
        ? Option.some(ulidAt(Math.max(0, at(b.until.at).getTime()), new Uint8Array(10).fill(255)))
        : Option.fromNullable(idAt(list, b.until.entity))
  })
  const cleanup = (
    list: ReadonlyArray<{ readonly id: Ulid }>,
    b: UlidBoundsSpec,
    run: (since: Option.Option<Ulid>, until: Ulid) => Effect.Effect<unknown, unknown>
  ) => {
    const { since, until } = bounds(list, b)
    return Option.match(until, { onNone: () => Effect.succeed(SKIPPED), onSome: (u) => outcome(run(since, u)) })
  }
  const claims = (c: ClaimsSpec | null): Option.Option<Json> =>
    c === null ? Option.none() : Option.some({ ...c, iss: "https://upstream.example.com" } as Json)
  switch (op._tag) {
    case "ssoLoginAdd":
      return outcome(
        Effect.tap(repos.compatSsoLogins.add(op.token, url(op.redirectUri)), (l) => state.ssoLogins.push(l))
      )
    case "ssoLoginFulfill":
      return withEntities([state.ssoLogins, op.login], [state.sessions, op.browserSession], (l, bs, i) =>
        Effect.map(repos.compatSsoLogins.fulfill(l, bs), replacing(state.ssoLogins, i))
      )
    case "ssoLoginExchange":
      return withEntities([state.ssoLogins, op.login], [state.compatSessions, op.session], (l, s, i) =>
        Effect.map(repos.compatSsoLogins.exchange(l, s), replacing(state.ssoLogins, i))
      )
    case "ssoLoginFindByToken":
      return outcome(repos.compatSsoLogins.findByToken(op.token))
    case "ssoLoginFindForSession":
      return withEntity(state.compatSessions, op.session, (s) => repos.compatSsoLogins.findForSession(s))
    case "ssoLoginList":
    case "ssoLoginCount": {
      const filter = { ...criteria("user", idAt(state.users, op.filter.user)), ...criteria("state", op.filter.state) }
      return outcome(
        op._tag === "ssoLoginList"
          ? repos.compatSsoLogins.list(filter, toPagination(op.paging, ids(state.ssoLogins)))
          : repos.compatSsoLogins.count(filter)
      )
    }
    case "compatSessionAdd":
      return withEntity(state.users, op.user, (user) =>
        Effect.tap(
          repos.compatSessions.add(
            user,
            new Device({ id: op.device }),
            op.browserSession === null
              ? Option.none()
              : Option.map(pick(state.sessions, op.browserSession), ([bs]) => bs),
            op.isSynapseAdmin,
            Option.fromNullable(op.humanName)
          ),
          (s) => state.compatSessions.push(s)
        )
      )
    case "compatSessionFinish":
      return withEntity(state.compatSessions, op.session, (s, i) =>
        Effect.map(repos.compatSessions.finish(s), replacing(state.compatSessions, i))
      )
    case "compatSessionFinishBulk":
      return outcome(repos.compatSessions.finishBulk(compatFilter(op.filter)))
    case "compatSessionList":
      return outcome(
        repos.compatSessions.list(compatFilter(op.filter), toPagination(op.paging, ids(state.compatSessions)))
      )
    case "compatSessionCount":
      return outcome(repos.compatSessions.count(compatFilter(op.filter)))
    case "compatSessionSetHumanName":
      return withEntity(state.compatSessions, op.session, (s, i) =>
        Effect.map(
          repos.compatSessions.setHumanName(s, Option.fromNullable(op.name)),
          replacing(state.compatSessions, i)
        )
      )
    case "compatSessionRecordUserAgent":
      return withEntity(state.compatSessions, op.session, (s, i) =>
        Effect.map(repos.compatSessions.recordUserAgent(s, op.userAgent), replacing(state.compatSessions, i))
      )
    case "compatSessionActivity":
      return outcome(repos.compatSessions.recordBatchActivity(activityOf(state.compatSessions, op.activity)))
    case "compatSessionCleanupFinished":
      return outcome(repos.compatSessions.cleanupFinished(Option.none(), at(op.until), op.limit))
    case "compatSessionCleanupInactiveIps":
      return outcome(repos.compatSessions.cleanupInactiveIps(Option.none(), at(op.threshold), op.limit))
    case "compatAccessTokenAdd":
      return withEntity(state.compatSessions, op.session, (s) =>
        Effect.tap(repos.compatAccessTokens.add(s, op.token, expiry(op.expiresIn)), (t) =>
          state.compatAccessTokens.push(t)
        )
      )
    case "compatAccessTokenExpire":
      return withEntity(state.compatAccessTokens, op.token, (t, i) =>
        Effect.map(repos.compatAccessTokens.expire(t), replacing(state.compatAccessTokens, i))
      )
    case "compatAccessTokenFindByToken":
      return outcome(repos.compatAccessTokens.findByToken(op.token))
    case "compatRefreshTokenAdd":
      return withEntities([state.compatSessions, op.session], [state.compatAccessTokens, op.accessToken], (s, t) =>
        Effect.tap(repos.compatRefreshTokens.add(s, t, op.token), (r) => state.compatRefreshTokens.push(r))
      )
    case "compatRefreshTokenConsumeAndReplace":
      return Option.match(pick(state.compatRefreshTokens, op.token), {
        onNone: () => Effect.succeed(SKIPPED),
        onSome: ([t, i]) =>
          withEntity(
            op.sameSession
              ? state.compatRefreshTokens.filter((other) => other.sessionId === t.sessionId && other.id !== t.id)
              : state.compatRefreshTokens,
            op.successor,
            (next) =>
              Effect.map(repos.compatRefreshTokens.consumeAndReplace(t, next), replacing(state.compatRefreshTokens, i))
          )
      })
    case "compatRefreshTokenFindByToken":
      return outcome(repos.compatRefreshTokens.findByToken(op.token))
    case "providerAdd":
      return outcome(
        Effect.tap(repos.upstreamOAuthProviders.add(providerParams(op.params)), (p) => state.providers.push(p))
      )
    case "providerUpsert":
      return outcome(
        Effect.tap(
          repos.upstreamOAuthProviders.upsert(PROVIDER_IDS[op.which]!, providerParams(op.params)),
          upserted(state.providers)
        )
      )
    case "providerLookup":
      return withEntity(state.providers, op.provider, (p) => repos.upstreamOAuthProviders.lookup(p.id))
    case "providerDisable":
      return withEntity(state.providers, op.provider, (p, i) =>
        Effect.map(repos.upstreamOAuthProviders.disable(p), replacing(state.providers, i))
      )
    case "providerDelete":
      return typeof op.provider === "string"
        ? outcome(repos.upstreamOAuthProviders.deleteById(op.provider as Ulid))
        : withEntity(state.providers, op.provider, (p) => repos.upstreamOAuthProviders.delete(p))
    case "providerList":
      return outcome(repos.upstreamOAuthProviders.list(op.filter, toPagination(op.paging, ids(state.providers))))
    case "providerCount":
      return outcome(repos.upstreamOAuthProviders.count(op.filter))
    case "providerAllEnabled":
      return outcome(repos.upstreamOAuthProviders.allEnabled())
    case "linkAdd":
      return withEntity(state.providers, op.provider, (p) =>
        Effect.tap(repos.upstreamOAuthLinks.add(p, op.subject, Option.fromNullable(op.humanAccountName)), (l) =>
          state.links.push(l)
        )
      )
    case "linkFindBySubject":
      return withEntity(state.providers, op.provider, (p) => repos.upstreamOAuthLinks.findBySubject(p, op.subject))
    case "linkAssociate":
      return withEntities([state.links, op.link], [state.users, op.user], (l, u, i) =>
        Effect.tap(repos.upstreamOAuthLinks.associateToUser(l, u), () => {
          state.links[i] = associateUpstreamOAuthLinkToUser(l, u.id)
        })
      )
    case "linkRemove":
      return withEntity(state.links, op.link, (l) => repos.upstreamOAuthLinks.remove(l))
    case "linkList":
      return outcome(repos.upstreamOAuthLinks.list(linkFilter(op.filter), toPagination(op.paging, ids(state.links))))
    case "linkCount":
      return outcome(repos.upstreamOAuthLinks.count(linkFilter(op.filter)))
    case "linkCleanupOrphaned":
      return cleanup(state.links, op.bounds, (since, until) =>
        repos.upstreamOAuthLinks.cleanupOrphaned(since, until, op.limit)
      )
    case "upstreamSessionAdd":
      return withEntity(state.providers, op.provider, (p) =>
        Effect.tap(
          repos.upstreamOAuthSessions.add(
            p,
            op.state,
            Option.some("verifier"),
            op.nonce ? Option.some("nonce") : Option.none()
          ),
          (s) => state.upstreamSessions.push(s)
        )
      )
    case "upstreamSessionComplete":
      return withEntities([state.upstreamSessions, op.session], [state.links, op.link], (s, l, i) =>
        Effect.map(
          repos.upstreamOAuthSessions.completeWithLink(
            s,
            l,
            op.claims === null ? Option.none() : Option.some("header.payload.signature"),
            claims(op.claims),
            Option.none(),
            op.claims === null ? Option.none() : Option.some({ email: "alice@example.com" })
          ),
          replacing(state.upstreamSessions, i)
        )
      )
    case "upstreamSessionConsume":
      return withEntities([state.upstreamSessions, op.session], [state.sessions, op.browserSession], (s, bs, i) =>
        Effect.map(repos.upstreamOAuthSessions.consume(s, bs), replacing(state.upstreamSessions, i))
      )
    case "upstreamSessionLookup":
      return withEntity(state.upstreamSessions, op.session, (s) => repos.upstreamOAuthSessions.lookup(s.id))
    case "upstreamSessionList":
      return outcome(
        repos.upstreamOAuthSessions.list(
          upstreamSessionFilter(op.filter),
          toPagination(op.paging, ids(state.upstreamSessions))
        )
      )
    case "upstreamSessionCount":
      return outcome(repos.upstreamOAuthSessions.count(upstreamSessionFilter(op.filter)))
    case "upstreamSessionCleanupOrphaned":
      return cleanup(state.upstreamSessions, op.bounds, (since, until) =>
        repos.upstreamOAuthSessions.cleanupOrphaned(since, until, op.limit)
      )
    case "browserSessionAuthenticateWithUpstream":
      return withEntities([state.sessions, op.browserSession], [state.upstreamSessions, op.session], (bs, s) =>
        repos.browserSessions.authenticateWithUpstream(bs, s)
      )
    case "personalSessionAdd": {
      const owner = op.owner
      const scope = scopeOf(personalScopes[op.scope]!)
      const ownerOf =
        "user" in owner
          ? Option.map(pick(state.users, owner.user), ([u]) => ownedByUser(u))
          : Option.map(pick(state.clients, owner.client), ([c]) => ownedByOAuth2Client(c))
      return Option.match(ownerOf, {
        onNone: () => Effect.succeed(SKIPPED),
        onSome: (o) =>
          withEntity(state.users, op.actor, (actor) =>
            Effect.tap(repos.personalSessions.add(o, actor, op.name, scope), (s) => state.personalSessions.push(s))
          )
      })
    }
    case "personalSessionRevoke":
      return withEntity(state.personalSessions, op.session, (s, i) =>
        Effect.map(repos.personalSessions.revoke(s), replacing(state.personalSessions, i))
      )
    case "personalSessionRevokeBulk":
      return outcome(repos.personalSessions.revokeBulk(personalFilter(op.filter)))
    case "personalSessionList":
      return outcome(
        repos.personalSessions.list(personalFilter(op.filter), toPagination(op.paging, ids(state.personalSessions)))
      )
    case "personalSessionCount":
      return outcome(repos.personalSessions.count(personalFilter(op.filter)))
    case "personalSessionActivity":
      return outcome(repos.personalSessions.recordBatchActivity(activityOf(state.personalSessions, op.activity)))
    case "personalTokenAdd":
      return withEntity(state.personalSessions, op.session, (s) =>
        Effect.tap(repos.personalAccessTokens.add(s, op.token, expiry(op.expiresIn)), (t) =>
          state.personalTokens.push(t)
        )
      )
    case "personalTokenRevoke":
      return withEntity(state.personalTokens, op.token, (t, i) =>
        Effect.map(repos.personalAccessTokens.revoke(t), replacing(state.personalTokens, i))
      )
    case "personalTokenFindByToken":
      return outcome(repos.personalAccessTokens.findByToken(op.token))
    case "personalTokenFindActiveForSession":
      return withEntity(state.personalSessions, op.session, (s) => repos.personalAccessTokens.findActiveForSession(s))
    case "appSessionList":
      // cursors are ids of either kind
      return outcome(
        repos.appSessions.list(
          appFilter(op.filter),
          toPagination(op.paging, [...ids(state.compatSessions), ...ids(state.oauth2Sessions)])
        )
      )
    case "appSessionCount":
      return outcome(repos.appSessions.count(appFilter(op.filter)))
    case "appSessionFinishToReplaceDevice":
      return withEntity(state.users, op.user, (u) =>
        repos.appSessions.finishSessionsToReplaceDevice(u, new Device({ id: op.device }))
      )
  }
}

/** The session families' part of the final state: every list through its repository, every token made looked up. */
export const sessionsFinalState = (repos: RepositoryAccessShape, state: SessionsEntities) =>
  Effect.all({
    compatSessions: outcome(repos.compatSessions.list({}, everything)),
    ssoLogins: outcome(repos.compatSsoLogins.list({}, everything)),
    compatAccessTokens: Effect.forEach(state.compatAccessTokens, (t) => outcome(repos.compatAccessTokens.lookup(t.id))),
    compatRefreshTokens: Effect.forEach(state.compatRefreshTokens, (t) =>
      outcome(repos.compatRefreshTokens.lookup(t.id))
    ),
    providers: outcome(repos.upstreamOAuthProviders.list({}, everything)),
    enabledProviders: outcome(repos.upstreamOAuthProviders.allEnabled()),
    links: outcome(repos.upstreamOAuthLinks.list({}, everything)),
    upstreamSessions: outcome(repos.upstreamOAuthSessions.list({}, everything)),
    personalSessions: outcome(repos.personalSessions.list({}, everything)),
    personalTokens: Effect.forEach(state.personalTokens, (t) => outcome(repos.personalAccessTokens.lookup(t.id))),
    appSessions: outcome(repos.appSessions.list({}, everything))
  })

/** The tables the session families write, children first (they all go before the user and OAuth2 tables). */
export const sessionsTables = [
  "compat_refresh_tokens",
  "compat_access_tokens",
  "compat_sso_logins",
  "compat_sessions",
  "personal_access_tokens",
  "personal_sessions",
  // the authentications and registrations name upstream sessions; those name links; both name providers
  "user_session_authentications",
  "user_registrations",
  "upstream_oauth_authorization_sessions",
  "upstream_oauth_links",
  "upstream_oauth_providers"
]
