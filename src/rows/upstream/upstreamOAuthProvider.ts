// Stored rows of `upstream_oauth_providers`, shared by both backends: the `claims_imports` document (snake_case keys, as MAS serialises it, every member defaulting), the row Schema and the mapping to and from UpstreamOAuthProvider.
import { Either, Option, Schema } from "effect"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import {
  ClaimsImports,
  DiscoveryMode,
  ImportAction,
  LocalpartOnConflict,
  OnBackchannelLogout,
  PkceMode,
  UpstreamOAuthProvider,
  type UpstreamOAuthProviderParams,
  UpstreamResponseMode,
  UpstreamTokenAuthMethod
} from "../../model/upstream.js"
import { JwsAlg, Url } from "../../model/values.js"
import { ScopeListColumn, scopeOfList, storedEntity } from "../common.js"

const template = Schema.optionalWith(Schema.String, { as: "Option", nullable: true })
const action = Schema.optionalWith(ImportAction, { default: () => "ignore" as const })

const StoredSubjectPreference = Schema.Struct({ template })
const StoredImportPreference = Schema.Struct({ action, template })
const StoredLocalpartPreference = Schema.Struct({
  action,
  template,
  onConflict: Schema.optionalWith(LocalpartOnConflict, { default: () => "fail" as const }).pipe(
    Schema.fromKey("on_conflict")
  )
})

// An absent member decodes as a JSON object without members would.
const subject = Schema.optionalWith(StoredSubjectPreference, { default: () => ({ template: Option.none() }) })
const importPreference = Schema.optionalWith(StoredImportPreference, {
  default: () => ({ action: "ignore" as const, template: Option.none() })
})

const StoredClaimsImports = Schema.Struct({
  subject,
  skipConfirmation: Schema.optionalWith(Schema.Boolean, { default: () => false }).pipe(
    Schema.fromKey("skip_confirmation")
  ),
  localpart: Schema.optionalWith(StoredLocalpartPreference, {
    default: () => ({ action: "ignore" as const, template: Option.none(), onConflict: "fail" as const })
  }),
  displayname: importPreference,
  email: importPreference,
  accountName: subject.pipe(Schema.fromKey("account_name"))
})

/** Stored `claims_imports` JSON ⇄ ClaimsImports. */
export const ClaimsImportsFromJson: Schema.Schema<ClaimsImports, unknown> = Schema.compose(
  Schema.Unknown,
  Schema.compose(StoredClaimsImports, ClaimsImports),
  { strict: false }
)

// ---------------------------------------------------------------------------------------------
// The provider row

export const UPSTREAM_OAUTH_PROVIDERS = "upstream_oauth_providers"

const decodeClaimsImports = Schema.decodeUnknownEither(ClaimsImportsFromJson)
const encodeClaimsImports = Schema.encodeSync(ClaimsImportsFromJson)

/** `claims_imports` (jsonb): a document ClaimsImportsFromJson reads (absent members default), else an inconsistency on that column. */
export const ClaimsImportsColumn = Schema.Unknown.pipe(
  Schema.filter((u) => Either.isRight(decodeClaimsImports(u)), {
    message: () => "Expected a claims imports document"
  })
)

/** `additional_parameters` (jsonb): an array of `[name, value]` string pairs, else an inconsistency on that column. */
export const AdditionalParametersColumn = Schema.Array(Schema.Tuple(Schema.String, Schema.String))

const NullableString = Schema.NullOr(Schema.String)
const NullableUrl = Schema.NullOr(Url)
const NullableAlg = Schema.NullOr(JwsAlg)

/** `upstream_oauth_providers`: enums are checked as their stored text, URLs as absolute URLs, the JSON documents by their columns' schemas. */
export const UpstreamOAuthProviderRow = Schema.Struct({
  upstream_oauth_provider_id: UlidFromUuid,
  issuer: NullableString,
  human_name: NullableString,
  brand_name: NullableString,
  discovery_mode: DiscoveryMode,
  pkce_mode: PkceMode,
  jwks_uri_override: NullableUrl,
  authorization_endpoint_override: NullableUrl,
  token_endpoint_override: NullableUrl,
  userinfo_endpoint_override: NullableUrl,
  scope_list: ScopeListColumn,
  fetch_userinfo: Schema.Boolean,
  userinfo_signed_response_alg: NullableAlg,
  client_id: Schema.String,
  encrypted_client_secret: NullableString,
  token_endpoint_signing_alg: NullableAlg,
  token_endpoint_auth_method: UpstreamTokenAuthMethod,
  id_token_signed_response_alg: JwsAlg,
  response_mode: Schema.NullOr(UpstreamResponseMode),
  created_at: Schema.ValidDateFromSelf,
  disabled_at: Schema.NullOr(Schema.ValidDateFromSelf),
  claims_imports: ClaimsImportsColumn,
  additional_parameters: AdditionalParametersColumn,
  forward_login_hint: Schema.Boolean,
  on_backchannel_logout: OnBackchannelLogout,
  registration_token_required: Schema.Boolean,
  ui_order: Schema.Int
})
export type UpstreamOAuthProviderRow = typeof UpstreamOAuthProviderRow.Type

const storedProvider = storedEntity(UpstreamOAuthProvider)

export const upstreamOAuthProviderFromRow = (row: UpstreamOAuthProviderRow): UpstreamOAuthProvider =>
  storedProvider({
    id: row.upstream_oauth_provider_id,
    issuer: Option.fromNullable(row.issuer),
    humanName: Option.fromNullable(row.human_name),
    brandName: Option.fromNullable(row.brand_name),
    discoveryMode: row.discovery_mode,
    pkceMode: row.pkce_mode,
    jwksUriOverride: Option.fromNullable(row.jwks_uri_override),
    authorizationEndpointOverride: Option.fromNullable(row.authorization_endpoint_override),
    scope: scopeOfList(row.scope_list),
    tokenEndpointOverride: Option.fromNullable(row.token_endpoint_override),
    userinfoEndpointOverride: Option.fromNullable(row.userinfo_endpoint_override),
    fetchUserinfo: row.fetch_userinfo,
    userinfoSignedResponseAlg: Option.fromNullable(row.userinfo_signed_response_alg),
    clientId: row.client_id,
    encryptedClientSecret: Option.fromNullable(row.encrypted_client_secret),
    tokenEndpointSigningAlg: Option.fromNullable(row.token_endpoint_signing_alg),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg,
    responseMode: Option.fromNullable(row.response_mode),
    // the row filter accepted the document, so it decodes
    claimsImports: Either.getOrThrow(decodeClaimsImports(row.claims_imports)),
    additionalAuthorizationParameters: row.additional_parameters,
    forwardLoginHint: row.forward_login_hint,
    onBackchannelLogout: row.on_backchannel_logout,
    registrationTokenRequired: row.registration_token_required,
    createdAt: row.created_at,
    disabledAt: Option.fromNullable(row.disabled_at)
  })

/** Every column but the id and the two timestamps: what `add` writes and `upsert` writes or overwrites. */
export type UpstreamOAuthProviderParamsColumns = Omit<
  UpstreamOAuthProviderRow,
  "upstream_oauth_provider_id" | "created_at" | "disabled_at"
>

/** The stored columns of checked parameters (claims imports as their snake_case document, the scope as its list). */
export const providerParamsColumns = (params: UpstreamOAuthProviderParams): UpstreamOAuthProviderParamsColumns => ({
  issuer: Option.getOrNull(params.issuer),
  human_name: Option.getOrNull(params.humanName),
  brand_name: Option.getOrNull(params.brandName),
  discovery_mode: params.discoveryMode,
  pkce_mode: params.pkceMode,
  jwks_uri_override: Option.getOrNull(params.jwksUriOverride),
  authorization_endpoint_override: Option.getOrNull(params.authorizationEndpointOverride),
  token_endpoint_override: Option.getOrNull(params.tokenEndpointOverride),
  userinfo_endpoint_override: Option.getOrNull(params.userinfoEndpointOverride),
  scope_list: [...params.scope],
  fetch_userinfo: params.fetchUserinfo,
  userinfo_signed_response_alg: Option.getOrNull(params.userinfoSignedResponseAlg),
  client_id: params.clientId,
  encrypted_client_secret: Option.getOrNull(params.encryptedClientSecret),
  token_endpoint_signing_alg: Option.getOrNull(params.tokenEndpointSigningAlg),
  token_endpoint_auth_method: params.tokenEndpointAuthMethod,
  id_token_signed_response_alg: params.idTokenSignedResponseAlg,
  response_mode: Option.getOrNull(params.responseMode),
  claims_imports: encodeClaimsImports(params.claimsImports),
  additional_parameters: params.additionalAuthorizationParameters.map(([name, value]) => [name, value] as const),
  forward_login_hint: params.forwardLoginHint,
  on_backchannel_logout: params.onBackchannelLogout,
  registration_token_required: params.registrationTokenRequired,
  ui_order: params.uiOrder
})

/** The row of a new provider: enabled, created `createdAt`. */
export const newUpstreamOAuthProviderRow = (
  id: Ulid,
  createdAt: Date,
  params: UpstreamOAuthProviderParams
): UpstreamOAuthProviderRow => ({
  upstream_oauth_provider_id: id,
  ...providerParamsColumns(params),
  created_at: createdAt,
  disabled_at: null
})

/** The row `upsert` leaves: the stored row with every configurable column overwritten and re-enabled, or a new row. */
export const upsertedUpstreamOAuthProviderRow = (
  current: Option.Option<UpstreamOAuthProviderRow>,
  id: Ulid,
  createdAt: Date,
  params: UpstreamOAuthProviderParams
): UpstreamOAuthProviderRow =>
  Option.match(current, {
    onSome: (row) => ({ ...row, ...providerParamsColumns(params), disabled_at: null }),
    onNone: () => newUpstreamOAuthProviderRow(id, createdAt, params)
  })
