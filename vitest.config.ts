// Test runner configuration: one fresh database per test file is made by test/support, so files run in parallel.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", "./test/support/summaryReporter.ts"],
    sequence: { hooks: "stack" }
  }
})
