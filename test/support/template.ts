// The migrated template database of a test run: migrated once by the real Migrator, cloned by every test that needs the schema.
export { createMigratedTemplate, dropDatabase } from "../../src/testing/databases.js"
