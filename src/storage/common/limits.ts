// Checks on text arguments, made the same way by both backends before anything is sent or written: UTF-16 that has a
// UTF-8 form, and the length limits of indexed text.
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

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether `text` holds a UTF-16 surrogate that is not half of a pair, which no UTF-8 text can carry. */
export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text)

/**
 * Refuses text arguments (given by name) holding an unpaired surrogate, naming the argument. node-postgres sends text
 * as UTF-8 and writes U+FFFD for such a surrogate, so PostgreSQL would store, compare and return other text than
 * memory keeps (and a lookup would match the U+FFFD spelling). Absent arguments (undefined or null) pass.
 */
export const checkWellFormed = (
  texts: Readonly<Record<string, string | null | undefined>>
): Effect.Effect<void, InvalidOperationError> => {
  for (const [name, text] of Object.entries(texts)) {
    const at = typeof text === "string" ? text.search(LONE_SURROGATE) : -1
    if (at >= 0) {
      const unit = text!.charCodeAt(at).toString(16).toUpperCase()
      return Effect.fail(
        new InvalidOperationError({
          cause: Option.some(`${name} holds an unpaired UTF-16 surrogate (U+${unit} at index ${at}), which has no UTF-8 form`)
        })
      )
    }
  }
  return Effect.void
}

/** Refuses `value` with an InvalidOperationError when its UTF-8 form is longer than `maxBytes`. */
export const checkMaxBytes = (what: string, value: string, maxBytes: number): Effect.Effect<void, InvalidOperationError> => {
  const bytes = Buffer.byteLength(value, "utf8")
  return bytes <= maxBytes
    ? Effect.void
    : Effect.fail(new InvalidOperationError({ cause: Option.some(`${what} is ${bytes} bytes long; at most ${maxBytes} are allowed`) }))
}
