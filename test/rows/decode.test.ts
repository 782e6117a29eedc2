// The compiled row decoders agree with Schema's on every schema exported under src/rows (found by walking the folder), on valid and mutated rows.
import { assert, describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Option, ParseResult, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { isUlid, UlidFromUuid, ulidFromBytes, uuidToUlid } from "../../src/model/Ulid.js"
import { compiledDecoder, isCompiled, refused } from "../../src/rows/compile.js"
import { rowDecoder, schemaRowDecoder } from "../../src/rows/decode.js"
import { UserRow } from "../../src/rows/user/user.js"
import { mutations, rowStruct, samples, structs } from "./samples.js"

type AnySchema = Schema.Schema<unknown, unknown>

const rowsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "rows")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(file) : entry.name.endsWith(".ts") ? [file] : []
  })

/** Every Schema value exported by a module under src/rows, so that a new family's rows are covered without a list. */
const exported: ReadonlyArray<{ readonly name: string; readonly schema: AnySchema }> = (
  await Promise.all(
    filesUnder(rowsFolder).map(async (file) => {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      const name = path.relative(rowsFolder, file)
      return Object.entries(module).flatMap(([key, value]) =>
        Schema.isSchema(value) ? [{ name: `${name} ${key}`, schema: value as AnySchema }] : []
      )
    })
  )
).flat()

/** Both sides a row schema is decoded with: PostgreSQL's rows with the schema, memory's with its type side. */
const sides = exported.flatMap(({ name, schema }) => [
  { name, schema },
  { name: `${name} (type side)`, schema: Schema.typeSchema(schema) as AnySchema }
])

const isRight = (schema: AnySchema) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (raw: unknown) => Either.isRight(decode(raw))
}

/** The rows Schema accepts among those made from the schema's AST (and, on the type side, the decoded rows). */
const validRows = (schema: AnySchema, more: ReadonlyArray<unknown> = []): ReadonlyArray<unknown> => {
  const struct = rowStruct(schema.ast)
  const candidates = [...(struct === undefined ? samples(schema.ast) : structs(struct, 40)), ...more]
  return candidates.filter(isRight(schema))
}

const label = (raw: unknown): string => {
  try {
    return String(JSON.stringify(raw, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)))
  } catch {
    return Object.prototype.toString.call(raw)
  }
}

/** What Schema builds (plain objects, arrays) has the same prototype, keys and key order; every leaf is identical. */
const sameValue = (actual: unknown, expected: unknown, at: string): void => {
  const built =
    typeof expected === "object" &&
    expected !== null &&
    (Array.isArray(expected) || Object.getPrototypeOf(expected) === Object.prototype)
  if (!built) {
    if (!Object.is(actual, expected)) assert.fail(`${at}: ${label(actual)} is not ${label(expected)}`)
    return
  }
  assert.isTrue(typeof actual === "object" && actual !== null, `${at}: not an object`)
  assert.strictEqual(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${at}: prototype`)
  expect(Reflect.ownKeys(actual as object), `${at}: keys`).toEqual(Reflect.ownKeys(expected))
  for (const key of Reflect.ownKeys(expected)) {
    sameValue(
      (actual as Record<PropertyKey, unknown>)[key],
      (expected as Record<PropertyKey, unknown>)[key],
      `${at}.${String(key)}`
    )
  }
}

/** The compiled decoder refuses exactly what Schema refuses and otherwise returns what Schema returns. */
const agree = (schema: AnySchema) => {
  const compiled = compiledDecoder(schema)!
  const decode = Schema.decodeUnknownEither(schema)
  return (raw: unknown): void => {
    const expected = decode(raw)
    const actual = compiled(raw)
    if (Either.isLeft(expected)) {
      assert.strictEqual(actual, refused, `Schema refuses ${label(raw)}, the compiled decoder does not`)
    } else {
      assert.notStrictEqual(actual, refused, `Schema decodes ${label(raw)}, the compiled decoder refuses it`)
      sameValue(actual, expected.right, label(raw))
    }
  }
}

const throwing = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (error) {
    return String(error)
  }
}

/** `rowDecoder` and the Schema-only decoder give the same Either: the same row, or the same InconsistencyError. */
const sameRowDecoding = (schema: AnySchema, idColumn: string | undefined) => {
  const fast = rowDecoder(schema, "some_table", idColumn)
  const reference = schemaRowDecoder(schema, "some_table", idColumn)
  return (raw: unknown): void => {
    const thrown = throwing(() => reference(raw))
    if (thrown !== undefined) {
      // Schema's own failure throws (UlidFromSelf's message cannot print a bigint): so must the compiled path's
      expect(
        throwing(() => fast(raw)),
        label(raw)
      ).toEqual(thrown)
      return
    }
    const actual = fast(raw)
    const expected = reference(raw)
    expect(actual, label(raw)).toEqual(expected)
    if (Either.isLeft(actual) && Either.isLeft(expected)) {
      const { cause, column, row, table } = actual.left
      expect({ table, column, row }).toEqual({
        table: expected.left.table,
        column: expected.left.column,
        row: expected.left.row
      })
      expect(Option.map(cause, (c) => ParseResult.TreeFormatter.formatErrorSync(c as ParseResult.ParseError))).toEqual(
        Option.map(expected.left.cause, (c) => ParseResult.TreeFormatter.formatErrorSync(c as ParseResult.ParseError))
      )
    }
  }
}

const firstColumn = (schema: AnySchema): string | undefined => {
  const name = rowStruct(schema.ast)?.propertySignatures[0]?.name
  return typeof name === "string" ? name : undefined
}

/** Valid rows and every mutation of a few of them, through both checks. */
const checkSchema = (schema: AnySchema, more: ReadonlyArray<unknown> = []): void => {
  const valid = validRows(schema, more)
  assert.isAbove(valid.length, 0, "no valid row among the samples: extend test/rows/samples.ts")
  const inputs = [
    ...valid,
    ...valid.slice(0, 4).flatMap((row) => (typeof row === "object" ? mutations(row as never) : []))
  ]
  const compiledAgrees = agree(schema)
  const rowsAgree = sameRowDecoding(schema, firstColumn(schema))
  for (const raw of inputs) {
    compiledAgrees(raw)
    rowsAgree(raw)
  }
}

// Row schemas that are expected to go through Schema's own decoder, and why.
const FALLBACKS: Record<string, string> = {
  // JSON documents with member defaults and renamed keys (optionalWith, fromKey: property-signature
  // transformations) decoded into entity classes: not rows, and decoded once per row at most.
  "upstream/upstreamOAuthProvider.ts ClaimsImportsFromJson": "property-signature transformations, a class",
  "upstream/upstreamOAuthProvider.ts ClaimsImportsFromJson (type side)": "a class",
  "queue/job.ts JobMetadataFromJson": "renamed keys (fromKey), a class",
  "queue/job.ts JobMetadataFromJson (type side)": "a class"
}

describe("compiled row decoders", () => {
  it("finds the row schemas of every family", () => {
    const names = exported.map((e) => e.name)
    expect(names).toContain("user/user.ts UserRow")
    expect(names).toContain("user/browserSession.ts AuthenticationRow")
    assert.isAbove(names.length, 10)
  })

  it("compiles every exported row schema, on both sides, except the listed ones", () => {
    expect(
      sides
        .filter((s) => !isCompiled(s.schema))
        .map((s) => s.name)
        .sort()
    ).toEqual(Object.keys(FALLBACKS).sort())
    assert.isTrue(isCompiled(UserRow))
    assert.isTrue(isCompiled(Schema.typeSchema(UserRow)))
  })

  it("the user rows decode through the compiled path", () => {
    const compiled = compiledDecoder(UserRow)!
    const raw = validRows(UserRow as AnySchema)[0]
    const row = compiled(raw)
    assert.notStrictEqual(row, refused)
    expect(rowDecoder(UserRow, "users", "user_id")(raw)).toEqual(Either.right(row))
  })

  for (const { name, schema } of sides.filter((s) => isCompiled(s.schema))) {
    it(`agrees with Schema: ${name}`, () => {
      // memory stores what PostgreSQL's side decodes to: those rows are the type side's valid rows too
      const encodedSide = exported.find((e) => e.name === name.replace(" (type side)", ""))!.schema
      const decoded = name.endsWith("(type side)")
        ? validRows(encodedSide).map((r) => Either.getOrThrow(Schema.decodeUnknownEither(encodedSide)(r)))
        : []
      checkSchema(schema, decoded)
    })
  }
})

describe("compiled shapes beyond today's rows", () => {
  const Tagged = Schema.Struct({ kind: Schema.Literal("a"), value: Schema.String })
  const shapes: ReadonlyArray<readonly [string, AnySchema, boolean]> = [
    [
      "optional keys",
      Schema.Struct({
        id: UlidFromUuid,
        note: Schema.optional(Schema.String),
        exact: Schema.optionalWith(Schema.NullOr(Schema.Number), { exact: true })
      }) as AnySchema,
      true
    ],
    [
      "required Unknown (absent: an own undefined key)",
      Schema.Struct({ a: Schema.Unknown, b: Schema.Any }) as AnySchema,
      true
    ],
    [
      "literals and enums",
      Schema.Struct({
        method: Schema.Literal("plain", "S256", "other"),
        maybe: Schema.NullOr(Schema.Literal(1, 2)),
        e: Schema.Enums({ A: "a", B: 2 } as const)
      }) as AnySchema,
      true
    ],
    [
      "arrays and tuples",
      Schema.Struct({
        scopes: Schema.Array(Schema.String),
        pair: Schema.Tuple(Schema.String, Schema.Number),
        some: Schema.NonEmptyArray(Schema.Boolean),
        json: Schema.Array(Schema.Unknown)
      }) as AnySchema,
      true
    ],
    [
      "dates, valid and not",
      Schema.Struct({
        any: Schema.DateFromSelf,
        valid: Schema.ValidDateFromSelf,
        maybe: Schema.NullOr(Schema.ValidDateFromSelf)
      }) as AnySchema,
      true
    ],
    [
      "annotated copies of known schemas",
      Schema.Struct({
        id: UlidFromUuid.annotations({ description: "an id" }),
        at: Schema.DateFromSelf.annotations({ description: "an instant" })
      }) as AnySchema,
      true
    ],
    [
      "filters on fields and on the row",
      Schema.Struct({
        n: Schema.Number.pipe(Schema.int(), Schema.between(0, 10)),
        s: Schema.String.pipe(Schema.minLength(1)),
        nested: Schema.Struct({ x: Schema.Boolean })
      }).pipe(Schema.filter((r) => r.n !== 3 || { path: ["n"], message: "not three" })) as AnySchema,
      true
    ],
    ["a union with a struct member", Schema.Struct({ v: Schema.NullOr(Tagged) }) as AnySchema, false],
    [
      "parse options",
      Schema.Struct({ a: Schema.String }).annotations({ parseOptions: { onExcessProperty: "error" } }) as AnySchema,
      false
    ],
    ["a __proto__ column", Schema.Struct({ ["__proto__"]: Schema.String }) as AnySchema, false],
    ["a symbol key", Schema.Struct({ [Symbol.for("k")]: Schema.String }) as AnySchema, false],
    ["a transformation it does not know", Schema.Struct({ n: Schema.NumberFromString }) as AnySchema, false]
  ]

  for (const [name, schema, compiles] of shapes) {
    it(`${name}: ${compiles ? "compiled, and agrees with Schema" : "left to Schema"}`, () => {
      assert.strictEqual(isCompiled(schema), compiles)
      if (compiles) checkSchema(schema)
      else sameRowDecoding(schema, undefined)(validRows(schema)[0])
    })
  }

  it("DateFromSelf accepts an Invalid Date, ValidDateFromSelf refuses it, as Schema does", () => {
    const invalid = new Date(Number.NaN)
    expect(compiledDecoder(Schema.DateFromSelf)!(invalid)).toBe(invalid)
    expect(compiledDecoder(Schema.ValidDateFromSelf)!(invalid)).toBe(refused)
  })
})

describe("UlidFromUuid's compiled decode", () => {
  const decode = compiledDecoder(UlidFromUuid)!
  // The uuid pattern and the bytes-based encoder: another path than the word-based conversion both sides now share.
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  const reference = (text: string) => {
    if (!UUID.test(text)) return refused
    const hex = text.replace(/-/g, "")
    return ulidFromBytes(Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)))
  }

  it("gives the ULID of the uuid's 16 bytes for every uuid, in any case, and it is canonical", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }),
        (bytes, upper) => {
          const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
          const uuid = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
            .join("-")
            .split("")
            .map((c, i) => (upper[i] ? c.toUpperCase() : c))
            .join("")
          const ulid = decode(uuid)
          assert.strictEqual(ulid, reference(uuid))
          assert.isTrue(isUlid(ulid))
        }
      ),
      { numRuns: 2000 }
    )
    expect(decode("ffffffff-ffff-ffff-ffff-ffffffffffff")).toBe("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
    expect(decode("00000000-0000-0000-0000-000000000000")).toBe("00000000000000000000000000")
  })

  it("refuses what is not a uuid, and uuidToUlid agrees", () => {
    const chars = fc.constantFrom(..."0123456789abcdefABCDEF-gGzZ ſ\n\u0130\u{1F600}".split(""))
    fc.assert(
      fc.property(fc.array(chars, { minLength: 30, maxLength: 40 }), (parts) => {
        const text = parts.join("")
        assert.strictEqual(decode(text), reference(text), text)
        assert.strictEqual(
          Option.getOrElse(uuidToUlid(text), () => refused),
          reference(text),
          text
        )
      }),
      { numRuns: 5000 }
    )
    fc.assert(
      fc.property(fc.uuid(), fc.nat(35), chars, (uuid, at, c) => {
        const text = uuid.slice(0, at) + c + uuid.slice(at + 1)
        assert.strictEqual(decode(text), reference(text), text)
      }),
      { numRuns: 5000 }
    )
    for (const notText of [42, null, undefined, {}, new Date(0)]) assert.strictEqual(decode(notText), refused)
  })
})
