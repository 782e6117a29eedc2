// Backend equivalence by random testing: random operation sequences over the user, OAuth2, session, policy and queue families (the last two in equivalence-sessions.ts and equivalence-queue.ts), run on both backends, results compared.
import { SqlClient } from "@effect/sql"
import { Duration, Effect, FastCheck as fc, Layer, Option, Random, TestClock } from "effect"
import type { TestServices } from "effect/TestServices"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import type { AccessToken } from "../../src/model/oauth2/accessToken.js"
import { AuthorizationCode, type AuthorizationGrant } from "../../src/model/oauth2/authorizationGrant.js"
import type { Client, ClientKind } from "../../src/model/oauth2/client.js"
import type { DeviceCodeGrant } from "../../src/model/oauth2/deviceCodeGrant.js"
import type { RefreshToken } from "../../src/model/oauth2/refreshToken.js"
import type { OAuth2Session } from "../../src/model/oauth2/session.js"
import type { BrowserSession, User, UserEmail, UserRegistrationToken } from "../../src/model/user.js"
import { maxUlidAt, type Ulid } from "../../src/model/Ulid.js"
import { Device, GRANT_TYPES, type GrantType } from "../../src/model/values.js"
import type { OAuth2ClientFilter } from "../../src/storage/oauth2/OAuth2ClientRepository.js"
import type { OAuth2SessionFilter } from "../../src/storage/oauth2/OAuth2SessionRepository.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import type { BrowserSessionFilter } from "../../src/storage/user/BrowserSessionRepository.js"
import { RepositoryAccess, type RepositoryAccessShape } from "../../src/storage/RepositoryAccess.js"
import type { UserEmailFilter } from "../../src/storage/user/UserEmailRepository.js"
import type { UserRegistrationTokenFilter } from "../../src/storage/user/UserRegistrationTokenRepository.js"
import type { UserFilter } from "../../src/storage/user/UserRepository.js"
import { newClient } from "../contract/oauth2/fixtures.js"
import { Seed, SeedMemory, SeedPg } from "../support/seed.js"
import {
  isQueueOp,
  noQueueEntities,
  type QueueEntities,
  queueFinalState,
  type QueueOp,
  queueOp,
  queueSetup,
  queueTables,
  runQueueOp
} from "./equivalence-queue.js"
import {
  isSessionsOp,
  noSessionsEntities,
  runSessionsOp,
  type SessionsEntities,
  sessionsFinalState,
  type SessionsOp,
  sessionsOp,
  sessionsSetup,
  sessionsTables
} from "./equivalence-sessions.js"
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

/** MAS's test epoch, where every sequence starts. */
export const EPOCH = Date.parse("2022-01-16T14:40:00Z")

// ---------------------------------------------------------------------------------------------
// Operations

export type Op =
  | { readonly _tag: "tick"; readonly ms: number }
  | { readonly _tag: "userAdd"; readonly name: string }
  | { readonly _tag: "userLookup"; readonly user: Ref }
  | {
      readonly _tag: "userTransition"
      readonly user: Ref
      readonly to: "lock" | "unlock" | "deactivate" | "reactivate"
    }
  | { readonly _tag: "userSetCanRequestAdmin"; readonly user: Ref; readonly value: boolean }
  | { readonly _tag: "userFindByUsername"; readonly name: string }
  | { readonly _tag: "userExists"; readonly name: string }
  | { readonly _tag: "userList"; readonly filter: UserFilter; readonly paging: Paging }
  | { readonly _tag: "userCount"; readonly filter: UserFilter }
  | { readonly _tag: "emailAdd"; readonly user: Ref; readonly email: string }
  | { readonly _tag: "emailLookup"; readonly email: Ref }
  | { readonly _tag: "emailFind"; readonly user: Ref; readonly email: string }
  | { readonly _tag: "emailFindByEmail"; readonly email: string }
  | { readonly _tag: "emailRemove"; readonly email: Ref }
  | {
      readonly _tag: "emailList"
      readonly filter: { readonly user?: Ref; readonly email?: string }
      readonly paging: Paging
    }
  | { readonly _tag: "emailCount"; readonly filter: { readonly user?: Ref; readonly email?: string } }
  | { readonly _tag: "sessionAdd"; readonly user: Ref; readonly userAgent: string | null }
  | { readonly _tag: "sessionLookup"; readonly session: Ref }
  | { readonly _tag: "sessionFinish"; readonly session: Ref }
  | { readonly _tag: "sessionList"; readonly filter: SessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "sessionCount"; readonly filter: SessionFilterSpec }
  | {
      readonly _tag: "tokenAdd"
      readonly token: string
      readonly usageLimit: number | null
      readonly expiresIn: number | null
    }
  | { readonly _tag: "tokenLookup"; readonly token: Ref }
  | { readonly _tag: "tokenFindByToken"; readonly token: string }
  | { readonly _tag: "tokenChange"; readonly token: Ref; readonly to: "use" | "revoke" | "unrevoke" }
  | { readonly _tag: "tokenList"; readonly filter: TokenFilterSpec; readonly paging: Paging }
  | { readonly _tag: "tokenCount"; readonly filter: TokenFilterSpec }
  | OAuth2Op
  | SessionsOp
  | QueueOp
  | { readonly _tag: "transaction"; readonly ops: ReadonlyArray<Op>; readonly rollback: boolean }

/** Operations of the OAuth2 family (refs index the entities of their kind seen so far). */
export type OAuth2Op =
  | {
      readonly _tag: "clientAdd"
      readonly digest: string | null
      readonly name: string | null
      readonly grantTypes: ReadonlyArray<GrantType>
    }
  | { readonly _tag: "clientUpsertStatic"; readonly which: number; readonly name: string | null }
  | { readonly _tag: "clientLookup"; readonly client: Ref }
  | { readonly _tag: "clientFindByClientId"; readonly client: Ref | string }
  | { readonly _tag: "clientDelete"; readonly client: Ref }
  | { readonly _tag: "clientList"; readonly filter: ClientFilterSpec; readonly paging: Paging }
  | { readonly _tag: "clientCount"; readonly filter: ClientFilterSpec }
  | {
      readonly _tag: "oauth2SessionAdd"
      readonly client: Ref
      /** A browser session (its user too), a user alone, or neither (client credentials). */
      readonly from: { readonly browserSession: Ref } | { readonly user: Ref } | null
      readonly scope: number
    }
  | { readonly _tag: "oauth2SessionFinish"; readonly session: Ref }
  | { readonly _tag: "oauth2SessionFinishBulk"; readonly filter: OAuth2SessionFilterSpec }
  | { readonly _tag: "oauth2SessionList"; readonly filter: OAuth2SessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "oauth2SessionCount"; readonly filter: OAuth2SessionFilterSpec }
  | { readonly _tag: "oauth2SessionSetHumanName"; readonly session: Ref; readonly name: string | null }
  | { readonly _tag: "oauth2SessionCleanupFinished"; readonly until: number; readonly limit: number }
  | {
      readonly _tag: "accessTokenAdd"
      readonly session: Ref
      readonly token: string
      readonly expiresIn: number | null
    }
  | { readonly _tag: "accessTokenChange"; readonly token: Ref; readonly to: "revoke" | "markUsed" }
  | { readonly _tag: "accessTokenFindByToken"; readonly token: string }
  | {
      readonly _tag: "accessTokenCleanup"
      readonly kind: "revoked" | "expired"
      readonly until: number
      readonly limit: number
    }
  | { readonly _tag: "refreshTokenAdd"; readonly session: Ref; readonly accessToken: Ref; readonly token: string }
  | { readonly _tag: "refreshTokenConsume"; readonly token: Ref; readonly replacedBy: Ref }
  | { readonly _tag: "refreshTokenRevoke"; readonly token: Ref }
  | { readonly _tag: "refreshTokenFindByToken"; readonly token: string }
  | {
      readonly _tag: "refreshTokenCleanup"
      readonly kind: "revoked" | "consumed"
      readonly until: number
      readonly limit: number
    }
  | { readonly _tag: "grantAdd"; readonly client: Ref; readonly code: string | null }
  | { readonly _tag: "grantFulfill"; readonly grant: Ref; readonly browserSession: Ref }
  | { readonly _tag: "grantExchange"; readonly grant: Ref; readonly session: Ref }
  | { readonly _tag: "grantFindByCode"; readonly code: string }
  | { readonly _tag: "grantCleanup"; readonly until: number; readonly limit: number }
  | {
      readonly _tag: "deviceGrantAdd"
      readonly client: Ref
      readonly deviceCode: string
      readonly userCode: string
      readonly expiresIn: number
    }
  | {
      readonly _tag: "deviceGrantDecide"
      readonly grant: Ref
      readonly browserSession: Ref
      readonly to: "fulfill" | "reject"
    }
  | { readonly _tag: "deviceGrantExchange"; readonly grant: Ref; readonly session: Ref }
  | { readonly _tag: "deviceGrantFindByUserCode"; readonly userCode: string }

export interface ClientFilterSpec {
  readonly kind?: ClientKind
  readonly clientName?: string
  readonly grantType?: GrantType
  readonly hasActiveSessions?: boolean
}

export interface OAuth2SessionFilterSpec {
  readonly user?: Ref
  readonly client?: Ref
  readonly anyUser?: boolean
  readonly clientKind?: ClientKind
  readonly state?: "active" | "finished"
  /** An index into `filterScopes`. */
  readonly scope?: number
  readonly device?: string
  readonly createdBefore?: number
  readonly createdAfter?: number
}

/** Time bounds are offsets in milliseconds from the current (test) time. */
export interface SessionFilterSpec {
  readonly user?: Ref
  readonly state?: "active" | "finished"
  readonly createdBefore?: number
  readonly createdAfter?: number
  readonly lastActiveBefore?: number
  readonly lastActiveAfter?: number
}

export interface TokenFilterSpec {
  readonly at: number
  readonly hasBeenUsed?: boolean
  readonly isRevoked?: boolean
  readonly isExpired?: boolean
  readonly isValid?: boolean
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: small pools of values, so that collisions, case variants and LIKE metacharacters are frequent.

const E_ACUTE_NFC = "\u00e9"
const E_ACUTE_NFD = "e\u0301"

const usernames = [
  "alice",
  "Alice",
  "ALICE",
  "bob",
  "b_b",
  "b%b",
  "a\\b",
  `jos${E_ACUTE_NFC}`,
  `jos${E_ACUTE_NFD}`,
  `JOS${E_ACUTE_NFC}`,
  "ß",
  "SS",
  "İi"
]
const searches = ["", "a", "A", "li", "%", "_", "\\", "b_", "%b", "s\u00e9", "S\u00c9", "e\u0301", "ß", "i"]
const emails = [
  "a@example.com",
  "A@Example.com",
  "b@example.com",
  "a%b@x.org",
  "a_b@x.org",
  "a\\b@x.org",
  `${E_ACUTE_NFC}@x.org`,
  `${E_ACUTE_NFD}@x.org`,
  `${E_ACUTE_NFC.toUpperCase()}@X.ORG`
]
const tokens = ["tok", "TOK", "t%k", "t_k", "t\\k", "other"]
const agents = [null, "Mozilla/5.0", "", "agent\\%_"]

const userFilter: fc.Arbitrary<UserFilter> = fc.record(
  {
    state: fc.constantFrom("active" as const, "locked" as const, "deactivated" as const),
    canRequestAdmin: fc.boolean(),
    isGuest: fc.boolean(),
    search: fromPool(searches)
  },
  { requiredKeys: [] }
)

const emailFilter = fc.record({ user: ref, email: fromPool(emails) }, { requiredKeys: [] })

const sessionFilter: fc.Arbitrary<SessionFilterSpec> = fc.record(
  {
    user: ref,
    state: fc.constantFrom("active" as const, "finished" as const),
    createdBefore: offset,
    createdAfter: offset,
    lastActiveBefore: offset,
    lastActiveAfter: offset
  },
  { requiredKeys: [] }
)

const tokenFilter: fc.Arbitrary<TokenFilterSpec> = fc.record(
  { at: offset, hasBeenUsed: fc.boolean(), isRevoked: fc.boolean(), isExpired: fc.boolean(), isValid: fc.boolean() },
  { requiredKeys: ["at"] }
)

// OAuth2 pools: few values, so unique-text conflicts, state races and filter boundaries come up often.
const digests = [null, "digest-a", "digest-b"]
const clientNames = [null, "App", "my app", "a%b_c", "\u00c9LODIE"]
const clientNameSearches = ["app", "APP", "%", "_", "\u00e9lodie", "x"]
/** The static clients' ids (fixed, as a configuration names them). */
const STATIC_CLIENT_IDS = [
  "01FSHN9AG0AAAAAAAAAAAAAAAA",
  "01FSHN9AG0BBBBBBBBBBBBBBBB"
] as ReadonlyArray<string> as ReadonlyArray<Ulid>
const sessionScopes: ReadonlyArray<ReadonlyArray<string>> = [
  ["openid"],
  ["openid", "urn:matrix:client:device:DEV1"],
  ["urn:matrix:org.matrix.msc2967.client:device:DEV1"],
  ["email", "openid"],
  []
]
const filterScopes: ReadonlyArray<ReadonlyArray<string>> = [["openid"], ["email", "openid"], ["email"], []]
const accessTokenTexts = ["at-a", "at-b", "at-c"]
const refreshTokenTexts = ["rt-a", "rt-b", "rt-c"]
const authorizationCodes = ["code-a", "code-b"]
const deviceCodes = ["dc-a", "dc-b"]
const userCodes = ["UC-A", "UC-B"]

const clientFilter: fc.Arbitrary<ClientFilterSpec> = fc.record(
  {
    kind: fc.constantFrom("static" as const, "dynamic" as const),
    clientName: fromPool(clientNameSearches),
    grantType: fromPool(GRANT_TYPES),
    hasActiveSessions: fc.boolean()
  },
  { requiredKeys: [] }
)

const oauth2SessionFilter: fc.Arbitrary<OAuth2SessionFilterSpec> = fc.record(
  {
    user: ref,
    client: ref,
    anyUser: fc.boolean(),
    clientKind: fc.constantFrom("static" as const, "dynamic" as const),
    state: fc.constantFrom("active" as const, "finished" as const),
    scope: fc.nat({ max: filterScopes.length - 1 }),
    device: fc.constantFrom("DEV1", "DEV2"),
    createdBefore: offset,
    createdAfter: offset
  },
  { requiredKeys: [] }
)

const oauth2SessionFrom = fc.oneof(fc.record({ browserSession: ref }), fc.record({ user: ref }), fc.constant(null))

const oauth2Op: fc.Arbitrary<OAuth2Op> = fc.oneof(
  {
    arbitrary: fc.record({
      _tag: fc.constant("clientAdd" as const),
      digest: fromPool(digests),
      name: fromPool(clientNames),
      grantTypes: fc.subarray([...GRANT_TYPES])
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("clientUpsertStatic" as const),
      which: fc.nat({ max: STATIC_CLIENT_IDS.length - 1 }),
      name: fromPool(clientNames)
    }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("clientLookup" as const), client: ref }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("clientFindByClientId" as const),
      client: fc.oneof(ref, randomUlid, fc.constantFrom("not-a-ulid", STATIC_CLIENT_IDS[0]!.toLowerCase()))
    }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("clientDelete" as const), client: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("clientList" as const), filter: clientFilter, paging }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("clientCount" as const), filter: clientFilter }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("oauth2SessionAdd" as const),
      client: ref,
      from: oauth2SessionFrom,
      scope: fc.nat({ max: sessionScopes.length - 1 })
    }),
    weight: 4
  },
  { arbitrary: fc.record({ _tag: fc.constant("oauth2SessionFinish" as const), session: ref }), weight: 2 },
  {
    arbitrary: fc.record({ _tag: fc.constant("oauth2SessionFinishBulk" as const), filter: oauth2SessionFilter }),
    weight: 1
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("oauth2SessionList" as const), filter: oauth2SessionFilter, paging }),
    weight: 2
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("oauth2SessionCount" as const), filter: oauth2SessionFilter }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("oauth2SessionSetHumanName" as const),
      session: ref,
      name: fromPool([null, "Phone", ""])
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("oauth2SessionCleanupFinished" as const),
      until: offset,
      limit: cleanupLimit
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("accessTokenAdd" as const),
      session: ref,
      token: fromPool(accessTokenTexts),
      expiresIn: fc.oneof(fc.constant(null), fc.constantFrom(0, 500, 1000, 60_000))
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("accessTokenChange" as const),
      token: ref,
      to: fc.constantFrom("revoke" as const, "markUsed" as const)
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("accessTokenFindByToken" as const), token: fromPool(accessTokenTexts) }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("accessTokenCleanup" as const),
      kind: fc.constantFrom("revoked" as const, "expired" as const),
      until: offset,
      limit: cleanupLimit
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("refreshTokenAdd" as const),
      session: ref,
      accessToken: ref,
      token: fromPool(refreshTokenTexts)
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("refreshTokenConsume" as const), token: ref, replacedBy: ref }),
    weight: 4
  },
  { arbitrary: fc.record({ _tag: fc.constant("refreshTokenRevoke" as const), token: ref }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("refreshTokenFindByToken" as const),
      token: fromPool(refreshTokenTexts)
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("refreshTokenCleanup" as const),
      kind: fc.constantFrom("revoked" as const, "consumed" as const),
      until: offset,
      limit: cleanupLimit
    }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("grantAdd" as const),
      client: ref,
      code: fc.oneof(fc.constant(null), fromPool(authorizationCodes))
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("grantFulfill" as const), grant: ref, browserSession: ref }),
    weight: 4
  },
  { arbitrary: fc.record({ _tag: fc.constant("grantExchange" as const), grant: ref, session: ref }), weight: 4 },
  {
    arbitrary: fc.record({ _tag: fc.constant("grantFindByCode" as const), code: fromPool(authorizationCodes) }),
    weight: 1
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("grantCleanup" as const), until: offset, limit: cleanupLimit }),
    weight: 1
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("deviceGrantAdd" as const),
      client: ref,
      deviceCode: fromPool(deviceCodes),
      userCode: fromPool(userCodes),
      expiresIn: fc.constantFrom(1000, 600_000)
    }),
    weight: 2
  },
  {
    arbitrary: fc.record({
      _tag: fc.constant("deviceGrantDecide" as const),
      grant: ref,
      browserSession: ref,
      to: fc.constantFrom("fulfill" as const, "reject" as const)
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("deviceGrantExchange" as const), grant: ref, session: ref }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("deviceGrantFindByUserCode" as const), userCode: fromPool(userCodes) }),
    weight: 1
  }
)

const simpleOp: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ _tag: fc.constant("tick" as const), ms: fc.constantFrom(1, 499, 500, 1000, 60_000) }),
    weight: 4
  },
  { arbitrary: fc.record({ _tag: fc.constant("userAdd" as const), name: fromPool(usernames) }), weight: 5 },
  { arbitrary: fc.record({ _tag: fc.constant("userLookup" as const), user: ref }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("userTransition" as const),
      user: ref,
      to: fc.constantFrom("lock" as const, "unlock" as const, "deactivate" as const, "reactivate" as const)
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("userSetCanRequestAdmin" as const), user: ref, value: fc.boolean() }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("userFindByUsername" as const), name: fromPool(usernames) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("userExists" as const), name: fromPool(usernames) }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("userList" as const), filter: userFilter, paging }), weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("userCount" as const), filter: userFilter }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailAdd" as const), user: ref, email: fromPool(emails) }), weight: 4 },
  { arbitrary: fc.record({ _tag: fc.constant("emailLookup" as const), email: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("emailFind" as const), user: ref, email: fromPool(emails) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailFindByEmail" as const), email: fromPool(emails) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailRemove" as const), email: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("emailList" as const), filter: emailFilter, paging }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailCount" as const), filter: emailFilter }), weight: 1 },
  {
    arbitrary: fc.record({ _tag: fc.constant("sessionAdd" as const), user: ref, userAgent: fromPool(agents) }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("sessionLookup" as const), session: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("sessionFinish" as const), session: ref }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("sessionList" as const), filter: sessionFilter, paging }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("sessionCount" as const), filter: sessionFilter }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("tokenAdd" as const),
      token: fromPool(tokens),
      usageLimit: fc.oneof(fc.constant(null), fc.nat({ max: 3 })),
      expiresIn: fc.oneof(fc.constant(null), offset)
    }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("tokenLookup" as const), token: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("tokenFindByToken" as const), token: fromPool(tokens) }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("tokenChange" as const),
      token: ref,
      to: fc.constantFrom("use" as const, "revoke" as const, "unrevoke" as const)
    }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("tokenList" as const), filter: tokenFilter, paging }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("tokenCount" as const), filter: tokenFilter }), weight: 1 }
)

export const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: simpleOp, weight: 12 },
  { arbitrary: oauth2Op, weight: 12 },
  { arbitrary: sessionsOp, weight: 16 },
  { arbitrary: queueOp, weight: 16 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("transaction" as const),
      ops: fc.array(fc.oneof(simpleOp, oauth2Op, sessionsOp, queueOp), { minLength: 1, maxLength: 4 }),
      rollback: fc.boolean()
    }),
    weight: 1
  }
)

export interface Sequence {
  readonly seed: number
  readonly ops: ReadonlyArray<Op>
}

// A few entities first, so that most operations have something to act on.
const setup: fc.Arbitrary<ReadonlyArray<Op>> = fc
  .tuple(
    fc.array(fc.record({ _tag: fc.constant("userAdd" as const), name: fromPool(usernames) }), {
      minLength: 1,
      maxLength: 4
    }),
    fc.array(fc.record({ _tag: fc.constant("emailAdd" as const), user: ref, email: fromPool(emails) }), {
      maxLength: 3
    }),
    fc.array(fc.record({ _tag: fc.constant("sessionAdd" as const), user: ref, userAgent: fromPool(agents) }), {
      maxLength: 3
    }),
    fc.array(
      fc.record({
        _tag: fc.constant("tokenAdd" as const),
        token: fromPool(tokens),
        usageLimit: fc.oneof(fc.constant(null), fc.nat({ max: 3 })),
        expiresIn: fc.oneof(fc.constant(null), offset)
      }),
      { maxLength: 2 }
    ),
    // the OAuth2 family: a client and a session at least, then a token of each kind and a grant of each kind, so
    // that the single-use transitions and rotations have something to act on within a short sequence
    fc.array(
      fc.record({
        _tag: fc.constant("clientAdd" as const),
        digest: fromPool(digests),
        name: fromPool(clientNames),
        grantTypes: fc.subarray([...GRANT_TYPES])
      }),
      { minLength: 1, maxLength: 2 }
    ),
    fc.array(
      fc.record({
        _tag: fc.constant("oauth2SessionAdd" as const),
        client: ref,
        from: oauth2SessionFrom,
        scope: fc.nat({ max: sessionScopes.length - 1 })
      }),
      { minLength: 1, maxLength: 2 }
    ),
    fc.array(
      fc.record({
        _tag: fc.constant("accessTokenAdd" as const),
        session: ref,
        token: fromPool(accessTokenTexts),
        expiresIn: fc.oneof(fc.constant(null), fc.constantFrom(0, 500, 1000, 60_000))
      }),
      { minLength: 1, maxLength: 2 }
    ),
    fc.array(
      fc.oneof(
        fc.record({
          _tag: fc.constant("grantAdd" as const),
          client: ref,
          code: fc.oneof(fc.constant(null), fromPool(authorizationCodes))
        }),
        fc.record({
          _tag: fc.constant("deviceGrantAdd" as const),
          client: ref,
          deviceCode: fromPool(deviceCodes),
          userCode: fromPool(userCodes),
          expiresIn: fc.constantFrom(1000, 600_000)
        })
      ),
      { maxLength: 2 }
    ),
    fc.array(
      fc.record({
        _tag: fc.constant("refreshTokenAdd" as const),
        session: ref,
        accessToken: ref,
        token: fromPool(refreshTokenTexts)
      }),
      { maxLength: 2 }
    )
  )
  .map((groups): ReadonlyArray<Op> => groups.flat())

export const sequence: fc.Arbitrary<Sequence> = fc.record({
  seed: fc.integer(),
  // the session families' setup after the others' (it needs users, browser sessions, clients and OAuth2 sessions);
  // the queue's needs nothing of theirs
  ops: fc
    .tuple(setup, sessionsSetup, queueSetup, fc.array(op, { minLength: 1, maxLength: 40 }))
    .map(([a, b, c, d]) => [...a, ...b, ...c, ...d])
})

// ---------------------------------------------------------------------------------------------
// Comparable outcomes

// ---------------------------------------------------------------------------------------------
// Running a sequence on the RepositoryAccess of the environment

interface Entities extends SessionsEntities, QueueEntities {
  users: Array<User>
  emails: Array<UserEmail>
  sessions: Array<BrowserSession>
  tokens: Array<UserRegistrationToken>
  clients: Array<Client>
  oauth2Sessions: Array<OAuth2Session>
  accessTokens: Array<AccessToken>
  refreshTokens: Array<RefreshToken>
  grants: Array<AuthorizationGrant>
  deviceGrants: Array<DeviceCodeGrant>
}

const noEntities = (): Entities => ({
  users: [],
  emails: [],
  sessions: [],
  tokens: [],
  clients: [],
  oauth2Sessions: [],
  accessTokens: [],
  refreshTokens: [],
  grants: [],
  deviceGrants: [],
  ...noSessionsEntities(),
  ...noQueueEntities()
})

const runOp = (
  repos: RepositoryAccessShape,
  state: Entities,
  op: Op
): Effect.Effect<unknown, never, TestServices | Seed> =>
  Effect.gen(function* () {
    const nowMs = yield* TestClock.currentTimeMillis
    const at = (offsetMs: number) => new Date(nowMs + offsetMs)
    const userIds = state.users.map((u) => u.id)
    const withUser = <A, E>(r: Ref, f: (user: User, i: number) => Effect.Effect<A, E>) =>
      Option.match(pick(state.users, r), {
        onNone: () => Effect.succeed(SKIPPED),
        onSome: ([u, i]) => outcome(f(u, i))
      })
    switch (op._tag) {
      case "tick":
        yield* TestClock.adjust(Duration.millis(op.ms))
        return { ok: op.ms }
      case "userAdd":
        return yield* outcome(Effect.tap(repos.users.add(op.name), (u) => state.users.push(u)))
      case "userLookup":
        return yield* withUser(op.user, (u) => repos.users.lookup(u.id))
      case "userTransition":
        return yield* withUser(op.user, (u, i) => Effect.map(repos.users[op.to](u), replacing(state.users, i)))
      case "userSetCanRequestAdmin":
        return yield* withUser(op.user, (u, i) =>
          Effect.map(repos.users.setCanRequestAdmin(u, op.value), replacing(state.users, i))
        )
      case "userFindByUsername":
        return yield* outcome(repos.users.findByUsername(op.name))
      case "userExists":
        return yield* outcome(repos.users.exists(op.name))
      case "userList":
        return yield* outcome(repos.users.list(op.filter, toPagination(op.paging, userIds)))
      case "userCount":
        return yield* outcome(repos.users.count(op.filter))
      case "emailAdd":
        return yield* withUser(op.user, (u) =>
          Effect.tap(repos.userEmails.add(u, op.email), (e) => state.emails.push(e))
        )
      case "emailLookup":
        return yield* Option.match(pick(state.emails, op.email), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([e]) => outcome(repos.userEmails.lookup(e.id))
        })
      case "emailFind":
        return yield* withUser(op.user, (u) => repos.userEmails.find(u, op.email))
      case "emailFindByEmail":
        return yield* outcome(repos.userEmails.findByEmail(op.email))
      case "emailRemove":
        return yield* Option.match(pick(state.emails, op.email), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([e]) => outcome(repos.userEmails.remove(e))
        })
      case "emailList":
      case "emailCount": {
        const filter: UserEmailFilter = {
          ...(op.filter.user === undefined
            ? {}
            : Option.match(pick(userIds, op.filter.user), { onNone: () => ({}), onSome: ([id]) => ({ user: id }) })),
          ...(op.filter.email === undefined ? {} : { email: op.filter.email })
        }
        return yield* outcome(
          op._tag === "emailList"
            ? repos.userEmails.list(
                filter,
                toPagination(
                  op.paging,
                  state.emails.map((e) => e.id)
                )
              )
            : repos.userEmails.count(filter)
        )
      }
      case "sessionAdd":
        return yield* withUser(op.user, (u) =>
          Effect.tap(repos.browserSessions.add(u, Option.fromNullable(op.userAgent)), (s) => state.sessions.push(s))
        )
      case "sessionLookup":
        return yield* Option.match(pick(state.sessions, op.session), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([s]) => outcome(repos.browserSessions.lookup(s.id))
        })
      case "sessionFinish":
        return yield* Option.match(pick(state.sessions, op.session), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([s, i]) => outcome(Effect.map(repos.browserSessions.finish(s), replacing(state.sessions, i)))
        })
      case "sessionList":
      case "sessionCount": {
        const f = op.filter
        const filter: BrowserSessionFilter = {
          ...(f.user === undefined
            ? {}
            : Option.match(pick(userIds, f.user), { onNone: () => ({}), onSome: ([id]) => ({ user: id }) })),
          ...(f.state === undefined ? {} : { state: f.state }),
          ...(f.createdBefore === undefined ? {} : { createdBefore: at(f.createdBefore) }),
          ...(f.createdAfter === undefined ? {} : { createdAfter: at(f.createdAfter) }),
          ...(f.lastActiveBefore === undefined ? {} : { lastActiveBefore: at(f.lastActiveBefore) }),
          ...(f.lastActiveAfter === undefined ? {} : { lastActiveAfter: at(f.lastActiveAfter) })
        }
        return yield* outcome(
          op._tag === "sessionList"
            ? repos.browserSessions.list(
                filter,
                toPagination(
                  op.paging,
                  state.sessions.map((s) => s.id)
                )
              )
            : repos.browserSessions.count(filter)
        )
      }
      case "tokenAdd":
        return yield* outcome(
          Effect.tap(
            repos.userRegistrationTokens.add(
              op.token,
              Option.fromNullable(op.usageLimit),
              op.expiresIn === null ? Option.none() : Option.some(at(op.expiresIn))
            ),
            (t) => state.tokens.push(t)
          )
        )
      case "tokenLookup":
        return yield* Option.match(pick(state.tokens, op.token), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([t]) => outcome(repos.userRegistrationTokens.lookup(t.id))
        })
      case "tokenFindByToken":
        return yield* outcome(repos.userRegistrationTokens.findByToken(op.token))
      case "tokenChange":
        return yield* Option.match(pick(state.tokens, op.token), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([t, i]) => {
            const tokens = repos.userRegistrationTokens
            const change =
              op.to === "use" ? tokens.useToken(t) : op.to === "revoke" ? tokens.revoke(t) : tokens.unrevoke(t)
            return outcome(Effect.map(change, replacing(state.tokens, i)))
          }
        })
      case "tokenList":
      case "tokenCount": {
        const { at: atOffset, ...criteria } = op.filter
        const filter: UserRegistrationTokenFilter = { now: at(atOffset), ...criteria }
        return yield* outcome(
          op._tag === "tokenList"
            ? repos.userRegistrationTokens.list(
                filter,
                toPagination(
                  op.paging,
                  state.tokens.map((t) => t.id)
                )
              )
            : repos.userRegistrationTokens.count(filter)
        )
      }
      case "transaction": {
        const inner: Array<unknown> = []
        const unit = repos.transaction(
          Effect.gen(function* () {
            for (const o of op.ops) inner.push(yield* runOp(repos, state, o))
            if (op.rollback) return yield* Effect.fail({ _tag: "Rollback" as const })
          })
        )
        const result = yield* outcome(unit)
        return { transaction: result, inner }
      }
      default:
        return yield* isSessionsOp(op)
          ? runSessionsOp(repos, state, op, at)
          : isQueueOp(op)
            ? runQueueOp(repos, state, op, at)
            : runOAuth2Op(repos, state, op, at)
    }
  })

const runOAuth2Op = (
  repos: RepositoryAccessShape,
  state: Entities,
  op: OAuth2Op,
  at: (offsetMs: number) => Date
): Effect.Effect<unknown> => {
  const idAt = <T extends { readonly id: Ulid }>(list: ReadonlyArray<T>, r: Ref | undefined) =>
    r === undefined ? undefined : Option.getOrUndefined(Option.map(pick(list, r), ([e]) => e.id))
  const sessionFilter = (f: OAuth2SessionFilterSpec): OAuth2SessionFilter => {
    const user = idAt(state.users, f.user)
    const client = idAt(state.clients, f.client)
    return {
      ...(user === undefined ? {} : { user }),
      ...(client === undefined ? {} : { client }),
      ...(f.anyUser === undefined ? {} : { anyUser: f.anyUser }),
      ...(f.clientKind === undefined ? {} : { clientKind: f.clientKind }),
      ...(f.state === undefined ? {} : { state: f.state }),
      ...(f.scope === undefined ? {} : { scope: scopeOf(filterScopes[f.scope]!) }),
      ...(f.device === undefined ? {} : { device: new Device({ id: f.device }) }),
      ...(f.createdBefore === undefined ? {} : { createdBefore: at(f.createdBefore) }),
      ...(f.createdAfter === undefined ? {} : { createdAfter: at(f.createdAfter) })
    }
  }
  const clientFilterOf = (f: ClientFilterSpec): OAuth2ClientFilter => f
  switch (op._tag) {
    case "clientAdd":
      return outcome(
        Effect.tap(
          repos.oauth2Clients.add(
            newClient({
              metadataDigest: Option.fromNullable(op.digest),
              applicationType: Option.some("web"),
              redirectUris: [url("https://app.example.com/cb")],
              grantTypes: op.grantTypes,
              clientName: Option.fromNullable(op.name),
              tokenEndpointAuthMethod: Option.some("none")
            })
          ),
          (c) => state.clients.push(c)
        )
      )
    case "clientUpsertStatic":
      return outcome(
        Effect.tap(
          repos.oauth2Clients.upsertStatic({
            clientId: STATIC_CLIENT_IDS[op.which]!,
            clientName: Option.fromNullable(op.name),
            clientUri: Option.none(),
            clientAuthMethod: "client_secret_basic",
            encryptedClientSecret: Option.some("encrypted"),
            jwks: Option.none(),
            jwksUri: Option.none(),
            redirectUris: [url("https://static.example.com/cb")]
          }),
          (c) => {
            const i = state.clients.findIndex((known) => known.id === c.id)
            if (i >= 0) state.clients[i] = c
            else state.clients.push(c)
          }
        )
      )
    case "clientLookup":
      return withEntity(state.clients, op.client, (c) => repos.oauth2Clients.lookup(c.id))
    case "clientFindByClientId":
      return typeof op.client === "string"
        ? outcome(repos.oauth2Clients.findByClientId(op.client))
        : withEntity(state.clients, op.client, (c) => repos.oauth2Clients.findByClientId(c.clientId))
    case "clientDelete":
      return withEntity(state.clients, op.client, (c) => repos.oauth2Clients.delete(c))
    case "clientList":
      return outcome(
        repos.oauth2Clients.list(
          clientFilterOf(op.filter),
          toPagination(
            op.paging,
            state.clients.map((c) => c.id)
          )
        )
      )
    case "clientCount":
      return outcome(repos.oauth2Clients.count(clientFilterOf(op.filter)))
    case "oauth2SessionAdd": {
      const tokens = scopeOf(sessionScopes[op.scope]!)
      const from = op.from
      return withEntity(state.clients, op.client, (client) => {
        const add =
          from === null
            ? repos.oauth2Sessions.addFromClientCredentials(client, tokens)
            : "browserSession" in from
              ? Option.match(pick(state.sessions, from.browserSession), {
                  onNone: () => repos.oauth2Sessions.add(client, Option.none(), Option.none(), tokens),
                  onSome: ([bs]) => repos.oauth2Sessions.addFromBrowserSession(client, bs, tokens)
                })
              : repos.oauth2Sessions.add(
                  client,
                  Option.map(pick(state.users, from.user), ([u]) => u),
                  Option.none(),
                  tokens
                )
        return Effect.tap(add, (s) => state.oauth2Sessions.push(s))
      })
    }
    case "oauth2SessionFinish":
      return withEntity(state.oauth2Sessions, op.session, (s, i) =>
        Effect.map(repos.oauth2Sessions.finish(s), replacing(state.oauth2Sessions, i))
      )
    case "oauth2SessionFinishBulk":
      return outcome(repos.oauth2Sessions.finishBulk(sessionFilter(op.filter)))
    case "oauth2SessionList":
      return outcome(
        repos.oauth2Sessions.list(
          sessionFilter(op.filter),
          toPagination(
            op.paging,
            state.oauth2Sessions.map((s) => s.id)
          )
        )
      )
    case "oauth2SessionCount":
      return outcome(repos.oauth2Sessions.count(sessionFilter(op.filter)))
    case "oauth2SessionSetHumanName":
      return withEntity(state.oauth2Sessions, op.session, (s, i) =>
        Effect.map(
          repos.oauth2Sessions.setHumanName(s, Option.fromNullable(op.name)),
          replacing(state.oauth2Sessions, i)
        )
      )
    case "oauth2SessionCleanupFinished":
      return outcome(repos.oauth2Sessions.cleanupFinished(Option.none(), at(op.until), op.limit))
    case "accessTokenAdd":
      return withEntity(state.oauth2Sessions, op.session, (s) =>
        Effect.tap(
          repos.oauth2AccessTokens.add(
            s,
            op.token,
            op.expiresIn === null ? Option.none() : Option.some(Duration.millis(op.expiresIn))
          ),
          (t) => state.accessTokens.push(t)
        )
      )
    case "accessTokenChange":
      return withEntity(state.accessTokens, op.token, (t, i) =>
        Effect.map(
          op.to === "revoke" ? repos.oauth2AccessTokens.revoke(t) : repos.oauth2AccessTokens.markUsed(t),
          replacing(state.accessTokens, i)
        )
      )
    case "accessTokenFindByToken":
      return outcome(repos.oauth2AccessTokens.findByToken(op.token))
    case "accessTokenCleanup":
      return outcome(
        op.kind === "revoked"
          ? repos.oauth2AccessTokens.cleanupRevoked(Option.none(), at(op.until), op.limit)
          : repos.oauth2AccessTokens.cleanupExpired(Option.none(), at(op.until), op.limit)
      )
    case "refreshTokenAdd":
      return withEntities([state.oauth2Sessions, op.session], [state.accessTokens, op.accessToken], (s, t) =>
        Effect.tap(repos.oauth2RefreshTokens.add(s, t, op.token), (r) => state.refreshTokens.push(r))
      )
    case "refreshTokenConsume":
      return withEntities([state.refreshTokens, op.token], [state.refreshTokens, op.replacedBy], (t, next, i) =>
        Effect.map(repos.oauth2RefreshTokens.consume(t, next), replacing(state.refreshTokens, i))
      )
    case "refreshTokenRevoke":
      return withEntity(state.refreshTokens, op.token, (t, i) =>
        Effect.map(repos.oauth2RefreshTokens.revoke(t), replacing(state.refreshTokens, i))
      )
    case "refreshTokenFindByToken":
      return outcome(repos.oauth2RefreshTokens.findByToken(op.token))
    case "refreshTokenCleanup":
      return outcome(
        op.kind === "revoked"
          ? repos.oauth2RefreshTokens.cleanupRevoked(Option.none(), at(op.until), op.limit)
          : repos.oauth2RefreshTokens.cleanupConsumed(Option.none(), at(op.until), op.limit)
      )
    case "grantAdd":
      return withEntity(state.clients, op.client, (client) =>
        Effect.tap(
          repos.oauth2AuthorizationGrants.add({
            client,
            code: Option.map(
              Option.fromNullable(op.code),
              (code) => new AuthorizationCode({ code, pkce: Option.none() })
            ),
            redirectUri: url("https://app.example.com/cb"),
            scope: scopeOf(["openid"]),
            state: Option.some("state"),
            nonce: Option.none(),
            responseMode: "query",
            responseTypeIdToken: false,
            loginHint: Option.none(),
            locale: Option.none(),
            rawParameters: new Map([["response_type", "code"]])
          }),
          (g) => state.grants.push(g)
        )
      )
    case "grantFulfill":
      return withEntities([state.grants, op.grant], [state.sessions, op.browserSession], (g, bs, i) =>
        Effect.map(repos.oauth2AuthorizationGrants.fulfill(bs, g), replacing(state.grants, i))
      )
    case "grantExchange":
      return withEntities([state.grants, op.grant], [state.oauth2Sessions, op.session], (g, s, i) =>
        Effect.map(repos.oauth2AuthorizationGrants.exchange(g, s), replacing(state.grants, i))
      )
    case "grantFindByCode":
      return outcome(repos.oauth2AuthorizationGrants.findByCode(op.code))
    case "grantCleanup":
      return outcome(repos.oauth2AuthorizationGrants.cleanup(Option.none(), maxUlidAt(at(op.until)), op.limit))
    case "deviceGrantAdd":
      return withEntity(state.clients, op.client, (client) =>
        Effect.tap(
          repos.oauth2DeviceCodeGrants.add({
            client,
            scope: scopeOf(["openid"]),
            deviceCode: op.deviceCode,
            userCode: op.userCode,
            expiresIn: Duration.millis(op.expiresIn),
            ipAddress: Option.none(),
            userAgent: Option.some("device")
          }),
          (g) => state.deviceGrants.push(g)
        )
      )
    case "deviceGrantDecide":
      return withEntities([state.deviceGrants, op.grant], [state.sessions, op.browserSession], (g, bs, i) =>
        Effect.map(
          op.to === "fulfill"
            ? repos.oauth2DeviceCodeGrants.fulfill(g, bs, Option.some("fr"))
            : repos.oauth2DeviceCodeGrants.reject(g, bs),
          replacing(state.deviceGrants, i)
        )
      )
    case "deviceGrantExchange":
      return withEntities([state.deviceGrants, op.grant], [state.oauth2Sessions, op.session], (g, s, i) =>
        Effect.map(repos.oauth2DeviceCodeGrants.exchange(g, s), replacing(state.deviceGrants, i))
      )
    case "deviceGrantFindByUserCode":
      return outcome(repos.oauth2DeviceCodeGrants.findByUserCode(op.userCode))
  }
}

/** Every row of the repositories with a list method (through it, empty filter), and every token and grant made. */
const finalState = (repos: RepositoryAccessShape, state: Entities) =>
  Effect.gen(function* () {
    const nowMs = yield* TestClock.currentTimeMillis
    return {
      users: yield* outcome(repos.users.list({}, everything)),
      emails: yield* outcome(repos.userEmails.list({}, everything)),
      sessions: yield* outcome(repos.browserSessions.list({}, everything)),
      tokens: yield* outcome(repos.userRegistrationTokens.list({ now: new Date(nowMs) }, everything)),
      clients: yield* outcome(repos.oauth2Clients.list({}, everything)),
      oauth2Sessions: yield* outcome(repos.oauth2Sessions.list({}, everything)),
      // the tokens and grants have no list method: every one ever made, looked up
      accessTokens: yield* Effect.forEach(state.accessTokens, (t) => outcome(repos.oauth2AccessTokens.lookup(t.id))),
      refreshTokens: yield* Effect.forEach(state.refreshTokens, (t) => outcome(repos.oauth2RefreshTokens.lookup(t.id))),
      grants: yield* Effect.forEach(state.grants, (g) => outcome(repos.oauth2AuthorizationGrants.lookup(g.id))),
      deviceGrants: yield* Effect.forEach(state.deviceGrants, (g) =>
        outcome(repos.oauth2DeviceCodeGrants.lookup(g.id))
      ),
      ...(yield* sessionsFinalState(repos, state)),
      ...(yield* queueFinalState(repos))
    }
  })

/** Runs the sequence from EPOCH with Random seeded by the sequence: one outcome per operation, then the final state. */
export const runSequence = (
  seq: Sequence
): Effect.Effect<ReadonlyArray<unknown>, never, RepositoryAccess | Seed | TestServices> =>
  Effect.gen(function* () {
    yield* TestClock.setTime(EPOCH)
    const repos = yield* RepositoryAccess
    const state = noEntities()
    const results: Array<unknown> = []
    for (const o of seq.ops) results.push(yield* runOp(repos, state, o))
    results.push({ final: yield* finalState(repos, state) })
    return results
  }).pipe(Effect.withRandom(Random.make(seq.seed)))

// ---------------------------------------------------------------------------------------------
// Both backends

// The tables the operations write, children first (TRUNCATE of the whole schema costs ~100 ms; these DELETEs ~1 ms).
const touchedTables = [
  ...queueTables,
  ...sessionsTables,
  "user_emails",
  "oauth2_refresh_tokens",
  "oauth2_access_tokens",
  "oauth2_authorization_grants",
  "oauth2_device_code_grant",
  "oauth2_sessions",
  "oauth2_clients",
  "user_sessions",
  "user_registration_tokens",
  "users"
]

/** Empties the tables the operations write, so one database serves a whole property run. */
export const emptyTables: Effect.Effect<void, unknown, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  for (const table of touchedTables) yield* sql.unsafe(`DELETE FROM ${table}`)
})

export interface Divergence {
  readonly index: number
  readonly op: Op | "final"
  readonly postgres: unknown
  readonly memory: unknown
}

/** The first operation whose outcomes differ (or the final state), if any. */
export const firstDivergence = (
  seq: Sequence,
  postgres: ReadonlyArray<unknown>,
  memory: ReadonlyArray<unknown>
): Option.Option<Divergence> => {
  for (let i = 0; i < Math.max(postgres.length, memory.length); i++) {
    if (JSON.stringify(postgres[i]) !== JSON.stringify(memory[i])) {
      return Option.some({ index: i, op: seq.ops[i] ?? "final", postgres: postgres[i], memory: memory[i] })
    }
  }
  return Option.none()
}

/**
 * Runs one sequence on PostgreSQL (the SqlClient of the environment, emptied first)
 * and on a fresh in-memory backend, returning both outcome lists.
 */
export const runOnBoth = (seq: Sequence) =>
  Effect.gen(function* () {
    yield* Effect.orDie(emptyTables)
    // Seed reads the rows of the tables without a list method (the queue's), on the backend's own store
    const postgres = yield* runSequence(seq).pipe(Effect.provide(Layer.merge(RepositoryAccessPg.layer, SeedPg)))
    const memory = yield* runSequence(seq).pipe(
      Effect.provide(Layer.provideMerge(SeedMemory, RepositoryAccessMemory.layer))
    )
    return { postgres, memory, divergence: firstDivergence(seq, postgres, memory) }
  })
