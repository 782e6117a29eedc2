// A job the leader schedules on a cron: the schedule's name, its queue, its cron and the payload each run gets.
import { Cron, Either } from "effect"
import type { Json } from "../model/values.js"

export interface RecurringJob {
  /** The schedule row's name (set up when the worker starts); it remembers the last job scheduled. */
  readonly scheduleName: string
  readonly queue: string
  readonly cron: Cron.Cron
  readonly payload: Json
}

/**
 * A recurring job from a cron text: six fields (seconds first) or five, in UTC. A text that does not parse is a
 * programming error in the schedule table, so it throws where the table is built.
 */
export const recurringJob = (scheduleName: string, queue: string, cron: string, payload: Json = {}): RecurringJob => ({
  scheduleName,
  queue,
  cron: Either.getOrThrowWith(Cron.parse(cron, "UTC"), (e) => new Error(`schedule ${scheduleName}: ${e.message}`)),
  payload
})
