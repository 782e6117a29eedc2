// OAuth2ClientRepository on the real server: one span per method (the derived ones too), the deletion as one statement, concurrent static upserts.
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { ClientJwksUri } from "../../../src/model/oauth2/client.js"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import type { Url } from "../../../src/model/values.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { queryText, recordSpans, statementsOf } from "../../support/spans.js"

const staticClient = (clientId: Ulid, name: string) => ({
  clientId,
  clientName: Option.some(name),
  clientUri: Option.none(),
  clientAuthMethod: "client_secret_basic" as const,
  encryptedClientSecret: Option.none(),
  jwks: Option.none(),
  jwksUri: Option.some("https://static.example.com/jwks" as Url),
  redirectUris: ["https://static.example.com/cb" as Url]
})

layer(Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 8 })))(
  "OAuth2ClientRepository on PostgreSQL",
  (it) => {
    it.effect("every method has one span; findByClientId and delete run through lookup and deleteById inside it", () =>
      Effect.gen(function* () {
        const { oauth2Clients } = yield* RepositoryAccess
        const [, spans] = yield* recordSpans(
          Effect.gen(function* () {
            const client = yield* oauth2Clients.upsertStatic(staticClient(yield* generateUlid, "traced"))
            yield* oauth2Clients.findByClientId(client.clientId.toLowerCase())
            yield* oauth2Clients.findByClientId("not a ulid")
            yield* oauth2Clients.delete(client)
          })
        )
        const methods = spans.filter((s) => s.name.startsWith("db."))
        expect(methods.map((s) => s.name)).toEqual([
          "db.oauth2Client.upsertStatic",
          "db.oauth2Client.findByClientId",
          "db.oauth2Client.findByClientId",
          "db.oauth2Client.delete"
        ])
        // two findByClientId calls, one statement: text that is not a ULID reads nothing
        expect(statementsOf(spans, "db.oauth2Client.findByClientId").map(queryText)).toEqual([
          expect.stringMatching(/^SELECT .* FROM oauth2_clients WHERE oauth2_client_id = \$1$/)
        ])
        // the whole deletion is one statement
        const deletion = statementsOf(spans, "db.oauth2Client.delete")
        expect(deletion.length).toBe(1)
        expect(String(queryText(deletion[0]))).toMatch(
          /^WITH .* DELETE FROM oauth2_clients WHERE oauth2_client_id = \$1$/
        )
      })
    )

    it.effect("concurrent static upserts of one client from many units of work all succeed and leave one row", () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const id = yield* generateUlid
        const results = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i),
          (i) => repos.transaction(repos.oauth2Clients.upsertStatic(staticClient(id, `name ${i % 2}`))),
          { concurrency: "unbounded" }
        )
        expect(results.map((c) => [c.id, c.isStatic])).toEqual(results.map(() => [id, true]))
        // the row is the last committed upsert's
        const stored = Option.getOrThrow(yield* repos.oauth2Clients.lookup(id))
        expect(results).toContainEqual(stored)
        expect(stored.jwks).toEqual(Option.some(new ClientJwksUri({ uri: "https://static.example.com/jwks" as Url })))
      })
    )
  }
)
