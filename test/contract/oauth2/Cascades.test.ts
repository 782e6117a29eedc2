// The schema's ON DELETE rules between OAuth2 rows, as a bare DELETE applies them, the same on every backend.
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { seedAccessToken, seedClient, seedOAuth2Session, seedRefreshTokenRow } from "./fixtures.js"

contract("OAuth2 ON DELETE rules", (test) => {
  test("deleting a session takes its access token and the refresh token pointing at both", () =>
    Effect.gen(function* () {
      const seed = yield* Seed
      const client = yield* seedClient
      const session = yield* seedOAuth2Session(client)
      const other = yield* seedOAuth2Session(client)
      const token = yield* seedAccessToken(session, "at")
      yield* seedRefreshTokenRow(session.id, token.id, "rt")
      const kept = yield* seedAccessToken(other, "at-other")
      yield* seedRefreshTokenRow(other.id, kept.id, "rt-other")

      yield* seed.delete("oauth2_sessions", "oauth2_session_id", session.id)

      expect((yield* seed.dump("oauth2_access_tokens", "oauth2_access_token_id")).map((r) => r.access_token)).toEqual([
        "at-other"
      ])
      expect(
        (yield* seed.dump("oauth2_refresh_tokens", "oauth2_refresh_token_id")).map((r) => r.refresh_token)
      ).toEqual(["rt-other"])
    }))

  test("deleting an access token or a successor clears the pointers to it and keeps the refresh tokens", () =>
    Effect.gen(function* () {
      const seed = yield* Seed
      const client = yield* seedClient
      const session = yield* seedOAuth2Session(client)
      const token = yield* seedAccessToken(session, "at")
      const successor = yield* seedRefreshTokenRow(session.id, token.id, "rt-2")
      const consumed = yield* seedRefreshTokenRow(session.id, token.id, "rt-1", {
        consumed_at: new Date(EPOCH),
        next_oauth2_refresh_token_id: successor
      })

      yield* seed.delete("oauth2_access_tokens", "oauth2_access_token_id", token.id)
      yield* seed.delete("oauth2_refresh_tokens", "oauth2_refresh_token_id", successor)

      const left = yield* seed.dump("oauth2_refresh_tokens", "oauth2_refresh_token_id")
      expect(
        left.map((r) => [r.oauth2_refresh_token_id, r.oauth2_access_token_id, r.next_oauth2_refresh_token_id])
      ).toEqual([[consumed, null, null]])
    }))
})
