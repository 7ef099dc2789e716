// region.ts: builds a pipe region in memory exactly as the kernel lays out a pipe (netmap_mem2_if_new,
// netmap_pipe_reg_both), behind a backend header page. Works on an ArrayBuffer (a MAP_SHARED file) or a
// SharedArrayBuffer (worker threads).
import { NR_RX, NR_TX, RingView } from '@x/ring'
import { NetmapError } from './errors.js'
import {
  SHM_HEADER as H,
  ifOffset,
  KRING as K,
  KRING_LINE,
  kringIndex,
  NETMAP_API,
  NETMAP_IF,
  NI_PRIV_MEM,
  type NicGeometry,
  NM_IFNAMSIZ,
  nicRingSlot,
  type PipeGeometry,
  pipeBufIdx,
  pipeGeometry,
  ringOffset,
  SHM_MAGIC,
  SHM_VERSION,
  STATE_READY,
} from './layout.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function writeStr(u8: Uint8Array, off: number, s: string, max: number): void {
  const b = enc.encode(s).subarray(0, max - 1)
  u8.fill(0, off, off + max)
  u8.set(b, off)
}

export function readStr(u8: Uint8Array, off: number, max: number): string {
  const end = u8.indexOf(0, off)
  return dec.decode(u8.subarray(off, end < 0 || end > off + max ? off + max : end))
}

/** The fixed part of a netmap_if (netmap_mem2_if_new): ni_tx_rings = ni_rx_rings = n, one (maybe fake) host pair. */
function writeNetmapIf(u8: Uint8Array, nif: number, name: string, nRings: number): void {
  const dv = new DataView(u8.buffer)
  writeStr(u8, nif + NETMAP_IF.niName, name, NM_IFNAMSIZ)
  dv.setUint32(nif + NETMAP_IF.niVersion, NETMAP_API, true)
  dv.setUint32(nif + NETMAP_IF.niFlags, NI_PRIV_MEM, true)
  dv.setUint32(nif + NETMAP_IF.niTxRings, nRings, true)
  dv.setUint32(nif + NETMAP_IF.niRxRings, nRings, true)
  dv.setUint32(nif + NETMAP_IF.niBufsHead, 0, true)
  dv.setUint32(nif + NETMAP_IF.niHostTxRings, 1, true)
  dv.setUint32(nif + NETMAP_IF.niHostRxRings, 1, true)
}

/**
 * Formats ring `i` (TX or RX) at `base + off` the kernel's way (RingView.format: TX head = cur = 0, tail = n-1; RX
 * all 0), with buffer 0 at `ifTotal + ringTotal` from `base`: the layout NIC and pipe regions share.
 */
function formatRing(
  buffer: ArrayBuffer | SharedArrayBuffer,
  base: number,
  off: number,
  g: { readonly numSlots: number; readonly bufSize: number; readonly ifTotal: number; readonly ringTotal: number },
  i: number,
  tx: boolean,
  atomic: boolean,
): RingView {
  const init = { numSlots: g.numSlots, bufSize: g.bufSize, bufOfs: g.ifTotal + g.ringTotal - off, ringid: i }
  return RingView.format(buffer, base + off, { ...init, dir: tx ? NR_TX : NR_RX }, { atomic })
}

/**
 * Formats a NIC port's private region (nicGeometry): the netmap_if at offset 0 with ring_ofs set for the `bound`
 * ring_ofs positions only (0 elsewhere, as for rings the fd did not bind), and every ring the kernel's way: TX
 * head = cur = 0, tail = n-1; RX all 0; each bound ring with its own buffers (0 and 1 reserved; unbound rings own
 * none, their slots say buf_idx 0). Fake host rings (no host ring pair behind them) are left unformatted and
 * unreachable.
 */
export function formatNicRegion(buffer: ArrayBuffer, g: NicGeometry, name: string, bound: ReadonlySet<number>): void {
  const u8 = new Uint8Array(buffer)
  const dv = new DataView(buffer)
  writeNetmapIf(u8, 0, name, g.nRings)
  let ordinal = 0
  for (const tx of [true, false]) {
    for (let i = 0; i <= g.nRings; i++) {
      const host = i === g.nRings
      if (host && !g.hostRings) continue
      const k = nicRingSlot(g, tx, i)
      const off = g.ifTotal + k * g.ringSize
      const ring = formatRing(buffer, 0, off, g, i, tx, false)
      if (!bound.has(k)) continue
      if (ordinal >= g.bufRings)
        throw new RangeError(`formatNicRegion: ${bound.size} bound rings, buffers for ${g.bufRings} (nicGeometry)`)
      const first = 2 + ordinal++ * g.numSlots
      for (let s = 0; s < g.numSlots; s++) ring.setBufIdx(s, first + s)
      dv.setBigInt64(NETMAP_IF.ringOfs + 8 * k, BigInt(off), true)
    }
  }
}

/** Writes the header, every netmap_if, ring and slot into `buffer` (zeroed, `g.total` bytes); state → READY. */
export function formatPipeRegion(
  buffer: ArrayBuffer | SharedArrayBuffer,
  g: PipeGeometry,
  parent: string,
  id: string,
  creator: number,
): void {
  const u8 = new Uint8Array(buffer)
  const dv = new DataView(buffer)
  const i32 = new Int32Array(buffer, 0, g.ifOff / 4)
  const base = g.ifOff
  // netmap_if for each endpoint and selection
  for (let e = 0; e < 2; e++) {
    for (let sel = -1; sel < (g.nRings > 1 ? g.nRings : 0); sel++) {
      const nif = base + ifOffset(g, e, sel)
      writeNetmapIf(u8, nif, `${parent}${e === 0 ? '{' : '}'}${id}`, g.nRings)
      // ring_ofs: [tx0..n-1, host tx (fake, 0), rx0..n-1, host rx (fake, 0)]; 0 for every unbound ring
      for (let i = 0; i < g.nRings; i++) {
        const bound = sel < 0 || sel === i
        const tx = bound ? base + ringOffset(g, kringIndex(g, e, true, i)) - nif : 0
        const rx = bound ? base + ringOffset(g, kringIndex(g, e, false, i)) - nif : 0
        dv.setBigInt64(nif + NETMAP_IF.ringOfs + 8 * i, BigInt(tx), true)
        dv.setBigInt64(nif + NETMAP_IF.ringOfs + 8 * (g.nRings + 1 + i), BigInt(rx), true)
      }
    }
  }
  // rings: master TX i ↔ slave RX i share buffers (direction 0), slave TX i ↔ master RX i (direction 1)
  for (let e = 0; e < 2; e++) {
    for (const tx of [true, false]) {
      for (let i = 0; i < g.nRings; i++) {
        const k = kringIndex(g, e, tx, i)
        const off = ringOffset(g, k)
        const ring = formatRing(buffer, base, off, g, i, tx, true)
        const direction = tx ? e : 1 - e
        for (let s = 0; s < g.numSlots; s++) ring.setBufIdx(s, pipeBufIdx(g, direction, i, s))
        const line = (g.krings + k * KRING_LINE) / 4
        const last = g.numSlots - 1
        i32[line + K.hwcur] = 0
        i32[line + K.hwtail] = tx ? last : 0
        i32[line + K.rhead] = 0
        i32[line + K.rcur] = 0
        i32[line + K.rtail] = tx ? last : 0
        i32[line + K.pipeTail] = tx ? last : 0
      }
    }
  }
  // header last; state READY is the release store joiners wait for
  u8.set(enc.encode(SHM_MAGIC), H.magic)
  i32[H.version / 4] = SHM_VERSION
  i32[H.nRings / 4] = g.nRings
  i32[H.numSlots / 4] = g.numSlots
  i32[H.bufSize / 4] = g.bufSize
  i32[H.nBufs / 4] = g.nBufs
  i32[H.ifOff / 4] = g.ifOff
  i32[H.ifTotal / 4] = g.ifTotal
  i32[H.ringTotal / 4] = g.ringTotal
  i32[H.bufTotal / 4] = g.bufTotal
  i32[H.total / 4] = g.total
  i32[H.krings / 4] = g.krings
  i32[H.creator / 4] = creator
  writeStr(u8, H.parent, parent, 64)
  writeStr(u8, H.id, id, 64)
  Atomics.store(i32, H.state / 4, STATE_READY)
}

/** Reads and checks a region's header → its geometry. */
export function readGeometry(buffer: ArrayBuffer | SharedArrayBuffer): PipeGeometry {
  const u8 = new Uint8Array(buffer)
  if (buffer.byteLength < 4096 || dec.decode(u8.subarray(0, 8)) !== SHM_MAGIC)
    throw new NetmapError('BindFail', 'not a netmap shared-memory region (bad magic)')
  const i32 = new Int32Array(buffer, 0, 1024)
  if (i32[H.version / 4] !== SHM_VERSION)
    throw new NetmapError('BindFail', `region layout version ${i32[H.version / 4]} is not ${SHM_VERSION}`)
  const g = pipeGeometry(i32[H.nRings / 4]!, i32[H.numSlots / 4]!, i32[H.bufSize / 4]!)
  if (g.total !== i32[H.total / 4] || g.total > buffer.byteLength)
    throw new NetmapError('BindFail', 'region size does not match its header')
  return g
}
