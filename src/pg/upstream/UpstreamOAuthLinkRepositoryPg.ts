// UpstreamOAuthLinkRepository on PostgreSQL: its declared static queries, plus the filter and page queries assembled from fragments.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { generateUlid, UlidFromUuid, ulidToUuid } from "../../model/Ulid.js"
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
import { countRows } from "../common/count.js"
import { ilikeContains } from "../common/filters.js"
import { listPage } from "../common/pagination.js"
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

const dynamic = q.dynamic({
  list: "upstream OAuth links matching an UpstreamOAuthLinkFilter, one keyset page",
  count: "number of upstream OAuth links matching an UpstreamOAuthLinkFilter"
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

/** The filter over `upstream_oauth_links` (unaliased, so it serves SELECT and COUNT alike). */
export const upstreamOAuthLinkFilterFragment = (
  sql: SqlClient.SqlClient,
  filter: UpstreamOAuthLinkFilter
): Fragment => {
  const clauses: Array<Fragment> = []
  if (filter.user !== undefined) clauses.push(sql`upstream_oauth_links.user_id = ${ulidToUuid(filter.user)}`)
  if (filter.provider !== undefined) {
    clauses.push(sql`upstream_oauth_links.upstream_oauth_provider_id = ${ulidToUuid(filter.provider)}`)
  }
  if (filter.providerEnabled !== undefined) {
    const providers = filter.providerEnabled
      ? sql`SELECT upstream_oauth_providers.upstream_oauth_provider_id FROM upstream_oauth_providers WHERE upstream_oauth_providers.disabled_at IS NULL`
      : sql`SELECT upstream_oauth_providers.upstream_oauth_provider_id FROM upstream_oauth_providers WHERE upstream_oauth_providers.disabled_at IS NOT NULL`
    clauses.push(sql`upstream_oauth_links.upstream_oauth_provider_id IN (${providers})`)
  }
  if (filter.subject !== undefined) clauses.push(sql`upstream_oauth_links.subject = ${filter.subject}`)
  if (filter.humanAccountName !== undefined) {
    clauses.push(ilikeContains(sql, sql`upstream_oauth_links.human_account_name`, filter.humanAccountName))
  }
  return sql.and(clauses)
}

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
      dynamic.list.run(
        Effect.gen(function* () {
          yield* checkUpstreamOAuthLinkFilter(filter)
          const page = yield* listPage<object>(sql, {
            select: sql`SELECT ${sql.unsafe(columns)} FROM upstream_oauth_links`,
            filter: upstreamOAuthLinkFilterFragment(sql, filter),
            idColumn: sql`upstream_oauth_links.upstream_oauth_link_id`,
            pagination,
            cursorOf: q.cursorOf
          })
          return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), upstreamOAuthLinkFromRow))
        })
      ),

    count: (filter) =>
      Effect.zipRight(
        checkUpstreamOAuthLinkFilter(filter),
        Effect.suspend(() =>
          dynamic.count.run(
            countRows(sql, { from: sql`upstream_oauth_links`, filter: upstreamOAuthLinkFilterFragment(sql, filter) })
          )
        )
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
