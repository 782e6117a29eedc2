// Stored columns of `oauth2_clients` with rules of their own: the four grant-type flags and the keys (inline or by URI).
import { Either, Option, Schema } from "effect"
import { ClientJwks, ClientJwksUri, type JwksOrJwksUri } from "../../model/oauth2/client.js"
import { GRANT_TYPES, type GrantType, Jwks, Url } from "../../model/values.js"
import { stateDecodeFailure, type StateDecodeResult } from "../state.js"

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
