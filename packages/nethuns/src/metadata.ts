// Per-backend packet metadata (nethuns-rs `Meta` types, camelCase), read from one record of a batch's `meta`
// array. `backend` discriminates the union (nethuns-rs `MetadataType` / `into_enum()`).
import { N } from './binding.js'

const CAPLEN = N('M_CAPLEN')
const LEN = N('M_LEN')
const SEC = N('M_SEC')
const NSEC = N('M_NSEC')
const RXHASH = N('M_RXHASH')
const TCI = N('M_VLAN_TCI')
const TPID = N('M_VLAN_TPID')
const INFO = N('M_INFO')
const VLAN = N('INFO_VLAN')
const VLAN_TPID = N('INFO_VLAN_TPID')
const TRUNCATED = N('INFO_TRUNCATED')
/** Set by the JS filter contract (< 0): the packet's header is delivered, its bytes are not. */
export const INFO_VIRTUAL = 1 << 16

/** af_packet (TPACKET_V3 header). */
export interface AfPacketMeta {
  readonly backend: 'af_packet'
  readonly sec: number
  readonly nsec: number
  /** Length on the wire. */
  readonly len: number
  /** Bytes captured (≤ the Context's buffer size). */
  readonly snaplen: number
  readonly rxhash: number
  /** VLAN tag, when `vlanValid`. */
  readonly vlanTci: number
  readonly vlanTpid: number
  readonly vlanValid: boolean
  /** sll_pkttype: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing. */
  readonly pkttype: number
  readonly truncated: boolean
  /** A header-only packet (a filter returned < 0): the payload is empty. */
  readonly virtual: boolean
}

/** pcap (nethuns-rs `pcap::Meta`: timestamp as a timeval, len, caplen). */
export interface PcapMeta {
  readonly backend: 'pcap'
  readonly timestamp: { readonly sec: number; readonly usec: number }
  /** Nanoseconds of the timestamp, when the source has them (pcapng, nanosecond pcap), else usec * 1000. */
  readonly nsec: number
  readonly len: number
  readonly caplen: number
  readonly truncated: boolean
  readonly virtual: boolean
}

/** af_xdp: the length, and a software timestamp (CLOCK_REALTIME_COARSE) when `timestamp` is set in the flags. */
export interface AfXdpMeta {
  readonly backend: 'af_xdp'
  readonly len: number
  readonly timestamp: { readonly sec: number; readonly nsec: number } | null
  readonly truncated: boolean
  readonly virtual: boolean
}

/**
 * netmap: the length, and the ring the packet came from (nethuns-rs's netmap `Meta` is empty; netmap slots carry no
 * timestamp).
 */
export interface NetmapMeta {
  readonly backend: 'netmap'
  /** Length on the ring (all fragments of a NS_MOREFRAG chain). */
  readonly len: number
  /** Bytes stored in the Context buffer (≤ bufferSize). */
  readonly caplen: number
  /** Index of the RX ring (NETMAP_RXRING) it was read from. */
  readonly ring: number
  readonly truncated: boolean
  readonly virtual: boolean
}

export type Metadata = AfPacketMeta | PcapMeta | AfXdpMeta | NetmapMeta
/** nethuns-rs `MetadataType`: the union, discriminated by `backend`. */
export type MetadataType = Metadata

export type MetaReader<M extends Metadata> = (meta: Uint32Array, base: number) => M

export const readAfPacketMeta: MetaReader<AfPacketMeta> = (m, b) => {
  const info = m[b + INFO]
  return {
    backend: 'af_packet',
    sec: m[b + SEC],
    nsec: m[b + NSEC],
    len: m[b + LEN],
    snaplen: m[b + CAPLEN],
    rxhash: m[b + RXHASH],
    vlanTci: m[b + TCI],
    vlanTpid: info & VLAN_TPID ? m[b + TPID] : info & VLAN ? 0x8100 : 0,
    vlanValid: (info & VLAN) !== 0,
    pkttype: info & 0xff,
    truncated: (info & TRUNCATED) !== 0,
    virtual: (info & INFO_VIRTUAL) !== 0,
  }
}

export const readPcapMeta: MetaReader<PcapMeta> = (m, b) => {
  const nsec = m[b + NSEC]
  return {
    backend: 'pcap',
    timestamp: { sec: m[b + SEC], usec: Math.floor(nsec / 1000) },
    nsec,
    len: m[b + LEN],
    caplen: m[b + CAPLEN],
    truncated: (m[b + INFO] & TRUNCATED) !== 0,
    virtual: (m[b + INFO] & INFO_VIRTUAL) !== 0,
  }
}

export const readAfXdpMeta: MetaReader<AfXdpMeta> = (m, b) => {
  const sec = m[b + SEC]
  const nsec = m[b + NSEC]
  return {
    backend: 'af_xdp',
    len: m[b + LEN],
    timestamp: sec === 0 && nsec === 0 ? null : { sec, nsec },
    truncated: (m[b + INFO] & TRUNCATED) !== 0,
    virtual: (m[b + INFO] & INFO_VIRTUAL) !== 0,
  }
}

/** netmap records keep the ring index in the M_RXHASH word. */
export const M_RING = RXHASH

export const readNetmapMeta: MetaReader<NetmapMeta> = (m, b) => ({
  backend: 'netmap',
  len: m[b + LEN],
  caplen: m[b + CAPLEN],
  ring: m[b + RXHASH],
  truncated: (m[b + INFO] & TRUNCATED) !== 0,
  virtual: (m[b + INFO] & INFO_VIRTUAL) !== 0,
})
