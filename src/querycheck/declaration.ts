// What the offline check reads of a declared query: its name, SQL text, parameter and row schemas (the backends add how to run it).
import type { Schema } from "effect"

/** A query whose full text is known ahead of time: the offline check describes it against the schema. */
export interface StaticDeclaration {
  readonly kind: "static"
  /** `<repository>.<method>[.<step>]`. */
  readonly name: string
  readonly text: string
  readonly params: Schema.Schema.AnyNoContext
  readonly row: Schema.Schema.AnyNoContext
  /** The table rows come from, for inconsistency errors. */
  readonly table: string
}

/** A query assembled from fragments at run time (filters, pagination): listed by the check, covered by the contract suite. */
export interface DynamicDeclaration {
  readonly kind: "dynamic"
  readonly name: string
  readonly description: string
  readonly table: string
}

export type AnyStaticQuery = StaticDeclaration
export type DynamicQuery = DynamicDeclaration
export type AnyQuery = StaticDeclaration | DynamicDeclaration
