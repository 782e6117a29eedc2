// PolicyData: versions of the authorization-policy data.
import { Schema } from "effect"
import { Timestamp } from "./common.js"
import { Ulid } from "./Ulid.js"
import { Json } from "./values.js"

export class PolicyData extends Schema.Class<PolicyData>("PolicyData")({
  id: Ulid,
  createdAt: Timestamp,
  data: Json
}) {}
