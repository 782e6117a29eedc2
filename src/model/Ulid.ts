// ULID ids: the branded text form, generation from Clock + Random, time bounds, and the uuid byte mapping used by Postgres.
import { Clock, Effect, Option, ParseResult, Random, Schema } from "effect"

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
/** Character code → base32 digit (canonical uppercase only). */
const DECODE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i
/** Character code → hex digit, either case; -1 for anything else. */
const HEX_DIGIT = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) {
  HEX_DIGIT["0123456789abcdef".charCodeAt(i)] = i
  HEX_DIGIT["0123456789ABCDEF".charCodeAt(i)] = i
}
const BASE32 = Array.from(ALPHABET, (c) => c.charCodeAt(0))
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"))

/** Canonical ULID text: 26 Crockford base32 characters, uppercase, first one 0–7 (128 bits fit). */
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

// Without the `u` flag, `i` folds ASCII letters only: the letters `toUpperCase` maps onto the alphabet (ſ → S) stay out.
const ULID_PATTERN_ANY_CASE = new RegExp(ULID_PATTERN.source, "i")

/** The largest timestamp a ULID can carry (48 bits). */
export const MAX_ULID_TIME = 2 ** 48 - 1

/** A ULID in canonical form. Validating only; use `Ulid` to decode user text (accepts lowercase). */
export const UlidFromSelf = Schema.String.pipe(
  Schema.filter((s) => ULID_PATTERN.test(s), {
    message: (issue) =>
      `Expected a ULID (26 Crockford base32 characters, the first 0-7), got ${JSON.stringify(issue.actual)}`
  }),
  Schema.brand("Ulid"),
  Schema.annotations({ identifier: "Ulid" })
)

export type Ulid = typeof UlidFromSelf.Type

/** Whether `u` is canonical ULID text (what `UlidFromSelf` accepts, so what `UlidFromUuid` can encode). */
export const isUlid = (u: unknown): u is Ulid => typeof u === "string" && ULID_PATTERN.test(u)

/** Decodes ULID text, normalising lowercase to the canonical uppercase form (what cursors accept, too). */
export const Ulid: Schema.Schema<Ulid, string> = Schema.transform(Schema.String, UlidFromSelf, {
  strict: true,
  decode: (s) => (ULID_PATTERN_ANY_CASE.test(s) ? s.toUpperCase() : s),
  encode: (u) => u
}).annotations({ identifier: "UlidFromString" })

/** Parses ULID text (case-insensitive); `none` if it is not one. */
export const parseUlid = (text: string): Option.Option<Ulid> => Option.getRight(Schema.decodeEither(Ulid)(text))

/** Pure core of `generateUlid`: a ULID from a millisecond timestamp and 10 random bytes. Throws RangeError on bad input (a defect). */
export const ulidAt = (millis: number, randomBytes: Uint8Array | ReadonlyArray<number>): Ulid => {
  if (!Number.isSafeInteger(millis) || millis < 0 || millis > MAX_ULID_TIME) {
    throw new RangeError(`ULID timestamp out of range: ${millis}`)
  }
  if (randomBytes.length !== 10) {
    throw new RangeError(`ULID needs 10 random bytes, got ${randomBytes.length}`)
  }
  const bytes = new Uint8Array(16)
  // 48-bit big-endian timestamp: split so no intermediate exceeds 2^53.
  const high = Math.floor(millis / 2 ** 32)
  const low = millis % 2 ** 32
  bytes[0] = (high >>> 8) & 0xff
  bytes[1] = high & 0xff
  bytes[2] = (low >>> 24) & 0xff
  bytes[3] = (low >>> 16) & 0xff
  bytes[4] = (low >>> 8) & 0xff
  bytes[5] = low & 0xff
  for (let i = 0; i < 10; i++) {
    const b = randomBytes[i]!
    if (!Number.isInteger(b) || b < 0 || b > 255) throw new RangeError(`Not a byte: ${b}`)
    bytes[6 + i] = b
  }
  return ulidFromBytes(bytes)
}

/**
 * Text form of 16 bytes (big-endian 128-bit number, 2 leading zero bits to make 130 = 26 × 5). Ids are converted on
 * every row read and written, so this reads 8 bits and emits 5 at a time instead of walking single bits.
 */
export const ulidFromBytes = (bytes: Uint8Array): Ulid => {
  if (bytes.length !== 16) throw new RangeError(`A ULID is 16 bytes, got ${bytes.length}`)
  let out = ""
  // the two leading zero bits are already "read"
  let acc = 0
  let bits = 2
  for (let i = 0; i < 16; i++) {
    acc = ((acc << 8) | bytes[i]!) & 0x1fff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(acc >> bits) & 31]
    }
  }
  return out as Ulid
}

/** The 16 bytes of a ULID (the first character's two high bits, always zero in canonical text, are dropped). */
export const ulidToBytes = (ulid: Ulid): Uint8Array => {
  const bytes = new Uint8Array(16)
  let acc = DECODE[ulid.charCodeAt(0)]! & 7
  let bits = 3
  let j = 0
  for (let i = 1; i < 26; i++) {
    acc = ((acc << 5) | DECODE[ulid.charCodeAt(i)]!) & 0x1fff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      bytes[j++] = (acc >> bits) & 0xff
    }
  }
  return bytes
}

/** Milliseconds since the Unix epoch carried by the ULID (its first 48 bits). */
export const ulidTimestamp = (ulid: Ulid): number => {
  const b = ulidToBytes(ulid)
  return (b[0]! * 2 ** 8 + b[1]!) * 2 ** 32 + ((b[2]! << 24) >>> 0) + (b[3]! << 16) + (b[4]! << 8) + b[5]!
}

/** The ULID timestamp as a Date. */
export const ulidDate = (ulid: Ulid): Date => new Date(ulidTimestamp(ulid))

const clampedMillis = (date: Date): number => {
  const t = date.getTime()
  if (Number.isNaN(t)) throw new RangeError("Invalid Date")
  // Instants outside the ULID range clamp to its ends, which keeps `id < min` / `id > max` filters sensible.
  return Math.min(Math.max(t, 0), MAX_ULID_TIME)
}

/** The smallest ULID of the millisecond of `date` (80 zero bits). */
export const minUlidAt = (date: Date): Ulid => ulidAt(clampedMillis(date), new Uint8Array(10))

/** The greatest ULID of the millisecond of `date` (80 one bits). */
export const maxUlidAt = (date: Date): Ulid => ulidAt(clampedMillis(date), new Uint8Array(10).fill(0xff))

/** A new ULID from `Clock` (now) and 80 bits of `Random`; reproducible under TestClock and a seeded Random. */
export const generateUlid: Effect.Effect<Ulid> = Effect.gen(function* () {
  const millis = yield* Clock.currentTimeMillis
  const random = new Uint8Array(10)
  for (let i = 0; i < 10; i++) random[i] = yield* Random.nextIntBetween(0, 256)
  return ulidAt(millis, random)
})

/** The canonical lowercase uuid holding the same 16 bytes (so uuid order = ULID order). */
export const ulidToUuid = (ulid: Ulid): string => {
  const b = ulidToBytes(ulid)
  const h = (i: number) => HEX_BYTE[b[i]!]!
  return (
    h(0) +
    h(1) +
    h(2) +
    h(3) +
    "-" +
    h(4) +
    h(5) +
    "-" +
    h(6) +
    h(7) +
    "-" +
    h(8) +
    h(9) +
    "-" +
    h(10) +
    h(11) +
    h(12) +
    h(13) +
    h(14) +
    h(15)
  )
}

/** The hex digits `u[from..to)` as a number (at most 8 digits: below 2^32, exact in a double), or -1. */
const hexDigits = (u: string, from: number, to: number): number => {
  let value = 0
  for (let i = from; i < to; i++) {
    const c = u.charCodeAt(i)
    const digit = c < 128 ? HEX_DIGIT[c]! : -1
    if (digit < 0) return -1
    value = value * 16 + digit
  }
  return value
}

/**
 * The ULID holding the bytes of uuid text (8-4-4-4-12 hex digits, either case), or `undefined`. Every id column of
 * every row read goes through it, so it reads the uuid as four 32-bit words and writes the 26 characters directly
 * (two zero bits, then the 128 bits, five a character): always canonical ULID text.
 */
export const ulidOfUuidText = (u: string): Ulid | undefined => {
  if (u.length !== 36) return undefined
  if (u.charCodeAt(8) !== 45 || u.charCodeAt(13) !== 45 || u.charCodeAt(18) !== 45 || u.charCodeAt(23) !== 45) {
    return undefined
  }
  const w0 = hexDigits(u, 0, 8)
  const w1high = hexDigits(u, 9, 13)
  const w1low = hexDigits(u, 14, 18)
  const w2high = hexDigits(u, 19, 23)
  const w2low = hexDigits(u, 24, 28)
  const w3 = hexDigits(u, 28, 36)
  if (w0 < 0 || w1high < 0 || w1low < 0 || w2high < 0 || w2low < 0 || w3 < 0) return undefined
  const w1 = w1high * 65536 + w1low
  const w2 = w2high * 65536 + w2low
  const c = BASE32
  return String.fromCharCode(
    c[w0 >>> 29]!,
    c[(w0 >>> 24) & 31]!,
    c[(w0 >>> 19) & 31]!,
    c[(w0 >>> 14) & 31]!,
    c[(w0 >>> 9) & 31]!,
    c[(w0 >>> 4) & 31]!,
    c[((w0 & 15) << 1) | (w1 >>> 31)]!,
    c[(w1 >>> 26) & 31]!,
    c[(w1 >>> 21) & 31]!,
    c[(w1 >>> 16) & 31]!,
    c[(w1 >>> 11) & 31]!,
    c[(w1 >>> 6) & 31]!,
    c[(w1 >>> 1) & 31]!,
    c[((w1 & 1) << 4) | (w2 >>> 28)]!,
    c[(w2 >>> 23) & 31]!,
    c[(w2 >>> 18) & 31]!,
    c[(w2 >>> 13) & 31]!,
    c[(w2 >>> 8) & 31]!,
    c[(w2 >>> 3) & 31]!,
    c[((w2 & 7) << 2) | (w3 >>> 30)]!,
    c[(w3 >>> 25) & 31]!,
    c[(w3 >>> 20) & 31]!,
    c[(w3 >>> 15) & 31]!,
    c[(w3 >>> 10) & 31]!,
    c[(w3 >>> 5) & 31]!,
    c[w3 & 31]!
  ) as Ulid
}

/** The ULID holding the bytes of a uuid (any case); `none` if the text is not one. */
export const uuidToUlid = (uuid: string): Option.Option<Ulid> => Option.fromNullable(ulidOfUuidText(uuid))

/** Postgres `uuid` column text ⇄ Ulid. */
export const UlidFromUuid: Schema.Schema<Ulid, string> = Schema.transformOrFail(Schema.String, UlidFromSelf, {
  strict: true,
  decode: (uuid, _, ast) =>
    Option.match(uuidToUlid(uuid), {
      onNone: () => ParseResult.fail(new ParseResult.Type(ast, uuid, `Expected a uuid, got ${JSON.stringify(uuid)}`)),
      onSome: ParseResult.succeed
    }),
  encode: (ulid) => ParseResult.succeed(ulidToUuid(ulid as Ulid))
}).annotations({ identifier: "UlidFromUuid" })
