// The rollup-inputs handler: libcmt's mock (io-mock.c; tuler/deroll's mock.ts) as a host-side YieldHandler, so a
// guest's advance/inspect loop runs unchanged against it. Inputs come from CMT_INPUTS ("<n>:<path>,…"); outputs go to
// files named as the mock names them, relative to `dir` (default: the working directory):
//   <stem>.output-<n><ext>   <stem>.report-<n><ext>   <stem>.exception-<n><ext>   <stem>.gio-<n><ext>
//   <stem>.outputs_root_hash<ext>   (stem/ext: the current input's path split at its first '.'; initially none/.bin)
// Device semantics stay the emulator's (replies are dev 0 / cmd 0, padding applies); where the mock returns -errno to
// the guest, the session ends with that errno (the guest's yield fails with it): rx-accepted with no input ENODATA,
// rx-rejected with no input ENOSYS, GIO with no input / bad CMT_INPUTS entry EINVAL, unknown automatic reason EINVAL,
// an input over the rx size EIO. A tx-exception is stored and then ends the session (terminal, as in the emulator).
import { readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { AutomaticReason, Cmd, ManualReason } from '../constants.js'
import { Errno, errnoOf } from '../errors.js'
import { type CmioRequest, type CmioResponse, type CmioSession, CmioTerminate, type YieldHandler } from './types.js'

export interface RollupInputsOptions {
  /** CMT_INPUTS-style list (default: process.env.CMT_INPUTS). */
  inputs?: string
  /** Directory that relative input paths and every output file are resolved against (default: cwd). */
  dir?: string
  /** Where `Progress: …` and the mock's notices go (default: stderr). */
  log?: (line: string) => void
}

export interface RollupInputsState {
  /** Entries not loaded yet. */
  readonly pending: readonly string[]
  /** Files written, in order (paths as resolved). */
  readonly written: readonly string[]
  readonly stem: string
  readonly ext: string
}

export type RollupInputsHandler = YieldHandler & { readonly state: RollupInputsState }

const ENTRY = /^([^:]{1,15}):([^,]{1,127})$/

export function rollupInputs(options: RollupInputsOptions = {}): RollupInputsHandler {
  const raw = options.inputs ?? process.env.CMT_INPUTS ?? ''
  const pending = raw.length > 0 ? raw.split(',') : []
  const written: string[] = []
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`))
  const at = (p: string): string => (options.dir === undefined || isAbsolute(p) ? p : join(options.dir, p))
  let stem = 'none'
  let ext = '.bin'
  let inputSeq = 0
  let outputSeq = 0
  let reportSeq = 0
  let exceptionSeq = 0
  let gioSeq = 0

  const store = (name: string, req: CmioRequest): void => {
    const path = at(name)
    try {
      writeFileSync(path, req.data)
    } catch (e) {
      log(`failed to store "${name}". ${(e as Error).message}`)
      throw new CmioTerminate(errnoOf(e), `failed to store ${name}`)
    }
    written.push(path)
  }

  /** Loads the next input into a response, or throws CmioTerminate(errno). */
  const loadNext = (session: CmioSession, noInput: number): CmioResponse => {
    const entry = pending.shift()
    if (entry === undefined) throw new CmioTerminate(noInput, 'no more inputs (CMT_INPUTS)')
    const m = ENTRY.exec(entry)
    const type = m ? Number(m[1]) : Number.NaN
    if (!m || !/^\d+$/.test(m[1]!) || type > 0xffff) {
      throw new CmioTerminate(Errno.EINVAL, `bad CMT_INPUTS entry ${JSON.stringify(entry)}`)
    }
    const file = m[2]!
    let data: Buffer
    try {
      data = readFileSync(at(file))
    } catch (e) {
      throw new CmioTerminate(errnoOf(e), `failed to load "${file}"`)
    }
    if (data.byteLength > session.rx.byteLength) throw new CmioTerminate(Errno.EIO, `input "${file}" is too large`)
    // sscanf(" %127[^.]%15s"): the stem up to the first '.', the extension after it (both non-empty)
    const f = file.replace(/^\s+/, '')
    const dot = f.indexOf('.')
    const e = dot > 0 ? /^\S{1,15}/.exec(f.slice(dot)) : null
    if (dot <= 0 || e === null) throw new CmioTerminate(Errno.EINVAL, `failed to parse filename: "${file}"`)
    stem = f.slice(0, dot)
    ext = e[0]
    outputSeq = 0
    reportSeq = 0
    exceptionSeq = 0
    return { reason: type, data }
  }

  const handler = ((req: CmioRequest, session: CmioSession) => {
    if (req.cmd === Cmd.AUTOMATIC) {
      switch (req.reason) {
        case AutomaticReason.PROGRESS:
          log(`Progress: ${(req.length / 10).toFixed(2).padStart(6)}`)
          return
        case AutomaticReason.TX_OUTPUT:
          store(`${stem}.output-${outputSeq++}${ext}`, req)
          return
        case AutomaticReason.TX_REPORT:
          store(`${stem}.report-${reportSeq++}${ext}`, req)
          return
        default:
          throw new CmioTerminate(Errno.EINVAL, `unknown automatic yield reason ${req.reason}`)
      }
    }
    switch (req.reason) {
      case ManualReason.RX_ACCEPTED:
        if (inputSeq++ > 0) store(`${stem}.outputs_root_hash${ext}`, req)
        return loadNext(session, Errno.ENODATA)
      case ManualReason.RX_REJECTED:
        log('no revert for the mock implementation')
        return loadNext(session, Errno.ENOSYS)
      case ManualReason.TX_EXCEPTION:
        store(`${stem}.exception-${exceptionSeq++}${ext}`, req)
        throw new CmioTerminate(Errno.EIO, 'tx-exception: the machine stops')
      default:
        store(`${stem}.gio-${gioSeq++}${ext}`, req)
        return loadNext(session, Errno.EINVAL)
    }
  }) as RollupInputsHandler
  Object.defineProperty(handler, 'state', {
    get: (): RollupInputsState => ({ pending: [...pending], written: [...written], stem, ext }),
  })
  return handler
}
