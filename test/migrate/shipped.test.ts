// The program's own migrations apply to a fresh database, validate, and re-run as a no-op.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { loadMigrations } from "../../src/migrate/MigrationSource.js"
import { Migrator } from "../../src/migrate/Migrator.js"
import { adminClient, scopedDatabase } from "../support/database.js"
import { clientFor, history, migratorOn } from "./helpers.js"

layer(adminClient)("shipped migrations", (it) => {
  it.scoped("apply to a fresh database and re-run idempotently", () =>
    Effect.gen(function* () {
      const shipped = yield* loadMigrations(Migrator.defaultConfig.source)
      const db = yield* scopedDatabase({ prefix: "migrate_shipped" })
      const { ctx, sql } = yield* clientFor(db.url)
      const migrator = yield* migratorOn(ctx, Migrator.defaultConfig)

      const first = yield* migrator.run()
      expect(first.applied.map((m) => m.version)).toEqual(shipped.map((m) => m.version))
      const rows = yield* history(sql)
      expect(rows.map((r) => r.version)).toEqual(shipped.map((m) => m.version.toString()))
      expect(rows.every((r) => r.success)).toBe(true)
      expect(rows.map((r) => r.checksum)).toEqual(shipped.map((m) => Buffer.from(m.checksum).toString("hex")))

      const second = yield* migrator.run()
      expect(second.applied).toEqual([])
      expect(yield* history(sql)).toEqual(rows)
      const report = yield* migrator.validate
      expect(report.pending).toEqual([])
      expect(report.unknown).toEqual([])
      expect((yield* migrator.info).every((s) => s.state === "applied")).toBe(true)
    })
  )
})
