// `npm run bench:profile`: where the time of one repository call goes, layer by layer (a CPU profile of a lookup loop).
import * as fs from "node:fs"
import { Session } from "node:inspector/promises"
import * as os from "node:os"
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, ManagedRuntime, Option, Redacted, Tracer } from "effect"
import pg from "pg"
import { selectDatabase, throwawayDataDir } from "../src/db/DatabaseSelection.js"
import { uuidToUlid } from "../src/model/Ulid.js"
import * as Client from "../src/pg/client.js"
import { declaredQueries } from "../src/pg/queries.js"
import * as RepositoryAccessPg from "../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import { createScratchDatabase, dropLeftovers, fmtUs, median, onAdmin, timed } from "./harness.js"
import { migrateShipped, seedUsersSql } from "./repository.js"

/** A tracer of the application's: Effect's own spans, counted (so that spans are made and kept alive). */
let spansOpened = 0
const builtIn = Effect.runSync(Effect.tracer)
const recording = Tracer.make({
  span: (...args) => {
    spansOpened++
    return builtIn.span(...args)
  },
  context: (f) => f()
})

const CALLS = Number(process.env.PROFILE_CALLS ?? 3000)
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 9)

/** Where a profiled function's code lives, as one of the layers of a repository call. */
const layerOf = (url: string, functionName: string): string => {
  if (functionName === "(idle)") return "idle (waiting for the server)"
  if (functionName === "(garbage collector)") return "garbage collector"
  if (functionName === "(program)" || functionName === "(root)" || url === "") return "V8 / native (unattributed)"
  if (/\/effect\/dist\/.*\/(Schema|ParseResult|SchemaAST)\.js/.test(url)) return "Schema encode/decode"
  if (/\/effect\/dist\/.*\/(tracer|Tracer)\.js/.test(url) || /Span/.test(functionName)) return "spans (Effect tracer)"
  if (url.includes("/node_modules/effect/")) return "Effect runtime (fibers, scopes, context)"
  if (url.includes("/node_modules/@effect/sql-pg/")) return "@effect/sql-pg connection"
  if (url.includes("/node_modules/@effect/sql/")) return "@effect/sql statement (compile, span, acquire)"
  if (/\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//.test(url)) return "pg driver"
  if (url.includes("/src/rows/")) return "our row decoding"
  if (url.includes("/src/")) return "our repository code"
  if (url.startsWith("node:") || !url.includes("/")) return "Node.js I/O (net, streams, timers)"
  return `other (${url.split("/").slice(-2).join("/")})`
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/**
 * Self time per layer, in microseconds, from a V8 CPU profile. A built-in function (no script of its own: JSON.parse,
 * a Promise job) is charged to the nearest caller that has one, so its time lands in the layer that called it.
 */
const selfTimeByLayer = (profile: Profile): Map<string, number> => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const special = new Set(["(idle)", "(garbage collector)", "(program)", "(root)"])
  const layerOfNode = (id: number): string => {
    let node = byId.get(id)!
    while (node.callFrame.url === "" && !special.has(node.callFrame.functionName) && parentOf.has(node.id))
      node = byId.get(parentOf.get(node.id)!)!
    return layerOf(node.callFrame.url, node.callFrame.functionName)
  }
  const out = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const layer = layerOfNode(profile.samples[i]!)
    out.set(layer, (out.get(layer) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  return out
}

const profileOn = async (serverUrl: string) => {
  const db = await createScratchDatabase(serverUrl, "profile")
  const pool = new pg.Pool({ connectionString: db.url, max: 1 })
  const runtimeOf = (preparedStatements: boolean) =>
    ManagedRuntime.make(
      Layer.provideMerge(
        RepositoryAccessPg.layer,
        Client.layer({ url: Redacted.make(db.url), maxConnections: 1, preparedStatements })
      )
    )
  const runtime = runtimeOf(true)
  const unprepared = runtimeOf(false)
  try {
    await migrateShipped(db.url)
    await onAdmin(db.url, (c) => c.query(seedUsersSql(10_000)))
    const uuids = (await pool.query<{ user_id: string }>("SELECT user_id FROM users ORDER BY user_id")).rows.map(
      (r) => r.user_id
    )
    const ids = uuids.map((u) => Option.getOrThrow(uuidToUlid(u)))
    const lookup = declaredQueries.find((q) => q.name === "user.lookup")
    if (lookup?.kind !== "static") throw new Error("no static query user.lookup")
    const text = lookup.text
    const pick = <A>(xs: ReadonlyArray<A>, i: number) => xs[(i * 7919) % xs.length]!

    const loop =
      (
        one: (i: number) => Effect.Effect<unknown, unknown, RepositoryAccess | SqlClient.SqlClient>,
        on: typeof runtime = runtime
      ) =>
      () =>
        timed(() =>
          on.runPromise(
            Effect.gen(function* () {
              for (let i = 0; i < CALLS; i++) yield* one(i)
            })
          )
        )
    const variants: ReadonlyArray<readonly [string, () => Promise<number>]> = [
      [
        "raw pg, unnamed statement",
        () =>
          timed(async () => {
            for (let i = 0; i < CALLS; i++) await pool.query(text, [pick(uuids, i)])
          })
      ],
      [
        "raw pg, named (prepared) statement",
        () =>
          timed(async () => {
            for (let i = 0; i < CALLS; i++) await pool.query({ name: "lookup", text, values: [pick(uuids, i)] })
          })
      ],
      [
        "@effect/sql sql.unsafe, default tracer",
        loop((i) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text, [pick(uuids, i)])))
      ],
      [
        "@effect/sql sql.unsafe, tracer disabled",
        loop((i) =>
          Effect.withTracerEnabled(
            Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text, [pick(uuids, i)])),
            false
          )
        )
      ],
      [
        "repository users.lookup, unprepared",
        loop((i) => Effect.flatMap(RepositoryAccess, (r) => r.users.lookup(pick(ids, i))), unprepared)
      ],
      [
        "repository users.lookup, tracer installed",
        loop((i) =>
          Effect.withTracer(
            Effect.flatMap(RepositoryAccess, (r) => r.users.lookup(pick(ids, i))),
            recording
          )
        )
      ],
      ["repository users.lookup", loop((i) => Effect.flatMap(RepositoryAccess, (r) => r.users.lookup(pick(ids, i))))]
    ]
    const times = new Map<string, Array<number>>(variants.map(([name]) => [name, []]))
    for (const [, run] of variants) await run()
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse()
      for (const [name, run] of order) times.get(name)!.push(await run())
    }
    const base = median(times.get(variants[0]![0])!)
    console.log(`\nUser.lookup at concurrency 1, pool of 1, ${CALLS} calls × ${ROUNDS} rounds (median per call):`)
    for (const [name] of variants) {
      const t = median(times.get(name)!)
      console.log(`  ${name.padEnd(42)} ${fmtUs(t / CALLS).padStart(10)}  ${(t / base).toFixed(2)}×`)
    }

    // The profile covers only the repository loop.
    const session = new Session()
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.setSamplingInterval", { interval: 50 })
    await session.post("Profiler.start")
    const profiled = await variants[variants.length - 1]![1]()
    const { profile } = (await session.post("Profiler.stop")) as { profile: Profile }
    session.disconnect()
    const file = path.join(os.tmpdir(), `mas-profile-${process.pid}.cpuprofile`)
    fs.writeFileSync(file, JSON.stringify(profile))

    const layers = [...selfTimeByLayer(profile).entries()].sort((a, b) => b[1] - a[1])
    const total = layers.reduce((s, [, us]) => s + us, 0)
    console.log(
      `\nCPU profile of ${CALLS} repository users.lookup calls (${profiled.toFixed(0)} ms), self time per layer:`
    )
    for (const [layer, us] of layers) {
      console.log(
        `  ${layer.padEnd(48)} ${fmtUs(us / CALLS / 1000).padStart(10)}/call  ${((100 * us) / total).toFixed(1).padStart(5)} %`
      )
    }
    console.log(`(spans opened by the installed tracer: ${spansOpened})`)
    console.log(`\nprofile written to ${file} (open it in Chrome DevTools or speedscope for the flame graph)`)
  } finally {
    await pool.end()
    await runtime.dispose()
    await unprepared.dispose()
    await db.drop()
    await dropLeftovers(serverUrl)
  }
}

const dataDir = throwawayDataDir()
Effect.runPromise(
  Effect.scoped(
    Effect.flatMap(
      selectDatabase({ fallbacks: ["local", "embedded"], embedded: { dataDir, persistent: false } }),
      (server) => Effect.promise(() => profileOn(server.url))
    )
  ).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true }))))
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
