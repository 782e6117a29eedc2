// Rows the compat contract suites start from, made on either backend: compat sessions, SSO logins and tokens seeded as
// rows (so a suite depends only on the repository it tests), or added through their repositories.
import { Effect, Option } from "effect"
import type { Row } from "../../../src/memory/Database.js"
import { Pending, Valid } from "../../../src/model/common.js"
import {
  CompatAccessToken,
  CompatRefreshToken,
  CompatSession,
  CompatSsoLogin,
  CompatSsoLoginExchanged,
  CompatSsoLoginFulfilled
} from "../../../src/model/compat.js"
import type { BrowserSession, User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { Device, type Url } from "../../../src/model/values.js"
import { now } from "../../../src/storage/common/time.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"

export { addBrowserSession, addUser, rolledBack } from "../oauth2/fixtures.js"

/** A device from its id (test data only). */
export const device = (id: string): Device => new Device({ id })

/** The redirect URI of the seeded SSO logins. */
export const REDIRECT_URI = "https://client.example.com/sso/callback" as Url

export interface CompatSessionOptions {
  readonly device?: Option.Option<Device>
  readonly browserSession?: BrowserSession
  readonly isSynapseAdmin?: boolean
  readonly humanName?: Option.Option<string>
}

/**
 * A compat_sessions row of `userId`, seeded as another program could have left it: valid, device `DEVICE`, created at
 * its id's instant, nothing else set, unless `columns` say otherwise. Returns its id.
 */
export const seedCompatSessionRow = (userId: Ulid, columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("compat_sessions", {
      compat_session_id: id,
      user_id: userId,
      device_id: "DEVICE",
      human_name: null,
      user_session_id: null,
      created_at: new Date(ulidTimestamp(id)),
      finished_at: null,
      is_synapse_admin: false,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null,
      ...columns
    })
    return id
  })

/** A valid compat session of `user`, seeded as a row (created now), as CompatSessionRepository would read it back. */
export const seedCompatSession = (
  user: User,
  options: CompatSessionOptions = {}
): Effect.Effect<CompatSession, unknown, Seed> =>
  Effect.gen(function* () {
    const sessionDevice = options.device ?? Option.some(device("DEVICE"))
    const humanName = options.humanName ?? Option.none()
    const isSynapseAdmin = options.isSynapseAdmin ?? false
    const id = yield* seedCompatSessionRow(user.id, {
      device_id: Option.getOrNull(Option.map(sessionDevice, (d) => d.id)),
      human_name: Option.getOrNull(humanName),
      user_session_id: options.browserSession?.id ?? null,
      is_synapse_admin: isSynapseAdmin
    })
    return new CompatSession({
      id,
      state: new Valid(),
      userId: user.id,
      device: sessionDevice,
      humanName,
      userSessionId: Option.fromNullable(options.browserSession?.id),
      createdAt: new Date(ulidTimestamp(id)),
      isSynapseAdmin,
      userAgent: Option.none(),
      lastActiveAt: Option.none(),
      lastActiveIp: Option.none()
    })
  })

/** A compat session of `user` added through CompatSessionRepository (device `DEVICE` unless given). */
export const addCompatSession = (
  user: User,
  options: Omit<CompatSessionOptions, "device"> & { readonly device?: Device } = {}
): Effect.Effect<CompatSession, unknown, RepositoryAccess> =>
  Effect.flatMap(RepositoryAccess, ({ compatSessions }) =>
    compatSessions.add(
      user,
      options.device ?? device("DEVICE"),
      Option.fromNullable(options.browserSession),
      options.isSynapseAdmin ?? false,
      options.humanName ?? Option.none()
    )
  )

/**
 * A compat_sso_logins row, seeded as another program could have left it: pending, with the given token (a fresh one
 * by default) and `REDIRECT_URI`, created at its id's instant, unless `columns` say otherwise. Returns its id.
 */
export const seedCompatSsoLoginRow = (columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("compat_sso_logins", {
      compat_sso_login_id: id,
      login_token: `login-token-${id}`,
      redirect_uri: REDIRECT_URI,
      user_session_id: null,
      compat_session_id: null,
      created_at: new Date(ulidTimestamp(id)),
      fulfilled_at: null,
      exchanged_at: null,
      ...columns
    })
    return id
  })

/** The state columns of an SSO login fulfilled by `browserSessionId` at `fulfilledAt`. */
export const fulfilledLoginColumns = (browserSessionId: Ulid, fulfilledAt: Date): Row => ({
  user_session_id: browserSessionId,
  fulfilled_at: fulfilledAt
})

/** The state columns of an SSO login fulfilled by `browserSessionId`, then exchanged into `sessionId`. */
export const exchangedLoginColumns = (
  browserSessionId: Ulid,
  sessionId: Ulid,
  fulfilledAt: Date,
  exchangedAt: Date = fulfilledAt
): Row => ({
  user_session_id: browserSessionId,
  compat_session_id: sessionId,
  fulfilled_at: fulfilledAt,
  exchanged_at: exchangedAt
})

/**
 * An SSO login seeded as a row (created now), pending, or fulfilled by `browserSession`, or also exchanged into
 * `session` (both at now), as CompatSsoLoginRepository would read it back.
 */
export const seedCompatSsoLogin = (
  options: {
    readonly loginToken?: string
    readonly browserSession?: BrowserSession
    readonly session?: CompatSession
  } = {}
): Effect.Effect<CompatSsoLogin, unknown, Seed> =>
  Effect.gen(function* () {
    const at = yield* now
    const { browserSession, session } = options
    const stateColumns =
      browserSession === undefined
        ? {}
        : session === undefined
          ? fulfilledLoginColumns(browserSession.id, at)
          : exchangedLoginColumns(browserSession.id, session.id, at)
    const id = yield* seedCompatSsoLoginRow({
      ...(options.loginToken === undefined ? {} : { login_token: options.loginToken }),
      ...stateColumns
    })
    const state =
      browserSession === undefined
        ? new Pending()
        : session === undefined
          ? new CompatSsoLoginFulfilled({ fulfilledAt: at, browserSessionId: browserSession.id })
          : new CompatSsoLoginExchanged({ fulfilledAt: at, exchangedAt: at, compatSessionId: session.id })
    return new CompatSsoLogin({
      id,
      redirectUri: REDIRECT_URI,
      loginToken: options.loginToken ?? `login-token-${id}`,
      createdAt: new Date(ulidTimestamp(id)),
      state
    })
  })

/** A compat_access_tokens row of `sessionId` (created now, no expiry unless `columns` say otherwise). Returns its id. */
export const seedCompatAccessTokenRow = (sessionId: Ulid, columns: Row = {}): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("compat_access_tokens", {
      compat_access_token_id: id,
      compat_session_id: sessionId,
      access_token: `access-token-${id}`,
      created_at: new Date(ulidTimestamp(id)),
      expires_at: null,
      ...columns
    })
    return id
  })

/** A valid access token of `session`, seeded as a row (created now, no expiry). */
export const seedCompatAccessToken = (
  session: CompatSession,
  accessToken: string
): Effect.Effect<CompatAccessToken, unknown, Seed> =>
  Effect.gen(function* () {
    const id = yield* seedCompatAccessTokenRow(session.id, { access_token: accessToken })
    return new CompatAccessToken({
      id,
      sessionId: session.id,
      token: accessToken,
      createdAt: new Date(ulidTimestamp(id)),
      expiresAt: Option.none()
    })
  })

/** A compat_refresh_tokens row of `sessionId` and `accessTokenId` (created now, unconsumed unless `columns` say so). */
export const seedCompatRefreshTokenRow = (
  sessionId: Ulid,
  accessTokenId: Ulid,
  columns: Row = {}
): Effect.Effect<Ulid, unknown, Seed> =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("compat_refresh_tokens", {
      compat_refresh_token_id: id,
      compat_session_id: sessionId,
      compat_access_token_id: accessTokenId,
      refresh_token: `refresh-token-${id}`,
      created_at: new Date(ulidTimestamp(id)),
      consumed_at: null,
      ...columns
    })
    return id
  })

/** A valid refresh token of `session` and `accessToken`, seeded as a row (created now). */
export const seedCompatRefreshToken = (
  session: CompatSession,
  accessToken: CompatAccessToken,
  refreshToken: string
): Effect.Effect<CompatRefreshToken, unknown, Seed> =>
  Effect.gen(function* () {
    const id = yield* seedCompatRefreshTokenRow(session.id, accessToken.id, { refresh_token: refreshToken })
    return new CompatRefreshToken({
      id,
      state: new Valid(),
      sessionId: session.id,
      accessTokenId: accessToken.id,
      token: refreshToken,
      createdAt: new Date(ulidTimestamp(id))
    })
  })
