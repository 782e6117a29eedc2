// The storage error vocabulary: every repository method fails only with a `DatabaseError`.
import { Effect, Either, Option, Predicate, Schema } from "effect"
import { UlidFromSelf } from "../../model/Ulid.js"

const noneByDefault = <S extends Schema.Schema.Any>(value: S) =>
  Schema.OptionFromSelf(value).pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => Option.none<Schema.Schema.Type<S>>())
  )

/** Well-known PostgreSQL SQLSTATE codes callers branch on; the in-memory backend reports the same codes. */
export const SqlState = {
  UniqueViolation: "23505",
  ForeignKeyViolation: "23503",
  NotNullViolation: "23502",
  CheckViolation: "23514",
  ExclusionViolation: "23P01",
  SerializationFailure: "40001",
  DeadlockDetected: "40P01",
  InFailedSqlTransaction: "25P02",
  InvalidByteSequence: "22021"
} as const

/**
 * Infrastructure failure: connection, SQL error, constraint violation, serialization failure.
 * `sqlState` and `constraint` are lifted out of the driver error so callers can tell a unique
 * violation from anything else without knowing the driver.
 */
export class DriverError extends Schema.TaggedError<DriverError>()("DriverError", {
  cause: Schema.Defect,
  sqlState: noneByDefault(Schema.String),
  constraint: noneByDefault(Schema.String)
}) {
  override get message(): string {
    const code = Option.match(this.sqlState, { onNone: () => "", onSome: (c) => ` [${c}]` })
    return `Database driver error${code}: ${describeCause(this.cause)}`
  }

  get isUniqueViolation(): boolean {
    return Option.contains(this.sqlState, SqlState.UniqueViolation)
  }

  /** What the in-memory backend raises where PostgreSQL would report a constraint violation (storage rule: Conflicts). */
  static constraintViolation(sqlState: string, constraint: string, detail?: string): DriverError {
    return new DriverError({
      cause: new Error(`violates constraint "${constraint}"${detail === undefined ? "" : `: ${detail}`}`),
      sqlState: Option.some(sqlState),
      constraint: Option.some(constraint)
    })
  }
}

/** A stored row that cannot be decoded: impossible state tuple, bad scope/URL/IP/JSON/enum text. */
export class InconsistencyError extends Schema.TaggedError<InconsistencyError>()("InconsistencyError", {
  table: Schema.String,
  column: noneByDefault(Schema.String),
  row: noneByDefault(UlidFromSelf),
  cause: noneByDefault(Schema.Unknown)
}) {
  override get message(): string {
    const column = Option.match(this.column, { onNone: () => "", onSome: (c) => ` column ${c}` })
    const row = Option.match(this.row, { onNone: () => "", onSome: (r) => ` row ${r}` })
    return `Database inconsistency on table ${this.table}${column}${row}`
  }
}

/** Invalid state transition (cause `InvalidTransition`), mismatched arguments, number out of range. */
export class InvalidOperationError extends Schema.TaggedError<InvalidOperationError>()("InvalidOperationError", {
  cause: noneByDefault(Schema.Unknown)
}) {
  override get message(): string {
    return Option.match(this.cause, {
      onNone: () => "Invalid database operation",
      onSome: (cause) => `Invalid database operation: ${describeCause(cause)}`
    })
  }
}

/** A write touched a different number of rows than its contract requires. */
export class RowsAffectedError extends Schema.TaggedError<RowsAffectedError>()("RowsAffectedError", {
  expected: Schema.Number,
  actual: Schema.Number
}) {
  override get message(): string {
    return `Expected ${this.expected} rows to be affected, but ${this.actual} were`
  }
}

export type DatabaseError = DriverError | InconsistencyError | InvalidOperationError | RowsAffectedError

export const isDatabaseError = (u: unknown): u is DatabaseError =>
  u instanceof DriverError ||
  u instanceof InconsistencyError ||
  u instanceof InvalidOperationError ||
  u instanceof RowsAffectedError

/** `expectRowsAffected(1)(rowCount)`: succeeds when the count matches, else fails with `RowsAffectedError`. */
export const expectRowsAffected =
  (expected: number) =>
  (actual: number | bigint): Effect.Effect<void, RowsAffectedError> => {
    const n = Number(actual)
    return n === expected ? Effect.void : Effect.fail(new RowsAffectedError({ expected, actual: n }))
  }

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause
    return inner instanceof Error && inner.message !== cause.message
      ? `${cause.message}: ${inner.message}`
      : cause.message
  }
  if (Predicate.isObject(cause) && "_tag" in cause) return String(cause._tag)
  return String(cause)
}

/** A model transition's refusal as the repositories report it: an InvalidOperationError carrying it (storage rule: Transitions). */
export const refusedTransition = <A, E>(result: Either.Either<A, E>): Either.Either<A, InvalidOperationError> =>
  Either.mapLeft(result, (cause) => new InvalidOperationError({ cause: Option.some(cause) }))
