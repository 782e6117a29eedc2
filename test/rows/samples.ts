// Rows for the decoder tests, made from a schema's AST: candidate rows (the valid ones are those Schema accepts) and their mutations.
import { Either, Schema, SchemaAST as AST } from "effect"
import { newId, T0 } from "../model/fixtures.js"
import { ulidToUuid } from "../../src/model/Ulid.js"

const ulid = newId()

/** Text a column may hold: plain, non-ASCII, an IP address, a URL, ULID and uuid text. */
const TEXTS: ReadonlyArray<unknown> = [
  "alice",
  "",
  "Ünïcödé ✓ 🎉",
  "127.0.0.1",
  "2001:db8::1",
  "https://example.com/terms",
  ulid,
  ulidToUuid(ulid),
  ulidToUuid(ulid).toUpperCase()
]

/** JSON and other values an Unknown column may hold. */
const ANYTHING: ReadonlyArray<unknown> = [
  { a: 1, b: [true, null] },
  {},
  [1, "x"],
  "text",
  42,
  true,
  null,
  { skip_confirmation: true, localpart: { action: "require", template: "{{ user.name }}" } }
]

/** Values of one column (or nested value) of `ast`'s encoded side, most of them valid for it. */
export const samples = (ast: AST.AST): ReadonlyArray<unknown> => {
  switch (ast._tag) {
    case "StringKeyword":
      return TEXTS
    case "NumberKeyword":
      return [1, 0, 3, 65535, 1.5, -2]
    case "BooleanKeyword":
      return [true, false]
    case "Literal":
      return [ast.literal]
    case "Enums":
      return ast.enums.map(([, value]) => value)
    case "UndefinedKeyword":
      return [undefined]
    case "Refinement":
      return samples(ast.from)
    case "Transformation":
      return samples(ast.from)
    case "Union":
      return ast.types.flatMap(samples)
    case "Declaration":
      return [T0, new Date(0), ...ANYTHING]
    case "TupleType":
      return tuples(ast)
    case "TypeLiteral":
      return structs(ast, 12)
    default:
      return ANYTHING
  }
}

const tuples = (ast: AST.TupleType): ReadonlyArray<unknown> => {
  const heads = ast.elements.map((e) => samples(e.type))
  const rest = ast.rest.map((r) => samples(r.type))[0]
  const fixed = (k: number) => heads.map((values, i) => values[(k + i) % values.length])
  const out: Array<unknown> = [fixed(0), fixed(1)]
  if (rest !== undefined) out.push([...fixed(0), ...rest.slice(0, 3)], [...fixed(1), rest[rest.length - 1]])
  return out
}

/** The samples of `ast` that its own decoder accepts. */
const validSamples = (ast: AST.AST): ReadonlyArray<unknown> => {
  const decode = Schema.decodeUnknownEither(Schema.make(ast))
  return samples(ast).filter((value) => Either.isRight(decode(value)))
}

/**
 * `count` rows of the columns' valid samples: row k takes sample k·(i + 1) of column i, so rows differ in every
 * column and pair samples differently (a row filter such as "both set or both null" meets both kinds); only a row
 * filter can refuse them.
 */
export const structs = (ast: AST.TypeLiteral, count: number): ReadonlyArray<Record<PropertyKey, unknown>> => {
  const columns = ast.propertySignatures.map((ps) => [ps.name, validSamples(ps.type)] as const)
  if (columns.some(([, values]) => values.length === 0)) return []
  return Array.from({ length: count }, (_, k) => {
    const row: Record<PropertyKey, unknown> = {}
    columns.forEach(([name, values], i) => {
      row[name] = values[(k * (i + 1)) % values.length]
    })
    return row
  })
}

/** The struct under a row schema's refinements and transformations (a row filter, a `typeSchema`). */
export const rowStruct = (ast: AST.AST): AST.TypeLiteral | undefined => {
  switch (ast._tag) {
    case "TypeLiteral":
      return ast
    case "Refinement":
      return rowStruct(ast.from)
    case "Transformation":
      return rowStruct(ast.from)
    default:
      return undefined
  }
}

/** What a column is replaced with: every type a driver or a planted row could put there, and near misses. */
export const WRONG_VALUES: ReadonlyArray<unknown> = [
  null,
  undefined,
  42,
  -1,
  1.5,
  Number.NaN,
  1n,
  true,
  "text",
  "",
  "bogus-literal",
  new Date(Number.NaN),
  new Date(0),
  T0.toISOString(),
  "not-a-uuid",
  ulidToUuid(ulid).toUpperCase(),
  `${ulidToUuid(ulid)}\n`,
  ulidToUuid(ulid).slice(1),
  ulidToUuid(ulid).replace(/-/g, ""),
  ulidToUuid(ulid).replace("-", "_"),
  ulid,
  ulid.toLowerCase(),
  "999.1.1.1",
  "not a url",
  {},
  [],
  { nested: [1] },
  Symbol.for("column"),
  () => 1
]

const MISSING = Symbol("missing")

/** Values close to a valid array or object column: an element more or less, a hole, a nested column mutated. */
const nearValues = (value: unknown): ReadonlyArray<unknown> => {
  if (Array.isArray(value)) {
    return [
      [...value, value[0]],
      value.slice(0, -1),
      [...value, 42],
      [...value, "text"],
      Object.assign(new Array<unknown>(value.length + 1), value)
    ]
  }
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return mutations(value as Record<PropertyKey, unknown>).filter((m) => typeof m === "object" && m !== null)
  }
  return []
}

/** `row` with `column` replaced by `value`, or left out for `MISSING`. */
const withColumn = (row: Record<PropertyKey, unknown>, column: PropertyKey, value: unknown) => {
  const copy = { ...row }
  if (value === MISSING) delete copy[column]
  else copy[column] = value
  return copy
}

/** Every mutation of a valid row: each column wrong, missing or inherited, extra columns, and rows that are no object. */
export const mutations = (row: Record<PropertyKey, unknown>): ReadonlyArray<unknown> => {
  const columns = Reflect.ownKeys(row)
  const perColumn = columns.flatMap((column) => [
    ...[...WRONG_VALUES, MISSING, ...nearValues(row[column])].map((value) => withColumn(row, column, value)),
    // an inherited column is read (Schema reads `input[name]`), but not an own property
    Object.assign(Object.create({ [column]: row[column] }) as object, withColumn(row, column, MISSING))
  ])
  const nullAll = Object.fromEntries(columns.map((c) => [c, null]))
  return [
    ...perColumn,
    { ...row, extra: 1, [Symbol.for("extra")]: 2 },
    { extra: "first", ...row },
    // an own `__proto__` column, as JSON.parse makes one
    Object.assign(JSON.parse(`{"__proto__": 1}`) as object, row),
    Object.assign(Object.create(null) as object, row),
    Object.assign(Object.create(row) as object),
    Object.assign([], row),
    nullAll,
    {},
    null,
    undefined,
    "row",
    42,
    T0,
    [row]
  ]
}
