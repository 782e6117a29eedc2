// OAuth2 clients: dynamic and static registrations, their grant-type columns and their keys (inline or by URI).
import { Either, Option, Schema } from "effect"
import { OptionalString } from "../common.js"
import { stateDecodeFailure, type StateDecodeResult } from "../errors.js"
import { Ulid } from "../Ulid.js"
import { ApplicationType, ClientAuthMethod, GRANT_TYPES, GrantType, Jwks, Url } from "../values.js"
import { OptionalAlg, OptionalUrl } from "./shared.js"

export class ClientJwks extends Schema.TaggedClass<ClientJwks>("ClientJwks")("Jwks", { jwks: Jwks }) {}
export class ClientJwksUri extends Schema.TaggedClass<ClientJwksUri>("ClientJwksUri")("JwksUri", { uri: Url }) {}

/** A client's keys: inline (`jwks` column) or by reference (`jwks_uri` column). */
export const JwksOrJwksUri = Schema.Union(ClientJwks, ClientJwksUri)
export type JwksOrJwksUri = typeof JwksOrJwksUri.Type

/** Every client field except `id`, `clientId` and `isStatic`: what dynamic registration supplies. */
const clientFields = {
  metadataDigest: OptionalString,
  encryptedClientSecret: OptionalString,
  applicationType: Schema.OptionFromSelf(ApplicationType),
  redirectUris: Schema.Array(Url),
  grantTypes: Schema.Array(GrantType),
  clientName: OptionalString,
  logoUri: OptionalUrl,
  clientUri: OptionalUrl,
  policyUri: OptionalUrl,
  tosUri: OptionalUrl,
  jwks: Schema.OptionFromSelf(JwksOrJwksUri),
  idTokenSignedResponseAlg: OptionalAlg,
  userinfoSignedResponseAlg: OptionalAlg,
  tokenEndpointAuthMethod: Schema.OptionFromSelf(ClientAuthMethod),
  tokenEndpointAuthSigningAlg: OptionalAlg,
  initiateLoginUri: OptionalUrl
}

export class Client extends Schema.Class<Client>("Client")({
  id: Ulid,
  ...clientFields,
  isStatic: Schema.Boolean
}) {
  /** The public client id: the id's ULID text (not stored). */
  get clientId(): string {
    return this.id
  }
}

export const NewClient = Schema.Struct(clientFields)
export type NewClient = typeof NewClient.Type

/** A client declared in the configuration; `upsertStatic` enables all four grant types. */
export const StaticClient = Schema.Struct({
  clientId: Ulid,
  clientName: OptionalString,
  clientUri: OptionalUrl,
  clientAuthMethod: ClientAuthMethod,
  encryptedClientSecret: OptionalString,
  jwks: Schema.OptionFromSelf(Jwks),
  jwksUri: OptionalUrl,
  redirectUris: Schema.Array(Url)
})
export type StaticClient = typeof StaticClient.Type

export const ClientKind = Schema.Literal("static", "dynamic")
export type ClientKind = typeof ClientKind.Type

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
    onSome: (j) => j._tag === "Jwks" ? { jwks: j.jwks, jwksUri: null } : { jwks: null, jwksUri: j.uri }
  })
