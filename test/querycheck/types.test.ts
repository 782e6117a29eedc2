// The compile-time half of the check: RowMatchesCache against the generated CachedRows (verified by `tsc --noEmit`).
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Schema } from "effect"
import type { RowDisagreesWithQueryCache, RowMatchesCache } from "../../src/pg/query.js"
import type { CachedRows } from "../../src/querycheck/cache/types.js"
import { UserRow } from "../../src/rows/user/user.js"

type UserRowI = typeof UserRow.Encoded

describe("row types against the generated cache", () => {
  it("user.lookup is in the generated cache with driver-side types", () => {
    expectTypeOf<CachedRows["user.lookup"]["locked_at"]>().toEqualTypeOf<Date | null>()
    expectTypeOf<CachedRows["user.lookup"]["user_id"]>().toEqualTypeOf<string>()
    expect(Object.keys(UserRow.fields)).toContain("locked_at")
  })

  it("the real row schema fits; unknown names and empty rows are unconstrained", () => {
    expectTypeOf<RowMatchesCache<"user.lookup", UserRowI>>().toEqualTypeOf<unknown>()
    expectTypeOf<RowMatchesCache<"not.prepared.yet", { readonly x: number }>>().toEqualTypeOf<unknown>()
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the empty row schema's encoded type is {}
    expectTypeOf<RowMatchesCache<"user.lookup", {}>>().toEqualTypeOf<unknown>()
    // a nullable field over a NOT NULL column is allowed (a warning in the offline check)
    expectTypeOf<
      RowMatchesCache<"user.lookup", UserRowI & { readonly username: string | null }>
    >().toEqualTypeOf<unknown>()
    expect(true).toBe(true)
  })

  it("a non-nullable field over a nullable column, a wrong type, a missing field are errors naming the fields", () => {
    const Bad = Schema.Struct({ ...UserRow.fields, locked_at: Schema.DateFromSelf })
    expectTypeOf<RowMatchesCache<"user.lookup", typeof Bad.Encoded>>().toEqualTypeOf<
      RowDisagreesWithQueryCache<"user.lookup", "locked_at">
    >()
    type WrongType = Omit<UserRowI, "is_guest"> & { readonly is_guest: string }
    expectTypeOf<RowMatchesCache<"user.lookup", WrongType>>().toEqualTypeOf<
      RowDisagreesWithQueryCache<"user.lookup", "is_guest">
    >()
    type Missing = Omit<UserRowI, "is_guest">
    expectTypeOf<RowMatchesCache<"user.lookup", Missing>>().toEqualTypeOf<
      RowDisagreesWithQueryCache<"user.lookup", "is_guest">
    >()
    expect(Bad.fields.locked_at).toBe(Schema.DateFromSelf)
  })
})
