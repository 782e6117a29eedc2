// Pure IPv4/IPv6 parsing and canonical printing, matching how PostgreSQL prints an `inet` host address.

const parseIpv4 = (text: string): ReadonlyArray<number> | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  const out: Array<number> = []
  for (const part of parts) {
    // PostgreSQL reads each part as decimal (leading zeros allowed, never octal) and prints it without them.
    if (!/^[0-9]{1,3}$/.test(part)) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    out.push(n)
  }
  return out
}

const parseIpv6 = (text: string): ReadonlyArray<number> | undefined => {
  let head = text
  let v4Tail: ReadonlyArray<number> = []
  const lastColon = text.lastIndexOf(":")
  if (lastColon >= 0 && text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(text.slice(lastColon + 1))
    if (v4 === undefined) return undefined
    v4Tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!]
    // Keep the colon so "::1.2.3.4" leaves "::" and "1::1.2.3.4" leaves "1::".
    head = text.slice(0, lastColon + 1)
    if (head.endsWith("::")) {
      // fine: compression right before the IPv4 tail
    } else if (head.endsWith(":")) {
      head = head.slice(0, -1)
    }
  }
  const groupsWanted = 8 - v4Tail.length
  const parseGroups = (s: string): Array<number> | undefined => {
    if (s === "") return []
    const out: Array<number> = []
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const doubleColon = head.indexOf("::")
  let groups: Array<number>
  if (doubleColon >= 0) {
    if (head.indexOf("::", doubleColon + 1) >= 0) return undefined
    const left = parseGroups(head.slice(0, doubleColon))
    const right = parseGroups(head.slice(doubleColon + 2))
    if (left === undefined || right === undefined) return undefined
    const missing = groupsWanted - left.length - right.length
    if (missing < 1) return undefined
    groups = [...left, ...Array<number>(missing).fill(0), ...right]
  } else {
    const all = parseGroups(head)
    if (all === undefined || all.length !== groupsWanted) return undefined
    groups = all
  }
  return [...groups, ...v4Tail]
}

const formatIpv6 = (words: ReadonlyArray<number>): string => {
  // Longest run of at least two zero groups, the first one on a tie (BIND's inet_net_ntop, used by PostgreSQL).
  let bestBase = -1
  let bestLen = 0
  let curBase = -1
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && words[i] === 0) {
      if (curBase < 0) curBase = i
    } else if (curBase >= 0) {
      const len = i - curBase
      if (len > bestLen) {
        bestBase = curBase
        bestLen = len
      }
      curBase = -1
    }
  }
  if (bestLen < 2) bestBase = -1
  let out = ""
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":"
      continue
    }
    if (i !== 0) out += ":"
    // An IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d) address prints its tail in dotted form.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`
      return out
    }
    out += words[i]!.toString(16)
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":"
  return out
}

/** The canonical text of an IPv4 or IPv6 host address, or undefined if `text` is not one. */
export const canonicalIp = (text: string): string | undefined => {
  if (text.includes(":")) {
    const words = parseIpv6(text)
    return words === undefined ? undefined : formatIpv6(words)
  }
  const v4 = parseIpv4(text)
  return v4 === undefined ? undefined : v4.join(".")
}
