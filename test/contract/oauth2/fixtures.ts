// Rows the OAuth2 contract suites start from, made on either backend: users and browser sessions through their
// repositories, and clients, OAuth2 sessions and access tokens seeded as rows, so that each suite depends only on
// the repository it tests.
import { Effect, Option } from "effect"
import { Valid } from "../../../src/model/common.js"
import { AccessToken } from "../../../src/model/oauth2/accessToken.js"
import { Client, type NewClient } from "../../../src/model/oauth2/client.js"
import { OAuth2Session } from "../../../src/model/oauth2/session.js"
import type { BrowserSession, User } from "../../../src/model/user.js"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import { makeScope, type Scope, type ScopeToken } from "../../../src/model/values.js"
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
    const seed = yield* Seed
    const id = yield* generateUlid
    const createdAt = yield* now
    const userId: Ulid | null = options.user?.id ?? options.browserSession?.user.id ?? null
    const tokens = options.scope ?? scope("openid")
    yield* seed.insert("oauth2_sessions", {
      oauth2_session_id: id,
      user_id: userId,
      user_session_id: options.browserSession?.id ?? null,
      oauth2_client_id: client.id,
      scope_list: [...tokens],
      created_at: createdAt,
      finished_at: null,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null,
      human_name: null
    })
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
