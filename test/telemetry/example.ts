// Example: a sign-up traced with OpenTelemetry, the repository spans inside the unit of work's inside the caller's; exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (run by test/telemetry/opentelemetry.test.ts).
import { Effect } from "effect"
import { RepositoryAccess } from "../../src/index.js"
import * as Startup from "../../src/startup/index.js"
import * as Telemetry from "../../src/telemetry/index.js"

/** The application's operation: one span of its own, a unit of work with three repository calls in it. */
export const signUp = (username: string) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    return yield* repos.transaction(
      Effect.gen(function* () {
        const user = yield* repos.users.add(username)
        yield* repos.userEmails.add(user, `${username}@example.com`)
        return yield* repos.users.lock(user)
      })
    )
  }).pipe(Effect.withSpan("signUp", { attributes: { "app.username": username } }))

/**
 * The program: the data layer started on `DATABASE_URL` (else the embedded server), and tracing as the environment
 * says. Telemetry is provided last, so its scope closes after the database's and flushes every span before exit.
 */
export const main = signUp("alice").pipe(Effect.provide(Startup.layer()), Effect.provide(Telemetry.layer))
