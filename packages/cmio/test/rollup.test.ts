// The rollup-inputs handler against a guest's advance/inspect loop, checked file by file against libcmt's mock
// naming (io-mock.c, tests/gio.c: `none.gio-0.bin` and response code 42).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AutomaticReason, Cmio, CmioHost, ManualReason, RollupReason, rollupInputs } from '@x/cmio'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

let dir = ''
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xcmio-r-'))
  writeFileSync(join(dir, 'gio.bin'), 'gio-response')
  writeFileSync(join(dir, 'adv.bin'), 'advance-input')
  writeFileSync(join(dir, 'insp.bin'), 'inspect-query')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const enc = new TextEncoder()
const INPUTS = '42:gio.bin,0:adv.bin,1:insp.bin'

/** A guest's loop written against Cmio as libcmt's rollup API would drive the device. */
async function guestLoop(c: Cmio): Promise<{ seen: string[]; error?: { code?: string } }> {
  const seen: string[] = []
  const put = (s: string): number => {
    const b = enc.encode(s)
    c.tx.set(b)
    return b.byteLength
  }
  const root = (n: number): number => {
    c.tx.fill(n, 0, 32)
    return 32
  }
  try {
    // GIO before any input (tests/gio.c)
    const g = await c.manualAsync(0xfefe, put('gio-id'))
    seen.push(`gio ${g.reason} ${Buffer.from(c.rx.subarray(0, g.length))}`)
    let r = await c.manualAsync(ManualReason.RX_ACCEPTED, root(0))
    for (let i = 0; i < 3; i++) {
      const input = Buffer.from(c.rx.subarray(0, r.length)).toString()
      seen.push(`${r.reason === RollupReason.ADVANCE_STATE ? 'advance' : 'inspect'} ${input}`)
      if (r.reason === RollupReason.ADVANCE_STATE) {
        await c.automaticAsync(AutomaticReason.TX_OUTPUT, put(`notice for ${input}`))
        await c.automaticAsync(AutomaticReason.TX_REPORT, put('a report'))
        await c.automaticAsync(AutomaticReason.TX_OUTPUT, put('second output'))
        await c.automaticAsync(AutomaticReason.PROGRESS, 500)
      } else {
        await c.automaticAsync(AutomaticReason.TX_REPORT, put(`answer to ${input}`))
      }
      r = await c.manualAsync(ManualReason.RX_ACCEPTED, root(i + 1))
    }
  } catch (e) {
    return { seen, error: { code: (e as { code?: string }).code } }
  }
  return { seen }
}

function checkFiles(): void {
  const files = readdirSync(dir).sort()
  expect(files).toEqual(
    [
      'adv.bin',
      'adv.output-0.bin',
      'adv.output-1.bin',
      'adv.outputs_root_hash.bin',
      'adv.report-0.bin',
      'gio.bin',
      'insp.bin',
      'insp.outputs_root_hash.bin',
      'insp.report-0.bin',
      'none.gio-0.bin',
    ].sort(),
  )
  const f = (n: string): string => readFileSync(join(dir, n), 'utf8')
  expect(f('none.gio-0.bin')).toBe('gio-id')
  expect(f('adv.output-0.bin')).toBe('notice for advance-input')
  expect(f('adv.output-1.bin')).toBe('second output')
  expect(f('adv.report-0.bin')).toBe('a report')
  expect(f('insp.report-0.bin')).toBe('answer to inspect-query')
  // the root hash of an input is what the guest sends with the rx-accepted that finishes it
  expect(readFileSync(join(dir, 'adv.outputs_root_hash.bin'))).toEqual(Buffer.alloc(32, 1))
  expect(readFileSync(join(dir, 'insp.outputs_root_hash.bin'))).toEqual(Buffer.alloc(32, 2))
}

describe('rollup inputs (libcmt mock compatible)', () => {
  it('runs an advance/inspect loop in process and writes the mock file names', async () => {
    const log: string[] = []
    const h = rollupInputs({ inputs: INPUTS, dir, log: (l) => log.push(l) })
    using c = Cmio.open({ backend: 'inprocess', handler: h })
    const out = await guestLoop(c)
    expect(out.seen).toEqual(['gio 42 gio-response', 'advance advance-input', 'inspect inspect-query'])
    expect(out.error).toEqual({ code: 'ENODATA' }) // rx-accepted with no input left
    expect(log).toEqual(['Progress:  50.00'])
    checkFiles()
    expect(h.state.pending).toEqual([])
  })

  it('runs the same loop over the emulated device', async () => {
    const sock = join(dir, 'cmio.sock')
    using host = CmioHost.listen(sock)
    host.onYield(rollupInputs({ inputs: INPUTS, dir, log: () => {} }))
    const ended = new Promise((r) => host.once('end', (_s, e) => r(e)))
    using c = await Cmio.openAsync({ device: sock })
    const out = await guestLoop(c)
    expect(out.seen).toEqual(['gio 42 gio-response', 'advance advance-input', 'inspect inspect-query'])
    expect(out.error).toEqual({ code: 'ENODATA' })
    expect(await ended).toMatchObject({ errno: 61, byGuest: false })
    rmSync(sock, { force: true })
    checkFiles()
  })

  it('reads CMT_INPUTS and reports the mock errors', () => {
    process.env.CMT_INPUTS = '0:x'
    try {
      using a = Cmio.open({ backend: 'inprocess', handler: rollupInputs({ dir, log: () => {} }) })
      writeFileSync(join(dir, 'x'), 'no extension')
      expect(() => a.manual(1, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' })) // "failed to parse filename"
    } finally {
      delete process.env.CMT_INPUTS
    }
    using b = Cmio.open({ backend: 'inprocess', handler: rollupInputs({ inputs: '', dir, log: () => {} }) })
    expect(() => b.manual(0x99, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' })) // GIO, no input
    const log: string[] = []
    using d = Cmio.open({
      backend: 'inprocess',
      handler: rollupInputs({ inputs: '0:adv.bin', dir, log: (l) => log.push(l) }),
    })
    expect(d.manual(ManualReason.RX_REJECTED, 0)).toEqual({ reason: 0, length: 13 }) // loads the next input
    expect(log).toEqual(['no revert for the mock implementation'])
    expect(() => d.manual(ManualReason.RX_REJECTED, 0)).toThrow(expect.objectContaining({ code: 'ENOSYS' }))
    using e = Cmio.open({
      backend: 'inprocess',
      handler: rollupInputs({ inputs: '0:missing.bin', dir, log: () => {} }),
    })
    expect(() => e.manual(1, 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    using f = Cmio.open({ backend: 'inprocess', handler: rollupInputs({ inputs: '', dir, log: () => {} }) })
    f.tx.set(enc.encode('boom'))
    expect(() => f.manual(ManualReason.TX_EXCEPTION, 4)).toThrow(expect.objectContaining({ kind: 'YieldError' }))
    expect(readFileSync(join(dir, 'none.exception-0.bin'), 'utf8')).toBe('boom')
    using g = Cmio.open({ backend: 'inprocess', handler: rollupInputs({ inputs: '', dir, log: () => {} }) })
    expect(() => g.automatic(3, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }))
    expect(existsSync(join(dir, 'none.output-0.bin'))).toBe(false)
  })
})
