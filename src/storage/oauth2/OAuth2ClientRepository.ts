// The port for registered OAuth 2.0 clients: its filter, the argument checks both backends make, the methods defined through others, and the Tag.
import { Context, Effect, Either, Option, Schema } from "effect"
import {
  type Client,
  type ClientKind,
  ClientJwksUri,
  type JwksOrJwksUri,
  NewClient,
  StaticClient
} from "../../model/oauth2/client.js"
import { parseUlid, type Ulid } from "../../model/Ulid.js"
import type { GrantType, Url } from "../../model/values.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkArgumentIds } from "../common/filters.js"
import { checkMaxBytes, checkWellFormed } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"
import { normaliseUrl } from "../common/url.js"

/** Every criterion optional; a client matches when all set criteria hold (storage rule: Filters). */
export interface OAuth2ClientFilter {
  /** `static`: declared in the configuration (`isStatic`); `dynamic`: registered through dynamic registration. */
  readonly kind?: ClientKind
  /** Case-insensitive substring of the client name, taken literally; a client without a name never matches. */
  readonly clientName?: string
  /** Case-insensitive substring of the client URI, taken literally; a client without one never matches. */
  readonly clientUri?: string
  /** The client may use this grant type (a grant type without a column of its own matches no client, as in MAS). */
  readonly grantType?: GrantType
  /** `true`: at least one unfinished OAuth2 session of the client exists; `false`: none does. */
  readonly hasActiveSessions?: boolean
}

/** Ready-made filters, as MAS offers builders; each adds its criterion to `filter` (default: every client). */
export const OAuth2ClientFilter = {
  all: {} as OAuth2ClientFilter,
  onlyStaticClients: (filter: OAuth2ClientFilter = {}): OAuth2ClientFilter => ({ ...filter, kind: "static" }),
  onlyDynamicClients: (filter: OAuth2ClientFilter = {}): OAuth2ClientFilter => ({ ...filter, kind: "dynamic" }),
  matchingClientName: (clientName: string, filter: OAuth2ClientFilter = {}): OAuth2ClientFilter => ({
    ...filter,
    clientName
  }),
  matchingClientUri: (clientUri: string, filter: OAuth2ClientFilter = {}): OAuth2ClientFilter => ({
    ...filter,
    clientUri
  }),
  withGrantType: (grantType: GrantType, filter: OAuth2ClientFilter = {}): OAuth2ClientFilter => ({
    ...filter,
    grantType
  }),
  withActiveSessions: (hasActiveSessions: boolean, filter: OAuth2ClientFilter = {}): OAuth2ClientFilter => ({
    ...filter,
    hasActiveSessions
  })
}

const invalid = (cause: string) => new InvalidOperationError({ cause: Option.some(cause) })

/** What both backends check before list and count read anything: the kind and the search terms' UTF-16. */
export const checkOAuth2ClientFilter = (filter: OAuth2ClientFilter): Effect.Effect<void, InvalidOperationError> => {
  if (filter.kind !== undefined && filter.kind !== "static" && filter.kind !== "dynamic") {
    return Effect.fail(invalid(`Unknown client kind in filter: ${JSON.stringify(filter.kind)}`))
  }
  if (filter.hasActiveSessions !== undefined && typeof filter.hasActiveSessions !== "boolean") {
    return Effect.fail(invalid("hasActiveSessions must be a boolean"))
  }
  return checkWellFormed({ clientName: filter.clientName, clientUri: filter.clientUri })
}

/**
 * A metadata digest is at most 255 bytes of UTF-8 (MAS's digest is a hex SHA-256, 64 bytes). The column has a unique
 * index: without a limit PostgreSQL would refuse an oversized entry (54000, at a cut-off that depends on compression)
 * while memory has no such limit.
 */
export const METADATA_DIGEST_MAX_BYTES = 255

const decodeArgument =
  <A, I>(schema: Schema.Schema<A, I>, what: string) =>
  (value: unknown): Either.Either<A, InvalidOperationError> =>
    Either.mapLeft(
      Schema.decodeUnknownEither(schema)(value),
      (cause) => new InvalidOperationError({ cause: Option.some(`${what}: ${cause.message}`) })
    )

const decodeNewClient = decodeArgument(NewClient, "Invalid client registration")
const decodeStaticClient = decodeArgument(StaticClient, "Invalid static client")

const optionalUrl = (what: string, url: Option.Option<Url>): Effect.Effect<Option.Option<Url>, InvalidOperationError> =>
  Option.match(url, {
    onNone: () => Effect.succeedNone,
    onSome: (u) => Effect.asSome(normaliseUrl(what, u))
  })

const urls = (what: string, list: ReadonlyArray<Url>): Effect.Effect<ReadonlyArray<Url>, InvalidOperationError> =>
  Effect.forEach(list, (u, i) => normaliseUrl(`${what}[${i}]`, u))

const keys = (jwks: Option.Option<JwksOrJwksUri>): Effect.Effect<Option.Option<JwksOrJwksUri>, InvalidOperationError> =>
  Option.match(jwks, {
    onNone: () => Effect.succeedNone,
    onSome: (j) =>
      j._tag === "Jwks"
        ? Effect.succeedSome(j)
        : Effect.map(normaliseUrl("jwks uri", j.uri), (uri) => Option.some(new ClientJwksUri({ uri }, true)))
  })

/** The texts with rules of their own: well-formed UTF-16 (see `checkWellFormed`) and a digest within its limit. */
const checkTexts = (texts: {
  readonly metadataDigest?: Option.Option<string>
  readonly encryptedClientSecret: Option.Option<string>
  readonly clientName: Option.Option<string>
}) =>
  Effect.zipRight(
    checkWellFormed({
      metadataDigest: Option.getOrNull(texts.metadataDigest ?? Option.none()),
      encryptedClientSecret: Option.getOrNull(texts.encryptedClientSecret),
      clientName: Option.getOrNull(texts.clientName)
    }),
    Option.match(texts.metadataDigest ?? Option.none(), {
      onNone: () => Effect.void,
      onSome: (digest) => checkMaxBytes("metadataDigest", digest, METADATA_DIGEST_MAX_BYTES)
    })
  )

/**
 * A dynamic registration as both backends store it, checked before anything is written: every field of its type
 * (enums, algorithms, a public key set, absolute URLs; otherwise an InvalidOperationError), URLs in their WHATWG form
 * (`normaliseUrl`), texts well-formed and the digest within `METADATA_DIGEST_MAX_BYTES`. Text holding NUL is left for
 * the write to refuse (DriverError 22021, as PostgreSQL refuses it).
 */
export const checkNewClient = (params: NewClient): Effect.Effect<NewClient, InvalidOperationError> =>
  Effect.gen(function* () {
    const decoded = yield* decodeNewClient(params)
    yield* checkTexts(decoded)
    return {
      ...decoded,
      redirectUris: yield* urls("redirectUris", decoded.redirectUris),
      logoUri: yield* optionalUrl("logoUri", decoded.logoUri),
      clientUri: yield* optionalUrl("clientUri", decoded.clientUri),
      policyUri: yield* optionalUrl("policyUri", decoded.policyUri),
      tosUri: yield* optionalUrl("tosUri", decoded.tosUri),
      jwks: yield* keys(decoded.jwks),
      initiateLoginUri: yield* optionalUrl("initiateLoginUri", decoded.initiateLoginUri)
    }
  })

/**
 * A static client as both backends store it, checked as `checkNewClient` checks a registration; a client given both
 * an inline key set and a key-set URI is an InvalidOperationError (a client has one or the other), nothing written.
 */
export const checkStaticClient = (params: StaticClient): Effect.Effect<StaticClient, InvalidOperationError> =>
  Effect.gen(function* () {
    // Canonical text only, as every id argument (the decode below would also take lowercase and normalise it).
    yield* checkArgumentIds({ clientId: params.clientId })
    const decoded = yield* decodeStaticClient(params)
    if (Option.isSome(decoded.jwks) && Option.isSome(decoded.jwksUri)) {
      return yield* Effect.fail(invalid("A static client has either jwks or jwksUri, not both"))
    }
    yield* checkTexts(decoded)
    return {
      ...decoded,
      clientUri: yield* optionalUrl("clientUri", decoded.clientUri),
      jwksUri: yield* optionalUrl("jwksUri", decoded.jwksUri),
      redirectUris: yield* urls("redirectUris", decoded.redirectUris)
    }
  })

export interface OAuth2ClientRepositoryShape {
  /** The client with this id; a malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<Client>, DatabaseError>
  /**
   * `lookup` of the client id read as a ULID, in either case (as MAS parses it); text that is not a ULID (wrong
   * length or characters, a first character beyond 7) is none, nothing read.
   */
  readonly findByClientId: (clientId: string) => Effect.Effect<Option.Option<Client>, DatabaseError>
  /** Exact match on the unique digest. NUL in the text is a DriverError (22021), a lone surrogate an InvalidOperationError. */
  readonly findByMetadataDigest: (digest: string) => Effect.Effect<Option.Option<Client>, DatabaseError>
  /** The clients found among `ids`, by id (missing ids are absent); any malformed id is an InvalidOperationError, nothing read. */
  readonly loadBatch: (ids: ReadonlySet<Ulid>) => Effect.Effect<ReadonlyMap<Ulid, Client>, DatabaseError>
  /**
   * Registers a dynamic client (`isStatic` false) and returns it as `lookup` will read it: URLs in their WHATWG form,
   * grant types deduplicated in GrantType order. A digest another client has is a RowsAffectedError (expected 1,
   * actual 0) that leaves the unit of work usable; arguments that are not of their type (see `checkNewClient`) are an
   * InvalidOperationError; text holding NUL is a DriverError (22021), a key set holding it one too (22P05). Nothing
   * is written on any failure.
   */
  readonly add: (params: NewClient) => Effect.Effect<Client, DatabaseError>
  /**
   * Inserts the client with `params.clientId` or, when it exists, overwrites the fields listed in StaticClient (every
   * other column keeps its value); either way it becomes static with all four grant types. Idempotent; returns the
   * stored client, what `lookup` then returns. Both `jwks` and `jwksUri` given, or arguments not of their type, are an
   * InvalidOperationError; NUL in text a DriverError. Nothing is written on any failure.
   */
  readonly upsertStatic: (params: StaticClient) => Effect.Effect<Client, DatabaseError>
  /** Every static client, in id order. */
  readonly allStatic: () => Effect.Effect<ReadonlyArray<Client>, DatabaseError>
  /** `deleteById(client.id)`. */
  readonly delete: (client: Client) => Effect.Effect<void, DatabaseError>
  /**
   * Deletes the client with everything that hangs on it, in one statement: its authorization grants, the access and
   * refresh tokens of its sessions, its sessions, the access tokens of the personal sessions it owns, those personal
   * sessions, then the client (its device-code grants go with it by the foreign key's cascade). A missing client is a
   * RowsAffectedError (expected 1, actual 0) and nothing is deleted; a malformed id an InvalidOperationError.
   */
  readonly deleteById: (id: Ulid) => Effect.Effect<void, DatabaseError>
  /** One keyset page of the matching clients (storage rule: Pages). */
  readonly list: (filter: OAuth2ClientFilter, pagination: Pagination) => Effect.Effect<Page<Client>, DatabaseError>
  /** How many clients match (storage rule: Counts). */
  readonly count: (filter: OAuth2ClientFilter) => Effect.Effect<number, DatabaseError>
}

/** The methods each backend writes; the others are defined through them, once, by `oAuth2ClientWithDerivedMethods`. */
export type OAuth2ClientRepositoryCore = Omit<OAuth2ClientRepositoryShape, "findByClientId" | "delete">

/** A backend's methods completed with the ones defined through them (`findByClientId`, `delete`), for both backends. */
export const oAuth2ClientWithDerivedMethods = (core: OAuth2ClientRepositoryCore): OAuth2ClientRepositoryShape => ({
  ...core,
  findByClientId: (clientId) =>
    Option.match(parseUlid(clientId), {
      onNone: () => Effect.succeedNone,
      onSome: (id) => core.lookup(id)
    }),
  delete: (client) => core.deleteById(client.id)
})

export class OAuth2ClientRepository extends Context.Tag("storage/OAuth2ClientRepository")<
  OAuth2ClientRepository,
  OAuth2ClientRepositoryShape
>() {}
