// Stored rows of `oauth2_clients`, shared by both backends: the row Schema, the grant-type flags, the keys (inline or by URI) and the mapping to and from Client.
import { Either, Option, Schema } from "effect"
import {
  Client,
  ClientJwks,
  ClientJwksUri,
  type JwksOrJwksUri,
  type NewClient,
  type StaticClient
} from "../../model/oauth2/client.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import {
  ApplicationType,
  ClientAuthMethod,
  GRANT_TYPES,
  type GrantType,
  Jwks,
  JwsAlg,
  Url
} from "../../model/values.js"
import { storedEntity } from "../common.js"
import { refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"

/** The four boolean grant-type columns of `oauth2_clients`. */
export interface GrantTypeColumns {
  readonly grantTypeAuthorizationCode: boolean
  readonly grantTypeRefreshToken: boolean
  readonly grantTypeClientCredentials: boolean
  readonly grantTypeDeviceCode: boolean
}

/** Grant types read back in `GrantType` order. */
export const grantTypesFromColumns = (columns: GrantTypeColumns): ReadonlyArray<GrantType> => {
  const flags = [
    columns.grantTypeAuthorizationCode,
    columns.grantTypeRefreshToken,
    columns.grantTypeClientCredentials,
    columns.grantTypeDeviceCode
  ]
  return GRANT_TYPES.filter((_, i) => flags[i])
}

export const grantTypesToColumns = (grantTypes: ReadonlyArray<GrantType>): GrantTypeColumns => ({
  grantTypeAuthorizationCode: grantTypes.includes("authorization_code"),
  grantTypeRefreshToken: grantTypes.includes("refresh_token"),
  grantTypeClientCredentials: grantTypes.includes("client_credentials"),
  grantTypeDeviceCode: grantTypes.includes("urn:ietf:params:oauth:grant-type:device_code")
})

/** The `jwks` (JSON) and `jwks_uri` (text) columns: at most one set. */
export interface ClientJwksColumns {
  readonly jwks: unknown | null
  readonly jwksUri: string | null
}

export const decodeClientJwks = (columns: ClientJwksColumns): StateDecodeResult<Option.Option<JwksOrJwksUri>> => {
  const { jwks, jwksUri } = columns
  if (jwks !== null && jwksUri !== null) {
    return Either.left(stateDecodeFailure("jwks_uri", "both jwks and jwks_uri are set"))
  }
  if (jwks !== null) {
    return Schema.decodeUnknownEither(Jwks)(jwks).pipe(
      Either.map((j) => Option.some<JwksOrJwksUri>(new ClientJwks({ jwks: j }))),
      Either.mapLeft(() => stateDecodeFailure("jwks", "not a public JSON Web Key Set"))
    )
  }
  if (jwksUri !== null) {
    return Schema.decodeUnknownEither(Url)(jwksUri).pipe(
      Either.map((uri) => Option.some<JwksOrJwksUri>(new ClientJwksUri({ uri }))),
      Either.mapLeft(() => stateDecodeFailure("jwks_uri", "not an absolute URL"))
    )
  }
  return Either.right(Option.none())
}

export const encodeClientJwks = (jwks: Option.Option<JwksOrJwksUri>): ClientJwksColumns =>
  Option.match(jwks, {
    onNone: () => ({ jwks: null, jwksUri: null }),
    onSome: (j) => (j._tag === "Jwks" ? { jwks: j.jwks, jwksUri: null } : { jwks: null, jwksUri: j.uri })
  })

export const OAUTH2_CLIENTS = "oauth2_clients"

const NullableString = Schema.NullOr(Schema.String)
const NullableUrl = Schema.NullOr(Url)
const NullableAlg = Schema.NullOr(JwsAlg)

const jwksColumns = (row: { readonly jwks: unknown; readonly jwks_uri: string | null }): ClientJwksColumns => ({
  jwks: row.jwks,
  jwksUri: row.jwks_uri
})

/**
 * `oauth2_clients`. URL, enum and algorithm columns are checked by their field; the key pair (`jwks` holding a public
 * key set, never both it and `jwks_uri`) by the row's filter, which names the column it refuses.
 */
export const OAuth2ClientRow = Schema.Struct({
  oauth2_client_id: UlidFromUuid,
  metadata_digest: NullableString,
  encrypted_client_secret: NullableString,
  application_type: Schema.NullOr(ApplicationType),
  redirect_uris: Schema.Array(Url),
  grant_type_authorization_code: Schema.Boolean,
  grant_type_refresh_token: Schema.Boolean,
  grant_type_client_credentials: Schema.Boolean,
  grant_type_device_code: Schema.Boolean,
  client_name: NullableString,
  logo_uri: NullableUrl,
  client_uri: NullableUrl,
  policy_uri: NullableUrl,
  tos_uri: NullableUrl,
  // jsonb: whatever JSON the column holds; the row filter decides whether it is a public key set
  jwks: Schema.NullOr(Schema.Unknown),
  jwks_uri: NullableUrl,
  id_token_signed_response_alg: NullableAlg,
  userinfo_signed_response_alg: NullableAlg,
  token_endpoint_auth_method: Schema.NullOr(ClientAuthMethod),
  token_endpoint_auth_signing_alg: NullableAlg,
  initiate_login_uri: NullableUrl,
  is_static: Schema.Boolean
}).pipe(Schema.filter((row) => refusedState(decodeClientJwks(jwksColumns(row)))))
export type OAuth2ClientRow = typeof OAuth2ClientRow.Type

const storedClient = storedEntity(Client)

/** The keys of a row the filter accepted: built without validating the key set a second time. */
const jwksOfRow = (row: OAuth2ClientRow): Option.Option<JwksOrJwksUri> => {
  if (row.jwks !== null) return Option.some(new ClientJwks({ jwks: row.jwks as Jwks }, true))
  if (row.jwks_uri !== null) return Option.some(new ClientJwksUri({ uri: row.jwks_uri }, true))
  return Option.none()
}

export const clientFromRow = (row: OAuth2ClientRow): Client =>
  storedClient({
    id: row.oauth2_client_id,
    metadataDigest: Option.fromNullable(row.metadata_digest),
    encryptedClientSecret: Option.fromNullable(row.encrypted_client_secret),
    applicationType: Option.fromNullable(row.application_type),
    redirectUris: row.redirect_uris,
    grantTypes: grantTypesFromColumns({
      grantTypeAuthorizationCode: row.grant_type_authorization_code,
      grantTypeRefreshToken: row.grant_type_refresh_token,
      grantTypeClientCredentials: row.grant_type_client_credentials,
      grantTypeDeviceCode: row.grant_type_device_code
    }),
    clientName: Option.fromNullable(row.client_name),
    logoUri: Option.fromNullable(row.logo_uri),
    clientUri: Option.fromNullable(row.client_uri),
    policyUri: Option.fromNullable(row.policy_uri),
    tosUri: Option.fromNullable(row.tos_uri),
    jwks: jwksOfRow(row),
    idTokenSignedResponseAlg: Option.fromNullable(row.id_token_signed_response_alg),
    userinfoSignedResponseAlg: Option.fromNullable(row.userinfo_signed_response_alg),
    tokenEndpointAuthMethod: Option.fromNullable(row.token_endpoint_auth_method),
    tokenEndpointAuthSigningAlg: Option.fromNullable(row.token_endpoint_auth_signing_alg),
    initiateLoginUri: Option.fromNullable(row.initiate_login_uri),
    isStatic: row.is_static
  })

/** The stored row of a client (grant types as their four flags, the keys as their two columns). */
export const clientToRow = (client: Client): OAuth2ClientRow => {
  const grants = grantTypesToColumns(client.grantTypes)
  const keys = Option.getOrNull(client.jwks)
  return {
    oauth2_client_id: client.id,
    metadata_digest: Option.getOrNull(client.metadataDigest),
    encrypted_client_secret: Option.getOrNull(client.encryptedClientSecret),
    application_type: Option.getOrNull(client.applicationType),
    redirect_uris: client.redirectUris,
    grant_type_authorization_code: grants.grantTypeAuthorizationCode,
    grant_type_refresh_token: grants.grantTypeRefreshToken,
    grant_type_client_credentials: grants.grantTypeClientCredentials,
    grant_type_device_code: grants.grantTypeDeviceCode,
    client_name: Option.getOrNull(client.clientName),
    logo_uri: Option.getOrNull(client.logoUri),
    client_uri: Option.getOrNull(client.clientUri),
    policy_uri: Option.getOrNull(client.policyUri),
    tos_uri: Option.getOrNull(client.tosUri),
    jwks: keys?._tag === "Jwks" ? keys.jwks : null,
    jwks_uri: keys?._tag === "JwksUri" ? keys.uri : null,
    id_token_signed_response_alg: Option.getOrNull(client.idTokenSignedResponseAlg),
    userinfo_signed_response_alg: Option.getOrNull(client.userinfoSignedResponseAlg),
    token_endpoint_auth_method: Option.getOrNull(client.tokenEndpointAuthMethod),
    token_endpoint_auth_signing_alg: Option.getOrNull(client.tokenEndpointAuthSigningAlg),
    initiate_login_uri: Option.getOrNull(client.initiateLoginUri),
    is_static: client.isStatic
  }
}

/** The row of a dynamically registered client: grant types stored as flags, so read back deduplicated and in order. */
export const newClientRow = (id: Ulid, params: NewClient): OAuth2ClientRow =>
  clientToRow(storedClient({ id, ...params, isStatic: false }))

/** The columns `upsertStatic` writes, on insert and on conflict alike (every other column keeps its value). */
export type StaticClientColumns = Pick<
  OAuth2ClientRow,
  | "oauth2_client_id"
  | "encrypted_client_secret"
  | "redirect_uris"
  | "grant_type_authorization_code"
  | "grant_type_refresh_token"
  | "grant_type_client_credentials"
  | "grant_type_device_code"
  | "token_endpoint_auth_method"
  | "jwks"
  | "client_name"
  | "client_uri"
  | "jwks_uri"
  | "is_static"
>

/** What `upsertStatic` writes: the listed fields, static, with all four grant types. */
export const staticClientColumns = (params: StaticClient): StaticClientColumns => ({
  oauth2_client_id: params.clientId,
  encrypted_client_secret: Option.getOrNull(params.encryptedClientSecret),
  redirect_uris: params.redirectUris,
  grant_type_authorization_code: true,
  grant_type_refresh_token: true,
  grant_type_client_credentials: true,
  grant_type_device_code: true,
  token_endpoint_auth_method: params.clientAuthMethod,
  jwks: Option.getOrNull(params.jwks),
  client_name: Option.getOrNull(params.clientName),
  client_uri: Option.getOrNull(params.clientUri),
  jwks_uri: Option.getOrNull(params.jwksUri),
  is_static: true
})

/** The row `upsertStatic` leaves: the stored row with the listed columns overwritten, or a new row with nothing else set. */
export const upsertedStaticRow = (
  current: Option.Option<OAuth2ClientRow>,
  columns: StaticClientColumns
): OAuth2ClientRow =>
  Option.match(current, {
    onSome: (row) => ({ ...row, ...columns }),
    onNone: () => ({
      metadata_digest: null,
      application_type: null,
      logo_uri: null,
      policy_uri: null,
      tos_uri: null,
      id_token_signed_response_alg: null,
      userinfo_signed_response_alg: null,
      token_endpoint_auth_signing_alg: null,
      initiate_login_uri: null,
      ...columns
    })
  })
