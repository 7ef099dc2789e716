// sockaddr builders and parsers. The layouts (sizes, offsets, families) come from the addon's constants;
// the bytes are built here, in TypeScript, and passed to bind/connect/sendmsg as one view.
import { K } from './binding.js'
import { XNativeError } from './errors.js'

export type Sockaddr = Uint8Array

function invalid(msg: string): XNativeError {
  return new XNativeError('ERR_INVALID_ADDRESS', msg)
}

/** AF_UNIX: a filesystem path, or an abstract name (Linux; leading NUL) with `{ abstract: name }`. */
export function sockaddrUn(path: string | { abstract: string | Uint8Array }): Sockaddr {
  const off = K('offsetof_sockaddr_un_sun_path')
  const max = K('sizeof_sockaddr_un') - off
  const abstract = typeof path !== 'string'
  const raw = abstract
    ? typeof path.abstract === 'string'
      ? Buffer.from(path.abstract, 'utf8')
      : path.abstract
    : Buffer.from(path, 'utf8')
  if (!abstract && raw.includes(0)) throw invalid('AF_UNIX path contains a NUL byte')
  if (!abstract && raw.length === 0) throw invalid('AF_UNIX path is empty')
  // path: bytes + NUL terminator; abstract: NUL + name (length given by addrlen, no terminator)
  const need = abstract ? 1 + raw.length : raw.length + 1
  if (need > max) throw invalid(`AF_UNIX path is ${raw.length} bytes; the limit is ${max - 1}`)
  const out = new Uint8Array(off + need)
  new DataView(out.buffer).setUint16(K('offsetof_sockaddr_un_sun_family'), K('AF_UNIX'), true)
  out.set(raw, off + (abstract ? 1 : 0))
  return out
}

/** 16 bytes of an IPv6 address in text form (no zone), e.g. 'fe80::1', '::ffff:10.0.0.1'. */
export function parseIPv6(text: string): Uint8Array {
  const out = new Uint8Array(16)
  let s = text
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  if (s.includes('%')) throw invalid(`IPv6 address has a zone; pass scopeId instead: ${text}`)
  let tailV4: number[] | null = null
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = parseIPv4(s.slice(lastColon + 1), text)
    tailV4 = Array.from(v4)
    s = `${s.slice(0, lastColon + 1)}0:0`
  }
  const dbl = s.indexOf('::')
  if (dbl !== s.lastIndexOf('::')) throw invalid(`bad IPv6 address: ${text}`)
  const parseGroups = (part: string): number[] => {
    if (part === '') return []
    return part.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw invalid(`bad IPv6 address: ${text}`)
      return Number.parseInt(g, 16)
    })
  }
  let groups: number[]
  if (dbl === -1) {
    groups = parseGroups(s)
    if (groups.length !== 8) throw invalid(`bad IPv6 address: ${text}`)
  } else {
    const head = parseGroups(s.slice(0, dbl))
    const tail = parseGroups(s.slice(dbl + 2))
    const fill = 8 - head.length - tail.length
    if (fill < 1) throw invalid(`bad IPv6 address: ${text}`)
    groups = [...head, ...new Array<number>(fill).fill(0), ...tail]
  }
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  })
  if (tailV4) out.set(tailV4, 12)
  return out
}

/** 4 bytes of a dotted-quad IPv4 address. */
export function parseIPv4(text: string, whole = text): Uint8Array {
  const parts = text.split('.')
  if (parts.length !== 4) throw invalid(`bad IPv4 address: ${whole}`)
  return Uint8Array.from(
    parts.map((p) => {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw invalid(`bad IPv4 address: ${whole}`)
      return Number(p)
    }),
  )
}

export function formatIPv6(b: Uint8Array): string {
  const g: number[] = []
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!)
  // longest run of zero groups (≥ 2) becomes '::'
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

export interface In6Options {
  address: string | Uint8Array
  port?: number
  /** Interface index for link-local addresses (the numeric zone of fe80::1%2). */
  scopeId?: number
  flowinfo?: number
}

/** AF_INET6 with port, flowinfo and scope id (network byte order where the kernel wants it). */
export function sockaddrIn6(o: In6Options): Sockaddr {
  const addr = typeof o.address === 'string' ? parseIPv6(o.address) : o.address
  if (addr.length !== 16) throw invalid('IPv6 address must be 16 bytes')
  const port = o.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`bad port: ${port}`)
  const out = new Uint8Array(K('sizeof_sockaddr_in6'))
  const dv = new DataView(out.buffer)
  dv.setUint16(K('offsetof_sockaddr_in6_sin6_family'), K('AF_INET6'), true)
  dv.setUint16(K('offsetof_sockaddr_in6_sin6_port'), port, false)
  dv.setUint32(K('offsetof_sockaddr_in6_sin6_flowinfo'), o.flowinfo ?? 0, false)
  out.set(addr, K('offsetof_sockaddr_in6_sin6_addr'))
  dv.setUint32(K('offsetof_sockaddr_in6_sin6_scope_id'), o.scopeId ?? 0, true)
  return out
}

/** AF_INET. */
export function sockaddrIn(o: { address: string | Uint8Array; port?: number }): Sockaddr {
  const addr = typeof o.address === 'string' ? parseIPv4(o.address) : o.address
  const port = o.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`bad port: ${port}`)
  const out = new Uint8Array(K('sizeof_sockaddr_in'))
  const dv = new DataView(out.buffer)
  dv.setUint16(K('offsetof_sockaddr_in_sin_family'), K('AF_INET'), true)
  dv.setUint16(K('offsetof_sockaddr_in_sin_port'), port, false)
  out.set(addr, K('offsetof_sockaddr_in_sin_addr'))
  return out
}

export interface LlOptions {
  ifindex: number
  /** EtherType in host order (ETH_P_ALL by default); stored big-endian as the kernel expects. */
  protocol?: number
  hatype?: number
  pkttype?: number
  /** Hardware address (up to 8 bytes) for sendto. */
  addr?: Uint8Array
}

/** AF_PACKET sockaddr_ll. */
export function sockaddrLl(o: LlOptions): Sockaddr {
  const out = new Uint8Array(K('sizeof_sockaddr_ll'))
  const dv = new DataView(out.buffer)
  dv.setUint16(K('offsetof_sockaddr_ll_sll_family'), K('AF_PACKET'), true)
  dv.setUint16(K('offsetof_sockaddr_ll_sll_protocol'), o.protocol ?? K('ETH_P_ALL'), false)
  dv.setInt32(K('offsetof_sockaddr_ll_sll_ifindex'), o.ifindex, true)
  dv.setUint16(K('offsetof_sockaddr_ll_sll_hatype'), o.hatype ?? 0, true)
  out[K('offsetof_sockaddr_ll_sll_pkttype')] = o.pkttype ?? 0
  if (o.addr) {
    if (o.addr.length > 8) throw invalid('sll_addr holds at most 8 bytes')
    out[K('offsetof_sockaddr_ll_sll_halen')] = o.addr.length
    out.set(o.addr, K('offsetof_sockaddr_ll_sll_addr'))
  }
  return out
}

export interface XdpOptions {
  ifindex: number
  queueId?: number
  /** XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP, XDP_SHARED_UMEM. */
  flags?: number
  sharedUmemFd?: number
}

/** AF_XDP sockaddr_xdp. */
export function sockaddrXdp(o: XdpOptions): Sockaddr {
  const out = new Uint8Array(K('sizeof_sockaddr_xdp'))
  const dv = new DataView(out.buffer)
  dv.setUint16(K('offsetof_sockaddr_xdp_sxdp_family'), K('AF_XDP'), true)
  dv.setUint16(K('offsetof_sockaddr_xdp_sxdp_flags'), o.flags ?? 0, true)
  dv.setUint32(K('offsetof_sockaddr_xdp_sxdp_ifindex'), o.ifindex, true)
  dv.setUint32(K('offsetof_sockaddr_xdp_sxdp_queue_id'), o.queueId ?? 0, true)
  dv.setUint32(K('offsetof_sockaddr_xdp_sxdp_shared_umem_fd'), o.sharedUmemFd ?? 0, true)
  return out
}

export type ParsedSockaddr =
  | { family: 'unix'; path: string; abstract: boolean }
  | { family: 'inet'; address: string; port: number }
  | { family: 'inet6'; address: string; port: number; flowinfo: number; scopeId: number }
  | { family: 'packet'; protocol: number; ifindex: number; hatype: number; pkttype: number; addr: Uint8Array }
  | { family: number; bytes: Uint8Array }

/** Decodes sockaddr bytes (as getsockname/getpeername/recvmsg return them). */
export function parseSockaddr(b: Uint8Array): ParsedSockaddr {
  if (b.length < 2) return { family: 0, bytes: b }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const family = dv.getUint16(0, true)
  if (family === K('AF_UNIX')) {
    const off = K('offsetof_sockaddr_un_sun_path')
    const rest = b.subarray(off)
    if (rest.length === 0) return { family: 'unix', path: '', abstract: false }
    if (rest[0] === 0) return { family: 'unix', path: Buffer.from(rest.subarray(1)).toString('utf8'), abstract: true }
    const nul = rest.indexOf(0)
    return {
      family: 'unix',
      path: Buffer.from(nul < 0 ? rest : rest.subarray(0, nul)).toString('utf8'),
      abstract: false,
    }
  }
  if (family === K('AF_INET6') && b.length >= K('sizeof_sockaddr_in6')) {
    const a = K('offsetof_sockaddr_in6_sin6_addr')
    return {
      family: 'inet6',
      address: formatIPv6(b.subarray(a, a + 16)),
      port: dv.getUint16(K('offsetof_sockaddr_in6_sin6_port'), false),
      flowinfo: dv.getUint32(K('offsetof_sockaddr_in6_sin6_flowinfo'), false),
      scopeId: dv.getUint32(K('offsetof_sockaddr_in6_sin6_scope_id'), true),
    }
  }
  if (family === K('AF_INET') && b.length >= 8) {
    const a = K('offsetof_sockaddr_in_sin_addr')
    return { family: 'inet', address: Array.from(b.subarray(a, a + 4)).join('.'), port: dv.getUint16(2, false) }
  }
  if (family === K('AF_PACKET') && b.length >= 12) {
    const halen = b[K('offsetof_sockaddr_ll_sll_halen')]!
    const ao = K('offsetof_sockaddr_ll_sll_addr')
    return {
      family: 'packet',
      protocol: dv.getUint16(K('offsetof_sockaddr_ll_sll_protocol'), false),
      ifindex: dv.getInt32(K('offsetof_sockaddr_ll_sll_ifindex'), true),
      hatype: dv.getUint16(K('offsetof_sockaddr_ll_sll_hatype'), true),
      pkttype: b[K('offsetof_sockaddr_ll_sll_pkttype')]!,
      addr: b.slice(ao, ao + Math.min(halen, 8)),
    }
  }
  return { family, bytes: b }
}
