// The port for configured upstream OAuth 2.0 providers: its filter, the parameter checks both backends make, the method defined through another, and the Tag.
import { Context, Effect, Either, Option, Schema } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import {
  ClaimsImports,
  type UpstreamOAuthProvider,
  UpstreamOAuthProviderParams as ProviderParamsSchema,
  type UpstreamOAuthProviderParams
} from "../../model/upstream.js"
import type { Url } from "../../model/values.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkArgumentIds } from "../common/filters.js"
import { checkWellFormed, MAX_INT4 } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"
import { normaliseUrl } from "../common/url.js"

/** Every criterion optional; a provider matches when all set criteria hold (storage rule: Filters). */
export interface UpstreamOAuthProviderFilter {
  /** `true`: not disabled (`disabledAt` none); `false`: disabled. */
  readonly enabled?: boolean
}

/** Ready-made filters, as MAS offers builders; each adds its criterion to `filter` (default: every provider). */
export const UpstreamOAuthProviderFilter = {
  all: {} as UpstreamOAuthProviderFilter,
  enabledOnly: (filter: UpstreamOAuthProviderFilter = {}): UpstreamOAuthProviderFilter => ({
    ...filter,
    enabled: true
  }),
  disabledOnly: (filter: UpstreamOAuthProviderFilter = {}): UpstreamOAuthProviderFilter => ({
    ...filter,
    enabled: false
  })
}

const invalid = (cause: string) => new InvalidOperationError({ cause: Option.some(cause) })

/** What both backends check before list and count read anything. */
export const checkUpstreamOAuthProviderFilter = (
  filter: UpstreamOAuthProviderFilter
): Effect.Effect<void, InvalidOperationError> =>
  filter.enabled !== undefined && typeof filter.enabled !== "boolean"
    ? Effect.fail(invalid("enabled must be a boolean"))
    : Effect.void

/** The smallest value of an `INTEGER` column (`ui_order`). */
const MIN_INT4 = -2_147_483_648

const decodeParams = (params: unknown): Either.Either<UpstreamOAuthProviderParams, InvalidOperationError> =>
  Either.mapLeft(Schema.decodeUnknownEither(ProviderParamsSchema)(params), (cause) =>
    invalid(`Invalid upstream provider parameters: ${cause.message}`)
  )

const optionalUrl = (what: string, url: Option.Option<Url>): Effect.Effect<Option.Option<Url>, InvalidOperationError> =>
  Option.match(url, {
    onNone: () => Effect.succeedNone,
    onSome: (u) => Effect.asSome(normaliseUrl(what, u))
  })

/**
 * Provider parameters as both backends store them, checked before anything is written: every field of its type (enums
 * as their literals, algorithms, a scope of scope tokens, the claims imports document, parameters as pairs of strings;
 * otherwise an InvalidOperationError), `uiOrder` an integer within the `INTEGER` column's range, the endpoint overrides
 * absolute URLs kept in their WHATWG form (`normaliseUrl`), every text (the ones inside the JSON documents included)
 * well-formed UTF-16. NUL in text is left to the write, which refuses it as PostgreSQL does (a DriverError: 22021 in a
 * text column, 22P05 inside a JSON document).
 */
export const checkUpstreamOAuthProviderParams = (
  params: UpstreamOAuthProviderParams
): Effect.Effect<UpstreamOAuthProviderParams, InvalidOperationError> =>
  Effect.gen(function* () {
    const decoded = yield* decodeParams(params)
    if (decoded.uiOrder < MIN_INT4 || decoded.uiOrder > MAX_INT4) {
      return yield* Effect.fail(
        invalid(`uiOrder must be an integer in ${MIN_INT4}..${MAX_INT4}, got ${decoded.uiOrder}`)
      )
    }
    const claims = decoded.claimsImports
    // The params schema checks the document is a ClaimsImports; encoding it checks every member, which an instance
    // built without validation (`new ClaimsImports(…, true)`) may not hold.
    yield* Either.mapLeft(Schema.encodeUnknownEither(ClaimsImports)(claims), (cause) =>
      invalid(`Invalid upstream provider parameters: claimsImports: ${cause.message}`)
    )
    yield* checkWellFormed({
      issuer: Option.getOrNull(decoded.issuer),
      humanName: Option.getOrNull(decoded.humanName),
      brandName: Option.getOrNull(decoded.brandName),
      clientId: decoded.clientId,
      encryptedClientSecret: Option.getOrNull(decoded.encryptedClientSecret),
      "claimsImports.subject.template": Option.getOrNull(claims.subject.template),
      "claimsImports.localpart.template": Option.getOrNull(claims.localpart.template),
      "claimsImports.displayname.template": Option.getOrNull(claims.displayname.template),
      "claimsImports.email.template": Option.getOrNull(claims.email.template),
      "claimsImports.accountName.template": Option.getOrNull(claims.accountName.template)
    })
    for (const [i, [name, value]] of decoded.additionalAuthorizationParameters.entries()) {
      yield* checkWellFormed({
        [`additionalAuthorizationParameters[${i}][0]`]: name,
        [`additionalAuthorizationParameters[${i}][1]`]: value
      })
    }
    return {
      ...decoded,
      jwksUriOverride: yield* optionalUrl("jwksUriOverride", decoded.jwksUriOverride),
      authorizationEndpointOverride: yield* optionalUrl(
        "authorizationEndpointOverride",
        decoded.authorizationEndpointOverride
      ),
      tokenEndpointOverride: yield* optionalUrl("tokenEndpointOverride", decoded.tokenEndpointOverride),
      userinfoEndpointOverride: yield* optionalUrl("userinfoEndpointOverride", decoded.userinfoEndpointOverride)
    }
  })

/** The id `upsert` is given: canonical ULID text (InvalidOperationError otherwise), checked before the parameters. */
export const checkUpsertId = (id: Ulid): Effect.Effect<void, InvalidOperationError> => checkArgumentIds({ id })

export interface UpstreamOAuthProviderRepositoryShape {
  /** The provider with this id; a malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<UpstreamOAuthProvider>, DatabaseError>
  /**
   * A new enabled provider (created `now`), stored with every field of `params` and its `uiOrder`, returned as `lookup`
   * will read it (URLs in their WHATWG form). Parameters not of their type (see `checkUpstreamOAuthProviderParams`)
   * are an InvalidOperationError; NUL in text a DriverError (22021; 22P05 inside the claims imports or parameters).
   * Nothing is written on any failure.
   */
  readonly add: (params: UpstreamOAuthProviderParams) => Effect.Effect<UpstreamOAuthProvider, DatabaseError>
  /** `deleteById(provider.id)`. */
  readonly delete: (provider: UpstreamOAuthProvider) => Effect.Effect<void, DatabaseError>
  /**
   * Deletes the provider's authorization sessions, then its links, then the provider, in one statement. Browser-session
   * authentications and registrations that named one of those sessions keep their row with the reference cleared (the
   * schema's `ON DELETE SET NULL`, as in MAS). A missing provider is a RowsAffectedError (expected 1, actual 0) and
   * nothing is deleted; a malformed id an InvalidOperationError.
   */
  readonly deleteById: (id: Ulid) => Effect.Effect<void, DatabaseError>
  /**
   * Inserts the provider with `id` (created `now`) or, when it exists, overwrites every configurable field and
   * `uiOrder`, clears `disabledAt` and keeps `createdAt`. Returns the stored provider, what `lookup` then returns; a
   * second identical call changes nothing. A malformed id or parameters not of their type are an
   * InvalidOperationError, NUL in text a DriverError; nothing is written on any failure.
   */
  readonly upsert: (
    id: Ulid,
    params: UpstreamOAuthProviderParams
  ) => Effect.Effect<UpstreamOAuthProvider, DatabaseError>
  /**
   * Stamps `disabledAt = now` (a disabled provider is stamped again, as MAS's unguarded update does) and returns the
   * provider so changed. A provider that is no longer stored is a RowsAffectedError (expected 1, actual 0).
   */
  readonly disable: (provider: UpstreamOAuthProvider) => Effect.Effect<UpstreamOAuthProvider, DatabaseError>
  /** One keyset page of the matching providers (storage rule: Pages). */
  readonly list: (
    filter: UpstreamOAuthProviderFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<UpstreamOAuthProvider>, DatabaseError>
  /** How many providers match (storage rule: Counts). */
  readonly count: (filter: UpstreamOAuthProviderFilter) => Effect.Effect<number, DatabaseError>
  /** Every enabled provider, by `uiOrder`, then id. */
  readonly allEnabled: () => Effect.Effect<ReadonlyArray<UpstreamOAuthProvider>, DatabaseError>
}

/** The methods each backend writes; `delete` is defined through `deleteById`, once, by `upstreamOAuthProviderWithDerivedMethods`. */
export type UpstreamOAuthProviderRepositoryCore = Omit<UpstreamOAuthProviderRepositoryShape, "delete">

/** A backend's methods completed with `delete`, for both backends. */
export const upstreamOAuthProviderWithDerivedMethods = (
  core: UpstreamOAuthProviderRepositoryCore
): UpstreamOAuthProviderRepositoryShape => ({
  ...core,
  delete: (provider) => core.deleteById(provider.id)
})

export class UpstreamOAuthProviderRepository extends Context.Tag("storage/UpstreamOAuthProviderRepository")<
  UpstreamOAuthProviderRepository,
  UpstreamOAuthProviderRepositoryShape
>() {}
