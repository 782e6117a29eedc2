// Shared pieces of the benchmark suite: interleaved A/B rounds, quantiles, scratch databases and a round-trip counter.
import pg from "pg"
import { withDatabase } from "../src/db/probe.js"

/** One line of the final table: a ratio A/B (median over rounds) with its spread and the goal it is held to. */
export interface Row {
  readonly section: string
  readonly name: string
  /** What A and B are, with their medians (e.g. "12.3 µs/op"). */
  readonly a: string
  readonly b: string
  readonly ratio: number
  readonly p25: number
  readonly p75: number
  readonly target: string
  /** undefined when the row is informational (no target). */
  readonly met: boolean | undefined
  readonly note?: string
}

export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((x, y) => x - y)
  if (sorted.length === 0) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export const median = (values: ReadonlyArray<number>) => quantile(values, 0.5)

export interface Interleaved {
  /** Per-round measurements of A and B (whatever unit the runners return, typically ms). */
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
  /** Per-round A/B. */
  readonly ratios: ReadonlyArray<number>
}

/**
 * Runs A and B alternately, `rounds` times, after one unmeasured warm-up of each. The one going first swaps every
 * round, so drift and noise on the shared machine land on both sides alike.
 */
export const interleave = async (
  rounds: number,
  runA: () => Promise<number>,
  runB: () => Promise<number>,
  /** A shorter warm-up, where one full batch of each would cost a round's time for nothing measured. */
  warmUp: { readonly a: () => Promise<unknown>; readonly b: () => Promise<unknown> } = { a: runA, b: runB }
): Promise<Interleaved> => {
  await warmUp.a()
  await warmUp.b()
  const a: Array<number> = []
  const b: Array<number> = []
  const ratios: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    let ta: number
    let tb: number
    if (round % 2 === 0) {
      ta = await runA()
      tb = await runB()
    } else {
      tb = await runB()
      ta = await runA()
    }
    a.push(ta)
    b.push(tb)
    ratios.push(ta / tb)
  }
  return { a, b, ratios }
}

/**
 * `interleave` for several contenders measured in the same rounds: all in one order in even rounds and in the reverse
 * order in odd ones (after one unmeasured warm-up of each), so any two of them swap who goes first every round. Pair
 * any two with `pairOf`.
 */
export const interleaveAll = async <K extends string>(
  rounds: number,
  runners: Readonly<Record<K, () => Promise<number>>>
): Promise<Readonly<Record<K, ReadonlyArray<number>>>> => {
  const keys = Object.keys(runners) as Array<K>
  for (const key of keys) await runners[key]()
  const measured = Object.fromEntries(keys.map((key) => [key, [] as Array<number>])) as Record<K, Array<number>>
  for (let round = 0; round < rounds; round++) {
    for (const key of round % 2 === 0 ? keys : [...keys].reverse()) measured[key].push(await runners[key]())
  }
  return measured
}

/** Two contenders of `interleaveAll` as one A/B result, their ratio taken within each round. */
export const pairOf = <K extends string>(
  measured: Readonly<Record<K, ReadonlyArray<number>>>,
  a: K,
  b: K
): Interleaved => ({
  a: measured[a],
  b: measured[b],
  ratios: measured[a].map((ta, round) => ta / measured[b][round]!)
})

/** `call(0…n-1)` shared among `concurrency` workers, each making its calls one after the other. */
export const runConcurrently = async (
  concurrency: number,
  n: number,
  call: (i: number) => Promise<unknown>
): Promise<void> => {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; i < n; i += concurrency) await call(i)
    })
  )
}

/** Wall time of `f` in milliseconds. */
export const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await f()
  return performance.now() - start
}

/** The median ratio and its p25–p75 spread, as a row. */
export const ratioRow = (
  base: Omit<Row, "ratio" | "p25" | "p75" | "met">,
  result: Interleaved,
  limit: number | undefined
): Row => {
  const ratio = median(result.ratios)
  return {
    ...base,
    ratio,
    p25: quantile(result.ratios, 0.25),
    p75: quantile(result.ratios, 0.75),
    met: limit === undefined ? undefined : ratio <= limit
  }
}

let scratchCounter = 0

/** Runs `f` on the server's admin database with a one-off client. */
export const onAdmin = async <A>(adminUrl: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

export interface ScratchDatabase {
  readonly name: string
  readonly url: string
  readonly drop: () => Promise<void>
}

/** A new empty database on the server (CREATE DATABASE), to be dropped with `drop` (WITH (FORCE): pools may linger). */
export const createScratchDatabase = async (adminUrl: string, label: string): Promise<ScratchDatabase> => {
  const name = `bench_${label}_${process.pid}_${(scratchCounter++).toString(36)}`
  await onAdmin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`))
  created.add(name)
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: async () => {
      await onAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
      created.delete(name)
    }
  }
}

const created = new Set<string>()

/** Drops every scratch database not dropped yet (after a failure or Ctrl-C). */
export const dropLeftovers = async (adminUrl: string): Promise<void> => {
  if (created.size === 0) return
  await onAdmin(adminUrl, async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  })
  created.clear()
}

/**
 * Counts what every pg client of the process sends, @effect/sql-pg's pools included (they use the same `pg` module):
 * each `Client.query` call is one round trip (pg sends Parse/Bind/Describe/Execute/Sync in one flight, and a
 * parameterless multi-statement string as one simple Query), and each `Client.connect` is a new connection (its
 * start-up and authentication exchange).
 */
export const roundTrips = (() => {
  const state = { queries: 0, connects: 0, texts: [] as Array<string>, recording: false }
  const proto = pg.Client.prototype as unknown as {
    query: (...args: Array<unknown>) => unknown
    connect: (...args: Array<unknown>) => unknown
  }
  const query = proto.query
  const connect = proto.connect
  proto.query = function (this: unknown, ...args: Array<unknown>) {
    state.queries++
    if (state.recording) {
      const first = args[0]
      state.texts.push(typeof first === "string" ? first : String((first as { text?: unknown })?.text ?? "<cursor>"))
    }
    return query.apply(this, args)
  }
  proto.connect = function (this: unknown, ...args: Array<unknown>) {
    state.connects++
    return connect.apply(this, args)
  }
  return {
    /** Runs `f` and returns what it sent: round trips, new connections and the statement texts. */
    during: async <A>(f: () => Promise<A>) => {
      const q = state.queries
      const c = state.connects
      state.texts = []
      state.recording = true
      try {
        const value = await f()
        return { value, queries: state.queries - q, connects: state.connects - c, texts: [...state.texts] }
      } finally {
        state.recording = false
      }
    }
  }
})()

export const fmtMs = (ms: number) =>
  ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`
export const fmtUs = (ms: number) => `${(ms * 1000).toFixed(0)} µs`

/** The table, in GitHub markdown (it reads fine in a terminal too). */
export const renderTable = (rows: ReadonlyArray<Row>): string => {
  const header = ["", "benchmark", "A", "B", "A/B (median)", "spread p25–p75", "target", "met"]
  const lines = rows.map((r) => [
    r.section,
    r.name,
    r.a,
    r.b,
    `${r.ratio.toFixed(2)}×`,
    `${r.p25.toFixed(2)}–${r.p75.toFixed(2)}`,
    r.target,
    r.met === undefined ? "–" : r.met ? "yes" : "NO"
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  const notes = rows.filter((r) => r.note !== undefined).map((r) => `- ${r.section} ${r.name}: ${r.note}`)
  return [
    fmt(header),
    fmt(widths.map((w) => "-".repeat(w))),
    ...lines.map(fmt),
    ...(notes.length > 0 ? ["", ...notes] : [])
  ].join("\n")
}
