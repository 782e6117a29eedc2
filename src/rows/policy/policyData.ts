// Stored rows of `policy_data`, shared by both backends: the row Schema and the mapping to the PolicyData entity.
import { Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { PolicyData } from "../../model/policy.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { isJson, type Json } from "../../model/values.js"
import { storedEntity } from "../common.js"

const storedPolicyData = storedEntity(PolicyData)

export const POLICY_DATA = "policy_data"

/** `policy_data`: one version of the data; the document must read back as a JSON value. */
export const PolicyDataRow = Schema.Struct({
  policy_data_id: UlidFromUuid,
  created_at: Timestamp,
  data: Schema.Unknown.pipe(Schema.filter((u): u is Json => isJson(u)))
})
export type PolicyDataRow = typeof PolicyDataRow.Type

export const policyDataFromRow = (row: PolicyDataRow): PolicyData =>
  storedPolicyData({ id: row.policy_data_id, createdAt: row.created_at, data: row.data })

/**
 * The row of a new version. The document is the JSON round trip of `data` (what jsonb gives back: no `-0`, array
 * holes as null), so the entity `set` returns equals what `get` reads later, and memory keeps a private copy.
 */
export const newPolicyDataRow = (id: Ulid, createdAt: Date, data: Json): PolicyDataRow => ({
  policy_data_id: id,
  created_at: createdAt,
  data: JSON.parse(JSON.stringify(data)) as Json
})
