// The stored form of job metadata.
import { assert, describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { JobMetadataFromJson } from "../../src/rows/queue/job.js"

describe("queue_jobs metadata", () => {
  it("decodes the stored snake_case JSON and encodes it back", () => {
    const metadata = Schema.decodeUnknownSync(JobMetadataFromJson)({ trace_id: "t", span_id: "s", trace_flags: 1 })
    assert.strictEqual(metadata.traceId, "t")
    expect(Schema.encodeSync(JobMetadataFromJson)(metadata)).toEqual({ trace_id: "t", span_id: "s", trace_flags: 1 })
  })
})
