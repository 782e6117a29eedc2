// Rows the OAuth2 contract suites start from, made on either backend: users and browser sessions through their
// repositories, and clients, OAuth2 sessions, tokens and grants seeded as rows, so that each suite depends only on
// the repository it tests.
import { Duration, Effect, Option } from "effect"
import type { Row } from "../../../src/memory/Database.js"
import { Valid } from "../../../src/model/common.js"
import { AccessToken } from "../../../src/model/oauth2/accessToken.js"
import { AuthorizationCode, type NewAuthorizationGrant } from "../../../src/model/oauth2/authorizationGrant.js"
import { Client, type NewClient } from "../../../src/model/oauth2/client.js"
import type { NewDeviceCodeGrant } from "../../../src/model/oauth2/deviceCodeGrant.js"
import { OAuth2Session } from "../../../src/model/oauth2/session.js"
import type { BrowserSession, User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { makeScope, type Scope, type ScopeToken, type Url } from "../../../src/model/values.js"
import { now } from "../../../src/storage/common/time.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed, seedOAuth2Client } from "../../support/seed.js"

/** A scope from token literals (test data only). */
export const scope = (...tokens: ReadonlyArray<string>): Scope => makeScope(tokens as ReadonlyArray<ScopeToken>)

/** A user added through UserRepository. */
export const addUser = (username: string): Effect.Effect<User, unknown, RepositoryAccess> =>
  Effect.flatMap(RepositoryAccess, ({ users }) => users.add(username))

/** A browser session of `user`, added through BrowserSessionRepository. */
export const addBrowserSession = (user: User): Effect.Effect<BrowserSession, unknown, RepositoryAccess> =>
  Effect.flatMap(RepositoryAccess, ({ browserSessions }) => browserSessions.add(user, Option.none()))

/** A dynamic client registration with nothing set but what `overrides` give: no grant type, no redirect URI. */
export const newClient = (overrides: Partial<NewClient> = {}): NewClient => ({
  metadataDigest: Option.none(),
  encryptedClientSecret: Option.none(),
  applicationType: Option.none(),
  redirectUris: [],
  grantTypes: [],
  clientName: Option.none(),
  logoUri: Option.none(),
  clientUri: Option.none(),
  policyUri: Option.none(),
  tosUri: Option.none(),
  jwks: Option.none(),
  idTokenSignedResponseAlg: Option.none(),
  userinfoSignedResponseAlg: Option.none(),
  tokenEndpointAuthMethod: Option.none(),
  tokenEndpointAuthSigningAlg: Option.none(),
  initiateLoginUri: Option.none(),
  ...overrides
})

/**
 * A dynamic client seeded as a row (authorization_code and refresh_token grants, nothing else set), as the entity
 * OAuth2ClientRepository would read back.
 */
export const seedClient: Effect.Effect<Client, unknown, Seed> = Effect.map(
  seedOAuth2Client,
  (id) => new Client({ id, ...newClient({ grantTypes: ["authorization_code", "refresh_token"] }), isStatic: false })
)

/** A valid OAuth2 session of `client`, seeded as a row (created now), for the given user and browser session. */
export const seedOAuth2Session = (
  client: Client,
  options: {
    readonly user?: User
    readonly browserSession?: BrowserSession
    readonly scope?: Scope
  } = {}
): Effect.Effect<OAuth2Session, unknown, Seed> =>
  Effect.gen(function* () {
    const userId: Ulid | null = options.user?.id ?? options.browserSession?.user.id ?? null
    const tokens = options.scope ?? scope("openid")
    const id = yield* seedOAuth2SessionRow(client.id, {
      user_id: userId,
      user_session_id: options.browserSession?.id ?? null,
      scope_list: [...tokens]
    })
    const createdAt = new Date(ulidTimestamp(id))
    return new OAuth2Session({
      id,
      state: new Valid(),
      createdAt,
      userId: Option.fromNullable(userId),
      userSessionId: Option.fromNullable(options.browserSession?.id),
      clientId: client.id,
      scope: tokens,
      userAgent: Option.none(),
      lastActiveAt: Option.none(),
      lastActiveIp: Option.none(),
      humanName: Option.none()
    })
  })

/** A valid access token of `session`, seeded as a row (created now, no expiry). */
export const seedAccessToken = (
  session: OAuth2Session,
  accessToken: string
): Effect.Effect<AccessToken, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    const createdAt = yield* now
    yield* seed.insert("oauth2_access_tokens", {
      oauth2_access_token_id: id,
      oauth2_session_id: session.id,
      access_token: accessToken,
      created_at: createdAt,
      expires_at: null,
      revoked_at: null,
      first_used_at: null
    })
    return new AccessToken({
      id,
      state: new Valid(),
      sessionId: session.id,
      accessToken,
      createdAt,
      expiresAt: Option.none(),
      firstUsedAt: Option.none()
    })
  })

/**
 * An oauth2_sessions row of `clientId`, seeded as another program could have left it: valid, of no user, scope
 * `openid`, created at its id's instant, unless `columns` say otherwise. Returns its id.
 */
export const seedOAuth2SessionRow = (clientId: Ulid, columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("oauth2_sessions", {
      oauth2_session_id: id,
      user_id: null,
      user_session_id: null,
      oauth2_client_id: clientId,
      scope_list: ["openid"],
      created_at: new Date(ulidTimestamp(id)),
      finished_at: null,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null,
      human_name: null,
      ...columns
    })
    return id
  })

/**
 * An oauth2_refresh_tokens row of `sessionId` issued with `accessTokenId`, seeded as another program could have left
 * it: valid, created at its id's instant, unless `columns` say otherwise. Returns its id.
 */
export const seedRefreshTokenRow = (
  sessionId: Ulid,
  accessTokenId: Ulid | null,
  refreshToken: string,
  columns: Row = {}
): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("oauth2_refresh_tokens", {
      oauth2_refresh_token_id: id,
      oauth2_session_id: sessionId,
      oauth2_access_token_id: accessTokenId,
      refresh_token: refreshToken,
      created_at: new Date(ulidTimestamp(id)),
      consumed_at: null,
      revoked_at: null,
      next_oauth2_refresh_token_id: null,
      ...columns
    })
    return id
  })

/**
 * An oauth2_authorization_grants row of `clientId`, seeded as another program could have left it: pending, no code,
 * created at its id's instant, unless `columns` say otherwise. Returns its id.
 */
export const seedAuthorizationGrantRow = (clientId: Ulid, columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("oauth2_authorization_grants", {
      oauth2_authorization_grant_id: id,
      oauth2_client_id: clientId,
      redirect_uri: "https://client.example.com/callback",
      scope_list: ["openid"],
      state: null,
      nonce: null,
      response_mode: "query",
      response_type_code: false,
      response_type_id_token: false,
      authorization_code: null,
      code_challenge: null,
      code_challenge_method: null,
      login_hint: null,
      locale: null,
      raw_parameters: {},
      created_at: new Date(ulidTimestamp(id)),
      fulfilled_at: null,
      exchanged_at: null,
      cancelled_at: null,
      user_session_id: null,
      oauth2_session_id: null,
      ...columns
    })
    return id
  })

/**
 * An oauth2_device_code_grant row of `clientId`, seeded as another program could have left it: pending, its codes
 * named after its id, created at its id's instant and expiring ten minutes later, unless `columns` say otherwise.
 * Returns its id.
 */
export const seedDeviceCodeGrantRow = (clientId: Ulid, columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("oauth2_device_code_grant", {
      oauth2_device_code_grant_id: id,
      oauth2_client_id: clientId,
      scope_list: ["openid"],
      device_code: `device-${id}`,
      user_code: `user-${id}`,
      created_at: new Date(ulidTimestamp(id)),
      expires_at: new Date(ulidTimestamp(id) + 600_000),
      fulfilled_at: null,
      rejected_at: null,
      exchanged_at: null,
      user_session_id: null,
      oauth2_session_id: null,
      ip_address: null,
      user_agent: null,
      locale: null,
      ...columns
    })
    return id
  })

/** The columns of a grant row fulfilled in `browserSessionId` and exchanged into `sessionId`, both at `at`. */
export const exchangedGrantColumns = (browserSessionId: Ulid, sessionId: Ulid, at: Date): Row => ({
  fulfilled_at: at,
  exchanged_at: at,
  user_session_id: browserSessionId,
  oauth2_session_id: sessionId
})

/** What `make` makes inside a unit of work that is then cancelled: an entity that is not stored. */
export const rolledBack = <A>(make: Effect.Effect<A, unknown, RepositoryAccess | Seed>) =>
  Effect.gen(function* () {
    const { transaction } = yield* RepositoryAccess
    const failure = yield* transaction(Effect.flatMap(make, (made) => Effect.fail({ made }))).pipe(Effect.flip)
    return (failure as { made: A }).made
  })

/** The parameters of an authorization grant of `client`: code `code-1` without PKCE, no optional text, unless `overrides` say otherwise. */
export const newAuthorizationGrant = (
  client: Client,
  overrides: Partial<Omit<NewAuthorizationGrant, "client">> = {}
): NewAuthorizationGrant => ({
  client,
  code: Option.some(new AuthorizationCode({ code: "code-1", pkce: Option.none() })),
  redirectUri: "https://client.example.com/callback" as Url,
  scope: scope("openid"),
  state: Option.none(),
  nonce: Option.none(),
  responseMode: "query",
  responseTypeIdToken: false,
  loginHint: Option.none(),
  locale: Option.none(),
  rawParameters: new Map(),
  ...overrides
})

/**
 * The parameters of a device-code grant of `client`: codes named by `n`, scope `openid` and the client API, ten
 * minutes to live, no IP or user agent, unless `overrides` say otherwise.
 */
export const newDeviceCodeGrant = (
  client: Client,
  n: number | string = 1,
  overrides: Partial<Omit<NewDeviceCodeGrant, "client">> = {}
): NewDeviceCodeGrant => ({
  client,
  scope: scope("openid", "urn:matrix:client:api:*"),
  deviceCode: `device-${n}`,
  userCode: `USER-${n}`,
  expiresIn: Duration.minutes(10),
  ipAddress: Option.none(),
  userAgent: Option.none(),
  ...overrides
})
