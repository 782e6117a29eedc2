// Cursor ↔ uuid text for the pagination helpers, on the model's ULID ⇄ uuid mapping: the same 16 bytes, so uuid order equals ULID order.
import { Either, Option } from "effect"
import { type Ulid, ulidToUuid, uuidToUlid } from "../../model/Ulid.js"
import { InvalidOperationError } from "../../storage/common/errors.js"
import { readCursor } from "../../storage/common/Pagination.js"

/** ULID text (any case) → canonical lowercase uuid text. */
export const cursorToUuid = (ulid: string): Either.Either<string, InvalidOperationError> =>
  Either.map(readCursor(ulid), ulidToUuid)

/** uuid text (as PostgreSQL returns it) → canonical uppercase ULID text. */
export const uuidToCursor = (uuid: string): Either.Either<Ulid, InvalidOperationError> =>
  Either.fromOption(
    uuidToUlid(uuid),
    () => new InvalidOperationError({ cause: Option.some(`Malformed uuid: ${JSON.stringify(uuid)}`) })
  )
