// The only file that loads the addon: build/Release in a workspace checkout, else prebuilds/ (node-gyp-build).
// Its untyped exports are narrowed here, once, to the interface below.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export type View = ArrayBufferView | ArrayBuffer
export type FdList = Int32Array | null

export interface NativeFdWatcher {
  start(events: number): number
  stop(): number
  close(): void
  ref(): void
  unref(): void
}

export interface NativeDatagramReceiver {
  start(): number
  stop(): number
  close(): void
  ref(): void
  unref(): void
}

export interface Binding {
  constants: Record<string, number>
  noop(): void
  // fds
  close(fd: number): void
  read(fd: number, view: View, offset: number, length: number): number
  write(fd: number, view: View, offset: number, length: number): number
  fcntl(fd: number, cmd: number, arg?: number): number
  pipe2(flags: number): [number, number]
  memfd_create(name: string, flags: number): number
  eventfd(initval: number, flags: number): number
  eventfd_read(fd: number): number
  eventfd_write(fd: number, value: number): number
  ioctl(fd: number, request: number, view: View | null, offset: number, length: number, name?: string): number
  ioctl_int(fd: number, request: number, value: number, name?: string): number
  // mmap
  mmap(fd: number, length: number, prot: number, flags: number, offset: number, addr?: number | bigint): ArrayBuffer
  munmap(buffer: ArrayBuffer): boolean
  mapping_address(buffer: ArrayBuffer): bigint
  msync(buffer: ArrayBuffer, flags: number): void
  // sockets
  socket(domain: number, type: number, protocol: number): number
  socketpair(domain: number, type: number, protocol: number): [number, number]
  bind(fd: number, addr: View, offset: number, length: number): void
  connect(fd: number, addr: View, offset: number, length: number): number
  listen(fd: number, backlog: number): void
  accept4(fd: number, flags: number): number
  shutdown(fd: number, how: number): void
  getsockname(fd: number, out: View, offset: number, length: number): number
  getpeername(fd: number, out: View, offset: number, length: number): number
  setsockopt_int(fd: number, level: number, name: number, value: number): void
  setsockopt(fd: number, level: number, name: number, view: View, offset: number, length: number): void
  getsockopt_int(fd: number, level: number, name: number): number
  getsockopt(fd: number, level: number, name: number, out: View, offset: number, length: number): number
  send(fd: number, view: View, offset: number, length: number, flags: number): number
  recv(fd: number, view: View, offset: number, length: number, flags: number): number
  sendmsg(fd: number, view: View, offset: number, length: number, fds: FdList, flags: number, addr: View | null): number
  recvmsg(
    fd: number,
    view: View,
    offset: number,
    length: number,
    fdsOut: FdList,
    flags: number,
    out: Int32Array,
    addrOut: View | null,
  ): number
  if_nametoindex(name: string): number
  if_indextoname(index: number): string
  FdWatcher: new (fd: number, callback: (status: number, events: number) => void) => NativeFdWatcher
  // bpf(2) (bpf.cc)
  bpf_map_create(
    type: number,
    keySize: number,
    valueSize: number,
    maxEntries: number,
    flags: number,
    name?: string,
  ): number
  bpf_map_update_elem(fd: number, key: View, value: View, flags: number): void
  bpf_map_lookup_elem(fd: number, key: View, valueOut: View): boolean
  bpf_map_delete_elem(fd: number, key: View): boolean
  bpf_prog_load(
    type: number,
    insns: View,
    license: string,
    name: string | undefined,
    expectedAttachType: number,
  ): number
  bpf_link_create(progFd: number, targetIfindex: number, attachType: number, flags: number): number
  // name service (nss.cc)
  getpwuid(uid: number): NativePasswd | null
  getpwnam(name: string): NativePasswd | null
  getgrnam(name: string): NativeGroup | null
  getgrgid(gid: number): NativeGroup | null
  getgrouplist(name: string, gid: number): number[]
  // batched datagram receive (mmsg.cc)
  recvmmsg(
    fd: number,
    view: View,
    offset: number,
    length: number,
    slotSize: number,
    meta: Int32Array,
    names: View | null,
    nameSize: number,
    flags: number,
    time?: BigInt64Array | null,
  ): number
  DatagramReceiver: new (
    fd: number,
    view: View,
    offset: number,
    length: number,
    slotSize: number,
    meta: Int32Array,
    names: View | null,
    nameSize: number,
    callback: (n: number) => void,
    time?: BigInt64Array | null,
  ) => NativeDatagramReceiver
  // msgarena.cc: [recv, send] over one ArrayBuffer validated once; each takes (fd, offset, length, flags)
  msgarena(
    ab: ArrayBuffer,
    fdsOffset: number,
    maxFds: number,
    infoOffset: number,
  ): [
    (fd: number, offset: number, length: number, flags: number) => number,
    (fd: number, offset: number, length: number, flags: number) => number,
  ]
  // sendmmsg.cc
  sendmmsg(
    fd: number,
    view: View,
    offset: number,
    length: number,
    lens: Int32Array,
    count: number,
    fds: Int32Array | null,
    fdCounts: Int32Array | null,
    flags: number,
  ): number
}

export interface NativePasswd {
  name: string
  uid: number
  gid: number
  gecos: string
  dir: string
  shell: string
}

export interface NativeGroup {
  name: string
  gid: number
  members: string[]
}

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const load = require('node-gyp-build') as (dir: string) => unknown

export const binding = load(process.env.X_NATIVE_PREBUILD ?? root) as Binding
export const constants: Readonly<Record<string, number>> = Object.freeze({ ...binding.constants })

/** A constant exported by the addon (a kernel number); throws if the build does not have it. */
export function K(name: string): number {
  const v = constants[name]
  if (v === undefined) throw new Error(`@x/native: constant ${name} is not in this build`)
  return v
}
