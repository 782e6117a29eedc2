// The real declarations of src/pg against the real committed cache: this is the offline check `npm test` runs.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { declaredQueries } from "../../src/pg/queries.js"
import { checkAll, formatReport } from "../../src/querycheck/check.js"

describe("committed query cache", () => {
  it.effect("every statement the program can send (static, and each dynamic combination) is checked offline", () =>
    Effect.gen(function* () {
      const report = yield* checkAll(declaredQueries)
      const text = formatReport(report)
      // the whole report on failure: query, combination, field and what to do
      expect(report.errors, text).toEqual([])
      expect(
        report.undeclared.map((q) => q.name),
        text
      ).toEqual([])
      expect(report.totals.checked, text).toBe(report.totals.statements)
      expect(report.totals.dynamic).toBeGreaterThan(report.totals.dynamicQueries)
      expect(report.statements).toContainEqual({
        query: "user.list",
        combination: "all · last after before",
        kind: "dynamic",
        state: "checked"
      })
    })
  )

  it("names every query once", () => {
    const names = declaredQueries.map((q) => q.name)
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([])
    expect(names.length).toBeGreaterThan(50)
  })
})
