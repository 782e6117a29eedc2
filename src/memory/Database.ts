// An immutable relational snapshot for the in-memory backend: tables of rows with PostgreSQL's key, unique and foreign-key rules.
import { Either, Option, Order, RedBlackTree } from "effect"
import { DriverError, RowsAffectedError, SqlState } from "../storage/common/errors.js"

export type Row = Readonly<Record<string, unknown>>

export interface ForeignKey {
  readonly name: string
  readonly columns: ReadonlyArray<string>
  readonly references: string
  readonly onDelete: "cascade" | "set null" | "restrict"
}

export interface UniqueConstraint {
  readonly name: string
  readonly columns: ReadonlyArray<string>
  /** A partial unique index applies only to the rows this accepts. */
  readonly where?: (row: Row) => boolean
}

export interface TableSpec {
  readonly name: string
  /** Primary-key columns; the key string of a row is built from them, so rows iterate in key order. */
  readonly primaryKey: ReadonlyArray<string>
  readonly foreignKeys: ReadonlyArray<ForeignKey>
  readonly unique: ReadonlyArray<UniqueConstraint>
}

/** Ids are canonical ULID text, whose string order is creation order (as uuid order in PostgreSQL). */
const keyOf = (spec: TableSpec, row: Row): string =>
  spec.primaryKey.length === 1
    ? String(row[spec.primaryKey[0]!])
    : spec.primaryKey.map((c) => String(row[c])).join("\u0000")

/** Equality as a unique index or a key compares: instants by time, bytes (`bytea`) by content. */
const sameValue = (a: unknown, b: unknown): boolean =>
  a instanceof Date && b instanceof Date
    ? a.getTime() === b.getTime()
    : a instanceof Uint8Array && b instanceof Uint8Array
      ? Buffer.compare(a, b) === 0
      : a === b

const violation = (sqlState: string, constraint: string, detail: string) =>
  Either.left(DriverError.constraintViolation(sqlState, constraint, detail))

type Tables = ReadonlyMap<string, RedBlackTree.RedBlackTree<string, Row>>

const emptyTree = () => RedBlackTree.empty<string, Row>(Order.string)

/** A whole database state; every change returns a new value, so a snapshot is a rollback point. */
export class Database {
  private constructor(
    readonly specs: ReadonlyMap<string, TableSpec>,
    private readonly tables: Tables
  ) {}

  static empty(specs: ReadonlyArray<TableSpec>): Database {
    return new Database(new Map(specs.map((s) => [s.name, s])), new Map(specs.map((s) => [s.name, emptyTree()])))
  }

  spec(table: string): TableSpec {
    const spec = this.specs.get(table)
    // Table names are constants of the repositories: a wrong one is a programming error.
    if (spec === undefined) throw new Error(`unknown in-memory table "${table}"`)
    return spec
  }

  private tree(table: string): RedBlackTree.RedBlackTree<string, Row> {
    this.spec(table)
    return this.tables.get(table) ?? emptyTree()
  }

  private withTree(table: string, tree: RedBlackTree.RedBlackTree<string, Row>): Database {
    const tables = new Map(this.tables)
    tables.set(table, tree)
    return new Database(this.specs, tables)
  }

  /** The row with this primary-key value (a single-column key's value, as stored). */
  get<R extends Row>(table: string, key: string): Option.Option<R> {
    return RedBlackTree.findFirst(this.tree(table), key) as Option.Option<R>
  }

  /** Rows in primary-key order. */
  rows<R extends Row>(table: string): ReadonlyArray<R> {
    return Array.from(RedBlackTree.values(this.tree(table))) as Array<R>
  }

  /** Rows in descending primary-key order. */
  rowsDescending<R extends Row>(table: string): ReadonlyArray<R> {
    // Not RedBlackTree.valuesReversed: in effect 3.x it starts at the first key and walks backwards, yielding one row.
    return Array.from(RedBlackTree.values(this.tree(table))).reverse() as Array<R>
  }

  size(table: string): number {
    return RedBlackTree.size(this.tree(table))
  }

  private checkUnique(spec: TableSpec, row: Row, ignoreKey: Option.Option<string>): Either.Either<void, DriverError> {
    const key = keyOf(spec, row)
    if (Option.isNone(ignoreKey) || ignoreKey.value !== key) {
      if (RedBlackTree.has(this.tree(spec.name), key)) {
        return violation(
          SqlState.UniqueViolation,
          `${spec.name}_pkey`,
          `Key (${spec.primaryKey.join(", ")}) already exists`
        )
      }
    }
    for (const u of spec.unique) {
      if (u.columns.some((c) => row[c] === null || row[c] === undefined)) continue // NULLs never collide
      if (u.where !== undefined && !u.where(row)) continue
      for (const other of RedBlackTree.values(this.tree(spec.name))) {
        if (Option.isSome(ignoreKey) && keyOf(spec, other) === ignoreKey.value) continue
        if (u.where !== undefined && !u.where(other)) continue
        if (u.columns.every((c) => sameValue(other[c], row[c]))) {
          return violation(SqlState.UniqueViolation, u.name, `Key (${u.columns.join(", ")}) already exists`)
        }
      }
    }
    return Either.void
  }

  /**
   * The first violated foreign key, in the table's listed order: the order PostgreSQL checks them (its check triggers
   * fire by name, i.e. by creation), so that a row violating two keys names the same one on both backends.
   */
  private checkForeignKeys(spec: TableSpec, row: Row): Either.Either<void, DriverError> {
    for (const fk of spec.foreignKeys) {
      const values = fk.columns.map((c) => row[c])
      if (values.some((v) => v === null || v === undefined)) continue
      const target = this.spec(fk.references)
      const key = target.primaryKey.length === 1 ? String(values[0]) : values.map(String).join("\u0000")
      if (!RedBlackTree.has(this.tree(fk.references), key)) {
        return violation(
          SqlState.ForeignKeyViolation,
          fk.name,
          `Key (${fk.columns.join(", ")}) is not present in table "${fk.references}"`
        )
      }
    }
    return Either.void
  }

  /** PostgreSQL's text type cannot hold NUL: the same values fail in memory as in the database (22021). */
  checkValues(row: Row): Either.Either<void, DriverError> {
    for (const [column, value] of Object.entries(row)) {
      const texts = Array.isArray(value) ? value : [value]
      if (texts.some((t) => typeof t === "string" && t.includes("\u0000"))) {
        // PostgreSQL refuses NUL while binding the parameter, before any constraint: the error names none
        return Either.left(
          new DriverError({
            cause: new Error(`invalid byte sequence for encoding "UTF8": 0x00 (column ${column})`),
            sqlState: Option.some(SqlState.InvalidByteSequence),
            constraint: Option.none()
          })
        )
      }
    }
    return Either.void
  }

  /** INSERT: fails as PostgreSQL would on a duplicate key, a unique violation or a dangling foreign key. */
  insert(table: string, row: Row): Either.Either<Database, DriverError> {
    const spec = this.spec(table)
    return Either.gen(this, function* () {
      yield* this.checkValues(row)
      yield* this.checkUnique(spec, row, Option.none())
      yield* this.checkForeignKeys(spec, row)
      return this.withTree(table, RedBlackTree.insert(this.tree(table), keyOf(spec, row), row))
    })
  }

  /** INSERT … ON CONFLICT DO NOTHING: a key or unique conflict inserts nothing; a foreign-key violation still fails. */
  insertIgnoringConflict(table: string, row: Row): Either.Either<readonly [Database, boolean], DriverError> {
    const spec = this.spec(table)
    if (Either.isRight(this.checkValues(row)) && Either.isLeft(this.checkUnique(spec, row, Option.none()))) {
      return Either.right([this, false] as const)
    }
    return Either.map(this.insert(table, row), (db) => [db, true] as const)
  }

  /** UPDATE of one row by key; the new row is checked like an insert. */
  update(table: string, key: string, change: (row: Row) => Row): Either.Either<Database, DriverError> {
    const spec = this.spec(table)
    const current = this.get(table, key)
    if (Option.isNone(current)) return Either.right(this)
    const next = change(current.value)
    return Either.gen(this, function* () {
      yield* this.checkValues(next)
      yield* this.checkUnique(spec, next, Option.some(key))
      yield* this.checkForeignKeys(spec, next)
      const without = RedBlackTree.removeFirst(this.tree(table), key)
      return this.withTree(table, RedBlackTree.insert(without, keyOf(spec, next), next))
    })
  }

  /** The primary-key string of a row of `table`. */
  keyOf(table: string, row: Row): string {
    return keyOf(this.spec(table), row)
  }

  /** UPDATE … WHERE key = k that must touch exactly one row (else RowsAffectedError, as `expectRowsAffected(1)`). */
  updateOne(
    table: string,
    key: string,
    change: (row: Row) => Row
  ): Either.Either<Database, DriverError | RowsAffectedError> {
    return Option.isNone(this.get(table, key))
      ? Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
      : this.update(table, key, change)
  }

  /** UPDATE … WHERE predicate: the number of rows changed and the new state. */
  updateWhere(
    table: string,
    predicate: (row: Row) => boolean,
    change: (row: Row) => Row
  ): Either.Either<readonly [number, Database], DriverError> {
    const spec = this.spec(table)
    const targets = this.rows(table).filter(predicate)
    let db: Database = this
    for (const row of targets) {
      const step = db.update(table, keyOf(spec, row), change)
      if (Either.isLeft(step)) return Either.left(step.left)
      db = step.right
    }
    return Either.right([targets.length, db] as const)
  }

  /** DELETE … WHERE predicate (with ON DELETE rules): the number of rows deleted and the new state. */
  deleteWhere(
    table: string,
    predicate: (row: Row) => boolean
  ): Either.Either<readonly [number, Database], DriverError> {
    const spec = this.spec(table)
    const targets = this.rows(table).filter(predicate)
    let db: Database = this
    for (const row of targets) {
      const step = db.delete(table, keyOf(spec, row))
      if (Either.isLeft(step)) return Either.left(step.left)
      db = step.right
    }
    return Either.right([targets.length, db] as const)
  }

  /**
   * ON DELETE SET NULL on one referencing row. Only the key's columns change, and null satisfies a key, so the row's
   * other foreign keys are not checked again: PostgreSQL's referential action checks only what it changes. Checking
   * them would refuse a row whose other parent is being deleted by the same statement (an access token and a refresh
   * token of one session: deleting the session cascades to the access token, whose deletion nulls the refresh
   * token's pointer while the session is already gone and the refresh token's own cascade has not run yet).
   */
  private setNull(table: string, key: string, columns: ReadonlyArray<string>): Either.Either<Database, DriverError> {
    const current = this.get(table, key)
    if (Option.isNone(current)) return Either.right(this)
    const next = { ...current.value, ...Object.fromEntries(columns.map((c) => [c, null])) }
    return Either.map(this.checkValues(next), () =>
      this.withTree(table, RedBlackTree.insert(RedBlackTree.removeFirst(this.tree(table), key), key, next))
    )
  }

  /** DELETE of one row by key, applying every referencing foreign key's ON DELETE rule. */
  delete(table: string, key: string): Either.Either<Database, DriverError> {
    const current = this.get(table, key)
    if (Option.isNone(current)) return Either.right(this)
    let db: Database = this.withTree(table, RedBlackTree.removeFirst(this.tree(table), key))
    const spec = this.spec(table)
    for (const referencing of this.specs.values()) {
      for (const fk of referencing.foreignKeys) {
        if (fk.references !== table) continue
        const referenced = spec.primaryKey.map((c) => current.value[c])
        const matches = db
          .rows(referencing.name)
          .filter((r) => fk.columns.every((c, i) => sameValue(r[c], referenced[i])))
        for (const r of matches) {
          const rkey = keyOf(referencing, r)
          if (fk.onDelete === "restrict") {
            return violation(
              SqlState.ForeignKeyViolation,
              fk.name,
              `Key is still referenced from table "${referencing.name}"`
            )
          }
          const step =
            fk.onDelete === "cascade"
              ? db.delete(referencing.name, rkey)
              : db.setNull(referencing.name, rkey, fk.columns)
          if (Either.isLeft(step)) return step
          db = step.right
        }
      }
    }
    return Either.right(db)
  }
}
