// Contract suite for PolicyDataRepository: versions, the newest one, pruning and refused input, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { ulidTimestamp } from "../../../src/model/Ulid.js"
import type { Json } from "../../../src/model/values.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFailWithoutWriting } from "../refusals.js"

const TABLE = "policy_data"

const dumpVersions = Effect.flatMap(Seed, (seed) => seed.dump(TABLE, "policy_data_id"))

contract("PolicyDataRepository", (test) => {
  test("get is none before the first set; set stores a version with id and createdAt from Clock and Random", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      expect(yield* policyData.get()).toEqual(Option.none())
      const first = yield* policyData.set({ hello: "world" })
      expect(first.createdAt).toEqual(new Date(EPOCH))
      expect(ulidTimestamp(first.id)).toBe(EPOCH)
      expect(first.data).toEqual({ hello: "world" })
      expect(yield* policyData.get()).toEqual(Option.some(first))
    }))

  test("set always inserts: get returns the newest version, older ones stay", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      const first = yield* policyData.set({ hello: "world" })
      yield* TestClock.adjust(Duration.seconds(1))
      const second = yield* policyData.set({ foo: "bar" })
      expect(second.createdAt).toEqual(new Date(EPOCH + 1000))
      expect(yield* policyData.get()).toEqual(Option.some(second))
      // the same document again is a new version too
      yield* TestClock.adjust(Duration.seconds(1))
      const third = yield* policyData.set({ foo: "bar" })
      expect(third.id).not.toBe(second.id)
      expect(yield* policyData.get()).toEqual(Option.some(third))
      expect((yield* dumpVersions).map((r) => r["policy_data_id"])).toEqual([first.id, second.id, third.id])
    }))

  test("the newest is the greatest id, even when several versions share a millisecond", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      const versions = []
      for (let i = 0; i < 5; i++) versions.push(yield* policyData.set({ version: i }))
      const greatest = [...versions].sort((a, b) => (a.id < b.id ? -1 : 1)).at(-1)!
      expect(yield* policyData.get()).toEqual(Option.some(greatest))
    }))

  test("any JSON value is a document, and reads back as set returned it", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      const documents: ReadonlyArray<Json> = [
        null,
        true,
        0,
        -1.5e300,
        "text ünïcødé 😀",
        [],
        [1, "two", [3], { four: 4 }],
        {},
        { nested: { deep: [null, false, { "": "empty key" }] }, "😀": 1 }
      ]
      for (const document of documents) {
        const stored = yield* policyData.set(document)
        expect(stored.data).toEqual(document)
        expect(yield* policyData.get()).toEqual(Option.some(stored))
        yield* TestClock.adjust(Duration.millis(1))
      }
      // what jsonb gives back: -0 as 0, array holes as null
      const holey: Array<Json> = [1]
      holey[2] = 3
      const normalised = yield* policyData.set({ zero: -0, holes: holey })
      expect(normalised.data).toEqual({ zero: 0, holes: [1, null, 3] })
      expect(yield* policyData.get()).toEqual(Option.some(normalised))
    }))

  test("prune deletes all but the keep newest and returns how many; keep = 0 deletes them all", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      expect(yield* policyData.prune(0)).toBe(0)
      const versions = []
      for (let i = 0; i < 4; i++) {
        versions.push(yield* policyData.set({ version: i }))
        yield* TestClock.adjust(Duration.seconds(1))
      }
      expect(yield* policyData.prune(10)).toBe(0)
      expect(yield* policyData.prune(4)).toBe(0)
      expect(yield* policyData.prune(2)).toBe(2)
      expect((yield* dumpVersions).map((r) => r["policy_data_id"])).toEqual([versions[2]!.id, versions[3]!.id])
      expect(yield* policyData.get()).toEqual(Option.some(versions[3]!))
      expect(yield* policyData.prune(1)).toBe(1)
      expect(yield* policyData.get()).toEqual(Option.some(versions[3]!))
      expect(yield* policyData.prune(0)).toBe(1)
      expect(yield* policyData.get()).toEqual(Option.none())
      expect(yield* (yield* Seed).count(TABLE)).toBe(0)
    }))

  test("refused documents: not JSON or an unpaired surrogate is an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      yield* policyData.set({ kept: true })
      const cycle: Record<string, unknown> = { a: 1 }
      cycle["self"] = cycle
      const asJson = (u: unknown) => u as Json
      yield* expectEachToFailWithoutWriting(dumpVersions, "InvalidOperationError", [
        ["NaN", policyData.set(asJson({ n: NaN })), "not a JSON value"],
        ["Infinity", policyData.set(Infinity), "not a JSON value"],
        ["function", policyData.set(asJson({ f: () => 1 })), "not a JSON value"],
        ["undefined", policyData.set(asJson([undefined])), "not a JSON value"],
        ["Date", policyData.set(asJson({ at: new Date(EPOCH) })), "not a JSON value"],
        ["bigint", policyData.set(asJson(1n)), "not a JSON value"],
        ["cycle", policyData.set(asJson(cycle)), "cycle"],
        ["surrogate value", policyData.set({ text: "a\uD800b" }), "surrogate"],
        ["surrogate key", policyData.set({ ["\uDC00"]: 1 }), "surrogate"],
        ["surrogate in array", policyData.set(["ok", ["\uDBFF"]]), "surrogate"]
      ])
    }))

  test("NUL in a document (values or keys) is a DriverError (22P05) that dooms the unit of work; nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const kept = yield* repos.policyData.set({ kept: true })
      for (const document of [
        "\u0000",
        { text: "a\u0000b" },
        { ["k\u0000"]: 1 },
        [["\u0000"]]
      ] as ReadonlyArray<Json>) {
        const error = yield* Effect.flip(repos.policyData.set(document))
        expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22P05") })
      }
      const inUnit = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            yield* Effect.flip(repos.policyData.set({ text: "\u0000" }))
            return yield* repos.policyData.set({ after: true })
          })
        )
      )
      expect(inUnit).toMatchObject({ _tag: "DriverError", sqlState: Option.some("25P02") })
      expect(yield* repos.policyData.get()).toEqual(Option.some(kept))
      expect(yield* (yield* Seed).count(TABLE)).toBe(1)
    }))

  test("a keep that is not a non-negative safe integer is an InvalidOperationError; nothing is deleted", () =>
    Effect.gen(function* () {
      const { policyData } = yield* RepositoryAccess
      yield* policyData.set({ version: 1 })
      yield* policyData.set({ version: 2 })
      yield* expectEachToFailWithoutWriting(
        dumpVersions,
        "InvalidOperationError",
        [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53].map(
          (keep) => [`keep ${keep}`, policyData.prune(keep), "non-negative safe integer"] as const
        )
      )
    }))

  test("set inside a unit of work that fails is rolled back", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const kept = yield* repos.policyData.set({ kept: true })
      yield* Effect.flip(
        repos.transaction(Effect.zipRight(repos.policyData.set({ rolled: "back" }), Effect.fail("abort")))
      )
      expect(yield* repos.policyData.get()).toEqual(Option.some(kept))
    }))
})
