// Test runner configuration: one fresh database per test file is made by test/support, so files run in parallel.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two files at a time whatever the core count (vitest's default is cores − 1, one file on a 2-core machine):
    // most of a test's time is spent waiting for PostgreSQL, so a second file fills the idle CPU.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ["default", "./test/support/summaryReporter.ts"],
    sequence: { hooks: "stack" }
  }
})
