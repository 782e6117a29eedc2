// A worked example of the data layer: one unit of work that registers a user, then paging through their sessions.
import { Console, Effect, Option } from "effect"
import { Pagination } from "../storage/common/Pagination.js"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"

/**
 * Registers a user with an email address and a password, opens a few browser sessions, and
 * lists them two per page. Everything is written in one unit of work: if any step fails,
 * nothing of it is kept.
 */
export const example = (username: string) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess

    const user = yield* repos.transaction(
      Effect.gen(function* () {
        const user = yield* repos.users.add(username)
        const email = yield* repos.userEmails.add(user, `${username}@example.com`)
        // A real service stores a hash made by its password hasher; version says which scheme made it.
        const password = yield* repos.userPasswords.add(user, 1, "$argon2id$v=19$example-hash", Option.none())
        for (const agent of ["Firefox", "Safari", "curl", "Chromium", "Lynx"]) {
          const session = yield* repos.browserSessions.add(user, Option.some(agent))
          yield* repos.browserSessions.authenticateWithPassword(session, password)
        }
        yield* Console.log(`registered ${user.username} (sub ${user.sub}) with ${email.email}`)
        return user
      })
    )

    let pagination = yield* Pagination.first(2)
    for (let page = 1; ; page++) {
      const sessions = yield* repos.browserSessions.list({ user: user.id }, pagination)
      for (const edge of sessions.edges) {
        yield* Console.log(`page ${page}: session ${edge.cursor} (${Option.getOrElse(edge.node.userAgent, () => "?")})`)
      }
      const lastEdge = sessions.edges.at(-1)
      if (!sessions.hasNextPage || lastEdge === undefined) break
      pagination = pagination.pipe(Pagination.after(lastEdge.cursor))
    }
    yield* Console.log(`${yield* repos.browserSessions.count({ user: user.id })} sessions in all`)
  })
