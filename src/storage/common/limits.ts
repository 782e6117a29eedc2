// Length limits of indexed text, checked the same way by both backends before anything is written.
import { Effect, Option } from "effect"
import { InvalidOperationError } from "./errors.js"

/**
 * A username is at most 255 bytes of UTF-8 (a Matrix user id's own limit). Without a limit the two backends
 * would differ: PostgreSQL refuses a btree entry over ~2.7 kB (after compression, so the cut-off depends on the
 * text) with error 54000, while memory has no such limit.
 */
export const USERNAME_MAX_BYTES = 255

/** An email address is at most 320 bytes of UTF-8 (RFC 5321: 64 for the local part, @, 255 for the domain). */
export const EMAIL_MAX_BYTES = 320

/** Refuses `value` with an InvalidOperationError when its UTF-8 form is longer than `maxBytes`. */
export const checkMaxBytes = (what: string, value: string, maxBytes: number): Effect.Effect<void, InvalidOperationError> => {
  const bytes = Buffer.byteLength(value, "utf8")
  return bytes <= maxBytes
    ? Effect.void
    : Effect.fail(new InvalidOperationError({ cause: Option.some(`${what} is ${bytes} bytes long; at most ${maxBytes} are allowed`) }))
}
