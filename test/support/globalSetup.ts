// Vitest global setup: finds (or starts) one PostgreSQL server for the whole run and hands its admin URL to every test file.
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string
  }
}

export default async function setup(project: TestProject) {
  // TODO(harness): replaced by the shared database-selection module (DATABASE_URL → local → embedded)
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  project.provide("adminDatabaseUrl", url)
  return async () => {}
}
