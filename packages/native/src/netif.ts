// if_nametoindex(3) / if_indextoname(3): errors are Node-style (ENODEV for an unknown name, ENXIO for an index).
import { binding } from './binding.js'

export function ifNameToIndex(name: string): number {
  return binding.if_nametoindex(name)
}

export function ifIndexToName(index: number): string {
  return binding.if_indextoname(index)
}
