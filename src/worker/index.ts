// What a program needs to run a worker: handlers, recurring jobs, the runtime and its configuration, the cleanups.
//
// A process with its own handler, on PostgreSQL (what the CLI's `worker` command does, minus the migrations):
//
//   const handler = jobHandler({ queue: "mine", run: (job) => Effect.log(job.payload) })
//   const program = Effect.gen(function* () {
//     const pg = yield* PgClient.PgClient
//     yield* runWorker({ pollInterval: Duration.millis(200), wakeups: Option.some(pg.listen("queue_available")) },
//                      [handler, ...cleanupHandlers], cleanupSchedules)
//   }).pipe(Effect.provide(RepositoryAccessPg.layer.pipe(Layer.provideMerge(Client.layer({ url, maxConnections: 13 })))))
//   NodeRuntime.runMain(program)   // Ctrl-C (SIGINT) stops it gracefully; kill -9 leaves it to the leader
export { defaultJobTimeout, JobFailure, type JobHandler, jobHandler } from "./JobHandler.js"
export { type RecurringJob, recurringJob } from "./RecurringJob.js"
export { defaultWorkerConfig, exponentialBackoff, runWorker, type WorkerConfig } from "./Worker.js"
export {
  CLEANUP_BATCH_SIZE,
  type CleanupJob,
  cleanupHandler,
  cleanupHandlers,
  cleanupJobs,
  cleanupSchedules,
  POLICY_DATA_VERSIONS_KEPT
} from "./cleanupJobs.js"
export { type JobType, jobType, scheduleJob, scheduleJobLater, typedJobHandler } from "./TypedJob.js"
