// Every repository cleanup as a recurring job: its queue and schedule, its cron, its retention, its batched handler.
import { Duration, Effect, Option } from "effect"
import { maxUlidAt, type Ulid } from "../model/Ulid.js"
import type { CleanupResult } from "../storage/common/CleanupResult.js"
import type { DatabaseError } from "../storage/common/errors.js"
import { RepositoryAccess, type RepositoryAccessShape } from "../storage/RepositoryAccess.js"
import { JobFailure, jobHandler, type JobHandler } from "./JobHandler.js"
import { recurringJob, type RecurringJob } from "./RecurringJob.js"

/** Rows per batch; each batch is its own unit of work, so a long cleanup never holds one transaction for long. */
export const CLEANUP_BATCH_SIZE = 1000

/** How many policy-data versions the prune keeps. */
export const POLICY_DATA_VERSIONS_KEPT = 10

export interface CleanupJob {
  /** The queue and the schedule name. */
  readonly name: string
  /** Six-field cron (seconds first), UTC; spread over the hour so the cleanups do not all hit the database at once. */
  readonly cron: string
  readonly timeout: Duration.Duration
  /** The repository methods it calls, as `accessor.method` (the test checks every cleanup method is covered). */
  readonly covers: ReadonlyArray<string>
  /** Runs the whole cleanup at `now`; returns how many rows it touched. */
  readonly run: (access: RepositoryAccessShape, now: Date) => Effect.Effect<number, DatabaseError>
}

/**
 * Batches of `CLEANUP_BATCH_SIZE`, each its own unit of work, resuming after the last key of the previous one, until
 * a batch comes back short. Interrupted between or inside batches, what was committed stays.
 */
const inBatches = <K>(
  access: RepositoryAccessShape,
  batch: (since: Option.Option<K>) => Effect.Effect<CleanupResult<K>, DatabaseError>
): Effect.Effect<number, DatabaseError> =>
  Effect.gen(function* () {
    let since = Option.none<K>()
    let total = 0
    for (;;) {
      const [count, last] = yield* access.transaction(batch(since))
      total += count
      if (count < CLEANUP_BATCH_SIZE || Option.isNone(last)) return total
      since = last
    }
  })

const before = (now: Date, retention: Duration.Duration) => new Date(now.getTime() - Duration.toMillis(retention))

/** A cleanup of the rows older than `retention`, its key's upper bound made from that cutoff instant by `until`. */
const keyed =
  <K>(until: (cutoff: Date) => K) =>
  (
    name: string,
    cron: string,
    retention: Duration.DurationInput,
    covers: string,
    method: (
      access: RepositoryAccessShape
    ) => (since: Option.Option<K>, until: K, limit: number) => Effect.Effect<CleanupResult<K>, DatabaseError>,
    timeout: Duration.DurationInput = Duration.minutes(10)
  ): CleanupJob => ({
    name,
    cron,
    timeout: Duration.decode(timeout),
    covers: [covers],
    run: (access, now) => {
      const bound = until(before(now, Duration.decode(retention)))
      return inBatches(access, (since: Option.Option<K>) => method(access)(since, bound, CLEANUP_BATCH_SIZE))
    }
  })

/** A cleanup keyed by a timestamp: rows whose key is older than `retention`. */
const byTime = keyed<Date>((cutoff) => cutoff)

/** A cleanup keyed by ULID: rows created more than `retention` ago (every id of that last millisecond included). */
const byId = keyed<Ulid>(maxUlidAt)

/** Every cleanup of every repository. */
export const cleanupJobs: ReadonlyArray<CleanupJob> = [
  // Revoked or consumed tokens are useless; an hour's grace covers requests still in flight.
  byTime(
    "cleanup-revoked-oauth-access-tokens",
    "0 0 * * * *",
    "1 hour",
    "oauth2AccessTokens.cleanupRevoked",
    (a) => a.oauth2AccessTokens.cleanupRevoked
  ),
  // Expired access tokens are kept a while: a refresh token may still point to one.
  byTime(
    "cleanup-expired-oauth-access-tokens",
    "0 5 */4 * * *",
    "30 days",
    "oauth2AccessTokens.cleanupExpired",
    (a) => a.oauth2AccessTokens.cleanupExpired,
    Duration.minutes(1)
  ),
  byTime(
    "cleanup-revoked-oauth-refresh-tokens",
    "0 5 * * * *",
    "1 hour",
    "oauth2RefreshTokens.cleanupRevoked",
    (a) => a.oauth2RefreshTokens.cleanupRevoked
  ),
  byTime(
    "cleanup-consumed-oauth-refresh-tokens",
    "0 5 * * * *",
    "1 hour",
    "oauth2RefreshTokens.cleanupConsumed",
    (a) => a.oauth2RefreshTokens.cleanupConsumed
  ),
  // Finished sessions stay 30 days, for the account's history.
  byTime(
    "cleanup-finished-compat-sessions",
    "0 10 * * * *",
    "30 days",
    "compatSessions.cleanupFinished",
    (a) => a.compatSessions.cleanupFinished
  ),
  byTime(
    "cleanup-finished-oauth2-sessions",
    "0 15 * * * *",
    "30 days",
    "oauth2Sessions.cleanupFinished",
    (a) => a.oauth2Sessions.cleanupFinished
  ),
  byTime(
    "cleanup-finished-user-sessions",
    "0 20 * * * *",
    "30 days",
    "browserSessions.cleanupFinished",
    (a) => a.browserSessions.cleanupFinished
  ),
  // The last IP of a session inactive for 30 days is personal data nobody needs any more.
  byTime(
    "cleanup-inactive-oauth2-session-ips",
    "0 25 * * * *",
    "30 days",
    "oauth2Sessions.cleanupInactiveIps",
    (a) => a.oauth2Sessions.cleanupInactiveIps
  ),
  byTime(
    "cleanup-inactive-compat-session-ips",
    "0 25 * * * *",
    "30 days",
    "compatSessions.cleanupInactiveIps",
    (a) => a.compatSessions.cleanupInactiveIps
  ),
  byTime(
    "cleanup-inactive-user-session-ips",
    "0 25 * * * *",
    "30 days",
    "browserSessions.cleanupInactiveIps",
    (a) => a.browserSessions.cleanupInactiveIps
  ),
  // Grants, upstream attempts, recoveries and email codes live minutes; a week of them helps investigate abuse.
  byId(
    "cleanup-oauth-authorization-grants",
    "0 30 * * * *",
    "7 days",
    "oauth2AuthorizationGrants.cleanup",
    (a) => a.oauth2AuthorizationGrants.cleanup
  ),
  byId(
    "cleanup-oauth-device-code-grants",
    "0 35 * * * *",
    "7 days",
    "oauth2DeviceCodeGrants.cleanup",
    (a) => a.oauth2DeviceCodeGrants.cleanup
  ),
  byId(
    "cleanup-upstream-oauth-sessions",
    "0 40 * * * *",
    "7 days",
    "upstreamOAuthSessions.cleanupOrphaned",
    (a) => a.upstreamOAuthSessions.cleanupOrphaned
  ),
  byId(
    "cleanup-upstream-oauth-links",
    "0 40 * * * *",
    "7 days",
    "upstreamOAuthLinks.cleanupOrphaned",
    (a) => a.upstreamOAuthLinks.cleanupOrphaned
  ),
  byId(
    "cleanup-user-registrations",
    "0 45 * * * *",
    "30 days",
    "userRegistrations.cleanup",
    (a) => a.userRegistrations.cleanup
  ),
  byId(
    "cleanup-user-recovery-sessions",
    "0 50 * * * *",
    "7 days",
    "userRecovery.cleanup",
    (a) => a.userRecovery.cleanup
  ),
  byId(
    "cleanup-user-email-authentications",
    "0 50 * * * *",
    "7 days",
    "userEmails.cleanupAuthentications",
    (a) => a.userEmails.cleanupAuthentications
  ),
  // Finished jobs stay 30 days, for debugging.
  byId("cleanup-queue-jobs", "0 55 * * * *", "30 days", "queueJobs.cleanup", (a) => a.queueJobs.cleanup),
  {
    name: "prune-stale-policy-data",
    cron: "0 0 2 * * *",
    timeout: Duration.minutes(10),
    covers: ["policyData.prune"],
    run: (access) => access.transaction(access.policyData.prune(POLICY_DATA_VERSIONS_KEPT))
  }
]

/** The handler of a cleanup job: not transactional (its batches commit one by one). */
export const cleanupHandler = (job: CleanupJob): JobHandler<RepositoryAccess> =>
  jobHandler({
    queue: job.name,
    timeout: job.timeout,
    transactional: false,
    run: () =>
      Effect.gen(function* () {
        const access = yield* RepositoryAccess
        const now = new Date(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
        const count = yield* job.run(access, now)
        yield* count === 0 ? Effect.logDebug("nothing to clean up") : Effect.logInfo(`cleaned up ${count} row(s)`)
      }).pipe(Effect.mapError(JobFailure.fromDatabaseError))
  })

/** The handlers of every cleanup job. */
export const cleanupHandlers: ReadonlyArray<JobHandler<RepositoryAccess>> = cleanupJobs.map(cleanupHandler)

/** The schedules of every cleanup job (schedule name = queue name). */
export const cleanupSchedules: ReadonlyArray<RecurringJob> = cleanupJobs.map((job) =>
  recurringJob(job.name, job.name, job.cron)
)
