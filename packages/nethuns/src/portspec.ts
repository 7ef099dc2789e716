// Portspecs, as in nethuns: "eth0"; "file:x.pcap", "*.pcap", "*.pcapng"; "netmap:eth0", "netmap:p{1", "vale0:1";
// "0000:01:00.0", "dpdk:…", "net_…" (DPDK vdevs). Parsing only: each backend says which kinds it accepts (the
// netmap backend parses its own with @x/netmap's parser).
import { NethunsError } from './errors.js'

export type Portspec =
  | { readonly kind: 'interface'; readonly spec: string; readonly name: string }
  | { readonly kind: 'file'; readonly spec: string; readonly path: string }
  | { readonly kind: 'netmap'; readonly spec: string; readonly name: string }
  | { readonly kind: 'dpdk'; readonly spec: string; readonly device: string }

const PCI = /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i
// Linux interface names: 1..15 bytes (IFNAMSIZ - 1), no '/', no whitespace, not '.' or '..'.
const IFNAME = /^[^\s/:]{1,15}$/

function bad(spec: string, why: string): NethunsError {
  return new NethunsError('ERR_NETHUNS_PORTSPEC', `bad portspec '${spec}': ${why}`, { portspec: spec })
}

export function parsePortspec(spec: unknown): Portspec {
  if (typeof spec !== 'string') throw bad(String(spec), 'must be a string')
  if (spec.length === 0) throw bad(spec, 'empty')
  if (spec.startsWith('file:')) {
    const path = spec.slice(5)
    if (path.length === 0) throw bad(spec, 'file: needs a path')
    return { kind: 'file', spec, path }
  }
  if (/\.pcap(ng)?$/i.test(spec)) return { kind: 'file', spec, path: spec }
  if (spec.startsWith('netmap:')) {
    const name = spec.slice(7)
    if (name.length === 0) throw bad(spec, 'netmap: needs an interface')
    return { kind: 'netmap', spec, name }
  }
  if (/^vale[^:]*:./.test(spec)) return { kind: 'netmap', spec, name: spec }
  if (spec.startsWith('dpdk:')) {
    const device = spec.slice(5)
    if (device.length === 0) throw bad(spec, 'dpdk: needs a device')
    return { kind: 'dpdk', spec, device }
  }
  if (PCI.test(spec) || spec.startsWith('net_')) return { kind: 'dpdk', spec, device: spec }
  if (spec.includes(':')) throw bad(spec, `unknown prefix '${spec.slice(0, spec.indexOf(':'))}:'`)
  if (!IFNAME.test(spec) || spec === '.' || spec === '..') {
    throw bad(spec, 'not an interface name (1 to 15 characters, no "/" or whitespace)')
  }
  return { kind: 'interface', spec, name: spec }
}

/** The error for a netmap portspec given to another backend, or a DPDK portspec (no DPDK backend in this build). */
export function notAvailable(p: Portspec): NethunsError {
  if (p.kind === 'netmap') {
    return new NethunsError(
      'ERR_NETHUNS_PORTSPEC',
      `portspec '${p.spec}' is a netmap port: open it with the netmap backend (NetmapSocket, create('netmap', …))`,
      { portspec: p.spec },
    )
  }
  return new NethunsError(
    'ERR_NETHUNS_NOT_AVAILABLE',
    `portspec '${p.spec}' needs the DPDK backend, which is not available in this build`,
    { portspec: p.spec },
  )
}

/** The interface name of a portspec, for backends that only open interfaces. */
export function interfaceOf(spec: string, backend: string): string {
  const p = parsePortspec(spec)
  if (p.kind === 'interface') return p.name
  if (p.kind === 'netmap' || p.kind === 'dpdk') throw notAvailable(p)
  throw new NethunsError('ERR_NETHUNS_PORTSPEC', `${backend} opens interfaces, not files ('${spec}'): use pcap`, {
    portspec: spec,
  })
}
