// A worked example of the data layer: one unit of work that registers a user, paging through their sessions, then an
// OAuth 2.0 authorization-code flow that ends with an access token a request can be checked against, and a legacy
// (compat) SSO login, a welcome email run as a background job by a worker, and both kinds of session listed as the
// user's app sessions.
import { Console, Duration, Effect, Logger, LogLevel, Option, Ref, Schema } from "effect"
import { AuthorizationCode } from "../model/oauth2/authorizationGrant.js"
import { Device, makeScope, ScopeToken, type Url } from "../model/values.js"
import { Pagination } from "../storage/common/Pagination.js"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { jobType, scheduleJob, typedJobHandler } from "../worker/TypedJob.js"
import { runWorker } from "../worker/Worker.js"

/** The example's background job: a welcome email for a new user. */
const WelcomeEmail = jobType("welcome-email", Schema.Struct({ username: Schema.String, address: Schema.String }))

/**
 * Registers a user with an email address and a password, opens a few browser sessions, and
 * lists them two per page. Everything is written in one unit of work: if any step fails,
 * nothing of it is kept.
 */
export const example = (username: string) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess

    const { firstSession, user } = yield* repos.transaction(
      Effect.gen(function* () {
        const user = yield* repos.users.add(username)
        const email = yield* repos.userEmails.add(user, `${username}@example.com`)
        // A real service stores a hash made by its password hasher; version says which scheme made it.
        const password = yield* repos.userPasswords.add(user, 1, "$argon2id$v=19$example-hash", Option.none())
        const sessions = []
        for (const agent of ["Firefox", "Safari", "curl", "Chromium", "Lynx"]) {
          const session = yield* repos.browserSessions.add(user, Option.some(agent))
          yield* repos.browserSessions.authenticateWithPassword(session, password)
          sessions.push(session)
        }
        yield* Console.log(`registered ${user.username} (sub ${user.sub}) with ${email.email}`)
        return { user, firstSession: sessions[0]! }
      })
    )

    let pagination = yield* Pagination.first(2)
    for (let page = 1; ; page++) {
      const sessions = yield* repos.browserSessions.list({ user: user.id }, pagination)
      for (const edge of sessions.edges) {
        yield* Console.log(`page ${page}: session ${edge.cursor} (${Option.getOrElse(edge.node.userAgent, () => "?")})`)
      }
      const lastEdge = sessions.edges.at(-1)
      if (!sessions.hasNextPage || lastEdge === undefined) break
      pagination = pagination.pipe(Pagination.after(lastEdge.cursor))
    }
    yield* Console.log(`${yield* repos.browserSessions.count({ user: user.id })} sessions in all`)

    // An app signs the user in: it is registered, sends the user to authorize, and trades the code for tokens.
    const token = `access-token-for-${user.sub}`
    yield* repos.transaction(
      Effect.gen(function* () {
        const redirectUri = "https://app.example.com/callback" as Url
        const client = yield* repos.oauth2Clients.add({
          metadataDigest: Option.none(),
          encryptedClientSecret: Option.none(),
          applicationType: Option.some("web"),
          redirectUris: [redirectUri],
          grantTypes: ["authorization_code", "refresh_token"],
          clientName: Option.some("Example app"),
          logoUri: Option.none(),
          clientUri: Option.none(),
          policyUri: Option.none(),
          tosUri: Option.none(),
          jwks: Option.none(),
          idTokenSignedResponseAlg: Option.none(),
          userinfoSignedResponseAlg: Option.none(),
          tokenEndpointAuthMethod: Option.some("none"),
          tokenEndpointAuthSigningAlg: Option.none(),
          initiateLoginUri: Option.none()
        })
        const code = `code-for-${user.sub}`
        const grant = yield* repos.oauth2AuthorizationGrants.add({
          client,
          code: Option.some(new AuthorizationCode({ code, pkce: Option.none() })),
          redirectUri,
          scope: makeScope(["openid", "urn:matrix:client:api:*"].map((t) => ScopeToken.make(t))),
          state: Option.some("opaque-state"),
          nonce: Option.none(),
          responseMode: "query",
          responseTypeIdToken: false,
          loginHint: Option.none(),
          locale: Option.none(),
          rawParameters: new Map([["response_type", "code"]])
        })
        // the user consents in the Firefox session; the app then exchanges the code once
        const fulfilled = yield* repos.oauth2AuthorizationGrants.fulfill(firstSession, grant)
        const session = yield* repos.oauth2Sessions.addFromBrowserSession(client, firstSession, fulfilled.scope)
        yield* repos.oauth2AuthorizationGrants.exchange(fulfilled, session)
        const accessToken = yield* repos.oauth2AccessTokens.add(session, token, Option.some(Duration.minutes(5)))
        yield* repos.oauth2RefreshTokens.add(session, accessToken, `refresh-token-for-${user.sub}`)
        yield* Console.log(`client ${client.clientId} signed in with code ${code}: OAuth2 session ${session.id}`)
      })
    )

    // What every authenticated request does: find the token and check it.
    const found = yield* repos.oauth2AccessTokens.findByToken(token)
    const now = new Date(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
    yield* Console.log(
      Option.match(found, {
        onNone: () => "access token not found",
        onSome: (t) => `access token of session ${t.sessionId}: ${t.isValid(now) ? "valid" : "not valid"}`
      })
    )

    // A legacy client signs in through SSO: the login token is fulfilled in the browser, then exchanged for a session.
    yield* repos.transaction(
      Effect.gen(function* () {
        const loginToken = `sso-login-token-for-${user.sub}`
        const login = yield* repos.compatSsoLogins.add(loginToken, "https://legacy.example.com/after-sso" as Url)
        yield* repos.compatSsoLogins.fulfill(login, firstSession)
        const fulfilled = Option.getOrThrow(yield* repos.compatSsoLogins.findByToken(loginToken))
        const device = new Device({ id: "EXAMPLEDEVICE" })
        const session = yield* repos.compatSessions.add(user, device, Option.some(firstSession), false, Option.none())
        yield* repos.compatSsoLogins.exchange(fulfilled, session)
        const accessToken = yield* repos.compatAccessTokens.add(session, `legacy-${token}`, Option.none())
        yield* repos.compatRefreshTokens.add(session, accessToken, `legacy-refresh-token-for-${user.sub}`)
        yield* Console.log(`legacy client on device ${device.id} signed in: compat session ${session.id}`)
      })
    )

    // A background job: the welcome email is queued, and a worker (here in this process, until the queue is idle)
    // takes it and runs its handler.
    yield* repos.transaction(scheduleJob(WelcomeEmail, { username, address: `${username}@example.com` }))
    const sent = yield* Ref.make<ReadonlyArray<string>>([])
    yield* runWorker({ exitWhenIdle: true, pollInterval: Duration.millis(50) }, [
      typedJobHandler(WelcomeEmail, (email) => Ref.update(sent, (xs) => [...xs, email.address]))
    ]).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
    yield* Console.log(`welcome email job run by a worker: ${(yield* Ref.get(sent)).join(", ")}`)

    // Both kinds of session as one list, in id order, as a "your devices" page shows them.
    const apps = yield* repos.appSessions.list({ user: user.id, state: "active" }, yield* Pagination.first(10))
    yield* Console.log(
      `${apps.edges.length} app sessions: ${apps.edges.map((e) => `${e.node._tag} ${e.node.session.id}`).join(", ")}`
    )
  })
