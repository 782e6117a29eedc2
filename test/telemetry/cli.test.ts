// The command line with OTEL_EXPORTER_OTLP_ENDPOINT set exports its spans to that collector before it exits; without it, sends nothing.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { childEnv, repoRoot, runProcess } from "../cli/helpers.js"
import { adminClient, migratedTemplate, scopedDatabase } from "../support/database.js"
import { exportedSpans, localCollector, serviceNames } from "../support/otlpCollector.js"

/** `node --import tsx src/cli/main.ts <args>`, as `npm start -- <args>` runs it. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.promise(() =>
    runProcess(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: repoRoot,
      env: childEnv(env),
      timeoutMs: 120_000
    })
  )

layer(adminClient, { excludeTestServices: true })("CLI tracing", (it) => {
  it.scoped(
    "the example program's repository spans reach the collector named by OTEL_EXPORTER_OTLP_ENDPOINT",
    () =>
      Effect.gen(function* () {
        const db = yield* scopedDatabase({ prefix: "otlpcli", template: migratedTemplate() })
        const collector = yield* localCollector
        const run = yield* cli(["example", "--database-url", db.url], {
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_SERVICE_NAME: "cli-test"
        })
        expect(run.stderr).not.toMatch(/^error:/m)
        expect(run.code).toBe(0)
        const spans = collector.requests.flatMap((r) => exportedSpans(r.body))
        const repositorySpans = spans.filter((s) => s.name.startsWith("db."))
        expect(repositorySpans.length).toBeGreaterThan(10)
        for (const span of repositorySpans) {
          expect(span.attributes["db.system"]).toBe("postgresql")
          expect(typeof span.attributes["db.operation.name"]).toBe("string")
        }
        expect(collector.requests.flatMap((r) => serviceNames(r.body))).toContain("cli-test")

        // the same run without the variable sends nothing
        const before = collector.requests.length
        const quiet = yield* cli(["example", "--database-url", db.url], {})
        expect(quiet.code).toBe(0)
        expect(collector.requests.length).toBe(before)
      }),
    120_000
  )
})
