// Benchmark (d): keyset pagination, page 1 against page 1,000 of a large users table, through users.list.
import { Effect, Either, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { uuidToUlid } from "../src/model/Ulid.js"
import * as Client from "../src/pg/client.js"
import * as RepositoryAccessPg from "../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import { fmtMs, interleave, median, ratioRow, type Row, timed } from "./harness.js"

export interface PaginationOptions {
  readonly rounds: number
  /** `users.list` calls per measured batch. */
  readonly calls: number
  readonly pageSize: number
  /** The page compared with page 1 (1-based). */
  readonly page: number
  readonly tableRows: number
}

/** Needs `url` to hold at least `page × pageSize` users. */
export const benchPagination = async (url: string, options: PaginationOptions): Promise<Row> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const cursorRow = (options.page - 1) * options.pageSize
  let cursorUuid: string
  let expectedFirst: string
  try {
    const { rows } = await client.query<{ user_id: string }>(
      `SELECT user_id FROM users ORDER BY user_id OFFSET $1 LIMIT 2`,
      [cursorRow - 1]
    )
    cursorUuid = rows[0]!.user_id
    expectedFirst = rows[1]!.user_id
  } finally {
    await client.end()
  }
  const after = Option.getOrThrow(uuidToUlid(cursorUuid))
  const first = Either.getOrThrow(Pagination.first(options.pageSize))
  const later = first.withAfter(after)

  const runtime = ManagedRuntime.make(
    RepositoryAccessPg.layer.pipe(Layer.provide(Client.layer({ url: Redacted.make(url), maxConnections: 4 })))
  )
  try {
    const page = await runtime.runPromise(Effect.flatMap(RepositoryAccess, (r) => r.users.list({}, later)))
    const firstId = page.edges[0]?.node.id
    if (page.edges.length !== options.pageSize || firstId !== Option.getOrThrow(uuidToUlid(expectedFirst))) {
      throw new Error(
        `page ${options.page} does not start at row ${cursorRow + 1} (got ${page.edges.length} rows from ${firstId})`
      )
    }
    const batch = (pagination: Pagination) => () =>
      timed(() =>
        runtime.runPromise(
          Effect.flatMap(RepositoryAccess, (r) =>
            Effect.gen(function* () {
              for (let i = 0; i < options.calls; i++) yield* r.users.list({}, pagination)
            })
          )
        )
      )
    const result = await interleave(options.rounds, batch(later), batch(first))
    return ratioRow(
      {
        section: "d",
        name: `users.list first(${options.pageSize}): page ${options.page.toLocaleString("en")} (after row ${cursorRow.toLocaleString("en")}) vs page 1, ${options.tableRows.toLocaleString("en")} users`,
        a: `page ${options.page} ${fmtMs(median(result.a) / options.calls)}`,
        b: `page 1 ${fmtMs(median(result.b) / options.calls)}`,
        target: "≤ 1.5×"
      },
      result,
      1.5
    )
  } finally {
    await runtime.dispose()
  }
}
