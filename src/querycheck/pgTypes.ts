// The mapping between PostgreSQL types and the JavaScript values node-postgres reads and binds, and the encoded side of a Schema.
import { SchemaAST } from "effect"

/**
 * A JavaScript value kind on the driver side: "json" is any parsed JSON value (object, array, string, number,
 * boolean); "unknown" accepts anything; `<kind>[]` is an array; "other:…" is a value this table does not model.
 */
export type JsKind = string

// ---------------------------------------------------------------------------------------------------------------
// Rows: what node-postgres (pg-types defaults, no custom parsers) returns for a column type.

const ROW_SCALARS: Record<string, JsKind> = {
  bool: "boolean",
  int2: "number",
  int4: "number",
  oid: "number",
  float4: "number",
  float8: "number",
  // 64-bit integers and numerics do not fit a double: the driver hands them over as decimal text
  int8: "string",
  numeric: "string",
  timestamptz: "Date",
  timestamp: "Date",
  date: "Date",
  bytea: "Uint8Array",
  json: "json",
  jsonb: "json",
  interval: "other:interval"
}

/** Element types whose arrays pg-types parses into JavaScript arrays; other arrays come back as array-literal text. */
const PARSED_ARRAYS = new Set([
  "bool",
  "int2",
  "int4",
  "int8",
  "oid",
  "float4",
  "float8",
  "numeric",
  "text",
  "varchar",
  "bpchar",
  "char",
  "name",
  "uuid",
  "inet",
  "cidr",
  "macaddr",
  "money",
  "time",
  "timetz",
  "timestamp",
  "timestamptz",
  "date",
  "interval",
  "bytea",
  "json",
  "jsonb"
])

/** The JavaScript kind node-postgres yields for a described column or parameter type. */
export const driverType = (t: { readonly type: string; readonly kind: string }): JsKind => {
  if (t.type.endsWith("[]")) {
    const element = t.type.slice(0, -2)
    if (t.kind !== "base" || element.endsWith("[]") || !PARSED_ARRAYS.has(element)) return "string"
    return `${driverType({ type: element, kind: t.kind })}[]`
  }
  if (t.kind === "enum") return "string"
  if (t.kind !== "base") return `other:${t.type}`
  // every other base type (text, varchar, uuid, inet, time, money, …) arrives as its text form
  return ROW_SCALARS[t.type] ?? "string"
}

/** The TypeScript type of a driver-side kind, for the generated `CachedRows`. */
export const tsTypeOf = (kind: JsKind): string => {
  if (kind.endsWith("[]")) return `ReadonlyArray<${tsTypeOf(kind.slice(0, -2))}>`
  switch (kind) {
    case "string":
    case "number":
    case "boolean":
    case "Date":
    case "Uint8Array":
      return kind
    default:
      return "unknown"
  }
}

/** Whether a field whose encoded side accepts `accepted` can hold what the driver returns for a column of kind `column`. */
export const rowAccepts = (accepted: ReadonlySet<JsKind>, column: JsKind): boolean => {
  if (accepted.has("unknown") || accepted.has(column)) return true
  if (column === "json") {
    // a JSON column may hold any JSON value: a field for one shape of it is the author's choice
    for (const k of accepted)
      if (k === "json" || k === "string" || k === "number" || k === "boolean" || k.endsWith("[]")) return true
  }
  return false
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters: which PostgreSQL types a JavaScript value may be bound to (node-postgres sends text).

const TEXT_INPUT = new Set([
  "text",
  "varchar",
  "bpchar",
  "char",
  "name",
  "citext",
  "uuid",
  "inet",
  "cidr",
  "macaddr",
  "xml",
  "bit",
  "varbit",
  "tsvector",
  "tsquery",
  "money",
  "time",
  "timetz",
  "interval",
  "date",
  "timestamp",
  "timestamptz",
  // decimal text for integers beyond 2^53 (int8 keys, advisory-lock ids)
  "int8",
  "numeric",
  // JSON text (Schema.parseJson's encoded side)
  "json",
  "jsonb"
])

const BIND: Record<string, ReadonlySet<string>> = {
  number: new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid", "money"]),
  bigint: new Set(["int2", "int4", "int8", "numeric"]),
  boolean: new Set(["bool"]),
  Date: new Set(["timestamptz", "timestamp", "date"]),
  Uint8Array: new Set(["bytea"]),
  json: new Set(["json", "jsonb"]),
  unknown: new Set(["json", "jsonb"])
}

/** Whether node-postgres can bind a value of `js` to a parameter of the described type. */
export const bindable = (js: JsKind, param: { readonly type: string; readonly kind: string }): boolean => {
  if (js.endsWith("[]")) {
    // JavaScript arrays are sent as PostgreSQL array literals, never as JSON
    if (!param.type.endsWith("[]")) return false
    return bindable(js.slice(0, -2), { type: param.type.slice(0, -2), kind: param.kind })
  }
  if (param.type.endsWith("[]")) return false
  if (js === "string") return param.kind === "enum" || (param.kind === "base" && TEXT_INPUT.has(param.type))
  return param.kind === "base" && (BIND[js]?.has(param.type) ?? false)
}

// ---------------------------------------------------------------------------------------------------------------
// The encoded side of a Schema, reduced to the kinds above.

export interface EncodedShape {
  readonly kinds: ReadonlySet<JsKind>
  /** The encoded side accepts null (or undefined, which the driver sends as NULL). */
  readonly nullable: boolean
}

const declarationKind = (ast: SchemaAST.Declaration): JsKind => {
  const id = SchemaAST.getIdentifierAnnotation(ast)
  const name = id._tag === "Some" ? id.value : ""
  if (name === "DateFromSelf" || name === "ValidDateFromSelf") return "Date"
  if (name === "Uint8ArrayFromSelf") return "Uint8Array"
  return `other:${name === "" ? "declaration" : name}`
}

/** The value kinds and nullability of an encoded AST (pass `SchemaAST.encodedAST(schema.ast)` or any AST). */
export const encodedShape = (ast: SchemaAST.AST): EncodedShape => {
  const kinds = new Set<JsKind>()
  let nullable = false
  const visit = (node: SchemaAST.AST, depth: number): void => {
    if (depth > 50) return
    switch (node._tag) {
      case "Literal":
        if (node.literal === null) nullable = true
        else kinds.add(typeof node.literal)
        return
      case "StringKeyword":
      case "TemplateLiteral":
        kinds.add("string")
        return
      case "NumberKeyword":
        kinds.add("number")
        return
      case "BooleanKeyword":
        kinds.add("boolean")
        return
      case "BigIntKeyword":
        kinds.add("bigint")
        return
      case "UndefinedKeyword":
      case "VoidKeyword":
        nullable = true
        return
      case "UnknownKeyword":
      case "AnyKeyword":
        kinds.add("unknown")
        return
      case "ObjectKeyword":
      case "TypeLiteral":
        kinds.add("json")
        return
      case "Enums":
        for (const [, value] of node.enums) kinds.add(typeof value)
        return
      case "Declaration":
        kinds.add(declarationKind(node))
        return
      case "TupleType": {
        const element = encodedShape(
          SchemaAST.Union.make([...node.elements.map((e) => e.type), ...node.rest.map((r) => r.type)])
        )
        for (const k of element.kinds) kinds.add(`${k}[]`)
        if (element.kinds.size === 0) kinds.add("unknown[]")
        return
      }
      case "Union":
        for (const member of node.types) visit(member, depth + 1)
        return
      case "Suspend":
        visit(node.f(), depth + 1)
        return
      case "Refinement":
        visit(node.from, depth + 1)
        return
      case "Transformation":
        visit(node.from, depth + 1)
        return
      case "NeverKeyword":
        return
      default:
        kinds.add(`other:${node._tag}`)
    }
  }
  visit(ast, 0)
  return { kinds, nullable }
}

/** `string | null`-style text of a shape, for messages. */
export const showShape = (shape: EncodedShape): string => {
  const parts = [...shape.kinds].sort()
  if (shape.nullable) parts.push("null")
  return parts.length === 0 ? "never" : parts.join(" | ")
}
