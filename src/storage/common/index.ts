// The shared storage vocabulary in one import: errors, pagination, cleanup results, filter helpers.
export * from "./CleanupResult.js"
export * from "./errors.js"
export * from "./filters.js"
export * from "./Pagination.js"
