// Ping timestamps: nanoseconds since the Unix epoch (as the Rust plugin writes them), from the monotonic clock
// anchored to the wall clock once, and strictly increasing across the process so that concurrent measureRtt
// calls are each matched by their own timestamp.

const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
let last = 0n

/** The next ping timestamp (u64 ns since the epoch), greater than every one handed out before. */
export function nextTimestamp(now: bigint = process.hrtime.bigint()): bigint {
  let ts = now + anchor
  if (ts <= last) ts = last + 1n
  last = ts
  return ts
}
