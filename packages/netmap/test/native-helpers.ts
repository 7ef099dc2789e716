export { NetmapBuilder, NetmapError, probeNative } from '@x/netmap'

let n = 0
export function uniqSpec(sep: '{' | '}'): string {
  return `netmap:nt${process.pid}x${n++}${sep}1`
}
