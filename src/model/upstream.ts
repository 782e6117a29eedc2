// Upstream OAuth2 entities: providers, links to local users, and authorization sessions.
import { Either, Option, Schema } from "effect"
import { copy, OptionalString, OptionalTimestamp, OptionalUlid, Pending, Timestamp } from "./common.js"
import { invalidTransition, type InvalidTransition } from "./errors.js"
import { Ulid } from "./Ulid.js"
import { Json, JwsAlg, ScopeFromSelf, Url } from "./values.js"

type Transition<A> = Either.Either<A, InvalidTransition>
const OptionalUrl = Schema.OptionFromSelf(Url)
const OptionalJson = Schema.OptionFromSelf(Json)

// ---------------------------------------------------------------------------------------------
// Provider enumerations (the strings are the stored text)

export const DiscoveryMode = Schema.Literal("oidc", "insecure", "disabled")
export type DiscoveryMode = typeof DiscoveryMode.Type

export const PkceMode = Schema.Literal("auto", "s256", "disabled")
export type PkceMode = typeof PkceMode.Type

export const UpstreamTokenAuthMethod = Schema.Literal(
  "none",
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt",
  "sign_in_with_apple"
)
export type UpstreamTokenAuthMethod = typeof UpstreamTokenAuthMethod.Type

export const UpstreamResponseMode = Schema.Literal("query", "form_post")
export type UpstreamResponseMode = typeof UpstreamResponseMode.Type

export const OnBackchannelLogout = Schema.Literal("do_nothing", "logout_browser_only", "logout_all")
export type OnBackchannelLogout = typeof OnBackchannelLogout.Type

// ---------------------------------------------------------------------------------------------
// Claims imports: for each attribute, whether and how to take it from the upstream claims.

export const ImportAction = Schema.Literal("ignore", "suggest", "force", "require")
export type ImportAction = typeof ImportAction.Type

export const LocalpartOnConflict = Schema.Literal("fail", "add", "replace", "set")
export type LocalpartOnConflict = typeof LocalpartOnConflict.Type

export class SubjectPreference extends Schema.Class<SubjectPreference>("SubjectPreference")({
  template: OptionalString
}) {}

export class ImportPreference extends Schema.Class<ImportPreference>("ImportPreference")({
  action: ImportAction,
  template: OptionalString
}) {}

export class LocalpartPreference extends Schema.Class<LocalpartPreference>("LocalpartPreference")({
  action: ImportAction,
  template: OptionalString,
  onConflict: LocalpartOnConflict
}) {}

export class ClaimsImports extends Schema.Class<ClaimsImports>("ClaimsImports")({
  subject: SubjectPreference,
  skipConfirmation: Schema.Boolean,
  localpart: LocalpartPreference,
  displayname: ImportPreference,
  email: ImportPreference,
  accountName: SubjectPreference
}) {}

// ---------------------------------------------------------------------------------------------
// Providers

const providerFields = {
  issuer: OptionalString,
  humanName: OptionalString,
  brandName: OptionalString,
  discoveryMode: DiscoveryMode,
  pkceMode: PkceMode,
  jwksUriOverride: OptionalUrl,
  authorizationEndpointOverride: OptionalUrl,
  scope: ScopeFromSelf,
  tokenEndpointOverride: OptionalUrl,
  userinfoEndpointOverride: OptionalUrl,
  fetchUserinfo: Schema.Boolean,
  userinfoSignedResponseAlg: Schema.OptionFromSelf(JwsAlg),
  clientId: Schema.String,
  encryptedClientSecret: OptionalString,
  tokenEndpointSigningAlg: Schema.OptionFromSelf(JwsAlg),
  tokenEndpointAuthMethod: UpstreamTokenAuthMethod,
  idTokenSignedResponseAlg: JwsAlg,
  responseMode: Schema.OptionFromSelf(UpstreamResponseMode),
  claimsImports: Schema.typeSchema(ClaimsImports),
  additionalAuthorizationParameters: Schema.Array(Schema.Tuple(Schema.String, Schema.String)),
  forwardLoginHint: Schema.Boolean,
  onBackchannelLogout: OnBackchannelLogout,
  registrationTokenRequired: Schema.Boolean
}

export class UpstreamOAuthProvider extends Schema.Class<UpstreamOAuthProvider>("UpstreamOAuthProvider")({
  id: Ulid,
  ...providerFields,
  createdAt: Timestamp,
  disabledAt: OptionalTimestamp
}) {
  get isEnabled(): boolean {
    return Option.isNone(this.disabledAt)
  }
}

/** Every configurable field plus `uiOrder` (stored, not part of the entity). */
export const UpstreamOAuthProviderParams = Schema.Struct({ ...providerFields, uiOrder: Schema.Int })
export type UpstreamOAuthProviderParams = typeof UpstreamOAuthProviderParams.Type

/** Stamps `disabledAt` (re-stamps a disabled provider, as the repository's unguarded update does). */
export const disableUpstreamOAuthProvider = (
  provider: UpstreamOAuthProvider,
  now: Date
): Transition<UpstreamOAuthProvider> =>
  Either.right(copy(UpstreamOAuthProvider, provider, { disabledAt: Option.some(now) }))

// ---------------------------------------------------------------------------------------------
// Links

export class UpstreamOAuthLink extends Schema.Class<UpstreamOAuthLink>("UpstreamOAuthLink")({
  id: Ulid,
  providerId: Ulid,
  userId: OptionalUlid,
  subject: Schema.String,
  humanAccountName: OptionalString,
  createdAt: Timestamp
}) {}

export const associateUpstreamOAuthLinkToUser = (link: UpstreamOAuthLink, userId: Ulid): UpstreamOAuthLink =>
  copy(UpstreamOAuthLink, link, { userId: Option.some(userId) })

// ---------------------------------------------------------------------------------------------
// Authorization sessions

const callbackData = {
  idToken: OptionalString,
  idTokenClaims: OptionalJson,
  extraCallbackParameters: OptionalJson,
  userinfo: OptionalJson
}

export class UpstreamSessionCompleted extends Schema.TaggedClass<UpstreamSessionCompleted>("UpstreamSessionCompleted")(
  "Completed",
  {
    completedAt: Timestamp,
    linkId: Ulid,
    ...callbackData
  }
) {}

export class UpstreamSessionConsumed extends Schema.TaggedClass<UpstreamSessionConsumed>("UpstreamSessionConsumed")(
  "Consumed",
  {
    completedAt: Timestamp,
    consumedAt: Timestamp,
    linkId: Ulid,
    ...callbackData
  }
) {}

export class UpstreamSessionUnlinked extends Schema.TaggedClass<UpstreamSessionUnlinked>("UpstreamSessionUnlinked")(
  "Unlinked",
  {
    completedAt: Timestamp,
    consumedAt: OptionalTimestamp,
    unlinkedAt: Timestamp,
    idToken: OptionalString,
    idTokenClaims: OptionalJson
  }
) {}

export const UpstreamSessionState = Schema.Union(
  Pending,
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  UpstreamSessionUnlinked
)
export type UpstreamSessionState = typeof UpstreamSessionState.Type

export class UpstreamOAuthAuthorizationSession extends Schema.Class<UpstreamOAuthAuthorizationSession>(
  "UpstreamOAuthAuthorizationSession"
)({
  id: Ulid,
  state: UpstreamSessionState,
  providerId: Ulid,
  stateStr: Schema.String,
  codeChallengeVerifier: OptionalString,
  nonce: OptionalString,
  createdAt: Timestamp
}) {
  /** The id-token claims, if the session got that far. */
  get idTokenClaims(): Option.Option<Json> {
    return this.state._tag === "Pending" ? Option.none() : this.state.idTokenClaims
  }
}

const withState = (
  session: UpstreamOAuthAuthorizationSession,
  state: UpstreamSessionState
): UpstreamOAuthAuthorizationSession => copy(UpstreamOAuthAuthorizationSession, session, { state })

export interface UpstreamCallbackData {
  readonly idToken: Option.Option<string>
  readonly idTokenClaims: Option.Option<Json>
  readonly extraCallbackParameters: Option.Option<Json>
  readonly userinfo: Option.Option<Json>
}

/** Pending → Completed. */
export const completeUpstreamOAuthAuthorizationSession = (
  session: UpstreamOAuthAuthorizationSession,
  now: Date,
  linkId: Ulid,
  data: UpstreamCallbackData
): Transition<UpstreamOAuthAuthorizationSession> =>
  session.state._tag === "Pending"
    ? Either.right(withState(session, new UpstreamSessionCompleted({ completedAt: now, linkId, ...data })))
    : invalidTransition("UpstreamOAuthAuthorizationSession", session.state._tag, "completeWithLink")

/** Completed → Consumed. */
export const consumeUpstreamOAuthAuthorizationSession = (
  session: UpstreamOAuthAuthorizationSession,
  now: Date
): Transition<UpstreamOAuthAuthorizationSession> => {
  const state = session.state
  return state._tag === "Completed"
    ? Either.right(
        withState(
          session,
          new UpstreamSessionConsumed({
            completedAt: state.completedAt,
            consumedAt: now,
            linkId: state.linkId,
            idToken: state.idToken,
            idTokenClaims: state.idTokenClaims,
            extraCallbackParameters: state.extraCallbackParameters,
            userinfo: state.userinfo
          })
        )
      )
    : invalidTransition("UpstreamOAuthAuthorizationSession", state._tag, "consume")
}

/** Completed or Consumed → Unlinked: what removing the link does to its sessions. */
export const unlinkUpstreamOAuthAuthorizationSession = (
  session: UpstreamOAuthAuthorizationSession,
  now: Date
): Transition<UpstreamOAuthAuthorizationSession> => {
  const state = session.state
  return state._tag === "Completed" || state._tag === "Consumed"
    ? Either.right(
        withState(
          session,
          new UpstreamSessionUnlinked({
            completedAt: state.completedAt,
            consumedAt: state._tag === "Consumed" ? Option.some(state.consumedAt) : Option.none(),
            unlinkedAt: now,
            idToken: state.idToken,
            idTokenClaims: state.idTokenClaims
          })
        )
      )
    : invalidTransition("UpstreamOAuthAuthorizationSession", state._tag, "unlink")
}
