// pcap live over veth in our own namespace: af_packet → pcap (with and without a BPF filter), pcap → af_packet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { havePcap } from '../src/index.js'
import { createNetns, type Netns, probeNetns } from './netns.js'
import { runPair, type Stats } from './pair.js'

const probe = probeNetns()
const ok = probe.ok && havePcap

describe.skipIf(!ok)(
  `pcap live over veth in a netns (${havePcap ? probe.reason : 'needs libpcap in the build'})`,
  () => {
    let ns: Netns
    beforeAll(() => {
      ns = createNetns()
    })
    afterAll(() => ns?.destroy())

    it('af_packet → pcap: every frame, byte for byte', async () => {
      const { rx, tx } = await runPair(
        ns,
        { backend: 'pcap', iface: 'a1', count: 1000, timeoutMs: 6000 },
        { backend: 'af_packet', iface: 'a0', count: 1000, size: 128, timeoutMs: 6000 },
      )
      expect(tx.sent).toBe(1000)
      expect(rx).toMatchObject({ ours: 1000, unique: 1000, corrupt: 0, dup: 0 })
      const st = rx.stats as Stats
      expect(st.kernelDrops).toBe(0)
      expect(st.kernelSeen).toBeGreaterThanOrEqual(1000)
    })

    it('af_packet → pcap with a BPF filter (pcap_setfilter): only what matches', async () => {
      const { rx } = await runPair(
        ns,
        {
          backend: 'pcap',
          iface: 'a1',
          count: 50,
          how: 'batch',
          timeoutMs: 6000,
          flags: { filter: 'ether proto 0x88b5 and ether[21] % 5 = 0' },
        },
        { backend: 'af_packet', iface: 'a0', count: 250, timeoutMs: 6000 },
      )
      // seq 0..249: the low byte is the seq; every fifth passes.
      expect(rx).toMatchObject({ ours: 50, unique: 50, corrupt: 0, foreign: 0, min: 0, max: 245 })
    })

    it('pcap (pcap_inject) → af_packet', async () => {
      const { rx, tx } = await runPair(
        ns,
        { backend: 'af_packet', iface: 'a1', count: 500, timeoutMs: 6000 },
        { backend: 'pcap', iface: 'a0', count: 500, size: 200, timeoutMs: 6000, flags: { promiscuous: false } },
      )
      expect((tx.stats as Stats).sent).toBe(500)
      expect(rx).toMatchObject({ ours: 500, unique: 500, corrupt: 0 })
    })
  },
)
