// Shared value types of the domain: addresses, URLs, JSON, scopes, devices, enums and small records.
import { Either, Option, ParseResult, Schema } from "effect"
import { canonicalIp } from "./ip.js"
import { Ulid } from "./Ulid.js"

// ---------------------------------------------------------------------------------------------
// IpAddress

/** An IPv4/IPv6 host address in canonical text form (as PostgreSQL prints `inet`). */
export const IpAddressFromSelf = Schema.String.pipe(
  Schema.filter((s) => canonicalIp(s) === s, {
    message: (issue) => `Expected an IP address in canonical form, got ${JSON.stringify(issue.actual)}`
  }),
  Schema.brand("IpAddress"),
  Schema.annotations({ identifier: "IpAddress" })
)
export type IpAddress = typeof IpAddressFromSelf.Type

/** Decodes any valid IPv4/IPv6 text into its canonical form (e.g. `2001:DB8:0::1` → `2001:db8::1`). */
export const IpAddress: Schema.Schema<IpAddress, string> = Schema.transformOrFail(Schema.String, IpAddressFromSelf, {
  strict: true,
  decode: (s, _, ast) => {
    const canonical = canonicalIp(s)
    return canonical === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, s, `Expected an IPv4 or IPv6 address, got ${JSON.stringify(s)}`))
      : ParseResult.succeed(canonical)
  },
  encode: ParseResult.succeed
}).annotations({ identifier: "IpAddressFromString" })

/** Parses an IP address into canonical form; `none` if invalid. */
export const parseIpAddress = (text: string): Option.Option<IpAddress> => {
  const canonical = canonicalIp(text)
  return canonical === undefined ? Option.none() : Option.some(canonical as IpAddress)
}

// ---------------------------------------------------------------------------------------------
// Url

const isAbsoluteUrl = (s: string): boolean => {
  // The WHATWG parser trims and drops tabs/newlines silently; such text would not round-trip, so refuse it.
  if (s.length === 0 || /[\u0000-\u0020\u007f]/.test(s)) return false
  try {
    new URL(s)
    return true
  } catch {
    return false
  }
}

/** A valid absolute URL, kept exactly as written (no normalisation). */
export const Url = Schema.String.pipe(
  Schema.filter(isAbsoluteUrl, {
    message: (issue) => `Expected an absolute URL, got ${JSON.stringify(issue.actual)}`
  }),
  Schema.brand("Url"),
  Schema.annotations({ identifier: "Url" })
)
export type Url = typeof Url.Type

// ---------------------------------------------------------------------------------------------
// Json

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** Whether `u` is a JSON value: plain objects/arrays of finite numbers, strings, booleans and null. */
export const isJson = (u: unknown): u is Json => {
  if (u === null || typeof u === "boolean" || typeof u === "string") return true
  if (typeof u === "number") return Number.isFinite(u)
  if (Array.isArray(u)) return u.every(isJson)
  if (typeof u === "object") {
    const proto = Object.getPrototypeOf(u)
    if (proto !== Object.prototype && proto !== null) return false
    return Object.values(u as Record<string, unknown>).every(isJson)
  }
  return false
}

export const Json: Schema.Schema<Json> = Schema.declare(isJson, {
  identifier: "Json",
  description: "a JSON value"
})

/** A JSON object (what the job metadata and claims documents are). */
export type JsonObject = { readonly [key: string]: Json }
export const isJsonObject = (u: unknown): u is JsonObject =>
  typeof u === "object" && u !== null && !Array.isArray(u) && isJson(u)

// ---------------------------------------------------------------------------------------------
// Jwks

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const

const isPublicJwks = (u: Json): boolean =>
  isJsonObject(u) &&
  Array.isArray(u["keys"]) &&
  (u["keys"] as ReadonlyArray<Json>).every(
    (key) => isJsonObject(key) && typeof key["kty"] === "string" && PRIVATE_JWK_MEMBERS.every((m) => !(m in key))
  )

/** A public JSON Web Key Set: `{ keys: [...] }`, each key with a `kty` and no private or symmetric material. */
export const Jwks = Json.pipe(
  Schema.filter(isPublicJwks, { message: () => "Expected a public JSON Web Key Set" }),
  Schema.brand("Jwks"),
  Schema.annotations({ identifier: "Jwks" })
)
export type Jwks = typeof Jwks.Type

// ---------------------------------------------------------------------------------------------
// Scope

const isScopeToken = (s: string): boolean => {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // OAuth 2.0 scope-token characters: %x21 / %x23-5B / %x5D-7E
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x5c) return false
  }
  return true
}

/** An RFC 6749 scope token: non-empty printable ASCII except space, `"` and `\`. */
export const ScopeToken = Schema.String.pipe(
  Schema.filter(isScopeToken, {
    message: (issue) => `Invalid scope token ${JSON.stringify(issue.actual)}`
  }),
  Schema.brand("ScopeToken"),
  Schema.annotations({ identifier: "ScopeToken" })
)
export type ScopeToken = typeof ScopeToken.Type

export const parseScopeToken = (text: string): Option.Option<ScopeToken> =>
  isScopeToken(text) ? Option.some(text as ScopeToken) : Option.none()

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const isSortedUnique = (tokens: ReadonlyArray<string>): boolean => {
  for (let i = 1; i < tokens.length; i++) if (!(tokens[i - 1]! < tokens[i]!)) return false
  return true
}

const normaliseTokens = <T extends string>(tokens: Iterable<T>): ReadonlyArray<T> =>
  Array.from(new Set(tokens)).sort(compareStrings)

/** A set of scope tokens, held as a sorted array without duplicates. */
export const ScopeFromSelf = Schema.Array(ScopeToken).pipe(
  Schema.filter(isSortedUnique, { message: () => "Expected a sorted scope without duplicates" }),
  Schema.brand("Scope"),
  Schema.annotations({ identifier: "Scope" })
)
export type Scope = typeof ScopeFromSelf.Type

/**
 * The stored form: a text array (`scope_list`) in any order, duplicates allowed. Decoding fails
 * (ParseError) if a stored token is invalid, which repositories report as an inconsistency on `scope`.
 */
export const Scope: Schema.Schema<Scope, ReadonlyArray<string>> = Schema.transform(
  Schema.Array(ScopeToken),
  ScopeFromSelf,
  {
    strict: true,
    decode: (tokens) => normaliseTokens(tokens),
    encode: (scope) => scope as ReadonlyArray<ScopeToken>
  }
).annotations({ identifier: "ScopeFromList" })

/** Builds a scope from valid tokens (sorted, deduplicated). */
export const makeScope = (tokens: Iterable<ScopeToken>): Scope => normaliseTokens(tokens) as Scope

export const emptyScope: Scope = makeScope([])

/** Parses stored or user tokens; `Left` names the first invalid token. */
export const scopeFromStrings = (tokens: Iterable<string>): Either.Either<Scope, string> => {
  const list = Array.from(tokens)
  const bad = list.find((t) => !isScopeToken(t))
  return bad === undefined ? Either.right(makeScope(list as Array<ScopeToken>)) : Either.left(bad)
}

/** Parses a space-separated scope string (the OAuth `scope` parameter); empty text gives the empty scope. */
export const parseScope = (text: string): Either.Either<Scope, string> =>
  scopeFromStrings(text.split(" ").filter((t) => t.length > 0))

/** The space-separated form. */
export const scopeToString = (scope: Scope): string => scope.join(" ")

export const scopeContains = (scope: Scope, token: string): boolean => scope.includes(token as ScopeToken)

/** Whether `scope` holds every token of `required`. */
export const scopeContainsAll = (scope: Scope, required: Iterable<string>): boolean => {
  for (const token of required) if (!scopeContains(scope, token)) return false
  return true
}

export const scopeUnion = (a: Scope, b: Scope): Scope => makeScope([...a, ...b])

// ---------------------------------------------------------------------------------------------
// Device

/** The scope-token prefixes that carry a Matrix device id (stable and MSC2967 unstable). */
export const DEVICE_SCOPE_PREFIX = "urn:matrix:client:device:"
export const DEVICE_SCOPE_PREFIX_UNSTABLE = "urn:matrix:org.matrix.msc2967.client:device:"

/** A device id that cannot be written as a scope token. */
export class DeviceNotEncodable extends Schema.TaggedError<DeviceNotEncodable>()("DeviceNotEncodable", {
  deviceId: Schema.String
}) {
  override get message(): string {
    return `Device id ${JSON.stringify(this.deviceId)} cannot be encoded as a scope token`
  }
}

/** A Matrix device. Any text is a device id (compat sessions store it as is); encoding into a scope may fail. */
export class Device extends Schema.Class<Device>("Device")({
  id: Schema.String
}) {}

/** The two scope tokens naming the device: `[stable, unstable]`. */
export const deviceToScopeTokens = (
  device: Device
): Either.Either<readonly [ScopeToken, ScopeToken], DeviceNotEncodable> => {
  const stable = DEVICE_SCOPE_PREFIX + device.id
  const unstable = DEVICE_SCOPE_PREFIX_UNSTABLE + device.id
  return isScopeToken(stable) && isScopeToken(unstable)
    ? Either.right([stable as ScopeToken, unstable as ScopeToken] as const)
    : Either.left(new DeviceNotEncodable({ deviceId: device.id }))
}

/** The device named by a scope token (either prefix); `none` for any other token. */
export const deviceFromScopeToken = (token: string): Option.Option<Device> => {
  for (const prefix of [DEVICE_SCOPE_PREFIX, DEVICE_SCOPE_PREFIX_UNSTABLE]) {
    if (token.startsWith(prefix)) return Option.some(new Device({ id: token.slice(prefix.length) }))
  }
  return Option.none()
}

/** Whether the scope holds either token of the device (false when the device cannot be encoded). */
export const scopeHasDevice = (scope: Scope, device: Device): boolean =>
  Either.match(deviceToScopeTokens(device), {
    onLeft: () => false,
    onRight: ([stable, unstable]) => scopeContains(scope, stable) || scopeContains(scope, unstable)
  })

/** The devices named in a scope (deduplicated by id). */
export const devicesInScope = (scope: Scope): ReadonlyArray<Device> => {
  const ids = new Set<string>()
  for (const token of scope) Option.map(deviceFromScopeToken(token), (d) => ids.add(d.id))
  return Array.from(ids, (id) => new Device({ id }))
}

// ---------------------------------------------------------------------------------------------
// Enumerations

/** Every grant type, in the order a client's grant types are read back. */
export const GRANT_TYPES = [
  "authorization_code",
  "refresh_token",
  "client_credentials",
  "urn:ietf:params:oauth:grant-type:device_code"
] as const
export const GrantType = Schema.Literal(...GRANT_TYPES)
export type GrantType = typeof GrantType.Type

export const ApplicationType = Schema.Literal("web", "native")
export type ApplicationType = typeof ApplicationType.Type

export const ResponseMode = Schema.Literal("query", "fragment", "form_post")
export type ResponseMode = typeof ResponseMode.Type

export const ClientAuthMethod = Schema.Literal(
  "none",
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt"
)
export type ClientAuthMethod = typeof ClientAuthMethod.Type

/** The JWS algorithms of the IANA registry (MAS also keeps unknown names; the project rejects them as bad enum text). */
export const JWS_ALGS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "none",
  "EdDSA",
  "ES256K",
  "Ed25519",
  "Ed448"
] as const
export const JwsAlg = Schema.Literal(...JWS_ALGS)
export type JwsAlg = typeof JwsAlg.Type

// ---------------------------------------------------------------------------------------------
// Small records

export const PkceChallengeMethod = Schema.Literal("plain", "S256")
export type PkceChallengeMethod = typeof PkceChallengeMethod.Type

export class Pkce extends Schema.Class<Pkce>("Pkce")({
  challengeMethod: PkceChallengeMethod,
  challenge: Schema.String
}) {}

/** `[sessionId, lastActiveAt, ip]` for the batched activity updates (storage rule: Batched activity). */
export const ActivityRecord = Schema.Tuple(Ulid, Schema.ValidDateFromSelf, Schema.OptionFromSelf(IpAddressFromSelf))
export type ActivityRecord = typeof ActivityRecord.Type

/** `[count, greatest key]` of one batch of a cleanup (storage rule: Cleanups). */
export type CleanupResult<K> = readonly [count: number, last: Option.Option<K>]

/** Sorts activity entries by id, the lock order that keeps concurrent batches from deadlocking. */
export const sortActivity = (activity: ReadonlyArray<ActivityRecord>): ReadonlyArray<ActivityRecord> =>
  [...activity].sort((a, b) => compareStrings(a[0], b[0]))
