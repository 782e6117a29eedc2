// The README's example program: it runs on both backends, pages through all five sessions, two at a time, and signs an
// app in through the authorization-code flow.
import { expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { scopedDatabase, adminClient } from "../support/database.js"
import { outcome, runCli } from "./helpers.js"

const expectExampleOutput = (stdout: ReadonlyArray<string>, username: string) => {
  expect(stdout[0]).toMatch(
    new RegExp(`^registered ${username} \\(sub [0-7][0-9A-HJKMNP-TV-Z]{25}\\) with ${username}@example.com$`)
  )
  const pages = stdout.filter((l) => l.startsWith("page ")).map((l) => l.split(":")[0])
  expect(pages).toEqual(["page 1", "page 1", "page 2", "page 2", "page 3"])
  expect(stdout).toContain("5 sessions in all")
  const signedIn = stdout.find((l) => l.startsWith("client "))
  expect(signedIn).toMatch(
    /^client [0-7][0-9A-HJKMNP-TV-Z]{25} signed in with code code-for-\S+: OAuth2 session (\S+)$/
  )
  const session = signedIn!.split(" ").at(-1)
  expect(stdout).toContain(`access token of session ${session}: valid`)
  const legacy = stdout.find((l) => l.startsWith("legacy client "))
  expect(legacy).toMatch(
    /^legacy client on device EXAMPLEDEVICE signed in: compat session [0-7][0-9A-HJKMNP-TV-Z]{25}$/
  )
  const compatSession = legacy!.split(" ").at(-1)
  expect(stdout).toContain(`welcome email job run by a worker: ${username}@example.com`)
  // in id order; both made in the same millisecond (memory can be that fast) may come either way round
  const listed = stdout.at(-1)!
  expect(listed).toMatch(/^2 app sessions: \w+ \S+, \w+ \S+$/)
  expect(listed.slice("2 app sessions: ".length).split(", ").sort()).toEqual(
    [`Compat ${compatSession}`, `OAuth2 ${session}`].sort()
  )
}

it.live("runs in memory", () =>
  Effect.gen(function* () {
    const run = yield* runCli("example", "--memory", "--username", "mem-user")
    expect(outcome(run)).toBe("success")
    expectExampleOutput(run.stdout, "mem-user")
  })
)

layer(adminClient, { excludeTestServices: true })("on PostgreSQL", (it) => {
  it.scoped(
    "migrates a fresh database and runs there; a second user can follow",
    () =>
      Effect.gen(function* () {
        const db = yield* scopedDatabase({ prefix: "example" })
        const first = yield* runCli("example", "--database-url", db.url, "--username", "pg-user")
        expect(outcome(first)).toBe("success")
        expectExampleOutput(first.stdout, "pg-user")
        const again = yield* runCli("example", "--database-url", db.url, "--username", "pg-user")
        // the same username twice is refused (RowsAffectedError), and the unit of work leaves nothing behind
        expect(outcome(again)).toBe("RowsAffectedError")
        const other = yield* runCli("example", "--database-url", db.url, "--username", "pg-user-2")
        expectExampleOutput(other.stdout, "pg-user-2")
      }),
    60_000
  )
})
