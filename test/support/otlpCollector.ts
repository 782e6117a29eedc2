// A local OTLP/HTTP collector for tests: it keeps every request, and reads the spans of an OTLP/JSON traces body.
import { Duration, Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface CollectedRequest {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly contentType: string | undefined
  readonly body: string
}

/** An OTLP/HTTP collector on 127.0.0.1 (a free port), keeping every request; closed with the test's scope. */
export const localCollector = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly requests: Array<CollectedRequest>; readonly server: http.Server }>(
    (resume) => {
      const requests: Array<CollectedRequest> = []
      const server = http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          requests.push({
            method: request.method,
            url: request.url,
            contentType: request.headers["content-type"],
            body: Buffer.concat(chunks).toString("utf8")
          })
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            requests,
            server
          })
        )
      )
    }
  ),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
).pipe(Effect.timeout(Duration.seconds(5)), Effect.orDie)

export interface ExportedSpan {
  readonly name: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly attributes: Record<string, unknown>
}

type AnyValue = { readonly stringValue?: string; readonly intValue?: number; readonly boolValue?: boolean }
type KeyValue = { readonly key: string; readonly value: AnyValue }
interface TracesRequest {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: { readonly attributes?: ReadonlyArray<KeyValue> }
    readonly scopeSpans?: ReadonlyArray<{
      readonly spans?: ReadonlyArray<{
        readonly name: string
        readonly spanId: string
        readonly parentSpanId?: string
        readonly attributes?: ReadonlyArray<KeyValue>
      }>
    }>
  }>
}

const attributesOf = (list: ReadonlyArray<KeyValue> | undefined): Record<string, unknown> =>
  Object.fromEntries(
    (list ?? []).map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue ?? kv.value.boolValue])
  )

/** The spans of an OTLP/JSON traces request. */
export const exportedSpans = (body: string): ReadonlyArray<ExportedSpan> =>
  ((JSON.parse(body) as TracesRequest).resourceSpans ?? []).flatMap((r) =>
    (r.scopeSpans ?? []).flatMap((s) =>
      (s.spans ?? []).map((span) => ({
        name: span.name,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId,
        attributes: attributesOf(span.attributes)
      }))
    )
  )

export const serviceNames = (body: string): ReadonlyArray<unknown> =>
  ((JSON.parse(body) as TracesRequest).resourceSpans ?? []).map(
    (r) => attributesOf(r.resource?.attributes)["service.name"]
  )
