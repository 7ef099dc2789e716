import { describe, expect, it } from 'vitest'
import { NetmapBuilder, NetmapError, probeNative, uniqSpec } from './native-helpers.js'

const probe = probeNative()

describe('native backend probe', () => {
  it(`reports why native netmap is ${probe.ok ? 'usable' : 'unusable'}: ${probe.reason}`, () => {
    expect(typeof probe.reason).toBe('string')
  })

  it.skipIf(probe.ok)('the native backend without the module is UnsupportedPlatform naming the module', () => {
    let err: unknown
    try {
      new NetmapBuilder('netmap:eth0').backend('native').build() // fails before any interface is touched
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(NetmapError)
    expect((err as NetmapError).kind).toBe('UnsupportedPlatform')
    expect((err as NetmapError).message).toMatch(/netmap kernel module/)
    expect(() => new NetmapBuilder('vale0:p1').build()).toThrow(/netmap kernel module/)
    expect(() => new NetmapBuilder(uniqSpec('{')).backend('native').build()).toThrow(/netmap kernel module/)
  })
})

describe.skipIf(!probe.ok)(`native netmap live (${probe.reason})`, () => {
  it('ping_pong over a kernel pipe', () => {
    const name = uniqSpec('{')
    const a = new NetmapBuilder(name).backend('native').build()
    const b = new NetmapBuilder(name.replace('{', '}')).backend('native').build()
    try {
      const tx = a.txRing(0)
      expect(tx.send(new TextEncoder().encode('hello world'))).toBe(true)
      tx.sync()
      const rx = b.rxRing(0)
      rx.sync()
      expect(new TextDecoder().decode(rx.recv()!.payload())).toBe('hello world')
    } finally {
      a.close()
      b.close()
    }
  })
})
