// UpstreamOAuthLinkRepository on PostgreSQL: its declared static queries, plus the filter and page queries assembled from declared pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newUpstreamOAuthLinkRow,
  UPSTREAM_OAUTH_LINKS,
  upstreamOAuthLinkFromRow,
  UpstreamOAuthLinkRow
} from "../../rows/upstream/upstreamOAuthLink.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { checkArgumentIds } from "../../storage/common/filters.js"
import { checkCleanupLimit } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import {
  checkNewUpstreamOAuthLink,
  checkSubjectLookup,
  checkUpstreamOAuthLinkFilter,
  type UpstreamOAuthLinkFilter,
  UpstreamOAuthLinkRepository
} from "../../storage/upstream/UpstreamOAuthLinkRepository.js"
import { ulidCleanupText, UlidCleanupParams } from "../common/cleanup.js"
import { containsCriterion } from "../common/filters.js"
import { countQuery, filter, pageQuery, piece } from "../dynamic.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const columns = [
  "upstream_oauth_links.upstream_oauth_link_id",
  "upstream_oauth_links.upstream_oauth_provider_id",
  "upstream_oauth_links.user_id",
  "upstream_oauth_links.subject",
  "upstream_oauth_links.human_account_name",
  "upstream_oauth_links.created_at"
].join(", ")

const q = repositoryQueries({
  prefix: "upstreamOAuthLink",
  table: UPSTREAM_OAUTH_LINKS,
  idColumn: "upstream_oauth_link_id",
  row: UpstreamOAuthLinkRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM upstream_oauth_links WHERE upstream_oauth_links.upstream_oauth_link_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // The (provider, subject) unique index serves this.
  findBySubject: {
    text:
      `SELECT ${columns} FROM upstream_oauth_links ` +
      `WHERE upstream_oauth_links.upstream_oauth_provider_id = $1 AND upstream_oauth_links.subject = $2`,
    params: Schema.Tuple(UlidFromUuid, Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when (provider, subject) is taken (storage rule: Conflicts).
  add: {
    text:
      "INSERT INTO upstream_oauth_links (upstream_oauth_link_id, upstream_oauth_provider_id, user_id, subject, " +
      "human_account_name, created_at) VALUES ($1, $2, NULL, $3, $4, $5) ON CONFLICT DO NOTHING",
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.NullOr(Schema.String), Schema.DateFromSelf),
    row: NoRows
  },
  // Unguarded, as in MAS: a link already associated is moved to the user.
  associateToUser: {
    text: "UPDATE upstream_oauth_links SET user_id = $2 WHERE upstream_oauth_link_id = $1",
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid),
    row: NoRows
  },
  // One statement, so a missing link leaves the sessions untouched even outside a unit of work. The sessions are
  // detached first in effect: the link key's ON DELETE CASCADE, run when the statement ends, finds none left to
  // delete. The count is of the link rows deleted.
  remove: {
    text: [
      "WITH unlinked AS (",
      "UPDATE upstream_oauth_authorization_sessions SET upstream_oauth_link_id = NULL, unlinked_at = $2",
      "WHERE upstream_oauth_link_id = $1",
      ")",
      "DELETE FROM upstream_oauth_links WHERE upstream_oauth_link_id = $1"
    ].join(" "),
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // The link key's ON DELETE CASCADE deletes the links' authorization sessions, and the keys of browser-session
  // authentications and registrations (ON DELETE SET NULL) clear their references to those sessions.
  cleanupOrphaned: {
    text: ulidCleanupText(UPSTREAM_OAUTH_LINKS, "upstream_oauth_link_id", "user_id IS NULL"),
    params: UlidCleanupParams,
    row: Schema.Struct({ upstream_oauth_link_id: UlidFromUuid })
  }
})

const providersWhere =
  "upstream_oauth_links.upstream_oauth_provider_id IN (SELECT upstream_oauth_providers.upstream_oauth_provider_id FROM upstream_oauth_providers WHERE upstream_oauth_providers.disabled_at"

/** The UpstreamOAuthLinkFilter over `upstream_oauth_links` (unaliased, so it serves SELECT and COUNT alike). */
export const upstreamOAuthLinkFilter = filter<UpstreamOAuthLinkFilter>()(
  "UpstreamOAuthLinkFilter",
  {
    user: piece("upstream_oauth_links.user_id = $1", Schema.Tuple(UlidFromUuid)),
    provider: piece("upstream_oauth_links.upstream_oauth_provider_id = $1", Schema.Tuple(UlidFromUuid)),
    providerEnabled: piece(`${providersWhere} IS NULL)`),
    providerDisabled: piece(`${providersWhere} IS NOT NULL)`),
    subject: piece("upstream_oauth_links.subject = $1", Schema.Tuple(Schema.String)),
    humanAccountName: containsCriterion("upstream_oauth_links.human_account_name")
  },
  (f, use) => [
    f.user !== undefined && use.user(f.user),
    f.provider !== undefined && use.provider(f.provider),
    f.providerEnabled === true && use.providerEnabled(),
    f.providerEnabled === false && use.providerDisabled(),
    f.subject !== undefined && use.subject(f.subject),
    f.humanAccountName !== undefined && use.humanAccountName(f.humanAccountName)
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "upstream OAuth links matching an UpstreamOAuthLinkFilter, one keyset page",
    row: UpstreamOAuthLinkRow,
    select: `SELECT ${columns} FROM upstream_oauth_links`,
    slots: { filter: upstreamOAuthLinkFilter },
    where: "filter",
    keyset: "upstream_oauth_links.upstream_oauth_link_id"
  }),
  count: countQuery({
    description: "number of upstream OAuth links matching an UpstreamOAuthLinkFilter",
    from: "upstream_oauth_links",
    slots: { filter: upstreamOAuthLinkFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const toLink = optionalEntity(upstreamOAuthLinkFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return UpstreamOAuthLinkRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toLink),

    findBySubject: (provider, subject) =>
      Effect.zipRight(
        checkSubjectLookup(provider, subject),
        Effect.flatMap(
          Effect.suspend(() => db.findBySubject.one(provider.id, subject)),
          toLink
        )
      ),

    add: (provider, subject, humanAccountName) =>
      Effect.gen(function* () {
        yield* checkNewUpstreamOAuthLink(provider, subject, humanAccountName)
        const at = yield* now
        const row = newUpstreamOAuthLinkRow(yield* generateUlid, provider.id, subject, humanAccountName, at)
        yield* db.add.affectedOne(
          row.upstream_oauth_link_id,
          row.upstream_oauth_provider_id,
          row.subject,
          row.human_account_name,
          row.created_at
        )
        return upstreamOAuthLinkFromRow(row)
      }),

    associateToUser: (link, user) =>
      Effect.zipRight(
        checkArgumentIds({ link: link.id, user: user.id }),
        Effect.suspend(() => db.associateToUser.affectedOne(link.id, user.id))
      ),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkUpstreamOAuthLinkFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), upstreamOAuthLinkFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkUpstreamOAuthLinkFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      ),

    remove: (link) =>
      Effect.gen(function* () {
        yield* checkArgumentIds({ link: link.id })
        yield* db.remove.affectedOne(link.id, yield* now)
      }),

    cleanupOrphaned: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanupOrphaned.all(Option.getOrNull(since), until, batch)
        return CleanupResult.fromKeys(deleted.map((r) => r.upstream_oauth_link_id))
      })
  })
})

export const layer: Layer.Layer<UpstreamOAuthLinkRepository, never, SqlClient.SqlClient> = Layer.effect(
  UpstreamOAuthLinkRepository,
  Effect.map(make, traced("upstreamOAuthLink"))
)
