// Where the daemon listens: an explicit path, else $VRTD_SOCKET, else /run/vrtd.sock (VRTD_STANDARD_PATH).
import { STANDARD_PATH } from './protocol.js'

export function resolveSocketPath(path?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (path !== undefined && path !== '') return path
  const fromEnv = env.VRTD_SOCKET
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : STANDARD_PATH
}
