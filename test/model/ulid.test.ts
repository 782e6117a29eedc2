// Ulid: text/bytes/uuid round trips, ordering, bounds, known vectors and reproducible generation.
import { assert, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, FastCheck as fc, Option, Random, Schema, TestClock } from "effect"
import {
  generateUlid,
  maxUlidAt,
  minUlidAt,
  parseUlid,
  Ulid,
  ulidAt,
  UlidFromUuid,
  ulidFromBytes,
  ulidTimestamp,
  ulidToBytes,
  ulidToUuid,
  uuidToUlid
} from "../../src/model/index.js"

const arbMillis = fc.integer({ min: 0, max: 2 ** 48 - 1 })
const arbRandom = fc.uint8Array({ minLength: 10, maxLength: 10 })
const arbUlid = fc.tuple(arbMillis, arbRandom).map(([t, r]) => ulidAt(t, r))

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0)
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

describe("Ulid known vectors", () => {
  it("matches the ULID specification's timestamp example", () => {
    assert.strictEqual(ulidAt(1469918176385, new Uint8Array(10)), "01ARYZ6S410000000000000000")
  })

  it("lays out 2 zero bits + 48 time bits in 10 chars, then 80 random bits in 16 chars", () => {
    // Top random bit set: 10000 in the first random character = 16 = "G".
    assert.strictEqual(ulidAt(0, [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "0000000000G000000000000000")
    // Lowest random bit set.
    assert.strictEqual(ulidAt(0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "00000000000000000000000001")
    // Lowest time bit.
    assert.strictEqual(ulidAt(1, new Uint8Array(10)), "00000000010000000000000000")
    // Everything set: the first character holds only 3 bits, so 7.
    assert.strictEqual(ulidAt(2 ** 48 - 1, new Uint8Array(10).fill(255)), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
  })

  it("puts the same 16 bytes in the uuid: 12 hex digits of time, then the random bytes", () => {
    const t = 1642344000000 // 2022-01-16T14:40:00Z
    const random = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0xab]
    const hex = t.toString(16).padStart(12, "0") + random.map((b) => b.toString(16).padStart(2, "0")).join("")
    const expected = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    const ulid = ulidAt(t, random)
    assert.strictEqual(ulidToUuid(ulid), expected)
    assert.strictEqual(ulidTimestamp(ulid), t)
    expect(uuidToUlid(expected)).toEqual(Option.some(ulid))
  })
})

describe("Ulid schema", () => {
  it("decodes lowercase into the canonical uppercase form", () => {
    expect(Schema.decodeUnknownEither(Ulid)("01aryz6s410000000000000000")).toEqual(
      Either.right("01ARYZ6S410000000000000000" as Ulid)
    )
    expect(parseUlid("01aryz6s41000000000000000z")).toEqual(Option.some("01ARYZ6S41000000000000000Z" as Ulid))
  })

  it("rejects bad text with a clear message", () => {
    for (const bad of [
      "",
      "01ARYZ6S41",
      "81ARYZ6S410000000000000000",
      "01ARYZ6S41000000000000000I",
      "01ARYZ6S41000000000000000U",
      "01ARYZ6S41000000000000000Ü",
      "01ARYZ6S41000000000000000\u0000"
    ]) {
      const result = Schema.decodeUnknownEither(Ulid)(bad)
      assert.isTrue(Either.isLeft(result), bad)
      if (Either.isLeft(result)) assert.include(result.left.message, "Expected a ULID")
    }
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Ulid)(42)))
  })

  it("folds ASCII case only, as cursors are read: a letter that uppercases onto the alphabet (ſ → S) is not ULID text", () => {
    expect(parseUlid("01ARYZ6S41000000000000000s")).toEqual(Option.some("01ARYZ6S41000000000000000S" as Ulid))
    // isNone, not deepStrictEqual: chai's deep equality holds between a Some and None.
    assert.isTrue(Option.isNone(parseUlid("01ARYZ6S41000000000000000\u017f")))
    assert.isTrue(Option.isNone(parseUlid("01ARYZ6S41000000000000000\u212a")))
  })

  it("UlidFromUuid decodes uuid text (any case) and encodes lowercase", () => {
    const ulid = ulidAt(1642344000000, [255, 254, 253, 252, 251, 250, 249, 248, 247, 246])
    const uuid = ulidToUuid(ulid)
    assert.strictEqual(uuid, uuid.toLowerCase())
    assert.strictEqual(Schema.decodeSync(UlidFromUuid)(uuid.toUpperCase()), ulid)
    assert.strictEqual(Schema.encodeSync(UlidFromUuid)(ulid), uuid)
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(UlidFromUuid)("not-a-uuid")))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(UlidFromUuid)("0000000000000000000000000000000000")))
  })
})

describe("Ulid properties", () => {
  it("round-trips text ⇄ bytes ⇄ uuid", () => {
    fc.assert(
      fc.property(arbUlid, (u) => {
        assert.strictEqual(ulidFromBytes(ulidToBytes(u)), u)
        expect(uuidToUlid(ulidToUuid(u))).toEqual(Option.some(u))
        assert.strictEqual(Schema.decodeSync(Ulid)(u.toLowerCase()), u)
      }),
      { numRuns: 300 }
    )
  })

  it("any uuid maps to a valid ULID and back", () => {
    fc.assert(
      fc.property(fc.uuid(), (uuid) => {
        const ulid = Option.getOrThrow(uuidToUlid(uuid))
        assert.isTrue(Schema.is(Schema.typeSchema(Ulid))(ulid))
        assert.strictEqual(ulidToUuid(ulid), uuid.toLowerCase())
      }),
      { numRuns: 200 }
    )
  })

  it("takes exactly the 8-4-4-4-12 hex form: any other character, a moved dash or another length is not a uuid", () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
    const near = fc
      .tuple(fc.uuid(), fc.nat(40), fc.constantFrom("-", "g", "G", " ", "\u0660", "0", "A", ""))
      .map(([uuid, at, c]) => uuid.slice(0, at % 37) + c + uuid.slice((at % 37) + (at % 3 === 0 ? 0 : 1)))
    fc.assert(
      fc.property(near, (text) => {
        expect(Option.isSome(uuidToUlid(text))).toBe(UUID.test(text))
      }),
      { numRuns: 2000 }
    )
  })

  it("keeps the timestamp", () => {
    fc.assert(
      fc.property(arbMillis, arbRandom, (t, r) => ulidTimestamp(ulidAt(t, r)) === t),
      { numRuns: 300 }
    )
  })

  it("preserves order between ULID text, uuid text and bytes", () => {
    fc.assert(
      fc.property(arbUlid, arbUlid, (a, b) => {
        const text = cmp(a, b)
        assert.strictEqual(sign(cmp(ulidToUuid(a), ulidToUuid(b))), text)
        assert.strictEqual(sign(compareBytes(ulidToBytes(a), ulidToBytes(b))), text)
      }),
      { numRuns: 300 }
    )
  })

  it("orders by time first (different milliseconds), whatever the random bits", () => {
    fc.assert(
      fc.property(arbMillis, arbMillis, arbRandom, arbRandom, (t1, t2, r1, r2) => {
        fc.pre(t1 !== t2)
        return sign(cmp(ulidAt(t1, r1), ulidAt(t2, r2))) === sign(t1 - t2)
      }),
      { numRuns: 300 }
    )
  })

  it("min/max bounds enclose every ULID of the millisecond and exclude the neighbours", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 48 - 2 }), arbRandom, (t, r) => {
        const d = new Date(t)
        const u = ulidAt(t, r)
        assert.isTrue(minUlidAt(d) <= u && u <= maxUlidAt(d))
        assert.isTrue(maxUlidAt(new Date(t - 1)) < u)
        assert.isTrue(minUlidAt(new Date(t + 1)) > u)
        assert.strictEqual(ulidTimestamp(minUlidAt(d)), t)
        assert.strictEqual(ulidTimestamp(maxUlidAt(d)), t)
      }),
      { numRuns: 200 }
    )
    const d = new Date("2022-01-16T14:40:00Z")
    assert.strictEqual(minUlidAt(d).slice(10), "0".repeat(16))
    assert.strictEqual(maxUlidAt(d).slice(10), "Z".repeat(16))
  })

  it("refuses out-of-range input to the pure core", () => {
    assert.throws(() => ulidAt(-1, new Uint8Array(10)))
    assert.throws(() => ulidAt(2 ** 48, new Uint8Array(10)))
    assert.throws(() => ulidAt(0, new Uint8Array(9)))
    assert.throws(() => ulidAt(0, [256, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    assert.throws(() => minUlidAt(new Date(NaN)))
  })
})

describe("generateUlid", () => {
  const start = new Date("2022-01-16T14:40:00Z").getTime()

  it.effect("is reproducible under TestClock and a seeded Random", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const first = yield* generateUlid.pipe(Effect.withRandom(Random.make(42)))
      const second = yield* generateUlid.pipe(Effect.withRandom(Random.make(42)))
      assert.strictEqual(first, second)
      assert.strictEqual(ulidTimestamp(first), start)
      const other = yield* generateUlid.pipe(Effect.withRandom(Random.make(43)))
      assert.notStrictEqual(other, first)
    })
  )

  it.effect("gives a greater id once the clock advances", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const ids = yield* Effect.gen(function* () {
        const a = yield* generateUlid
        yield* TestClock.adjust(Duration.millis(1))
        const b = yield* generateUlid
        yield* TestClock.adjust(Duration.seconds(1))
        const c = yield* generateUlid
        return [a, b, c] as const
      }).pipe(Effect.withRandom(Random.make(42)))
      assert.isTrue(ids[0] < ids[1] && ids[1] < ids[2])
      assert.strictEqual(ulidTimestamp(ids[2]), start + 1001)
    })
  )
})
