// What the CLI prints for a machine and for a refusal: `--json` documents (bigints as strings, dates ISO) and error text.
import { Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"

export const jsonOption = Options.boolean("json").pipe(
  Options.withDescription(
    'print one JSON document on stdout (versions as strings, dates ISO); a refusal is {"error": {"_tag", "message", …}}'
  )
)

/**
 * What a driver error wrapped in `error` says, when it says anything: a SqlError only says "PgClient: Failed to
 * connect", and the reason (refused, unknown database, bad password) is in the driver error it wraps.
 */
export const causeReason = (error: Error): string | undefined => {
  const cause: unknown = error.cause
  if (!(cause instanceof Error)) return undefined
  const code = (cause as { readonly code?: unknown }).code
  const reason = cause.message !== "" ? cause.message : typeof code === "string" ? code : ""
  return reason === "" ? undefined : reason
}

/** An error's message, followed by its cause's when that adds something. */
export const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const reason = causeReason(error)
  return reason === undefined || error.message.includes(reason) ? error.message : `${error.message}: ${reason}`
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

// deep enough for a refusal listing refusals, or a SqlError wrapping a driver error; a cycle stops here
const MAX_DEPTH = 6

/**
 * A value as JSON can hold it: bigints as strings (a version does not fit a double), dates as ISO text, bytes as hex,
 * `Option` as its value or null, errors as `{ _tag, message, …their fields }`.
 */
export const toJson = (value: unknown, depth = 0): unknown => {
  if (depth > MAX_DEPTH) return null
  if (typeof value === "bigint") return value.toString()
  if (value === undefined || typeof value === "function" || typeof value === "symbol") return null
  if (value === null || typeof value !== "object") return value
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (value instanceof Uint8Array) return hex(value)
  if (Option.isOption(value)) return Option.isSome(value) ? toJson(value.value, depth + 1) : null
  if (Array.isArray(value)) return value.map((item) => toJson(item, depth + 1))
  const fields: Record<string, unknown> = {}
  if (value instanceof Error) {
    fields._tag = "_tag" in value && typeof value._tag === "string" ? value._tag : value.name
    fields.message = messageOf(value)
  }
  for (const [key, field] of Object.entries(value)) {
    if (key === "stack" || key in fields) continue
    fields[key] = toJson(field, depth + 1)
  }
  if (value instanceof Error && value.cause !== undefined && !("cause" in fields)) {
    fields.cause = toJson(value.cause, depth + 1)
  }
  return fields
}

/** Prints `document` as the one JSON document of stdout. */
export const printJson = (document: unknown) => Console.log(JSON.stringify(toJson(document), null, 2))

/**
 * Under `--json`, a refusal is printed as `{ "error": … }` on stdout before it ends the program (which still prints
 * its `error:` line on stderr, the log, and exits non-zero).
 */
export const withJsonErrors =
  (json: boolean) =>
  <A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    json ? Effect.tapError(body, (error) => printJson({ error })) : body
