// Row schemas compiled to plain field-by-field checks for the read path; whatever the compiled code refuses, Schema decides.
import { Option, Schema, SchemaAST as AST } from "effect"
import { UlidFromUuid, ulidOfUuidText } from "../model/Ulid.js"

/**
 * What a compiled decoder returns for input Schema's decoder refuses: Schema then decodes it again, to say why. Not
 * `Symbol.for`: no input can hold it, so a passed-through value is never mistaken for a refusal.
 */
export const refused: unique symbol = Symbol("mas-data-layer/rows/refused")
export type Refused = typeof refused

/** A compiled decoder: what Schema's decoder returns (same keys in the same order, same leaf values), or `refused`. */
export type CompiledDecoder<A> = (raw: unknown) => A | Refused

// The invariant of every node: it refuses exactly the input Schema's decoder of the same AST refuses, and otherwise
// returns what that decoder returns. Unions depend on it: a member refusing by mistake would let a later member
// decode the input differently.
type Node = (u: unknown) => unknown

const isString: Node = (u) => (typeof u === "string" ? u : refused)
const isNumber: Node = (u) => (typeof u === "number" ? u : refused)
const isBoolean: Node = (u) => (typeof u === "boolean" ? u : refused)
const isBigInt: Node = (u) => (typeof u === "bigint" ? u : refused)
const isSymbol: Node = (u) => (typeof u === "symbol" ? u : refused)
const isUndefined: Node = (u) => (u === undefined ? u : refused)
const isObject: Node = (u) => ((typeof u === "object" && u !== null) || typeof u === "function" ? u : refused)
const anything: Node = (u) => u
// DateFromSelf is `instanceof Date` and nothing more: an Invalid Date decodes (ValidDateFromSelf's filter refuses it).
const isDate: Node = (u) => (u instanceof Date ? u : refused)

// Declarations and transformations run opaque functions, so only these are known, by the functions they are built
// from (annotating a schema copies its AST node but keeps them).
const dateFromSelf = Schema.DateFromSelf.ast as AST.Declaration
const ulidFromUuid = UlidFromUuid.ast as AST.Transformation

const isDateFromSelf = (ast: AST.Declaration): boolean =>
  ast.decodeUnknown === dateFromSelf.decodeUnknown && ast.typeParameters.length === 0

const isUlidFromUuid = (ast: AST.Transformation): boolean =>
  ast.transformation === ulidFromUuid.transformation && ast.from === ulidFromUuid.from && ast.to === ulidFromUuid.to

/** UlidFromUuid's decode without the Option: every id column of every row goes through it. */
const ulidOfUuid: Node = (u) => (typeof u === "string" ? (ulidOfUuidText(u) ?? refused) : refused)

/** Whether a union member may be chosen by a literal property (Schema then tries members out of order): not compiled. */
const mayBeTagged = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "Refinement":
      return mayBeTagged(ast.from)
    case "Transformation":
      return mayBeTagged(ast.from)
    case "Declaration":
      return Option.isSome(AST.getSurrogateAnnotation(ast))
    case "TypeLiteral":
    case "TupleType":
    case "Suspend":
      return true
    default:
      return false
  }
}

const refinement = (ast: AST.Refinement): Node | undefined => {
  const from = node(ast.from)
  if (from === undefined) return undefined
  const filter = ast.filter
  return (u) => {
    const a = from(u)
    return a === refused || Option.isSome(filter(a, AST.defaultParseOption, ast)) ? refused : a
  }
}

const union = (ast: AST.Union): Node | undefined => {
  if (ast.types.some(mayBeTagged)) return undefined
  const members = ast.types.map(node)
  if (!members.every((m) => m !== undefined)) return undefined
  if (members.length === 2) {
    const [first, second] = members as [Node, Node]
    return (u) => {
      const a = first(u)
      return a === refused ? second(u) : a
    }
  }
  return (u) => {
    for (const member of members) {
      const a = member(u)
      if (a !== refused) return a
    }
    return refused
  }
}

/**
 * A struct: a non-array object in, a new object out with the schema's keys in the schema's order (excess input keys
 * dropped, as Schema's default `onExcessProperty: "ignore"`). A required key is read even when absent, as Schema reads
 * it (`undefined` then decodes if the field accepts it, e.g. Unknown); an optional absent key is left out.
 *
 * The function is generated from the field names (and the field decoders passed in), the one place where a loop
 * over fields costs what the fields do: a generic loop makes every field read, call and write megamorphic.
 */
const struct = (ast: AST.TypeLiteral): Node | undefined => {
  // `{}` decodes any non-nullable value to itself; index signatures copy input keys: neither is a row.
  if (ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) return undefined
  const signatures = ast.propertySignatures
  // Symbol keys cannot be spelled in generated code, and `__proto__` would set the output's prototype.
  if (signatures.some((ps) => typeof ps.name !== "string" || ps.name === "__proto__")) return undefined
  const fields = signatures.map((ps) => node(ps.type))
  if (!fields.every((f) => f !== undefined)) return undefined
  const key = (i: number) => JSON.stringify(signatures[i]!.name)
  const optional = signatures.some((ps) => ps.isOptional)
  const reads = signatures.map((ps, i) => {
    const read = `const v${i} = f${i}(u[${key(i)}]); if (v${i} === refused) return refused;`
    if (!optional) return read
    const assign = `${read} out[${key(i)}] = v${i};`
    return ps.isOptional ? `if (has.call(u, ${key(i)})) { ${assign} }` : assign
  })
  const body = [
    `if (typeof u !== "object" || u === null || Array.isArray(u)) return refused;`,
    optional ? `const out = {};` : "",
    ...reads,
    optional ? `return out;` : `return { ${signatures.map((_, i) => `${key(i)}: v${i}`).join(", ")} };`
  ].join("\n")
  const parameters = ["refused", "has", ...fields.map((_, i) => `f${i}`)]
  try {
    const make = new Function(...parameters, `return (u) => {\n${body}\n}`)
    return make(refused, Object.prototype.hasOwnProperty, ...fields) as Node
  } catch {
    // Code generation disallowed (`--disallow-code-generation-from-strings`): Schema decodes, as it did before.
    return undefined
  }
}

/** Fixed required elements then at most one rest element (`Schema.Array`, `NonEmptyArray`): always a new array. */
const tuple = (ast: AST.TupleType): Node | undefined => {
  if (ast.rest.length > 1 || ast.elements.some((e) => e.isOptional)) return undefined
  const elements = ast.elements.map((e) => node(e.type))
  const rest = ast.rest.map((r) => node(r.type))
  if (!elements.every((e) => e !== undefined) || !rest.every((r) => r !== undefined)) return undefined
  const heads = elements as ReadonlyArray<Node>
  const tail = rest[0]
  const fixed = heads.length
  return (u) => {
    if (!Array.isArray(u)) return refused
    const length = u.length
    if (length < fixed || (tail === undefined && length > fixed)) return refused
    const out = new Array<unknown>(length)
    for (let i = 0; i < length; i++) {
      const value = (i < fixed ? heads[i]! : tail!)(u[i])
      if (value === refused) return refused
      out[i] = value
    }
    return out
  }
}

const compileNode = (ast: AST.AST): Node | undefined => {
  // Both annotations change how Schema decodes below them (other options, a fallback value on failure).
  if (Option.isSome(AST.getParseOptionsAnnotation(ast)) || Option.isSome(AST.getDecodingFallbackAnnotation(ast))) {
    return undefined
  }
  switch (ast._tag) {
    case "StringKeyword":
      return isString
    case "NumberKeyword":
      return isNumber
    case "BooleanKeyword":
      return isBoolean
    case "BigIntKeyword":
      return isBigInt
    case "SymbolKeyword":
      return isSymbol
    case "UndefinedKeyword":
      return isUndefined
    case "ObjectKeyword":
      return isObject
    case "UnknownKeyword":
    case "AnyKeyword":
    case "VoidKeyword":
      return anything
    case "Literal": {
      const literal = ast.literal
      return (u) => (u === literal ? u : refused)
    }
    case "Enums": {
      const values = ast.enums.map(([, value]) => value)
      return (u) => (values.some((value) => value === u) ? u : refused)
    }
    case "Declaration":
      return isDateFromSelf(ast) ? isDate : undefined
    case "Transformation":
      return isUlidFromUuid(ast) ? ulidOfUuid : undefined
    case "Refinement":
      return refinement(ast)
    case "Union":
      return union(ast)
    case "TypeLiteral":
      return struct(ast)
    case "TupleType":
      return tuple(ast)
    default:
      return undefined
  }
}

// Keyed by AST node: schemas share field schemas (NullOr(DateFromSelf), UlidFromUuid), and `typeSchema` makes new
// top-level nodes that still share the unchanged ones. `null` remembers a node that does not compile.
const nodes = new WeakMap<AST.AST, Node | null>()

const node = (ast: AST.AST): Node | undefined => {
  const known = nodes.get(ast)
  if (known !== undefined) return known ?? undefined
  const compiled = compileNode(ast)
  nodes.set(ast, compiled ?? null)
  return compiled
}

/** The compiled decoder of `schema`, or `undefined` when any node of its AST is unknown here (Schema decodes it all). */
export const compiledDecoder = <A, I, R>(schema: Schema.Schema<A, I, R>): CompiledDecoder<A> | undefined =>
  node(schema.ast) as CompiledDecoder<A> | undefined

/** Whether `schema` decodes through compiled code (else through Schema's own decoder, as before). */
export const isCompiled = (schema: Schema.Schema.All): boolean => node(schema.ast) !== undefined
