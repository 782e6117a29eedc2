// Repository spans through OpenTelemetry's SDK (in-memory exporter): one per method, with the database attributes, inside the unit of work's span inside the caller's; and the OTLP layer, off without its variable, exporting to a local collector with it.
import * as Statement from "@effect/sql/Statement"
import { describe, expect, it, layer } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { ConfigProvider, Effect, Layer, Option } from "effect"
import { readFile } from "node:fs/promises"
import { isTraced } from "../../src/pg/common/tracing.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import * as Telemetry from "../../src/telemetry/index.js"
import { migratedDatabaseLayer } from "../support/database.js"
import { exportedSpans, localCollector, serviceNames } from "../support/otlpCollector.js"
import { signUp } from "./example.js"

/**
 * The SDK as the tracer with a synchronous processor into `exporter`: every span is there as soon as it ends, until
 * the layer closes (shutting the exporter down empties it).
 */
const inMemoryTracing = (exporter: InMemorySpanExporter) =>
  Telemetry.tracingLayer(() => new SimpleSpanProcessor(exporter), { serviceName: "test" })

/** Runs `effect` under the in-memory SDK and gives the spans it finished. */
const exported = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const exporter = new InMemorySpanExporter()
  return Effect.gen(function* () {
    const result = yield* effect
    return [result, exporter.getFinishedSpans()] as const
  }).pipe(Effect.provide(inMemoryTracing(exporter)))
}

const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromJson(env))

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId

const named = (spans: ReadonlyArray<ReadableSpan>, name: string): ReadonlyArray<ReadableSpan> =>
  spans.filter((s) => s.name === name)

const only = (spans: ReadonlyArray<ReadableSpan>, name: string): ReadableSpan => {
  const found = named(spans, name)
  expect([name, found.length]).toEqual([name, 1])
  return found[0]!
}

/** Effect's built-in tracer, which every fiber has until a program installs another. */
const builtIn = Effect.runSync(Effect.tracer)

/** Whether the fiber's spans would reach an installed tracer, as the repositories decide. */
const traced = Effect.withFiberRuntime<boolean>((fiber) => Effect.succeed(isTraced(fiber)))

const repositoryMethods = ["db.user.add", "db.userEmail.add", "db.user.lock"]

layer(Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer()))("OpenTelemetry SDK", (it) => {
  it.effect(
    "one span per repository method with db.system, db.operation.name and db.query.text, each a child of the unit of work's span, a child of the caller's",
    () =>
      Effect.gen(function* () {
        const [user, spans] = yield* exported(signUp("alice").pipe(Effect.withSpan("caller")))
        expect(Option.isSome(user.lockedAt)).toBe(true)

        const caller = only(spans, "caller")
        const operation = only(spans, "signUp")
        const unit = only(spans, "sql.transaction")
        expect(parentOf(caller)).toBeUndefined()
        expect(parentOf(operation)).toBe(caller.spanContext().spanId)
        expect(parentOf(unit)).toBe(operation.spanContext().spanId)
        for (const span of spans) expect(span.spanContext().traceId).toBe(caller.spanContext().traceId)

        // nothing else: the method spans and, below each, @effect/sql's statement span
        expect(spans.map((s) => s.name).filter((n) => n.startsWith("db."))).toEqual(repositoryMethods)
        for (const name of repositoryMethods) {
          const method = only(spans, name)
          expect([name, parentOf(method)]).toEqual([name, unit.spanContext().spanId])
          expect(method.attributes["db.system"]).toBe("postgresql")
          expect(method.attributes["db.system.name"]).toBe("postgresql")
          expect(method.attributes["db.operation.name"]).toBe(name.split(".")[2])
          const statements = spans.filter(
            (s) => s.name === "sql.execute" && parentOf(s) === method.spanContext().spanId
          )
          expect([name, statements.length]).toEqual([name, 1])
          expect(method.attributes["db.query.text"]).toBe(statements[0]!.attributes["db.query.text"])
        }
        expect(String(only(spans, "db.user.add").attributes["db.query.text"])).toMatch(/^INSERT INTO users /)
        expect(String(only(spans, "db.userEmail.add").attributes["db.query.text"])).toMatch(/^INSERT INTO user_emails /)
        expect(String(only(spans, "db.user.lock").attributes["db.query.text"])).toMatch(/^UPDATE users SET locked_at/)
        expect(spans.filter((s) => s.name === "sql.execute").length).toBe(3)
      })
  )

  it.effect(
    "without the tracer installed no repository span is opened: no statement span either, and the exporter gets nothing",
    () =>
      Effect.gen(function* () {
        const statementSpans: Array<string> = []
        const counting = Statement.withTransformer((statement, _sql, _refs, span) => {
          statementSpans.push(span.name)
          return Effect.succeed(statement)
        })
        // under the SDK: a statement span each, and the repository spans exported
        const [, spans] = yield* exported(signUp("bob").pipe(Effect.withSpan("caller"), counting))
        expect(statementSpans).toEqual(["sql.execute", "sql.execute", "sql.execute"])
        expect(spans.map((s) => s.name).filter((n) => n.startsWith("db."))).toEqual(repositoryMethods)

        // once the layer has closed the tracer is Effect's own again: the same call opens no repository or statement
        // span (its statements go straight to their connection)
        expect(yield* traced).toBe(false)
        statementSpans.length = 0
        const exporter = new InMemorySpanExporter()
        const [, untraced] = yield* Effect.gen(function* () {
          // the SDK is up, but the call runs with Effect's own tracer
          const result = yield* signUp("carol").pipe(Effect.withSpan("caller"), counting, Effect.withTracer(builtIn))
          return [result, exporter.getFinishedSpans()] as const
        }).pipe(Effect.provide(inMemoryTracing(exporter)))
        expect(statementSpans).toEqual([])
        expect(untraced).toEqual([])
        yield* signUp("erin").pipe(Effect.withSpan("caller"), counting)
        expect(statementSpans).toEqual([])
      })
  )

  it.scoped(
    "through the OTLP layer: the spans reach a local collector's POST /v1/traces once the layer's scope closes",
    () =>
      Effect.gen(function* () {
        const collector = yield* localCollector
        yield* signUp("dave").pipe(
          Effect.withSpan("caller"),
          // batched: nothing is sent yet (the batch waits 5 seconds or 512 spans)
          Effect.tap(() => expect(collector.requests).toEqual([])),
          Effect.provide(Telemetry.layer),
          withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: "otel-test" })
        )
        // the layer closed: the batch was flushed, and the fiber's tracer is Effect's own again
        expect(yield* Effect.tracer).toBe(builtIn)
        const requests = collector.requests
        expect(requests.length).toBeGreaterThan(0)
        for (const request of requests) {
          expect([request.method, request.url]).toEqual(["POST", "/v1/traces"])
          expect(request.contentType).toMatch(/^application\/json/)
        }
        const sent = requests.flatMap((r) => exportedSpans(r.body))
        const names = sent.map((s) => s.name)
        expect(names).toEqual(expect.arrayContaining(["caller", "signUp", "sql.transaction", ...repositoryMethods]))
        const add = sent.find((s) => s.name === "db.user.add")!
        const unit = sent.find((s) => s.name === "sql.transaction")!
        expect(add.parentSpanId).toBe(unit.spanId)
        expect(add.attributes["db.system"]).toBe("postgresql")
        expect(add.attributes["db.operation.name"]).toBe("add")
        expect(String(add.attributes["db.query.text"])).toMatch(/^INSERT INTO users /)
        expect(requests.flatMap((r) => serviceNames(r.body))).toContain("otel-test")
      })
  )
})

describe("the OTLP layer's settings", () => {
  const settings = (env: Record<string, string>) => Telemetry.settingsFromEnv.pipe(withEnv(env))

  it.effect("no endpoint: tracing is off, and the layer installs no tracer", () =>
    Effect.gen(function* () {
      expect(yield* settings({})).toEqual(Option.none())
      expect(yield* settings({ OTEL_SERVICE_NAME: "svc", OTEL_EXPORTER_OTLP_ENDPOINT: "  " })).toEqual(Option.none())
      const before = yield* Effect.tracer
      const [inside, isOn] = yield* Effect.all([Effect.tracer, traced]).pipe(
        Effect.provide(Telemetry.layer),
        withEnv({})
      )
      expect(inside).toBe(before)
      expect(isOn).toBe(false)
    })
  )

  it.effect("the endpoints: the traces one as given, else the base one with v1/traces; the service name", () =>
    Effect.gen(function* () {
      const urlOf = (env: Record<string, string>) =>
        Effect.map(
          settings(env),
          Option.map((s) => [s.tracesUrl, s.serviceName] as const)
        )
      expect(yield* urlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual(
        Option.some(["http://collector:4318/v1/traces", "mas-data"])
      )
      expect(yield* urlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com/prefix/" })).toEqual(
        Option.some(["https://otel.example.com/prefix/v1/traces", "mas-data"])
      )
      expect(
        yield* urlOf({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
          OTEL_SERVICE_NAME: "auth"
        })
      ).toEqual(Option.some(["http://traces:9999/custom", "auth"]))
      expect(Telemetry.defaultServiceName).toBe("mas-data")
    })
  )

  it.effect("OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn tracing off despite an endpoint", () =>
    Effect.gen(function* () {
      const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }
      expect(yield* settings({ ...endpoint, OTEL_SDK_DISABLED: "TRUE" })).toEqual(Option.none())
      expect(yield* settings({ ...endpoint, OTEL_TRACES_EXPORTER: "none" })).toEqual(Option.none())
      expect(Option.isSome(yield* settings({ ...endpoint, OTEL_SDK_DISABLED: "false" }))).toBe(true)
    })
  )

  it.effect("an endpoint that is not an http(s) URL is an InvalidTelemetryConfig naming the variable", () =>
    Effect.gen(function* () {
      const refused = (env: Record<string, string>) =>
        Effect.flip(Effect.provide(Effect.void, Telemetry.layer)).pipe(withEnv(env))
      const notUrl = yield* refused({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector 4318" })
      expect(notUrl).toBeInstanceOf(Telemetry.InvalidTelemetryConfig)
      expect(notUrl).toMatchObject({ variable: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "collector 4318" })
      expect(notUrl.message).toBe('OTEL_EXPORTER_OTLP_ENDPOINT="collector 4318": not an http or https URL')
      // "localhost:4318" parses as a URL of scheme localhost:
      const scheme = yield* refused({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "localhost:4318" })
      expect(scheme).toMatchObject({ _tag: "InvalidTelemetryConfig", variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" })
    })
  )

  it("the module switched by the variable imports nothing of OpenTelemetry: the SDK is loaded only when it is on", async () => {
    const source = await readFile(new URL("../../src/telemetry/OtlpTracing.ts", import.meta.url), "utf8")
    const valueImports = [...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1])
    expect(valueImports.filter((m) => /opentelemetry|OtlpSdk/.test(m!))).toEqual([])
    expect(source).toMatch(/import\("\.\/OtlpSdk\.js"\)/)
  })
})
