// OAuth2 clients: dynamic and static registrations, their grant types and their keys (inline or by URI).
import { Schema } from "effect"
import { OptionalString } from "../common.js"
import { Ulid } from "../Ulid.js"
import { ApplicationType, ClientAuthMethod, GrantType, Jwks, Url } from "../values.js"
import { OptionalAlg, OptionalUrl } from "./shared.js"

export class ClientJwks extends Schema.TaggedClass<ClientJwks>("ClientJwks")("Jwks", { jwks: Jwks }) {}
export class ClientJwksUri extends Schema.TaggedClass<ClientJwksUri>("ClientJwksUri")("JwksUri", { uri: Url }) {}

/** A client's keys: inline, or by reference to where they are published. */
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
