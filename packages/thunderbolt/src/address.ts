// Peer address strings, with the Rust plugin's rules (parse_ipv6_with_scope, lib.rs:258-280):
//   1. split at the first '%'; the left part must be an IPv6 address (no brackets, no IPv4 literal);
//   2. a zone that is a decimal u32 (a leading '+' and leading zeros allowed) is the scope id, anything else is
//      an interface name (if_nametoindex); an empty or unknown zone is InterfaceNotFound;
//   3. no zone: the transport's own interface.
// Divergence: a numeric zone is checked against the interfaces up front (InterfaceNotFound instead of a later Io).
import { formatIPv6, ifIndexToName, ifNameToIndex, parseIPv6 } from '@x/native'
import { TransportError } from './errors.js'

export interface PeerAddress {
  /** The string as given. */
  input: string
  /** The address part, normalised (`fe80::2`). */
  address: string
  bytes: Uint8Array
  /** The scope id (interface index) the datagrams and streams use; 0 = none. */
  scopeId: number
  /** The zone as written (`thunderbolt0`, `2`), or null when there was none. */
  zone: string | null
  /** fe80::/10 (or a link/interface-scoped multicast address): the scope id selects the interface. */
  linkLocal: boolean
}

export interface ZoneResolver {
  /** Interface index for a name, 0 if there is none. */
  nameToIndex(name: string): number
  /** Interface name for an index, null if there is none. */
  indexToName(index: number): string | null
}

export const systemResolver: ZoneResolver = {
  nameToIndex(name) {
    try {
      return ifNameToIndex(name)
    } catch {
      return 0
    }
  },
  indexToName(index) {
    try {
      return ifIndexToName(index)
    } catch {
      return null
    }
  },
}

const U32_MAX = 0xffff_ffff
const NUMERIC_ZONE = /^\+?[0-9]+$/

/** Parses the zone like Rust's `u32::from_str`: digits with an optional '+'; null if it is not a u32. */
export function numericZone(zone: string): number | null {
  if (!NUMERIC_ZONE.test(zone)) return null
  const v = Number(zone.startsWith('+') ? zone.slice(1) : zone)
  return Number.isSafeInteger(v) && v <= U32_MAX ? v : null
}

function needsScope(b: Uint8Array): boolean {
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return true // fe80::/10
  return b[0] === 0xff && ((b[1]! & 0x0f) === 0x01 || (b[1]! & 0x0f) === 0x02) // ff01::/16, ff02::/16
}

/**
 * Parses a peer such as `fe80::1%thunderbolt0`, `fe80::1%2`, `::1%lo` or `fe80::1` (→ `defaultScope`).
 * Throws TransportError InvalidAddress (the whole input) or InterfaceNotFound (the zone).
 */
export function parsePeer(input: string, defaultScope: number, resolver: ZoneResolver = systemResolver): PeerAddress {
  if (typeof input !== 'string') throw TransportError.invalidAddress(String(input))
  const pct = input.indexOf('%')
  const host = pct < 0 ? input : input.slice(0, pct)
  const zone = pct < 0 ? null : input.slice(pct + 1)
  if (host.length === 0 || host.includes('[') || host.includes(']') || !host.includes(':')) {
    throw TransportError.invalidAddress(input)
  }
  let bytes: Uint8Array
  try {
    bytes = parseIPv6(host)
  } catch {
    throw TransportError.invalidAddress(input)
  }
  let scopeId: number
  if (zone === null) {
    scopeId = defaultScope
  } else {
    const n = numericZone(zone)
    if (n !== null) {
      if (n !== 0 && resolver.indexToName(n) === null) throw TransportError.interfaceNotFound(zone)
      scopeId = n
    } else {
      scopeId = zone === '' ? 0 : resolver.nameToIndex(zone)
      if (scopeId === 0) throw TransportError.interfaceNotFound(zone)
    }
  }
  return { input, address: formatIPv6(bytes), bytes, scopeId, zone, linkLocal: needsScope(bytes) }
}

/** Rust's SocketAddrV6 display: `[fe80::2%3]:5000`, or `[::1]:5000` without a scope. */
export function formatSocketAddress(address: string, port: number, scopeId: number): string {
  return scopeId === 0 ? `[${address}]:${port}` : `[${address}%${scopeId}]:${port}`
}
