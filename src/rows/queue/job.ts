// Stored `metadata` of `queue_jobs`: the tracing context as a JSON object with snake_case keys.
import { Schema } from "effect"
import { JobMetadata } from "../../model/queue.js"

/** Stored `metadata` JSON ⇄ JobMetadata. */
export const JobMetadataFromJson = Schema.compose(
  Schema.Struct({
    traceId: Schema.String.pipe(Schema.propertySignature, Schema.fromKey("trace_id")),
    spanId: Schema.String.pipe(Schema.propertySignature, Schema.fromKey("span_id")),
    traceFlags: Schema.Int.pipe(Schema.propertySignature, Schema.fromKey("trace_flags"))
  }),
  JobMetadata
)
