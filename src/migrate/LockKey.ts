// The advisory-lock key sqlx and MAS derive from the database name, so all three tools exclude each other.

// node:zlib.crc32 only exists from Node 22, and we support Node 20: a table-driven CRC-32 of our own.
const CRC32_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** zlib's CRC-32 (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF). */
export const crc32 = (bytes: Uint8Array): number => {
  let crc = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crc = CRC32_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const SQLX_LOCK_ID = 0x3d32ad9en

/** `0x3d32ad9e × crc32(name)` as a signed 64-bit integer, exactly as sqlx computes it for Postgres. */
export const migrationLockKey = (databaseName: string): bigint =>
  BigInt.asIntN(64, SQLX_LOCK_ID * BigInt(crc32(new TextEncoder().encode(databaseName))))
