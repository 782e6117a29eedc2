// Vitest global setup: finds (or starts) one PostgreSQL server for the whole run and hands its admin URL to every test file.
import { rm } from "node:fs/promises"
import { Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import { selectDatabase, throwawayDataDir } from "../../src/db/DatabaseSelection.js"
import { INSTALL_HINT, PGBOUNCER_BINARY, pgbouncerInstalled, startPgBouncer } from "./pgbouncer.js"
import { createMigratedTemplate, dropDatabase } from "./template.js"

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string
    /** A database migrated with the shipped migrations, to clone with `CREATE DATABASE … TEMPLATE`. */
    migratedTemplate: string
    /** The admin URL through a PgBouncer in transaction mode in front of that server; empty when not installed. */
    pgbouncerUrl: string
  }
}

/** The pooler's URL; without the binary, a CI run fails and a developer's run skips the pooler tests with one line. */
const pgbouncerFor = async (serverUrl: string, scope: Scope.Scope): Promise<string> => {
  if (!(await pgbouncerInstalled())) {
    if (process.env.CI)
      throw new Error(`${PGBOUNCER_BINARY} is missing on CI (.ci/run installs it with ${INSTALL_HINT})`)
    console.log(
      `pooler tests skipped: ${PGBOUNCER_BINARY} is not installed; ${INSTALL_HINT} installs Debian's pgbouncer`
    )
    return ""
  }
  const bouncer = await Effect.runPromise(startPgBouncer(serverUrl).pipe(Scope.extend(scope)))
  return bouncer.url
}

export default async function setup(project: TestProject) {
  // MAS_TEST_EMBEDDED=1 runs the whole suite on the embedded server even when a local one answers.
  const embeddedOnly = process.env.MAS_TEST_EMBEDDED === "1"
  const scope = Effect.runSync(Scope.make())
  const dataDir = throwawayDataDir()
  // The folder exists before we know whether the embedded server is needed; it goes when the run ends either way.
  Effect.runSync(
    Scope.addFinalizer(
      scope,
      Effect.promise(() => rm(dataDir, { recursive: true, force: true }))
    )
  )
  try {
    const selected = await Effect.runPromise(
      selectDatabase({
        fallbacks: embeddedOnly ? ["embedded"] : ["local", "embedded"],
        embedded: { dataDir, persistent: false }
      }).pipe(Scope.extend(scope))
    )
    project.provide("adminDatabaseUrl", selected.url)
    const template = `mas_template_${process.pid}_${Date.now().toString(36)}`
    await Effect.runPromise(createMigratedTemplate(selected.url, template))
    // Dropped before the server stops (finalizers run in reverse order).
    Effect.runSync(Scope.addFinalizer(scope, Effect.orDie(dropDatabase(selected.url, template))))
    project.provide("migratedTemplate", template)
    // One pooler for the whole run, started last so it stops before the template and the server go.
    project.provide("pgbouncerUrl", await pgbouncerFor(selected.url, scope))
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
  return async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
