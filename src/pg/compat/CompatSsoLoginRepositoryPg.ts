// CompatSsoLoginRepository on PostgreSQL: its declared static queries, plus the filter and page queries declared from pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Schema } from "effect"
import { exchangeCompatSsoLogin, fulfillCompatSsoLogin } from "../../model/compat.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { Url } from "../../model/values.js"
import {
  checkCompatSsoLoginFilter,
  type CompatSsoLoginFilter,
  CompatSsoLoginRepository
} from "../../storage/compat/CompatSsoLoginRepository.js"
import { checkArgumentIds } from "../../storage/common/filters.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { normaliseUrl } from "../../storage/common/url.js"
import { optionalEntity } from "../../rows/common.js"
import {
  COMPAT_SSO_LOGINS,
  compatSsoLoginColumnNames,
  compatSsoLoginFromRow,
  CompatSsoLoginRow,
  newCompatSsoLoginRow
} from "../../rows/compat/compatSsoLogin.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { countQuery, filter, pageQuery, piece } from "../dynamic.js"

const columns = compatSsoLoginColumnNames.map((c) => `compat_sso_logins.${c}`).join(", ")

const q = repositoryQueries({
  prefix: "compatSsoLogin",
  table: COMPAT_SSO_LOGINS,
  idColumn: "compat_sso_login_id",
  row: CompatSsoLoginRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM compat_sso_logins WHERE compat_sso_logins.compat_sso_login_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // Several logins may name one session (the column is not unique): the lowest id, so both backends agree.
  findForSession: {
    text:
      `SELECT ${columns} FROM compat_sso_logins WHERE compat_sso_logins.compat_session_id = $1 ` +
      "ORDER BY compat_sso_logins.compat_sso_login_id LIMIT 1",
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM compat_sso_logins WHERE compat_sso_logins.login_token = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the token is taken (storage rule: Conflicts).
  add: {
    text:
      "INSERT INTO compat_sso_logins (compat_sso_login_id, login_token, redirect_uri, created_at) " +
      "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    params: Schema.Tuple(UlidFromUuid, Schema.String, Url, Schema.DateFromSelf),
    row: NoRows
  },
  // Guarded: of concurrent fulfils only one touches the row.
  fulfill: {
    text:
      "UPDATE compat_sso_logins SET user_session_id = $2, fulfilled_at = $3 " +
      "WHERE compat_sso_login_id = $1 AND fulfilled_at IS NULL",
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // Guarded: a login is exchanged once, and only after it was fulfilled.
  exchange: {
    text:
      "UPDATE compat_sso_logins SET exchanged_at = $2, compat_session_id = $3 " +
      "WHERE compat_sso_login_id = $1 AND fulfilled_at IS NOT NULL AND exchanged_at IS NULL",
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  }
})

/** The filter over `compat_sso_logins` (unaliased). */
export const compatSsoLoginFilter = filter<CompatSsoLoginFilter>()(
  "CompatSsoLoginFilter",
  {
    user: piece(
      "EXISTS (SELECT 1 FROM user_sessions WHERE user_sessions.user_id = $1 AND user_sessions.user_session_id = compat_sso_logins.user_session_id)",
      Schema.Tuple(UlidFromUuid)
    ),
    pending: piece("compat_sso_logins.fulfilled_at IS NULL"),
    fulfilled: piece("compat_sso_logins.fulfilled_at IS NOT NULL AND compat_sso_logins.exchanged_at IS NULL"),
    exchanged: piece("compat_sso_logins.exchanged_at IS NOT NULL")
  },
  (f, use) => [
    f.user !== undefined && use.user(f.user),
    f.state === "pending" && use.pending(),
    f.state === "fulfilled" && use.fulfilled(),
    f.state === "exchanged" && use.exchanged()
  ]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "compat SSO logins matching a CompatSsoLoginFilter, one keyset page",
    row: CompatSsoLoginRow,
    select: `SELECT ${columns} FROM compat_sso_logins`,
    slots: { filter: compatSsoLoginFilter },
    where: "filter",
    keyset: "compat_sso_logins.compat_sso_login_id"
  }),
  count: countQuery({
    description: "number of compat SSO logins matching a CompatSsoLoginFilter",
    from: "compat_sso_logins",
    slots: { filter: compatSsoLoginFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const toLogin = optionalEntity(compatSsoLoginFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return CompatSsoLoginRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toLogin),

    findForSession: (session) =>
      Effect.zipRight(
        checkArgumentIds({ session: session.id }),
        Effect.flatMap(db.findForSession.one(session.id), toLogin)
      ),

    findByToken: (loginToken) =>
      Effect.zipRight(checkWellFormed({ loginToken }), Effect.flatMap(db.findByToken.one(loginToken), toLogin)),

    add: (loginToken, redirectUri) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ loginToken })
        const uri = yield* normaliseUrl("redirectUri", redirectUri)
        const at = yield* now
        const row = newCompatSsoLoginRow(loginToken, uri, yield* generateUlid, at)
        yield* db.add.affectedOne(row.compat_sso_login_id, row.login_token, row.redirect_uri, row.created_at)
        return compatSsoLoginFromRow(row)
      }),

    fulfill: (login, browserSession) =>
      guardedTransition({
        ids: { login: login.id, browserSession: browserSession.id },
        transition: (at) => fulfillCompatSsoLogin(login, at, browserSession.id),
        write: (at) => db.fulfill.affectedOne(login.id, browserSession.id, at)
      }),

    exchange: (login, session) =>
      guardedTransition({
        ids: { login: login.id, session: session.id },
        transition: (at) => exchangeCompatSsoLogin(login, at, session.id),
        write: (at) => db.exchange.affectedOne(login.id, at, session.id)
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkCompatSsoLoginFilter(filter)
        const page = yield* dynamic.list.page(sql, { filter }, pagination)
        return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), compatSsoLoginFromRow))
      }),

    count: (filter) =>
      Effect.zipRight(
        checkCompatSsoLoginFilter(filter),
        Effect.suspend(() => dynamic.count.count(sql, { filter }))
      )
  })
})

export const layer: Layer.Layer<CompatSsoLoginRepository, never, SqlClient.SqlClient> = Layer.effect(
  CompatSsoLoginRepository,
  Effect.map(make, traced("compatSsoLogin"))
)
