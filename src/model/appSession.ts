// AppSession: OAuth2 and compat sessions seen as one list.
import { Schema } from "effect"
import { CompatSession } from "./compat.js"
import { OAuth2Session } from "./oauth2/session.js"
import type { Ulid } from "./Ulid.js"

export class AppSessionCompat extends Schema.TaggedClass<AppSessionCompat>("AppSessionCompat")("Compat", {
  session: CompatSession
}) {}

export class AppSessionOAuth2 extends Schema.TaggedClass<AppSessionOAuth2>("AppSessionOAuth2")("OAuth2", {
  session: OAuth2Session
}) {}

export const AppSession = Schema.Union(AppSessionCompat, AppSessionOAuth2)
export type AppSession = typeof AppSession.Type

/** The id both kinds are ordered by, as one keyset. */
export const appSessionId = (appSession: AppSession): Ulid => appSession.session.id

export const AppSessionStateFilter = Schema.Literal("active", "finished")
export type AppSessionStateFilter = typeof AppSessionStateFilter.Type
