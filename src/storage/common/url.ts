// URLs as both backends store them: the WHATWG serialisation, so two spellings of one URL are one stored text.
import { Effect, Option, Schema } from "effect"
import { Url } from "../../model/values.js"
import { InvalidOperationError } from "./errors.js"

const isUrl = Schema.is(Url)

const notAUrl = (what: string, value: string) =>
  new InvalidOperationError({ cause: Option.some(`${what} is not an absolute URL: ${JSON.stringify(value)}`) })

/**
 * `new URL(value).href`: host lowercased, default port and dot segments dropped, an empty path made `/`.
 * Text that is not a `Url` (unparsable, relative, or holding whitespace or control characters, which the parser
 * would drop silently) is an InvalidOperationError, before anything is sent or written.
 */
export const normaliseUrl = (what: string, value: string): Effect.Effect<Url, InvalidOperationError> => {
  if (!isUrl(value)) return Effect.fail(notAUrl(what, value))
  const href = new URL(value).href
  return isUrl(href) ? Effect.succeed(href) : Effect.fail(notAUrl(what, value))
}
