// The port for the worker registry and the leader lease: its shape and the Tag both backends implement.
import { Context, type Duration, type Effect } from "effect"
import type { Worker } from "../../model/queue.js"
import type { Ulid } from "../../model/Ulid.js"
import type { DatabaseError } from "../common/errors.js"

/** What `shutdownDeadWorkers` did: the workers it shut down and the jobs they were running, now lost and retried. */
export interface DeadWorkerShutdown {
  /** In id order. */
  readonly workers: ReadonlyArray<Worker>
  /** The ids of the lost jobs (not of their new attempts), in id order. */
  readonly lostJobs: ReadonlyArray<Ulid>
}

export interface QueueWorkerRepositoryShape {
  /** A new worker, registered and last seen `now`. */
  readonly register: () => Effect.Effect<Worker, DatabaseError>
  /**
   * Sets last-seen to `now`. A worker that was shut down (by itself or as dead) or does not exist is a
   * RowsAffectedError: it must stop, as its jobs may have been handed to others.
   */
  readonly heartbeat: (worker: Worker) => Effect.Effect<void, DatabaseError>
  /**
   * Stamps the shutdown time (a missing or already shut down worker is a RowsAffectedError), gives up the leader lease
   * if the worker holds it (PostgreSQL then notifies `queue_leader_stepdown`, with the worker's id as payload), and turns the jobs it is still running
   * into `lost` ones, each retried as a new attempt scheduled at once (the leader makes it available) (see `QueueJobRepositoryShape.retry`). Returns the ids of
   * those lost jobs, in id order.
   */
  readonly shutdown: (worker: Worker) => Effect.Effect<ReadonlyArray<Ulid>, DatabaseError>
  /**
   * Shuts down every live worker last seen before `now − threshold`, and turns the jobs they were running into `lost`
   * ones, each retried as a new attempt scheduled at once (the leader makes it available), so a crashed worker loses no job (beyond MAS, where this is a TODO).
   * A threshold that gives no representable cutoff (infinite, or before the earliest timestamp) is an
   * InvalidOperationError (nothing written); Effect's Duration has no negative values. The lease of a dead worker is
   * not released here: it lapses within 5 seconds and `removeLeaderLeaseIfExpired` deletes it.
   */
  readonly shutdownDeadWorkers: (threshold: Duration.Duration) => Effect.Effect<DeadWorkerShutdown, DatabaseError>
  /** Deletes the lease if it expired before the database's current time (in memory: `Clock`). */
  readonly removeLeaderLeaseIfExpired: () => Effect.Effect<void, DatabaseError>
  /**
   * Takes the lease when nobody holds it (elected `now`, expiring 5 seconds after the database's current time) or
   * extends it when `worker` holds it; true iff `worker` is the leader afterwards. A lease held by another worker,
   * even an expired one, gives false until `removeLeaderLeaseIfExpired` deletes it. On PostgreSQL the lease row stays
   * locked until the unit of work ends, so what a leader does in the same unit of work is done by one worker at a
   * time. A worker that does not exist is a DriverError (23503) when nobody holds the lease (else simply false). The
   * expiry counts from the database's current time, which on PostgreSQL is the start of the unit of work.
   */
  readonly tryGetLeaderLease: (worker: Worker) => Effect.Effect<boolean, DatabaseError>
}

export class QueueWorkerRepository extends Context.Tag("storage/QueueWorkerRepository")<
  QueueWorkerRepository,
  QueueWorkerRepositoryShape
>() {}
