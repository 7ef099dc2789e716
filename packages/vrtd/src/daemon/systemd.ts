// The two systemd conventions the daemon speaks: socket activation (LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES, fds
// from 3; vrtd.socket names its socket "api") and sd_notify (READY=1, WATCHDOG=1 to $NOTIFY_SOCKET).
import { getsockoptInt, K, OwnedFd, sendMsg, sockaddrUn, socket } from '@x/native'

const SD_LISTEN_FDS_START = 3

export interface ActivationFd {
  fd: OwnedFd
  name: string
}

/**
 * The listening socket systemd passed, or null when this process was not socket-activated. Picks the fd named
 * `api` (else the first), checks it is an AF_UNIX SOCK_SEQPACKET socket, closes the others and clears the
 * LISTEN_* variables so children do not inherit them.
 */
export function activationSocket(env: NodeJS.ProcessEnv = process.env, pid = process.pid): ActivationFd | null {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return null
  const n = Number(env.LISTEN_FDS ?? '0')
  if (!Number.isInteger(n) || n <= 0) return null
  const names = (env.LISTEN_FDNAMES ?? '').split(':')
  let pick = names.indexOf('api')
  if (pick < 0 || pick >= n) pick = 0
  const fds = Array.from({ length: n }, (_, i) => new OwnedFd(SD_LISTEN_FDS_START + i, 'listener'))
  for (const [i, f] of fds.entries()) if (i !== pick) f.close()
  delete env.LISTEN_PID
  delete env.LISTEN_FDS
  delete env.LISTEN_FDNAMES
  const fd = fds[pick]!
  try {
    const domain = getsockoptInt(fd, K('SOL_SOCKET'), K('SO_DOMAIN'))
    const type = getsockoptInt(fd, K('SOL_SOCKET'), K('SO_TYPE'))
    if (domain !== K('AF_UNIX') || type !== K('SOCK_SEQPACKET')) {
      throw new Error(`activation fd ${fd.fd} is not an AF_UNIX SOCK_SEQPACKET socket`)
    }
  } catch (e) {
    fd.close()
    throw e
  }
  return { fd, name: names[pick] ?? '' }
}

/** sd_notify(0, state): false when $NOTIFY_SOCKET is not set or the send failed. */
export function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = env.NOTIFY_SOCKET
  if (!path) return false
  const s = socket(K('AF_UNIX'), K('SOCK_DGRAM'))
  try {
    const to = path.startsWith('@') ? sockaddrUn({ abstract: path.slice(1) }) : sockaddrUn(path)
    return sendMsg(s, Buffer.from(state), { to }) >= 0
  } catch {
    return false
  } finally {
    s.close()
  }
}
