// PolicyDataRepository on PostgreSQL: every statement is declared (and prepared); no query is assembled at run time.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import { newPolicyDataRow, POLICY_DATA, policyDataFromRow, PolicyDataRow } from "../../rows/policy/policyData.js"
import { checkCount, checkJsonArgument } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { PolicyDataRepository } from "../../storage/policy/PolicyDataRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const q = repositoryQueries({
  prefix: "policyData",
  table: POLICY_DATA,
  idColumn: "policy_data_id",
  row: PolicyDataRow
})

const statements = q.statements({
  // Ids are ULIDs, so the greatest id is the newest version.
  get: {
    text: `SELECT policy_data_id, created_at, data FROM policy_data ORDER BY policy_data_id DESC LIMIT 1`,
    params: Schema.Tuple()
  },
  // The document goes as JSON text and is cast: the driver would turn a JS array into a PostgreSQL array literal.
  set: {
    text: `INSERT INTO policy_data (policy_data_id, created_at, data) VALUES ($1, $2, $3::jsonb)`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, Schema.parseJson(Json)),
    row: NoRows
  },
  prune: {
    text:
      `DELETE FROM policy_data WHERE policy_data_id IN ` +
      `(SELECT policy_data_id FROM policy_data ORDER BY policy_data_id DESC OFFSET $1)`,
    params: Schema.Tuple(Schema.Int),
    row: NoRows
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toPolicyData = optionalEntity(policyDataFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return PolicyDataRepository.of({
    get: () => Effect.flatMap(db.get.one(), toPolicyData),

    set: (data) =>
      Effect.gen(function* () {
        yield* checkJsonArgument("data", data)
        const row = newPolicyDataRow(yield* generateUlid, yield* now, data)
        yield* db.set.affectedOne(row.policy_data_id, row.created_at, row.data)
        return policyDataFromRow(row)
      }),

    prune: (keep) => Effect.flatMap(checkCount("keep", keep), (n) => db.prune.affected(n))
  })
})

export const layer: Layer.Layer<PolicyDataRepository, never, SqlClient.SqlClient> = Layer.effect(
  PolicyDataRepository,
  Effect.map(make, traced("policyData"))
)
