// Cursor ↔ uuid text for the pagination helpers: the same 16 bytes, so uuid order equals ULID order (domain.md §2).
import { Either, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import { InvalidOperationError } from "../../storage/common/errors.js"

// Kept local (only the Ulid type comes from the model) so this layer was built without waiting on
// src/model/Ulid.ts; it must agree with model's ulidToUuid/uuidToUlid (the tests check round trips and ordering).
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const DECODE: Record<string, number> = Object.fromEntries(
  [...CROCKFORD].flatMap((c, i) => [
    [c, i],
    [c.toLowerCase(), i]
  ])
)
const ULID_TEXT = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i
const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

const malformed = (what: string, value: string) =>
  Either.left(new InvalidOperationError({ cause: Option.some(`Malformed ${what}: ${JSON.stringify(value)}`) }))

/** ULID text (any case) → canonical lowercase uuid text. */
export const cursorToUuid = (ulid: string): Either.Either<string, InvalidOperationError> => {
  if (!ULID_TEXT.test(ulid)) return malformed("ULID cursor", ulid)
  let n = 0n
  for (const c of ulid) n = (n << 5n) | BigInt(DECODE[c]!)
  const hex = n.toString(16).padStart(32, "0")
  return Either.right(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`)
}

/** uuid text (as PostgreSQL returns it) → canonical uppercase ULID text. */
export const uuidToCursor = (uuid: string): Either.Either<Ulid, InvalidOperationError> => {
  if (!UUID_TEXT.test(uuid)) return malformed("uuid", uuid)
  let n = BigInt(`0x${uuid.replace(/-/g, "")}`)
  let out = ""
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(n & 31n)]! + out
    n >>= 5n
  }
  // Canonical by construction: 26 alphabet characters, the first 0–7 since only 128 bits are encoded.
  return Either.right(out as Ulid)
}
