// OAuth2 sessions: valid until finished, with the client, scope and last activity.
import { Either, Schema } from "effect"
import { copy, Finished, OptionalString, OptionalTimestamp, OptionalUlid, SessionState, Timestamp } from "../common.js"
import { invalidTransition } from "../errors.js"
import { Ulid } from "../Ulid.js"
import { ScopeFromSelf } from "../values.js"
import { OptionalIp, type Transition } from "./shared.js"

export class OAuth2Session extends Schema.Class<OAuth2Session>("OAuth2Session")({
  id: Ulid,
  state: SessionState,
  createdAt: Timestamp,
  userId: OptionalUlid,
  userSessionId: OptionalUlid,
  clientId: Ulid,
  scope: ScopeFromSelf,
  userAgent: OptionalString,
  lastActiveAt: OptionalTimestamp,
  lastActiveIp: OptionalIp,
  humanName: OptionalString
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
  get isFinished(): boolean {
    return this.state._tag === "Finished"
  }
}

export const SessionStateFilter = Schema.Literal("active", "finished")
export type SessionStateFilter = typeof SessionStateFilter.Type

/** Valid → Finished. */
export const finishOAuth2Session = (session: OAuth2Session, now: Date): Transition<OAuth2Session> =>
  session.state._tag === "Valid"
    ? Either.right(copy(OAuth2Session, session, { state: new Finished({ finishedAt: now }) }))
    : invalidTransition("OAuth2Session", session.state._tag, "finish")
