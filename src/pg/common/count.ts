// Exact row counts in PostgreSQL: COUNT(*) is a bigint, and only safe integers are returned.
import { Either, Option } from "effect"
import { InvalidOperationError } from "../../storage/common/errors.js"

/**
 * A count as node-postgres returns it (int8 arrives as decimal text unless a type parser changed
 * it) → a safe integer. Anything beyond `Number.MAX_SAFE_INTEGER`, negative or not an integer is
 * an `InvalidOperationError` rather than a rounded number.
 */
export const toSafeCount = (value: unknown): Either.Either<number, InvalidOperationError> => {
  let big: bigint | undefined
  if (typeof value === "bigint") big = value
  else if (typeof value === "number" && Number.isInteger(value)) big = BigInt(value)
  else if (typeof value === "string" && /^-?\d+$/.test(value)) big = BigInt(value)
  if (big === undefined || big < 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) {
    return Either.left(
      new InvalidOperationError({ cause: Option.some(`Count ${String(value)} is not a non-negative safe integer`) })
    )
  }
  return Either.right(Number(big))
}
