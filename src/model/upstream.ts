// Upstream OAuth2 entities (domain.md §3.4): providers, links to local users, and authorization sessions.
import { Either, Option, Schema } from "effect"
import { copy, OptionalString, OptionalTimestamp, OptionalUlid, Pending, Timestamp } from "./common.js"
import {
  describeTuple,
  invalidTransition,
  type InvalidTransition,
  stateDecodeFailure,
  type StateDecodeResult
} from "./errors.js"
import { Ulid } from "./Ulid.js"
import { isJson, Json, JwsAlg, ScopeFromSelf, Url } from "./values.js"

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
// Claims imports: a JSON document with snake_case keys (as MAS serialises it); every member defaults.

export const ImportAction = Schema.Literal("ignore", "suggest", "force", "require")
export type ImportAction = typeof ImportAction.Type

export const LocalpartOnConflict = Schema.Literal("fail", "add", "replace", "set")
export type LocalpartOnConflict = typeof LocalpartOnConflict.Type

const template = Schema.optionalWith(Schema.String, { as: "Option", nullable: true })

export class SubjectPreference extends Schema.Class<SubjectPreference>("SubjectPreference")({
  template
}) {}

export class ImportPreference extends Schema.Class<ImportPreference>("ImportPreference")({
  action: Schema.optionalWith(ImportAction, { default: () => "ignore" as const }),
  template
}) {}

export class LocalpartPreference extends Schema.Class<LocalpartPreference>("LocalpartPreference")({
  action: Schema.optionalWith(ImportAction, { default: () => "ignore" as const }),
  template,
  onConflict: Schema.optionalWith(LocalpartOnConflict, { default: () => "fail" as const }).pipe(
    Schema.fromKey("on_conflict")
  )
}) {}

export class ClaimsImports extends Schema.Class<ClaimsImports>("ClaimsImports")({
  subject: Schema.optionalWith(SubjectPreference, { default: () => new SubjectPreference({ template: Option.none() }) }),
  skipConfirmation: Schema.optionalWith(Schema.Boolean, { default: () => false }).pipe(
    Schema.fromKey("skip_confirmation")
  ),
  localpart: Schema.optionalWith(LocalpartPreference, { default: () => new LocalpartPreference({ template: Option.none() }) }),
  displayname: Schema.optionalWith(ImportPreference, { default: () => new ImportPreference({ template: Option.none() }) }),
  email: Schema.optionalWith(ImportPreference, { default: () => new ImportPreference({ template: Option.none() }) }),
  accountName: Schema.optionalWith(SubjectPreference, { default: () => new SubjectPreference({ template: Option.none() }) }).pipe(
    Schema.fromKey("account_name")
  )
}) {}

/** Stored `claims_imports` JSON ⇄ ClaimsImports. */
export const ClaimsImportsFromJson: Schema.Schema<ClaimsImports, unknown> = Schema.compose(
  Schema.Unknown,
  ClaimsImports,
  { strict: false }
)

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
export const disableUpstreamOAuthProvider = (provider: UpstreamOAuthProvider, now: Date): Transition<UpstreamOAuthProvider> =>
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

export class UpstreamSessionCompleted
  extends Schema.TaggedClass<UpstreamSessionCompleted>("UpstreamSessionCompleted")("Completed", {
    completedAt: Timestamp,
    linkId: Ulid,
    ...callbackData
  })
{}

export class UpstreamSessionConsumed
  extends Schema.TaggedClass<UpstreamSessionConsumed>("UpstreamSessionConsumed")("Consumed", {
    completedAt: Timestamp,
    consumedAt: Timestamp,
    linkId: Ulid,
    ...callbackData
  })
{}

export class UpstreamSessionUnlinked
  extends Schema.TaggedClass<UpstreamSessionUnlinked>("UpstreamSessionUnlinked")("Unlinked", {
    completedAt: Timestamp,
    consumedAt: OptionalTimestamp,
    unlinkedAt: Timestamp,
    idToken: OptionalString,
    idTokenClaims: OptionalJson
  })
{}

export const UpstreamSessionState = Schema.Union(
  Pending,
  UpstreamSessionCompleted,
  UpstreamSessionConsumed,
  UpstreamSessionUnlinked
)
export type UpstreamSessionState = typeof UpstreamSessionState.Type

export class UpstreamOAuthAuthorizationSession
  extends Schema.Class<UpstreamOAuthAuthorizationSession>("UpstreamOAuthAuthorizationSession")({
    id: Ulid,
    state: UpstreamSessionState,
    providerId: Ulid,
    stateStr: Schema.String,
    codeChallengeVerifier: OptionalString,
    nonce: OptionalString,
    createdAt: Timestamp
  })
{
  /** The id-token claims, if the session got that far. */
  get idTokenClaims(): Option.Option<Json> {
    return this.state._tag === "Pending" ? Option.none() : this.state.idTokenClaims
  }
}

/** State columns of `upstream_oauth_authorization_sessions` (JSON columns as read, validated here). */
export interface UpstreamSessionStateColumns {
  readonly completedAt: Date | null
  readonly consumedAt: Date | null
  readonly unlinkedAt: Date | null
  readonly upstreamOAuthLinkId: Ulid | null
  readonly idToken: string | null
  readonly idTokenClaims: unknown | null
  readonly extraCallbackParameters: unknown | null
  readonly userinfo: unknown | null
}

export const decodeUpstreamSessionState = (c: UpstreamSessionStateColumns): StateDecodeResult<UpstreamSessionState> => {
  for (const column of ["idTokenClaims", "extraCallbackParameters", "userinfo"] as const) {
    const value = c[column]
    if (value !== null && !isJson(value)) {
      return Either.left(stateDecodeFailure(snake(column), "not a JSON value"))
    }
  }
  const json = (u: unknown): Option.Option<Json> => (u === null ? Option.none() : Option.some(u as Json))
  const data = {
    idToken: Option.fromNullable(c.idToken),
    idTokenClaims: json(c.idTokenClaims),
    extraCallbackParameters: json(c.extraCallbackParameters),
    userinfo: json(c.userinfo)
  }
  const { completedAt, consumedAt, unlinkedAt, upstreamOAuthLinkId: linkId } = c
  const noData = c.idToken === null && c.idTokenClaims === null && c.extraCallbackParameters === null &&
    c.userinfo === null
  if (completedAt === null && consumedAt === null && unlinkedAt === null && linkId === null && noData) {
    return Either.right(new Pending())
  }
  if (completedAt !== null && consumedAt === null && unlinkedAt === null && linkId !== null) {
    return Either.right(new UpstreamSessionCompleted({ completedAt, linkId, ...data }))
  }
  if (completedAt !== null && consumedAt !== null && unlinkedAt === null && linkId !== null) {
    return Either.right(new UpstreamSessionConsumed({ completedAt, consumedAt, linkId, ...data }))
  }
  if (completedAt !== null && unlinkedAt !== null && linkId === null) {
    return Either.right(
      new UpstreamSessionUnlinked({
        completedAt,
        consumedAt: Option.fromNullable(consumedAt),
        unlinkedAt,
        idToken: data.idToken,
        idTokenClaims: data.idTokenClaims
      })
    )
  }
  return Either.left(stateDecodeFailure("state", `impossible upstream session state (${describeTuple(c)})`))
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/**
 * The state columns. An unlinked session does not carry its extra callback parameters and
 * userinfo; the stored values are passed in (`previous`) so they are kept.
 */
export const encodeUpstreamSessionState = (
  state: UpstreamSessionState,
  previous: Pick<UpstreamSessionStateColumns, "extraCallbackParameters" | "userinfo"> = {
    extraCallbackParameters: null,
    userinfo: null
  }
): UpstreamSessionStateColumns => {
  const none = {
    completedAt: null,
    consumedAt: null,
    unlinkedAt: null,
    upstreamOAuthLinkId: null,
    idToken: null,
    idTokenClaims: null,
    extraCallbackParameters: null,
    userinfo: null
  }
  switch (state._tag) {
    case "Pending":
      return none
    case "Completed":
    case "Consumed":
      return {
        ...none,
        completedAt: state.completedAt,
        consumedAt: state._tag === "Consumed" ? state.consumedAt : null,
        upstreamOAuthLinkId: state.linkId,
        idToken: Option.getOrNull(state.idToken),
        idTokenClaims: Option.getOrNull(state.idTokenClaims),
        extraCallbackParameters: Option.getOrNull(state.extraCallbackParameters),
        userinfo: Option.getOrNull(state.userinfo)
      }
    case "Unlinked":
      return {
        ...none,
        completedAt: state.completedAt,
        consumedAt: Option.getOrNull(state.consumedAt),
        unlinkedAt: state.unlinkedAt,
        idToken: Option.getOrNull(state.idToken),
        idTokenClaims: Option.getOrNull(state.idTokenClaims),
        extraCallbackParameters: previous.extraCallbackParameters,
        userinfo: previous.userinfo
      }
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

/** `decode<Entity>State` spelling of the session-state decoder. */
export const decodeUpstreamOAuthAuthorizationSessionState = decodeUpstreamSessionState
export const encodeUpstreamOAuthAuthorizationSessionState = encodeUpstreamSessionState
