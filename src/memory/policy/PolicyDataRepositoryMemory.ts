// PolicyDataRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { generateUlid } from "../../model/Ulid.js"
import { newPolicyDataRow, POLICY_DATA, policyDataFromRow, PolicyDataRow } from "../../rows/policy/policyData.js"
import { checkCount, checkJsonArgument } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { PolicyDataRepository } from "../../storage/policy/PolicyDataRepository.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { checkJsonb } from "../user/UserRegistrationRepositoryMemory.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const versions = memoryTable(store, { table: POLICY_DATA, idColumn: "policy_data_id", row: PolicyDataRow })

  return PolicyDataRepository.of({
    // Rows iterate in id order, and ids are ULIDs: the last row is the newest version.
    get: () =>
      Effect.flatMap(
        store.read((db) => Option.fromNullable(versions.rows(db).at(-1))),
        (row) =>
          Option.isNone(row) ? Either.right(Option.none()) : Either.map(versions.decode(row.value), Option.some)
      ).pipe(Effect.map(Option.map(policyDataFromRow))),

    set: (data) =>
      Effect.gen(function* () {
        yield* checkJsonArgument("data", data)
        const row = newPolicyDataRow(yield* generateUlid, yield* now, data)
        // One write: jsonb refuses NUL (22P05) while the statement runs, after the other parameters bound.
        yield* store.write((db) =>
          Either.gen(function* () {
            yield* checkJsonb(row.data)
            return [undefined, yield* db.insert(POLICY_DATA, row)] as const
          })
        )
        return policyDataFromRow(row)
      }),

    prune: (keep) =>
      Effect.flatMap(checkCount("keep", keep), (n) =>
        store.write((db) => {
          // every version but the `n` newest, as `ORDER BY policy_data_id DESC OFFSET n`
          const doomed = new Set(
            db
              .rowsDescending<PolicyDataRow>(POLICY_DATA)
              .slice(n)
              .map((r) => r.policy_data_id)
          )
          return db.deleteWhere(POLICY_DATA, (r) => doomed.has(r["policy_data_id"] as PolicyDataRow["policy_data_id"]))
        })
      )
  })
})

export const layer: Layer.Layer<PolicyDataRepository, never, MemoryStore> = Layer.effect(PolicyDataRepository, make)
