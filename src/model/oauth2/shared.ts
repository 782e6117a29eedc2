// Field schemas and the transition result type that the OAuth2 entities share.
import { type Either, Schema } from "effect"
import type { InvalidTransition } from "../errors.js"
import { IpAddressFromSelf, JwsAlg, Url } from "../values.js"

export const OptionalIp = Schema.OptionFromSelf(IpAddressFromSelf)
export const OptionalUrl = Schema.OptionFromSelf(Url)
export const OptionalAlg = Schema.OptionFromSelf(JwsAlg)
export type Transition<A> = Either.Either<A, InvalidTransition>
