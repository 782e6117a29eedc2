// The package's in-memory entry point: RepositoryAccess and every repository over a fresh in-memory database, for tests and prototypes.
import type { Layer } from "effect"
import type { AnyRepository, RepositoryAccess } from "../storage/RepositoryAccess.js"
import * as RepositoryAccessMemory from "./RepositoryAccessMemory.js"

/**
 * Every repository and RepositoryAccess over an empty in-memory database, one per build of the layer. It keeps the
 * PostgreSQL layers' contract (the same results and typed errors, units of work that leave no trace on failure).
 */
export const layer: Layer.Layer<RepositoryAccess | AnyRepository> = RepositoryAccessMemory.layer
