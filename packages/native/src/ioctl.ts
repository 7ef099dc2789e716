// ioctl(2) with a numeric request and a buffer (or an integer by value), and the kernel's _IOC encoders.
import { binding } from './binding.js'
import { type FdLike, fdOf } from './fd.js'

const IOC_NRBITS = 8
const IOC_TYPEBITS = 8
const IOC_SIZEBITS = 14
const IOC_NRSHIFT = 0
const IOC_TYPESHIFT = IOC_NRSHIFT + IOC_NRBITS
const IOC_SIZESHIFT = IOC_TYPESHIFT + IOC_TYPEBITS
const IOC_DIRSHIFT = IOC_SIZESHIFT + IOC_SIZEBITS
export const IOC_NONE = 0
export const IOC_WRITE = 1
export const IOC_READ = 2

/** _IOC(dir, type, nr, size) as the generic asm-generic/ioctl.h computes it (x86-64, arm64, riscv64). */
export function IOC(dir: number, type: number, nr: number, size: number): number {
  return ((dir << IOC_DIRSHIFT) | (type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | (size << IOC_SIZESHIFT)) >>> 0
}
export const IO = (type: number, nr: number): number => IOC(IOC_NONE, type, nr, 0)
export const IOR = (type: number, nr: number, size: number): number => IOC(IOC_READ, type, nr, size)
export const IOW = (type: number, nr: number, size: number): number => IOC(IOC_WRITE, type, nr, size)
export const IOWR = (type: number, nr: number, size: number): number => IOC(IOC_READ | IOC_WRITE, type, nr, size)

/**
 * ioctl(fd, request, arg) where arg points at buf (or is NULL). Returns the ioctl's non-negative result;
 * throws { code, errno, syscall: `ioctl(${name})` } on failure.
 */
export function ioctl(fd: FdLike, request: number, buf: ArrayBufferView | null = null, name?: string): number {
  if (buf === null) return binding.ioctl(fdOf(fd), request >>> 0, null, 0, 0, name)
  return binding.ioctl(fdOf(fd), request >>> 0, buf, 0, buf.byteLength, name)
}

/** ioctl(fd, request, value) with an integer passed by value. */
export function ioctlInt(fd: FdLike, request: number, value: number, name?: string): number {
  return binding.ioctl_int(fdOf(fd), request >>> 0, value, name)
}
