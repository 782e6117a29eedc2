// The OpenTelemetry SDK as the program's tracer, exporting over OTLP/HTTP or to any span processor: loaded by OtlpTracing only when tracing is on, so a program without it never loads the SDK.
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Resource from "@effect/opentelemetry/Resource"
import * as Tracer from "@effect/opentelemetry/Tracer"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"
import type { OtlpTracingSettings, TracingOptions } from "./OtlpTracing.js"

/**
 * @effect/opentelemetry's tracer on a Node tracer provider feeding `spanProcessor`, for what the layer is provided
 * to. Closing the layer flushes the processor and shuts the provider down (bounded by `shutdownTimeout`), and puts
 * back the tracer the fiber had. Built from NodeSdk's pieces rather than `NodeSdk.layer`, which (effect 3.22.4,
 * @effect/opentelemetry 0.64.1) leaves its tracer installed on the fiber after its scope has closed, so the
 * repositories would go on opening spans for a provider that is shut down.
 */
export const tracingLayer = (spanProcessor: SpanProcessor, options: TracingOptions): Layer.Layer<never> =>
  Layer.discard(
    Tracer.layer.pipe(
      Layer.provide(NodeSdk.layerTracerProvider(spanProcessor, { shutdownTimeout: options.shutdownTimeout })),
      // OTEL_RESOURCE_ATTRIBUTES is read as the SDK reads it; the service name given here wins
      Layer.provideMerge(Resource.layerFromEnv(Resource.configToAttributes({ serviceName: options.serviceName })))
    )
  )

/**
 * The tracer exporting to `settings.tracesUrl` in batches. Headers, timeouts and compression come from the
 * standard `OTEL_EXPORTER_OTLP_*` variables, which the exporter reads itself.
 */
export const otlpLayer = (settings: OtlpTracingSettings): Layer.Layer<never> =>
  tracingLayer(new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl })), settings)
