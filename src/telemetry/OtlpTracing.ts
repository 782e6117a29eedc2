// Tracing switched on by the environment: OpenTelemetry spans exported over OTLP/HTTP when the standard endpoint variable is set, and nothing at all (no tracer, no SDK loaded) when it is not.
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Config, Duration, Effect, Layer, Option, Schema } from "effect"
import type { ConfigError } from "effect/ConfigError"

/** What the tracer's spans say they come from, and how long shutting it down may take. */
export interface TracingOptions {
  /** The resource's `service.name`. */
  readonly serviceName: string
  /** How long closing the layer may take to flush the last spans and shut the SDK down. */
  readonly shutdownTimeout: Duration.Duration
}

/** Where and as what the spans are exported. */
export interface OtlpTracingSettings extends TracingOptions {
  /** The OTLP/HTTP traces URL the spans are POSTed to (`…/v1/traces`). */
  readonly tracesUrl: string
}

/** The service name when `OTEL_SERVICE_NAME` is unset. */
export const defaultServiceName = "mas-data"

/** How long closing a tracing layer may take (NodeSdk's own default). */
const defaultShutdownTimeout = Duration.seconds(3)

/** An OpenTelemetry variable whose value cannot be used (an endpoint that is not an http(s) URL). */
export class InvalidTelemetryConfig extends Schema.TaggedError<InvalidTelemetryConfig>()("InvalidTelemetryConfig", {
  variable: Schema.String,
  value: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.variable}=${JSON.stringify(this.value)}: ${this.reason}`
  }
}

/** The OpenTelemetry SDK could not be loaded (its packages missing from the installation, say). */
export class TelemetrySdkUnavailable extends Schema.TaggedError<TelemetrySdkUnavailable>()("TelemetrySdkUnavailable", {
  cause: Schema.Defect
}) {
  override get message() {
    const reason = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `the OpenTelemetry SDK could not be loaded: ${reason}`
  }
}

/** A variable's value, none when unset or blank: OpenTelemetry treats an empty value as unset. */
const variable = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Config.map(Option.flatMap((value) => (value.trim() === "" ? Option.none() : Option.some(value.trim()))))
  )

const httpUrl = (name: string, value: string): Effect.Effect<URL, InvalidTelemetryConfig> => {
  const url = URL.canParse(value) ? new URL(value) : undefined
  return url !== undefined && (url.protocol === "http:" || url.protocol === "https:")
    ? Effect.succeed(url)
    : Effect.fail(new InvalidTelemetryConfig({ variable: name, value, reason: "not an http or https URL" }))
}

/**
 * The export settings from the standard variables, none when tracing is off. The traces URL is
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else `OTEL_EXPORTER_OTLP_ENDPOINT` with `v1/traces` appended (as the
 * OTLP exporter specification says); with neither set, or with `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`,
 * tracing is off. The service name is `OTEL_SERVICE_NAME`, else `mas-data`.
 */
export const settingsFromEnv: Effect.Effect<
  Option.Option<OtlpTracingSettings>,
  InvalidTelemetryConfig | ConfigError
> = Effect.gen(function* () {
  const disabled = yield* variable("OTEL_SDK_DISABLED")
  const exporters = yield* variable("OTEL_TRACES_EXPORTER")
  if (Option.exists(disabled, (value) => value.toLowerCase() === "true")) return Option.none()
  if (Option.exists(exporters, (value) => value.split(",").some((name) => name.trim().toLowerCase() === "none"))) {
    return Option.none()
  }
  const traces = yield* variable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
  const base = yield* variable("OTEL_EXPORTER_OTLP_ENDPOINT")
  let tracesUrl: string
  if (Option.isSome(traces)) {
    tracesUrl = (yield* httpUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.value)).href
  } else if (Option.isSome(base)) {
    const url = yield* httpUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base.value)
    tracesUrl = `${url.href.endsWith("/") ? url.href : `${url.href}/`}v1/traces`
  } else {
    return Option.none()
  }
  const serviceName = Option.getOrElse(yield* variable("OTEL_SERVICE_NAME"), () => defaultServiceName)
  return Option.some({ tracesUrl, serviceName, shutdownTimeout: defaultShutdownTimeout })
})

/** The SDK's modules, loaded when a layer that needs them is built, so that importing this module loads none. */
const sdk = Effect.tryPromise({
  try: () => import("./OtlpSdk.js"),
  catch: (cause) => new TelemetrySdkUnavailable({ cause })
})

/** The SDK as the tracer, exporting to `settings` over OTLP/HTTP in batches. */
export const layerWith = (settings: OtlpTracingSettings): Layer.Layer<never, TelemetrySdkUnavailable> =>
  Layer.unwrapEffect(Effect.map(sdk, (modules) => modules.otlpLayer(settings)))

/**
 * The SDK as the tracer, its spans going to the processor `makeProcessor` gives (made when the layer is built): for
 * an exporter of the application's choice, or a test's in-memory one. The service name defaults to `mas-data`.
 */
export const tracingLayer = (
  makeProcessor: () => SpanProcessor,
  options?: Partial<TracingOptions>
): Layer.Layer<never, TelemetrySdkUnavailable> =>
  Layer.unwrapEffect(
    Effect.map(sdk, (modules) =>
      modules.tracingLayer(makeProcessor(), {
        serviceName: options?.serviceName ?? defaultServiceName,
        shutdownTimeout: options?.shutdownTimeout ?? defaultShutdownTimeout
      })
    )
  )

/**
 * Tracing as the environment says (`settingsFromEnv`): with an endpoint, @effect/opentelemetry's Node SDK with a
 * batching OTLP/HTTP exporter installed as the tracer for what the layer is provided to, the last spans flushed when
 * its scope closes; without one, `Layer.empty`: no tracer is installed, so the repositories open no span at all, and
 * nothing of OpenTelemetry is loaded.
 */
export const layer: Layer.Layer<never, InvalidTelemetryConfig | TelemetrySdkUnavailable | ConfigError> =
  Layer.unwrapEffect(Effect.map(settingsFromEnv, Option.match({ onNone: () => Layer.empty, onSome: layerWith })))
