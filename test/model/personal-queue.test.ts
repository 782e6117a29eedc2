// Personal sessions and tokens, app sessions, policy data, and the queue's job status machine.
import { assert, describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import {
  AppSessionCompat,
  AppSessionOAuth2,
  appSessionId,
  CompatSession,
  emptyScope,
  Job,
  JobMetadata,
  type JobStatus,
  lastScheduledJobCompleted,
  OAuth2Session,
  PersonalAccessToken,
  PersonalSession,
  PersonalSessionOwnerUser,
  PolicyData,
  revokePersonalAccessToken,
  revokePersonalSession,
  Revoked,
  ScheduleStatus,
  transitionJobStatus,
  Valid,
  Worker
} from "../../src/model/index.js"
import { at, newId, refused, right, T0 } from "./fixtures.js"

describe("PersonalSession", () => {
  const userId = newId()
  const session = new PersonalSession({
    id: newId(),
    state: new Valid(),
    owner: new PersonalSessionOwnerUser({ userId }),
    actorUserId: userId,
    humanName: "CI token",
    scope: emptyScope,
    createdAt: T0,
    lastActiveAt: Option.none(),
    lastActiveIp: Option.none()
  })

  it("revokes a valid session only", () => {
    const revoked = right(revokePersonalSession(session, at(1)))
    expect(revoked.state).toEqual(new Revoked({ revokedAt: at(1) }))
    assert.isTrue(revoked.isRevoked)
    refused(revokePersonalSession(revoked, at(2)), "PersonalSession", "Revoked", "revoke")
  })

  it("personal access tokens: validity and revocation", () => {
    const token = new PersonalAccessToken({
      id: newId(),
      sessionId: session.id,
      createdAt: T0,
      expiresAt: Option.some(at(10)),
      revokedAt: Option.none()
    })
    assert.isTrue(token.isValid(at(9)))
    assert.isFalse(token.isValid(at(10)))
    const revoked = right(revokePersonalAccessToken(token, at(1)))
    assert.isFalse(revoked.isValid(at(2)))
    assert.isTrue(new PersonalAccessToken({ ...token, expiresAt: Option.none() }).isValid(at(1e6)))
  })
})

describe("AppSession, PolicyData, Worker", () => {
  it("wraps either session kind and exposes its id", () => {
    const oauth2 = new OAuth2Session({
      id: newId(),
      state: new Valid(),
      createdAt: T0,
      userId: Option.none(),
      userSessionId: Option.none(),
      clientId: newId(),
      scope: emptyScope,
      userAgent: Option.none(),
      lastActiveAt: Option.none(),
      lastActiveIp: Option.none(),
      humanName: Option.none()
    })
    const compat = new CompatSession({
      id: newId(),
      state: new Valid(),
      userId: newId(),
      device: Option.none(),
      humanName: Option.none(),
      userSessionId: Option.none(),
      createdAt: T0,
      isSynapseAdmin: true,
      userAgent: Option.none(),
      lastActiveAt: Option.none(),
      lastActiveIp: Option.none()
    })
    assert.strictEqual(appSessionId(new AppSessionOAuth2({ session: oauth2 })), oauth2.id)
    assert.strictEqual(appSessionId(new AppSessionCompat({ session: compat })), compat.id)
  })

  it("PolicyData holds JSON only", () => {
    expect(new PolicyData({ id: newId(), createdAt: T0, data: { a: [1] } }).data).toEqual({ a: [1] })
    assert.throws(() => new PolicyData({ id: newId(), createdAt: T0, data: new Date() as never }))
  })

  it("Worker and Job validate their fields", () => {
    const id = newId()
    assert.strictEqual(new Worker({ id }).id, id)
    const metadata = new JobMetadata({ traceId: "t", spanId: "s", traceFlags: 1 })
    const job = new Job({ id, queueName: "q", payload: { x: 1 }, metadata, attempt: 0 })
    assert.strictEqual(job.attempt, 0)
    assert.throws(() => new Job({ id, queueName: "q", payload: {}, metadata, attempt: -1 }))
  })
})

describe("queue job status machine", () => {
  it("allows exactly the listed moves", () => {
    expect(transitionJobStatus("scheduled", "scheduleAvailable")).toEqual(Either.right("available"))
    expect(transitionJobStatus("available", "reserve")).toEqual(Either.right("running"))
    expect(transitionJobStatus("running", "complete")).toEqual(Either.right("completed"))
    expect(transitionJobStatus("running", "fail")).toEqual(Either.right("failed"))
    expect(transitionJobStatus("failed", "retry")).toEqual(Either.right("scheduled"))
    const statuses: ReadonlyArray<JobStatus> = ["available", "running", "completed", "failed", "scheduled", "lost"]
    for (const s of statuses.filter((s) => s !== "running")) {
      refused(transitionJobStatus(s, "complete"), "Job", s, "complete")
      refused(transitionJobStatus(s, "fail"), "Job", s, "fail")
    }
    refused(transitionJobStatus("completed", "retry"), "Job", "completed", "retry")
    refused(transitionJobStatus("lost", "reserve"), "Job", "lost", "reserve")
  })

  it("schedule status flag: none without a job, else whether it is done", () => {
    expect(lastScheduledJobCompleted(Option.none())).toEqual(Option.none())
    expect(lastScheduledJobCompleted(Option.some("failed"))).toEqual(Option.some(true))
    expect(lastScheduledJobCompleted(Option.some("completed"))).toEqual(Option.some(true))
    expect(lastScheduledJobCompleted(Option.some("running"))).toEqual(Option.some(false))
    const status = new ScheduleStatus({
      scheduleName: "daily",
      lastScheduledAt: Option.some(T0),
      lastScheduledJobCompleted: Option.some(true)
    })
    assert.strictEqual(status.scheduleName, "daily")
  })
})
