// UpstreamOAuthLinkRepository in memory: the same rows, checks and writes as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { generateUlid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newUpstreamOAuthLinkRow,
  UPSTREAM_OAUTH_LINKS,
  upstreamOAuthLinkFromRow,
  UpstreamOAuthLinkRow
} from "../../rows/upstream/upstreamOAuthLink.js"
import { RowsAffectedError } from "../../storage/common/errors.js"
import { checkArgumentIds, containsInsensitive } from "../../storage/common/filters.js"
import { now } from "../../storage/common/time.js"
import {
  checkNewUpstreamOAuthLink,
  checkSubjectLookup,
  checkUpstreamOAuthLinkFilter,
  type UpstreamOAuthLinkFilter,
  UpstreamOAuthLinkRepository
} from "../../storage/upstream/UpstreamOAuthLinkRepository.js"
import { ulidCleanup } from "../common/cleanup.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { rejectNul } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

const UPSTREAM_OAUTH_PROVIDERS = "upstream_oauth_providers"
const UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS = "upstream_oauth_authorization_sessions"

/** The twin of the PostgreSQL filter fragment; `providerEnabled` reads the providers' table of the same state. */
const matches = (db: Database, filter: UpstreamOAuthLinkFilter) => {
  const enabledProviders =
    filter.providerEnabled === undefined
      ? undefined
      : new Set(
          db
            .rows<Row>(UPSTREAM_OAUTH_PROVIDERS)
            .filter((p) => (p.disabled_at === null) === filter.providerEnabled)
            .map((p) => p.upstream_oauth_provider_id)
        )
  return (row: UpstreamOAuthLinkRow): boolean =>
    (filter.user === undefined || row.user_id === filter.user) &&
    (filter.provider === undefined || row.upstream_oauth_provider_id === filter.provider) &&
    (enabledProviders === undefined || enabledProviders.has(row.upstream_oauth_provider_id)) &&
    (filter.subject === undefined || row.subject === filter.subject) &&
    (filter.humanAccountName === undefined ||
      (row.human_account_name !== null && containsInsensitive(row.human_account_name, filter.humanAccountName)))
}

const toLink = optionalEntity(upstreamOAuthLinkFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const links = memoryTable(store, {
    table: UPSTREAM_OAUTH_LINKS,
    idColumn: "upstream_oauth_link_id",
    row: UpstreamOAuthLinkRow
  })

  /** Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none. */
  const select = (filter: UpstreamOAuthLinkFilter) =>
    Effect.zipRight(
      rejectNul(filter.subject, filter.humanAccountName),
      store.read((db) => links.rows(db).filter(matches(db, filter)))
    )

  return UpstreamOAuthLinkRepository.of({
    lookup: (id) => Effect.flatMap(links.get(id), toLink),

    findBySubject: (provider, subject) =>
      Effect.zipRight(
        checkSubjectLookup(provider, subject),
        Effect.flatMap(
          links.find((r) => r.upstream_oauth_provider_id === provider.id && r.subject === subject, subject),
          toLink
        )
      ),

    add: (provider, subject, humanAccountName) =>
      Effect.gen(function* () {
        yield* checkNewUpstreamOAuthLink(provider, subject, humanAccountName)
        const at = yield* now
        const row = newUpstreamOAuthLinkRow(yield* generateUlid, provider.id, subject, humanAccountName, at)
        // A taken (provider, subject) is ignored as ON CONFLICT DO NOTHING ignores it.
        yield* exactlyOne(links.insertIgnoringConflict(row))
        return upstreamOAuthLinkFromRow(row)
      }),

    associateToUser: (link, user) =>
      Effect.zipRight(
        checkArgumentIds({ link: link.id, user: user.id }),
        links.updateOne(link.id, (row) => ({ ...row, user_id: user.id }))
      ),

    list: (filter, pagination) =>
      Effect.zipRight(
        Effect.zipRight(checkUpstreamOAuthLinkFilter(filter), checkCursors(pagination)),
        Effect.flatMap(select(filter), (rows) =>
          paginate(rows, pagination, (r) => r.upstream_oauth_link_id).tryMap((row) =>
            Either.map(links.decode(row), upstreamOAuthLinkFromRow)
          )
        )
      ),

    count: (filter) =>
      Effect.zipRight(
        checkUpstreamOAuthLinkFilter(filter),
        Effect.flatMap(select(filter), (rows) => toSafeCountOrFail(rows.length))
      ),

    // One write, as PostgreSQL's one statement: the sessions detached, then the link deleted (its cascade finds no
    // session left); a link that is not stored changes nothing.
    remove: (link) =>
      Effect.gen(function* () {
        yield* checkArgumentIds({ link: link.id })
        const at = yield* now
        yield* store.write((db) =>
          Either.gen(function* () {
            if (Option.isNone(db.get(UPSTREAM_OAUTH_LINKS, link.id))) {
              return yield* Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
            }
            const [, unlinked] = yield* db.updateWhere(
              UPSTREAM_OAUTH_AUTHORIZATION_SESSIONS,
              (s) => s.upstream_oauth_link_id === link.id,
              (s) => ({ ...s, upstream_oauth_link_id: null, unlinked_at: at })
            )
            const [, next] = yield* unlinked.deleteWhere(
              UPSTREAM_OAUTH_LINKS,
              (l) => l.upstream_oauth_link_id === link.id
            )
            return [undefined, next] as const
          })
        )
      }),

    // The links' sessions go by the link key's ON DELETE CASCADE, and their references from browser-session
    // authentications and registrations by those keys' ON DELETE SET NULL, as in PostgreSQL.
    cleanupOrphaned: ulidCleanup(
      store,
      links,
      (r) => r.upstream_oauth_link_id,
      () => (r) => r.user_id === null
    )
  })
})

export const layer: Layer.Layer<UpstreamOAuthLinkRepository, never, MemoryStore> = Layer.effect(
  UpstreamOAuthLinkRepository,
  make
)
