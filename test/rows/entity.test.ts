// storedEntity builds the entity the constructor builds (equal, same class, same keys, valid), and is the constructor itself for a class with defaults.
import { describe, expect, it } from "@effect/vitest"
import { Equal, Option, Schema } from "effect"
import { ulidAt } from "../../src/model/Ulid.js"
import { User } from "../../src/model/user.js"
import { storedEntity } from "../../src/rows/common.js"

const props = {
  id: ulidAt(1_700_000_000_000, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
  username: "alice",
  createdAt: new Date(1_700_000_000_000),
  lockedAt: Option.none(),
  deactivatedAt: Option.some(new Date(1_700_000_000_001)),
  canRequestAdmin: true,
  isGuest: false
}

describe("storedEntity", () => {
  it("builds what `new Entity(props, true)` builds", () => {
    const built = storedEntity(User)(props)
    const constructed = new User(props, true)
    expect(built).toBeInstanceOf(User)
    expect(Equal.equals(built, constructed)).toBe(true)
    expect(Object.keys(built)).toEqual(Object.keys(constructed))
    expect(built).toEqual(constructed)
    expect(Schema.is(User)(built)).toBe(true)
    expect(built.sub).toBe(props.id)
    expect(Equal.equals(built, storedEntity(User)({ ...props, username: "bob" }))).toBe(false)
  })

  it("is the constructor for a class with a constructor default (a tagged class's _tag)", () => {
    class Tagged extends Schema.TaggedClass<Tagged>()("Tagged", { n: Schema.Number }) {}
    const built = storedEntity(Tagged)({ n: 1 })
    expect(built._tag).toBe("Tagged")
    expect(Equal.equals(built, new Tagged({ n: 1 }))).toBe(true)
  })
})
