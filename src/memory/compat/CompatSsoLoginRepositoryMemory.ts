// CompatSsoLoginRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer } from "effect"
import { exchangeCompatSsoLogin, fulfillCompatSsoLogin } from "../../model/compat.js"
import { generateUlid } from "../../model/Ulid.js"
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
  compatSsoLoginFromRow,
  CompatSsoLoginRow,
  newCompatSsoLoginRow
} from "../../rows/compat/compatSsoLogin.js"
import type { BrowserSessionRow } from "../../rows/user/browserSession.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import type { Database } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

/** The twin of the PostgreSQL filter fragment; the browser sessions it looks at are read from the same state. */
const matches = (db: Database, filter: CompatSsoLoginFilter) => {
  const ofUser =
    filter.user === undefined
      ? undefined
      : new Set(
          db
            .rows<BrowserSessionRow>("user_sessions")
            .filter((r) => r.user_id === filter.user)
            .map((r) => r.user_session_id)
        )
  return (row: CompatSsoLoginRow): boolean =>
    (ofUser === undefined || (row.user_session_id !== null && ofUser.has(row.user_session_id))) &&
    (filter.state !== "pending" || row.fulfilled_at === null) &&
    (filter.state !== "fulfilled" || (row.fulfilled_at !== null && row.exchanged_at === null)) &&
    (filter.state !== "exchanged" || row.exchanged_at !== null)
}

const toLogin = optionalEntity(compatSsoLoginFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const logins = memoryTable(store, {
    table: COMPAT_SSO_LOGINS,
    idColumn: "compat_sso_login_id",
    row: CompatSsoLoginRow
  })

  // Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none.
  const select = (filter: CompatSsoLoginFilter) => store.read((db) => logins.rows(db).filter(matches(db, filter)))

  return CompatSsoLoginRepository.of({
    lookup: (id) => Effect.flatMap(logins.get(id), toLogin),

    // `find` takes the first in primary-key order: the lowest id, as PostgreSQL's ORDER BY … LIMIT 1.
    findForSession: (session) =>
      Effect.zipRight(
        checkArgumentIds({ session: session.id }),
        Effect.flatMap(
          logins.find((r) => r.compat_session_id === session.id),
          toLogin
        )
      ),

    findByToken: (loginToken) =>
      Effect.zipRight(
        checkWellFormed({ loginToken }),
        Effect.flatMap(
          logins.find((r) => r.login_token === loginToken, loginToken),
          toLogin
        )
      ),

    add: (loginToken, redirectUri) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ loginToken })
        const uri = yield* normaliseUrl("redirectUri", redirectUri)
        const at = yield* now
        const row = newCompatSsoLoginRow(loginToken, uri, yield* generateUlid, at)
        // A taken token is ignored as ON CONFLICT DO NOTHING ignores it.
        yield* exactlyOne(logins.insertIgnoringConflict(row))
        return compatSsoLoginFromRow(row)
      }),

    fulfill: (login, browserSession) =>
      guardedTransition({
        ids: { login: login.id, browserSession: browserSession.id },
        transition: (at) => fulfillCompatSsoLogin(login, at, browserSession.id),
        write: (at) =>
          logins.updateGuarded(
            login.id,
            (row) => row.fulfilled_at === null,
            (row) => ({ ...row, user_session_id: browserSession.id, fulfilled_at: at })
          )
      }),

    exchange: (login, session) =>
      guardedTransition({
        ids: { login: login.id, session: session.id },
        transition: (at) => exchangeCompatSsoLogin(login, at, session.id),
        write: (at) =>
          logins.updateGuarded(
            login.id,
            (row) => row.fulfilled_at !== null && row.exchanged_at === null,
            (row) => ({ ...row, exchanged_at: at, compat_session_id: session.id })
          )
      }),

    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkCompatSsoLoginFilter(filter)
        yield* checkCursors(pagination)
        const rows = yield* select(filter)
        return yield* paginate(rows, pagination, (r) => r.compat_sso_login_id).tryMap((row) =>
          Either.map(logins.decode(row), compatSsoLoginFromRow)
        )
      }),

    count: (filter) =>
      Effect.gen(function* () {
        yield* checkCompatSsoLoginFilter(filter)
        const rows = yield* select(filter)
        return yield* toSafeCountOrFail(rows.length)
      })
  })
})

export const layer: Layer.Layer<CompatSsoLoginRepository, never, MemoryStore> = Layer.effect(
  CompatSsoLoginRepository,
  make
)
