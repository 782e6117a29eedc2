// Stored rows of `upstream_oauth_links`, shared by both backends: the row Schema, the new row `add` writes, and the mapping to entities.
import { Option, Schema } from "effect"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { UpstreamOAuthLink } from "../../model/upstream.js"
import { storedEntity } from "../common.js"

export const UPSTREAM_OAUTH_LINKS = "upstream_oauth_links"

/** `upstream_oauth_links`: no state columns, so every row with these types is a link. */
export const UpstreamOAuthLinkRow = Schema.Struct({
  upstream_oauth_link_id: UlidFromUuid,
  upstream_oauth_provider_id: UlidFromUuid,
  user_id: Schema.NullOr(UlidFromUuid),
  subject: Schema.String,
  human_account_name: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf
})
export type UpstreamOAuthLinkRow = typeof UpstreamOAuthLinkRow.Type

const storedLink = storedEntity(UpstreamOAuthLink)

export const upstreamOAuthLinkFromRow = (row: UpstreamOAuthLinkRow): UpstreamOAuthLink =>
  storedLink({
    id: row.upstream_oauth_link_id,
    providerId: row.upstream_oauth_provider_id,
    userId: Option.fromNullable(row.user_id),
    subject: row.subject,
    humanAccountName: Option.fromNullable(row.human_account_name),
    createdAt: row.created_at
  })

/** The row `add` inserts: associated to no user. */
export const newUpstreamOAuthLinkRow = (
  id: Ulid,
  providerId: Ulid,
  subject: string,
  humanAccountName: Option.Option<string>,
  createdAt: Date
): UpstreamOAuthLinkRow => ({
  upstream_oauth_link_id: id,
  upstream_oauth_provider_id: providerId,
  user_id: null,
  subject,
  human_account_name: Option.getOrNull(humanAccountName),
  created_at: createdAt
})
