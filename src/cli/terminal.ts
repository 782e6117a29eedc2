// Colours for the CLI's two streams: on for a terminal, off for a pipe or under NO_COLOR, forced on by FORCE_COLOR.
import { Console, Effect, Layer } from "effect"

export interface ColorEnvironment {
  readonly NO_COLOR?: string | undefined
  readonly FORCE_COLOR?: string | undefined
  readonly TERM?: string | undefined
}

/**
 * Whether to colour what goes to `stream`. As Node itself decides: `FORCE_COLOR` wins (`0` or `false` turn colours
 * off, anything else on), then a non-empty `NO_COLOR` (no-color.org) turns them off, else a terminal that is not
 * `TERM=dumb` gets them. (Effect's pretty logger looks at stdout even when it writes to stderr, and knows neither
 * variable, which is why the program decides this itself.)
 */
export const colorsEnabled = (stream: { readonly isTTY?: boolean | undefined }, env: ColorEnvironment): boolean => {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== "0" && env.FORCE_COLOR.toLowerCase() !== "false"
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false
  return stream.isTTY === true && env.TERM !== "dumb"
}

// SGR sequences only: the styles @effect/printer-ansi writes (bold, colours, reset)
const SGR = /\x1b\[[0-9;]*m/g

export const stripAnsi = (text: string): string => text.replace(SGR, "")

const strip = (args: ReadonlyArray<unknown>): ReadonlyArray<unknown> =>
  args.map((arg) => (typeof arg === "string" ? stripAnsi(arg) : arg))

/**
 * The given console, minus ANSI styles on the streams that should not have colours. @effect/cli styles its help and
 * usage errors whatever the stream is, so this is where a pipe or `NO_COLOR` gets plain text.
 */
export const plainConsole = (
  base: Console.Console,
  colors: { readonly stdout: boolean; readonly stderr: boolean }
): Console.Console => {
  const out = colors.stdout ? (args: ReadonlyArray<unknown>) => args : strip
  const err = colors.stderr ? (args: ReadonlyArray<unknown>) => args : strip
  return {
    ...base,
    debug: (...args) => base.debug(...out(args)),
    info: (...args) => base.info(...out(args)),
    log: (...args) => base.log(...out(args)),
    error: (...args) => base.error(...err(args)),
    warn: (...args) => base.warn(...err(args)),
    trace: (...args) => base.trace(...err(args))
  }
}

/** The process's streams and environment as {@link colorsEnabled} sees them. */
export const processColors = () => ({
  stdout: colorsEnabled(process.stdout, process.env),
  stderr: colorsEnabled(process.stderr, process.env)
})

/** Replaces the console by {@link plainConsole} of it. */
export const plainConsoleLayer = (colors: { readonly stdout: boolean; readonly stderr: boolean }) =>
  Layer.unwrapEffect(Effect.consoleWith((base) => Effect.succeed(Console.setConsole(plainConsole(base, colors)))))
