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

/**
 * One statement a dynamic query can send: its declared pieces put together for a set of criteria (and, for a page
 * query, a pagination form). `prepare` describes it and the check compares it with the cache like a static query.
 */
export interface Combination {
  /** `none`, `all`, or the one criterion used (`<filter slot>.<criterion>` when the query has several filter slots). */
  readonly criteria: string
  /** For page queries: `first`, `first after`, `first before`, `first after before`, `last`, … */
  readonly pagination?: string
  readonly text: string
  /** A Schema.Tuple: the statement's own parameters, then each piece's, in the order of their `$n`. */
  readonly params: Schema.Schema.AnyNoContext
}

/** How a combination is named in the cache, the report and the check's messages. */
export const combinationId = (c: Pick<Combination, "criteria" | "pagination">): string =>
  c.pagination === undefined ? c.criteria : `${c.criteria} · ${c.pagination}`

/**
 * A query assembled at run time from declared pieces (filter criteria, keyset pagination): every combination the
 * check needs is enumerable from the declaration, so it is described and checked as static queries are.
 */
export interface DynamicDeclaration {
  readonly kind: "dynamic"
  readonly name: string
  readonly description: string
  readonly table: string
  /** Every column of the rows it returns (an empty Struct for a write whose rows are not read). */
  readonly row: Schema.Schema.AnyNoContext
  /** No criterion, each criterion alone, all together; for a page query, all criteria under every pagination form. */
  readonly combinations: ReadonlyArray<Combination>
}

export type AnyStaticQuery = StaticDeclaration
export type DynamicQuery = DynamicDeclaration
export type AnyQuery = StaticDeclaration | DynamicDeclaration
