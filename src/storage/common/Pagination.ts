// Keyset pagination: the Pagination request, the Page answer, and the page-building rules both backends share.
import { Effect, Either, Equal, Hash, Option, type Pipeable, Schema } from "effect"
import { pipeArguments } from "effect/Pipeable"
import { parseUlid, type Ulid } from "../../model/Ulid.js"
import { InvalidOperationError } from "./errors.js"

export type Direction = "forward" | "backward"

/**
 * A cursor as both backends read it: ULID text in any case, as its canonical form. Anything else is refused before
 * any row is read (a `Ulid` value never is, but the type is only a promise).
 */
export const readCursor = (cursor: string): Either.Either<Ulid, InvalidOperationError> =>
  Either.fromOption(
    parseUlid(cursor),
    () => new InvalidOperationError({ cause: Option.some(`Malformed ULID cursor: ${JSON.stringify(cursor)}`) })
  )

/**
 * Why a pagination request was refused. A missing `first`/`last` keeps MAS's message; a count that
 * is negative, fractional, NaN or beyond `Number.MAX_SAFE_INTEGER` is refused rather than clamped,
 * because `count + 1` rows are read and an unsafe count could not be represented exactly.
 */
export class InvalidPagination extends Schema.TaggedError<InvalidPagination>()("InvalidPagination", {
  reason: Schema.Literal("MissingFirstOrLast", "InvalidCount"),
  count: Schema.OptionFromSelf(Schema.Number).pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => Option.none<number>())
  )
}) {
  override get message(): string {
    return this.reason === "MissingFirstOrLast"
      ? "Either 'first' or 'last' must be specified"
      : `Pagination count must be a non-negative safe integer, got ${Option.getOrElse(this.count, () => NaN)}`
  }
}

const checkCount = (count: number): Either.Either<number, InvalidPagination> =>
  Number.isSafeInteger(count) && count >= 0
    ? Either.right(count)
    : Either.left(new InvalidPagination({ reason: "InvalidCount", count: Option.some(count) }))

/**
 * A request for one page. Built only through `tryNew`, `first` and `last`, so `count` is always a
 * non-negative safe integer. Immutable: the `with…`/`clear…` methods return a new value.
 */
export class Pagination implements Equal.Equal {
  private constructor(
    readonly before: Option.Option<Ulid>,
    readonly after: Option.Option<Ulid>,
    readonly count: number,
    readonly direction: Direction
  ) {}

  /** `first` wins when both are given (forward); otherwise `last` (backward); neither is an error. */
  static tryNew(
    before: Option.Option<Ulid>,
    after: Option.Option<Ulid>,
    first: Option.Option<number>,
    last: Option.Option<number>
  ): Either.Either<Pagination, InvalidPagination> {
    if (Option.isSome(first)) {
      return Either.map(checkCount(first.value), (n) => new Pagination(before, after, n, "forward"))
    }
    if (Option.isSome(last)) {
      return Either.map(checkCount(last.value), (n) => new Pagination(before, after, n, "backward"))
    }
    return Either.left(new InvalidPagination({ reason: "MissingFirstOrLast" }))
  }

  /** The first `count` rows (after the `after` cursor, when set). */
  static first(count: number): Either.Either<Pagination, InvalidPagination> {
    return Either.map(checkCount(count), (n) => new Pagination(Option.none(), Option.none(), n, "forward"))
  }

  /** The last `count` rows (before the `before` cursor, when set). */
  static last(count: number): Either.Either<Pagination, InvalidPagination> {
    return Either.map(checkCount(count), (n) => new Pagination(Option.none(), Option.none(), n, "backward"))
  }

  /** Pipeable forms of the instance methods: `Pagination.first(10).pipe(Either.map(Pagination.after(c)))`. */
  static before(cursor: Ulid): (self: Pagination) => Pagination {
    return (self) => self.withBefore(cursor)
  }

  static after(cursor: Ulid): (self: Pagination) => Pagination {
    return (self) => self.withAfter(cursor)
  }

  static clearBefore(self: Pagination): Pagination {
    return self.clearBefore()
  }

  static clearAfter(self: Pagination): Pagination {
    return self.clearAfter()
  }

  /** Keep only rows whose id is strictly smaller than `cursor` (MAS's `.before(c)`). */
  withBefore(cursor: Ulid): Pagination {
    return new Pagination(Option.some(cursor), this.after, this.count, this.direction)
  }

  /** Keep only rows whose id is strictly greater than `cursor` (MAS's `.after(c)`). */
  withAfter(cursor: Ulid): Pagination {
    return new Pagination(this.before, Option.some(cursor), this.count, this.direction)
  }

  clearBefore(): Pagination {
    return new Pagination(Option.none(), this.after, this.count, this.direction)
  }

  clearAfter(): Pagination {
    return new Pagination(this.before, Option.none(), this.count, this.direction)
  }

  /** How many rows a backend reads: one more than the page, to learn whether another page exists. */
  get limit(): number {
    return this.count + 1
  }

  [Equal.symbol](that: Equal.Equal): boolean {
    return (
      that instanceof Pagination &&
      this.count === that.count &&
      this.direction === that.direction &&
      Equal.equals(this.before, that.before) &&
      Equal.equals(this.after, that.after)
    )
  }

  [Hash.symbol](): number {
    return Hash.cached(
      this,
      Hash.combine(Hash.hash(this.before))(
        Hash.combine(Hash.hash(this.after))(Hash.combine(Hash.number(this.count))(Hash.string(this.direction)))
      )
    )
  }

  toJSON(): unknown {
    return { _id: "Pagination", before: this.before, after: this.after, count: this.count, direction: this.direction }
  }
}

// `first(10).pipe(Pagination.after(cursor))`, as with Effect's own data types.
export interface Pagination extends Pipeable.Pipeable {}
Pagination.prototype.pipe = function (this: Pagination) {
  // eslint-disable-next-line prefer-rest-params
  return pipeArguments(this, arguments)
}

export interface Edge<T> {
  readonly cursor: Ulid
  readonly node: T
}

/** One page of results, edges in ascending id order whatever the direction. */
export class Page<T> {
  constructor(
    readonly edges: ReadonlyArray<Edge<T>>,
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean
  ) {}

  static empty<T = never>(): Page<T> {
    return new Page<T>([], false, false)
  }

  /**
   * Builds a page from the rows a backend read for `pagination`: at most `count + 1` rows, in
   * ascending id order when going forward and descending when going backward. A full read drops
   * its last row and sets `hasNextPage` (forward) or `hasPreviousPage` (backward).
   */
  static process<R, T = R>(
    rows: ReadonlyArray<R>,
    pagination: Pagination,
    cursorOf: (row: R) => Ulid,
    nodeOf?: (row: R) => T
  ): Page<T> {
    const full = rows.length > pagination.count
    const kept = full ? rows.slice(0, pagination.count) : rows.slice()
    if (pagination.direction === "backward") kept.reverse()
    const toNode = nodeOf ?? ((row: R) => row as unknown as T)
    const edges = kept.map((row) => ({ cursor: cursorOf(row), node: toNode(row) }))
    return pagination.direction === "forward" ? new Page(edges, full, false) : new Page(edges, false, full)
  }

  get nodes(): ReadonlyArray<T> {
    return this.edges.map((edge) => edge.node)
  }

  get cursors(): ReadonlyArray<Ulid> {
    return this.edges.map((edge) => edge.cursor)
  }

  map<U>(f: (node: T) => U): Page<U> {
    return new Page(
      this.edges.map((edge) => ({ cursor: edge.cursor, node: f(edge.node) })),
      this.hasNextPage,
      this.hasPreviousPage
    )
  }

  /**
   * Maps the nodes with a fallible mapper, keeping the cursors; stops at the first failure.
   * An Either-returning mapper gives an Either (synchronous); an Effect-returning one gives an
   * Effect. (An Either is also an Effect, so the result can be yielded either way.)
   */
  tryMap<U, E>(f: (node: T) => Either.Either<U, E>): Either.Either<Page<U>, E>
  tryMap<U, E, R>(f: (node: T) => Effect.Effect<U, E, R>): Effect.Effect<Page<U>, E, R>
  tryMap<U, E, R>(
    f: (node: T) => Either.Either<U, E> | Effect.Effect<U, E, R>
  ): Either.Either<Page<U>, E> | Effect.Effect<Page<U>, E, R> {
    const done: Array<Edge<U>> = []
    for (let i = 0; i < this.edges.length; i++) {
      const edge = this.edges[i]!
      const result = f(edge.node)
      if (Either.isEither(result)) {
        if (Either.isLeft(result)) return Either.left(result.left)
        done.push({ cursor: edge.cursor, node: result.right })
        continue
      }
      // The mapper is effectful: finish the remaining edges (this one included) in order.
      const rest = this.edges.slice(i + 1)
      return Effect.gen(this, function* () {
        done.push({ cursor: edge.cursor, node: yield* result })
        for (const next of rest) {
          done.push({ cursor: next.cursor, node: yield* f(next.node) as Effect.Effect<U, E, R> })
        }
        return new Page<U>(done, this.hasNextPage, this.hasPreviousPage)
      })
    }
    return Either.right(new Page<U>(done, this.hasNextPage, this.hasPreviousPage))
  }
}
