// AppSessionRepository in memory: the same rows and rules as PostgreSQL, the compat and OAuth2 sessions of one state paged as one list.
import { Effect, Either, Layer } from "effect"
import { type AppSession, AppSessionCompat, AppSessionOAuth2 } from "../../model/appSession.js"
import type { Ulid } from "../../model/Ulid.js"
import { deviceToScopeTokens } from "../../model/values.js"
import { COMPAT_SESSIONS, CompatSessionRow, compatSessionFromRow } from "../../rows/compat/compatSession.js"
import { OAuth2SessionRow, oauth2SessionFromRow } from "../../rows/oauth2/session.js"
import {
  AppSessionRepository,
  type AppSessionFilter,
  checkAppSessionFilter,
  splitAppSessionFilter
} from "../../storage/appSession/AppSessionRepository.js"
import type { InconsistencyError } from "../../storage/common/errors.js"
import { checkArgumentIds } from "../../storage/common/filters.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { matchesCompatSession } from "../compat/CompatSessionRepositoryMemory.js"
import { matchesOAuth2Session } from "../oauth2/OAuth2SessionRepositoryMemory.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { rejectNul } from "../common/parameters.js"
import type { Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

const OAUTH2_SESSIONS = "oauth2_sessions"

/** A selected session, not decoded yet: its id (the keyset of both kinds) and its kind's raw row. */
type Entry =
  | { readonly id: Ulid; readonly kind: "compat"; readonly row: CompatSessionRow }
  | { readonly id: Ulid; readonly kind: "oauth2"; readonly row: OAuth2SessionRow }

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const compatSessions = memoryTable(store, {
    table: COMPAT_SESSIONS,
    idColumn: "compat_session_id",
    row: CompatSessionRow
  })
  const oauth2Sessions = memoryTable(store, {
    table: OAUTH2_SESSIONS,
    idColumn: "oauth2_session_id",
    row: OAuth2SessionRow
  })

  // The union of both kinds from one state. Not decoded yet: as in PostgreSQL, a page decodes only its own rows and
  // counting decodes none. The compat device criterion is text sent to PostgreSQL, which refuses NUL.
  const select = (filter: AppSessionFilter) =>
    Effect.zipRight(
      rejectNul(filter.device?.id),
      store.read((db): ReadonlyArray<Entry> => {
        const { compat, oauth2 } = splitAppSessionFilter(filter)
        return [
          ...oauth2Sessions
            .rows(db)
            .filter(matchesOAuth2Session(db, oauth2))
            .map((row): Entry => ({ id: row.oauth2_session_id, kind: "oauth2", row })),
          ...compatSessions
            .rows(db)
            .filter(matchesCompatSession(db, compat))
            .map((row): Entry => ({ id: row.compat_session_id, kind: "compat", row }))
        ]
      })
    )

  const decode = (entry: Entry): Either.Either<AppSession, InconsistencyError> =>
    entry.kind === "compat"
      ? Either.map(
          compatSessions.decode(entry.row),
          (row) => new AppSessionCompat({ session: compatSessionFromRow(row) })
        )
      : Either.map(
          oauth2Sessions.decode(entry.row),
          (row) => new AppSessionOAuth2({ session: oauth2SessionFromRow(row) })
        )

  return AppSessionRepository.of({
    list: (filter, pagination) =>
      Effect.gen(function* () {
        yield* checkAppSessionFilter(filter)
        yield* checkCursors(pagination)
        const entries = yield* select(filter)
        return yield* paginate(entries, pagination, (e) => e.id).tryMap(decode)
      }),

    count: (filter) =>
      Effect.zipRight(
        checkAppSessionFilter(filter),
        Effect.flatMap(select(filter), (entries) => toSafeCountOrFail(entries.length))
      ),

    // Both updates in one write, as PostgreSQL's one statement.
    finishSessionsToReplaceDevice: (user, device) =>
      Effect.gen(function* () {
        yield* checkArgumentIds({ user: user.id })
        yield* checkWellFormed({ device: device.id })
        const at = yield* now
        yield* rejectNul(device.id)
        const tokens = Either.getOrElse(deviceToScopeTokens(device), (): ReadonlyArray<string> => [])
        const finish = (row: Row) => ({ ...row, finished_at: at })
        return yield* store.write((db) =>
          Either.gen(function* () {
            const [compat, afterCompat] = yield* db.updateWhere(
              COMPAT_SESSIONS,
              (r) => r.user_id === user.id && r.device_id === device.id && r.finished_at === null,
              finish
            )
            const [oauth2, after] = yield* afterCompat.updateWhere(
              OAUTH2_SESSIONS,
              (r) =>
                r.user_id === user.id &&
                r.finished_at === null &&
                tokens.some((t) => (r.scope_list as ReadonlyArray<string>).includes(t)),
              finish
            )
            return [compat > 0 || oauth2 > 0, after] as const
          })
        )
      })
  })
})

export const layer: Layer.Layer<AppSessionRepository, never, MemoryStore> = Layer.effect(AppSessionRepository, make)
