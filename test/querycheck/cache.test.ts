// The real declarations of src/pg against the real committed cache: this is the offline check `npm test` runs.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { declaredQueries } from "../../src/pg/queries.js"
import { checkAll, formatReport } from "../../src/querycheck/check.js"

describe("committed query cache", () => {
  it.effect("every declared static query matches its cache entry, and no cache file is stale", () =>
    Effect.gen(function* () {
      const report = yield* checkAll(declaredQueries)
      const text = formatReport(report)
      // the whole report on failure: query, field and what to do
      expect(report.errors, text).toEqual([])
      expect(report.checked).toBeGreaterThan(0)
      // dynamic queries are listed, never skipped silently
      expect(report.dynamic.map((q) => q.name)).toContain("user.list")
      expect(text).toMatch(/user\.list \(users\)/)
    })
  )

  it("names every query once", () => {
    const names = declaredQueries.map((q) => q.name)
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([])
    expect(names.length).toBeGreaterThan(50)
  })
})
