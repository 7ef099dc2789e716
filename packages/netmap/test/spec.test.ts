import {
  NetmapError,
  NR_EXCLUSIVE,
  NR_REG_ALL_NIC,
  NR_REG_NIC_SW,
  NR_REG_ONE_NIC,
  NR_REG_ONE_SW,
  NR_REG_SW,
  NR_RX_RINGS_ONLY,
  NR_TX_RINGS_ONLY,
  parseSpec,
} from '@x/netmap'
import { describe, expect, it } from 'vitest'

describe('port-spec parser (reference §3.1 table)', () => {
  const rows: [string, string, number, number, Partial<Record<string, unknown>>][] = [
    ['netmap:eth0', 'eth0', NR_REG_ALL_NIC, 0, {}],
    ['netmap:eth0^', 'eth0', NR_REG_SW, 0, {}],
    ['netmap:eth0^1', 'eth0', NR_REG_ONE_SW, 1, {}],
    ['netmap:eth0*', 'eth0', NR_REG_NIC_SW, 0, {}],
    ['netmap:eth0-2', 'eth0', NR_REG_ONE_NIC, 2, {}],
    ['netmap:eth0/R', 'eth0', NR_REG_ALL_NIC, 0, { flags: NR_RX_RINGS_ONLY }],
    ['netmap:eth0@3', 'eth0', NR_REG_ALL_NIC, 0, { memId: 3 }],
    ['netmap:foo{bar', 'foo{bar', NR_REG_ALL_NIC, 0, { pipe: { parent: 'foo', id: 'bar', role: 'master' } }],
    ['netmap:foo}bar', 'foo}bar', NR_REG_ALL_NIC, 0, { pipe: { parent: 'foo', id: 'bar', role: 'slave' } }],
    ['netmap:foo{bar-2', 'foo{bar', NR_REG_ONE_NIC, 2, { pipe: { parent: 'foo', id: 'bar', role: 'master' } }],
    ['vale0:p1', 'vale0:p1', NR_REG_ALL_NIC, 0, { subsystem: 'vale' }],
    ['vale:p1', 'vale:p1', NR_REG_ALL_NIC, 0, { subsystem: 'vale' }],
    [
      'vale0:p1@conf:rings=2,slots=256',
      'vale0:p1',
      NR_REG_ALL_NIC,
      0,
      { options: { conf: { rings: '2', slots: '256' } } },
    ],
  ]
  for (const [spec, name, mode, ringid, extra] of rows) {
    it(`accepts ${spec}`, () => {
      const p = parseSpec(spec)
      expect(p.name).toBe(name)
      expect(p.mode).toBe(mode)
      expect(p.ringid).toBe(ringid)
      expect(p).toMatchObject(extra)
    })
  }

  const rejected: [string, string][] = [
    ['netmap:pipe{myipc}', 'invalid pipe name'],
    ['pipe{x', 'prefix unknown or missing'],
    ['eth0', 'prefix unknown or missing'],
    ['netmap:foo{', 'invalid empty pipe name'],
    ['netmap:foo}', 'invalid empty pipe name'],
    [`netmap:${'a'.repeat(64)}`, 'name too long'],
    ['netmap:eth0@conf=4', "option 'conf' has no default key"],
    ['netmap:eth0@conf:bogus=1', "option 'conf': unknown key 'bogus'"],
    ['netmap:eth0@nope', "unknown option: 'nope'"],
    ['netmap:eth0/q', "unrecognized flag: 'q'"],
    ['netmap:eth0-', 'invalid ring id'],
    ['netmap:eth0-4095', 'invalid ring id'],
    ['netmap:eth0@0', 'invalid memory id'],
    ['netmap:foo{bar^', 'invalid mode for a pipe'],
    ['netmap:{bar', 'invalid empty port name'],
  ]
  for (const [spec, reason] of rejected) {
    it(`rejects ${spec.length > 30 ? `${spec.slice(0, 30)}…` : spec}: ${reason}`, () => {
      let err: unknown
      try {
        parseSpec(spec)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(NetmapError)
      expect((err as NetmapError).kind).toBe('BadSpec')
      expect((err as NetmapError).reason).toBe(reason)
      expect((err as NetmapError).message).toBe(`invalid port spec '${spec}': ${reason}`)
    })
  }

  it('turns - into _ in option keys', () => {
    expect(parseSpec('netmap:eth0@conf:host-rings=2,tx-slots=512').options.conf).toEqual({
      host_rings: '2',
      tx_slots: '512',
    })
  })

  it('accepts 63-byte names', () => {
    expect(parseSpec(`netmap:${'a'.repeat(63)}`).name.length).toBe(63)
  })

  it('maps the documented alias pipe{x} to netmap:pipe{x, and pipe}x} to the slave', () => {
    expect(parseSpec('pipe{myipc}')).toMatchObject({ name: 'pipe{myipc', pipe: { role: 'master', id: 'myipc' } })
    expect(parseSpec('pipe}myipc}')).toMatchObject({ name: 'pipe}myipc', pipe: { role: 'slave', id: 'myipc' } })
  })

  it('combines mode, mem id, flags and options; never ORs a mode', () => {
    const p = parseSpec('netmap:eth0-3@2/xT@conf:rings=4')
    expect(p).toMatchObject({ mode: NR_REG_ONE_NIC, ringid: 3, memId: 2, flags: NR_EXCLUSIVE | NR_TX_RINGS_ONLY })
    expect(p.options.conf).toEqual({ rings: '4' })
    // upstream bug 6: eth0-2 is ONE_NIC 4, not PIPE_MASTER 5
    expect(parseSpec('netmap:eth0-2').mode).toBe(4)
  })

  it('takes the last { (or last }) as the pipe separator', () => {
    expect(() => parseSpec('netmap:a}b{c')).toThrow('invalid port name') // parent 'a}b' is not an identifier
    expect(parseSpec('netmap:a{b').pipe).toEqual({ parent: 'a', id: 'b', role: 'master' })
  })
})
