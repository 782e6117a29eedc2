// Locates the installed package's own files (migrations, embedded data) whatever the working directory is.
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const PACKAGE_NAME = "mas-data-layer"

const findPackageRoot = (start: string): string => {
  let dir = start
  for (;;) {
    const manifest = join(dir, "package.json")
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, "utf8")).name === PACKAGE_NAME) return dir
      } catch {
        // an unreadable manifest is not ours; keep walking up
      }
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${start}`)
    dir = parent
  }
}

/** The folder holding this package's package.json (the source tree, or the installed package when built). */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)))

/** The migrations shipped with the program. */
export const shippedMigrationsDir: string = join(packageRoot, "migrations")

/** Where `npm start` keeps the embedded database between runs. */
export const defaultEmbeddedDataDir: string = join(packageRoot, ".data", "postgres")
