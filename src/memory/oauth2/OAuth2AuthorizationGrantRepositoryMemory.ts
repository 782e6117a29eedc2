// OAuth2AuthorizationGrantRepository in memory: the same rows, guards and refusals as PostgreSQL, over the MemoryStore.
import { Effect, Layer, Option } from "effect"
import { exchangeAuthorizationGrant, fulfillAuthorizationGrant } from "../../model/oauth2/authorizationGrant.js"
import { generateUlid } from "../../model/Ulid.js"
import {
  AUTHORIZATION_GRANTS,
  AuthorizationGrantRow,
  authorizationGrantFromRow,
  newAuthorizationGrantRow,
  type RawParameters,
  readOptionalAuthorizationGrant
} from "../../rows/oauth2/authorizationGrant.js"
import { DriverError } from "../../storage/common/errors.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { abortOnDriverError } from "../../storage/common/UnitOfWork.js"
import {
  checkNewAuthorizationGrant,
  OAuth2AuthorizationGrantRepository
} from "../../storage/oauth2/OAuth2AuthorizationGrantRepository.js"
import { ulidCleanup } from "../common/cleanup.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

/** The twins of the PostgreSQL guards: the stage columns as the decoder reads Pending and Fulfilled. */
const isPending = (r: AuthorizationGrantRow): boolean =>
  r.fulfilled_at === null &&
  r.exchanged_at === null &&
  r.cancelled_at === null &&
  r.user_session_id === null &&
  r.oauth2_session_id === null

const isFulfilled = (r: AuthorizationGrantRow): boolean =>
  r.fulfilled_at !== null &&
  r.exchanged_at === null &&
  r.cancelled_at === null &&
  r.user_session_id !== null &&
  r.oauth2_session_id === null

/** PostgreSQL's jsonb cannot hold `\u0000` in a key or a string (22P05, untranslatable character). */
const UNTRANSLATABLE_CHARACTER = "22P05"

const rejectNulInDocument = (document: RawParameters): Effect.Effect<void, DriverError> =>
  Object.entries(document).some(([key, value]) => key.includes("\u0000") || value.includes("\u0000"))
    ? abortOnDriverError(
        Effect.fail(
          new DriverError({
            cause: new Error("unsupported Unicode escape sequence: \\u0000 cannot be converted to text"),
            sqlState: Option.some(UNTRANSLATABLE_CHARACTER),
            constraint: Option.none()
          })
        )
      )
    : Effect.void

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const grants = memoryTable(store, {
    table: AUTHORIZATION_GRANTS,
    idColumn: "oauth2_authorization_grant_id",
    row: AuthorizationGrantRow
  })

  return OAuth2AuthorizationGrantRepository.of({
    add: (params) =>
      Effect.gen(function* () {
        const redirectUri = yield* checkNewAuthorizationGrant(params)
        yield* requireUlid(params.client.id)
        const at = yield* now
        const id = yield* generateUlid
        const row = newAuthorizationGrantRow(params, id, at, redirectUri)
        // PostgreSQL reads the parameters in order: NUL in a text column (22021) is met before NUL in the document.
        yield* rejectNul(...Object.values(row).filter((v): v is string => typeof v === "string"))
        yield* rejectNulInDocument(row.raw_parameters)
        // A taken code (the one unique column) is ignored as ON CONFLICT DO NOTHING ignores it; a missing client fails.
        yield* exactlyOne(grants.insertIgnoringConflict(row))
        return authorizationGrantFromRow(row)
      }),

    lookup: (id) => Effect.flatMap(grants.get(id), readOptionalAuthorizationGrant),

    findByCode: (code) =>
      Effect.zipRight(
        checkWellFormed({ code }),
        Effect.flatMap(
          grants.find((r) => r.authorization_code === code, code),
          readOptionalAuthorizationGrant
        )
      ),

    fulfill: (browserSession, grant) =>
      guardedTransition({
        ids: { grant: grant.id, browserSession: browserSession.id },
        transition: (at) => fulfillAuthorizationGrant(grant, at, browserSession.id),
        write: (at) =>
          grants.updateGuarded(grant.id, isPending, (r) => ({
            ...r,
            fulfilled_at: at,
            user_session_id: browserSession.id
          }))
      }),

    exchange: (grant, session) =>
      guardedTransition({
        ids: { grant: grant.id, session: session.id },
        transition: (at) => exchangeAuthorizationGrant(grant, at, session.id),
        write: (at) =>
          grants.updateGuarded(grant.id, isFulfilled, (r) => ({
            ...r,
            exchanged_at: at,
            oauth2_session_id: session.id
          }))
      }),

    cleanup: ulidCleanup(store, grants, (r) => r.oauth2_authorization_grant_id)
  })
})

export const layer: Layer.Layer<OAuth2AuthorizationGrantRepository, never, MemoryStore> = Layer.effect(
  OAuth2AuthorizationGrantRepository,
  make
)
