// The shipped migrations, applied in version order to an empty database, produce the expected schema.
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { freshDatabaseLayer } from "../support/database.js"

const migrationsDir = fileURLToPath(new URL("../../migrations/", import.meta.url))

interface MigrationFile {
  readonly version: bigint
  readonly name: string
  readonly text: string
  readonly noTransaction: boolean
}

const migrationFiles: ReadonlyArray<MigrationFile> = readdirSync(migrationsDir)
  .filter((name) => name.endsWith(".sql"))
  .map((name) => {
    const match = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(name)
    if (!match) throw new Error(`badly named migration file ${name}`)
    const text = readFileSync(migrationsDir + name, "utf8")
    return { version: BigInt(match[1]!), name, text, noTransaction: text.startsWith("-- no-transaction") }
  })
  .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0))

/** Statements of a SQL text: splits on `;` outside quotes, dollar quotes and `--` comments (enough for our files). */
const statements = (text: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  let current = ""
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i)
      i = end === -1 ? text.length : end + 1
      current += "\n"
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1)
      current += text.slice(i, end + 1)
      i = end + 1
    } else if (c === "$") {
      const tag = /^\$[a-zA-Z_]*\$/.exec(text.slice(i))
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length)
        current += text.slice(i, end + tag[0].length)
        i = end + tag[0].length
      } else {
        current += c
        i++
      }
    } else if (c === ";") {
      out.push(current.trim())
      current = ""
      i++
    } else {
      current += c
      i++
    }
  }
  out.push(current.trim())
  return out.filter((s) => s.length > 0)
}

const expectedTables = [
  "users",
  "user_unsupported_third_party_ids",
  "user_emails",
  "user_passwords",
  "user_sessions",
  "user_session_authentications",
  "user_recovery_sessions",
  "user_recovery_tickets",
  "user_registration_tokens",
  "user_registrations",
  "user_email_authentications",
  "user_email_authentication_codes",
  "user_terms",
  "oauth2_clients",
  "oauth2_sessions",
  "oauth2_access_tokens",
  "oauth2_refresh_tokens",
  "oauth2_authorization_grants",
  "oauth2_device_code_grant",
  "compat_sessions",
  "compat_sso_logins",
  "compat_access_tokens",
  "compat_refresh_tokens",
  "upstream_oauth_providers",
  "upstream_oauth_links",
  "upstream_oauth_authorization_sessions",
  "personal_sessions",
  "personal_access_tokens",
  "policy_data",
  "queue_workers",
  "queue_leader",
  "queue_schedules",
  "queue_jobs"
]

// Tables whose primary key is not a single ULID id column.
const otherPrimaryKeys: Record<string, ReadonlyArray<string>> = {
  user_unsupported_third_party_ids: ["user_id", "medium", "address"],
  queue_schedules: ["schedule_name"],
  queue_leader: []
}

const idPrimaryKey: Record<string, string> = {
  user_terms: "user_terms_id",
  policy_data: "policy_data_id",
  oauth2_device_code_grant: "oauth2_device_code_grant_id",
  user_registrations: "user_registration_id"
}

/** The id column MAS names after the singular of the table: `user_sessions` → `user_session_id`. */
const expectedIdColumn = (table: string) => idPrimaryKey[table] ?? `${table.replace(/s$/, "")}_id`

layer(freshDatabaseLayer({ maxConnections: 1 }))("shipped migrations", (it) => {
  it.effect("are named, ordered and split as the migrator expects", () =>
    Effect.sync(() => {
      expect(migrationFiles.length).toBeGreaterThan(7)
      expect(migrationFiles[0]!.name).toBe("20261125000001_users.sql")
      const versions = migrationFiles.map((f) => f.version)
      expect(new Set(versions).size).toBe(versions.length)
      for (const file of migrationFiles) {
        expect(String(file.version), file.name).toMatch(/^2026\d{10}$/)
        if (file.noTransaction) {
          expect(file.text.split("\n")[0], file.name).toBe("-- no-transaction")
          const stmts = statements(file.text)
          expect(stmts, file.name).toHaveLength(1)
          expect(stmts[0], file.name).toMatch(/^CREATE INDEX CONCURRENTLY IF NOT EXISTS \w+\s+ON \w+ /)
        } else {
          // CONCURRENTLY cannot run inside the transaction a plain file gets.
          expect(file.text, file.name).not.toMatch(/CONCURRENTLY/)
          expect(statements(file.text).length, file.name).toBeGreaterThan(0)
        }
      }
    })
  )

  it.effect("apply in version order to an empty database", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      for (const file of migrationFiles) {
        // Simple protocol (no parameters): a multi-statement string runs as written.
        const text = file.noTransaction ? file.text : `BEGIN;\n${file.text}\nCOMMIT;`
        yield* sql.unsafe(text).pipe(
          Effect.tapError(() => sql.unsafe("ROLLBACK").pipe(Effect.ignore)),
          Effect.mapError((e) => new Error(`${file.name}: ${String(e.cause ?? e)}`))
        )
      }
    })
  )

  it.effect("create every expected table and nothing else", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ tableName: string }>`
        SELECT table_name AS "tableName" FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
      expect(rows.map((r) => r.tableName).sort()).toEqual([...expectedTables].sort())
    })
  )

  it.effect("key every entity table by a uuid id column", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ tableName: string; columnName: string; dataType: string }>`
        SELECT c.relname AS "tableName", a.attname AS "columnName", format_type(a.atttypid, a.atttypmod) AS "dataType"
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS key(attnum, position)
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = key.attnum
        WHERE n.nspname = 'public' AND k.contype = 'p'
        ORDER BY c.relname, key.position`
      for (const table of expectedTables) {
        const columns = rows.filter((r) => r.tableName === table)
        const expected = otherPrimaryKeys[table] ?? [expectedIdColumn(table)]
        expect(
          columns.map((c) => c.columnName),
          table
        ).toEqual(expected)
        for (const column of columns) {
          if (column.columnName.endsWith("_id")) expect(column.dataType, `${table}.${column.columnName}`).toBe("uuid")
        }
      }
    })
  )

  it.effect("use the agreed column types", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ tableName: string; columnName: string; dataType: string }>`
        SELECT table_name AS "tableName", column_name AS "columnName",
               CASE WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END AS "dataType"
        FROM information_schema.columns WHERE table_schema = 'public'`
      const bad = rows.filter((r) => {
        const where = r.columnName
        if (where.endsWith("_at")) return r.dataType !== "timestamp with time zone"
        if (where === "scope_list" || where === "redirect_uris") return r.dataType !== "_text"
        if (where === "ip_address" || where === "last_active_ip") return r.dataType !== "inet"
        if (where === "scope") return true // scopes are always the text array scope_list
        return r.dataType === "timestamp without time zone" || r.dataType === "json"
      })
      expect(bad).toEqual([])
      expect(
        rows
          .filter((r) => r.columnName === "scope_list")
          .map((r) => r.tableName)
          .sort()
      ).toEqual([
        "oauth2_authorization_grants",
        "oauth2_device_code_grant",
        "oauth2_sessions",
        "personal_sessions",
        "upstream_oauth_providers"
      ])
    })
  )

  it.effect("leave every index valid and create each index file's index", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ indexName: string; valid: boolean; ready: boolean }>`
        SELECT ic.relname AS "indexName", i.indisvalid AS "valid", i.indisready AS "ready"
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = ic.relnamespace
        WHERE n.nspname = 'public'`
      expect(rows.filter((r) => !r.valid || !r.ready)).toEqual([])
      const names = new Set(rows.map((r) => r.indexName))
      for (const file of migrationFiles.filter((f) => f.noTransaction)) {
        const name = /IF NOT EXISTS (\w+)/.exec(file.text)![1]!
        expect(names.has(name), `${file.name} → ${name}`).toBe(true)
      }
    })
  )

  it.effect("index the referencing column of every foreign key", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      // A foreign key is covered when some index of the referencing table starts with its column.
      const rows = yield* sql<{ constraintName: string }>`
        SELECT k.conname AS "constraintName"
        FROM pg_constraint k
        JOIN pg_namespace n ON n.oid = k.connamespace
        WHERE n.nspname = 'public' AND k.contype = 'f'
          AND NOT EXISTS (
            SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid AND i.indkey[0] = k.conkey[1]
          )
        ORDER BY 1`
      // The lease table holds at most one row.
      expect(rows.map((r) => r.constraintName)).toEqual(["queue_leader_queue_worker_id_fkey"])
    })
  )

  it.effect("enforce the uniqueness and single-row rules the repositories rely on", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const failed = (statement: string) =>
        sql.unsafe(`SAVEPOINT s; ${statement}`).pipe(
          Effect.as(false),
          Effect.catchAll(() => Effect.as(sql.unsafe("ROLLBACK TO SAVEPOINT s"), true))
        )
      yield* sql.unsafe("BEGIN")
      yield* sql.unsafe(`
        INSERT INTO users (user_id, username, created_at)
          VALUES ('01890000-0000-0000-0000-000000000001', 'Alice', now());
        INSERT INTO queue_workers (queue_worker_id, registered_at, last_seen_at)
          VALUES ('01890000-0000-0000-0000-0000000000a1', now(), now()),
                 ('01890000-0000-0000-0000-0000000000a2', now(), now());
        INSERT INTO queue_leader (elected_at, expires_at, queue_worker_id)
          VALUES (now(), now(), '01890000-0000-0000-0000-0000000000a1');
        INSERT INTO personal_sessions (personal_session_id, owner_user_id, actor_user_id, human_name, scope_list, created_at)
          VALUES ('01890000-0000-0000-0000-0000000000b1', '01890000-0000-0000-0000-000000000001',
                  '01890000-0000-0000-0000-000000000001', 'token', '{}', now());
        INSERT INTO personal_access_tokens (personal_access_token_id, personal_session_id, access_token_sha256, created_at)
          VALUES ('01890000-0000-0000-0000-0000000000c1', '01890000-0000-0000-0000-0000000000b1',
                  sha256('one'), now())`)
      // The username is unique with exact case only.
      expect(
        yield* failed(`INSERT INTO users (user_id, username, created_at)
        VALUES ('01890000-0000-0000-0000-000000000002', 'Alice', now())`)
      ).toBe(true)
      expect(
        yield* failed(`INSERT INTO users (user_id, username, created_at)
        VALUES ('01890000-0000-0000-0000-000000000003', 'alice', now())`)
      ).toBe(false)
      // A second lease cannot exist, even for another worker.
      expect(
        yield* failed(`INSERT INTO queue_leader (elected_at, expires_at, queue_worker_id)
        VALUES (now(), now(), '01890000-0000-0000-0000-0000000000a2')`)
      ).toBe(true)
      // One unrevoked personal access token per session.
      const secondToken = (id: string, text: string) => `INSERT INTO personal_access_tokens
        (personal_access_token_id, personal_session_id, access_token_sha256, created_at)
        VALUES ('${id}', '01890000-0000-0000-0000-0000000000b1', sha256('${text}'), now())`
      expect(yield* failed(secondToken("01890000-0000-0000-0000-0000000000c2", "two"))).toBe(true)
      yield* sql.unsafe(`UPDATE personal_access_tokens SET revoked_at = now()`)
      expect(yield* failed(secondToken("01890000-0000-0000-0000-0000000000c3", "three"))).toBe(false)
      // A personal session has exactly one owner.
      expect(
        yield* failed(`INSERT INTO personal_sessions
        (personal_session_id, actor_user_id, human_name, scope_list, created_at)
        VALUES ('01890000-0000-0000-0000-0000000000b2', '01890000-0000-0000-0000-000000000001', 'x', '{}', now())`)
      ).toBe(true)
      // Enumerations are checked.
      expect(
        yield* failed(`INSERT INTO queue_jobs (queue_job_id, queue_name, status, created_at)
        VALUES ('01890000-0000-0000-0000-0000000000d1', 'q', 'bogus', now())`)
      ).toBe(true)
      yield* sql.unsafe("ROLLBACK")
    })
  )

  it.effect("cascade or clear the rows that go with a deleted browser session", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe("BEGIN")
      yield* sql.unsafe(`
        INSERT INTO users (user_id, username, created_at)
          VALUES ('01890000-0000-0000-0000-000000000011', 'bob', now());
        INSERT INTO user_sessions (user_session_id, user_id, created_at, finished_at)
          VALUES ('01890000-0000-0000-0000-000000000012', '01890000-0000-0000-0000-000000000011', now(), now());
        INSERT INTO user_session_authentications (user_session_authentication_id, user_session_id, created_at)
          VALUES ('01890000-0000-0000-0000-000000000013', '01890000-0000-0000-0000-000000000012', now());
        INSERT INTO upstream_oauth_providers (upstream_oauth_provider_id, scope_list, client_id,
            token_endpoint_auth_method, created_at)
          VALUES ('01890000-0000-0000-0000-000000000014', '{openid}', 'c', 'none', now());
        INSERT INTO upstream_oauth_authorization_sessions (upstream_oauth_authorization_session_id,
            upstream_oauth_provider_id, user_session_id, state, created_at)
          VALUES ('01890000-0000-0000-0000-000000000015', '01890000-0000-0000-0000-000000000014',
                  '01890000-0000-0000-0000-000000000012', 'st', now());
        DELETE FROM user_sessions WHERE user_session_id = '01890000-0000-0000-0000-000000000012'`)
      const [row] = yield* sql<{ authentications: number; upstreamBrowserSession: string | null }>`
        SELECT (SELECT count(*)::int FROM user_session_authentications) AS authentications,
               (SELECT user_session_id FROM upstream_oauth_authorization_sessions) AS "upstreamBrowserSession"`
      yield* sql.unsafe("ROLLBACK")
      expect(row).toEqual({ authentications: 0, upstreamBrowserSession: null })
    })
  )
})
