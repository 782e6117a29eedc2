// The package's telemetry entry point: OpenTelemetry tracing over OTLP switched on by the standard environment variables (the CLI's), loading the SDK only when it is on.
export {
  defaultServiceName,
  InvalidTelemetryConfig,
  layer,
  layerWith,
  type OtlpTracingSettings,
  settingsFromEnv,
  TelemetrySdkUnavailable,
  tracingLayer,
  type TracingOptions
} from "./OtlpTracing.js"
