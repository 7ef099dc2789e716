// eventfd(2): a counter fd, pollable, usable as a cross-thread or cross-process doorbell.
import { binding, K } from './binding.js'
import { OwnedFd } from './fd.js'

export interface EventFdOptions {
  /** EFD_SEMAPHORE: read() takes 1 instead of the whole count. */
  semaphore?: boolean
  /** Default true. */
  nonBlocking?: boolean
}

export class EventFd extends OwnedFd {
  constructor(initval = 0, options: EventFdOptions = {}) {
    const flags =
      K('EFD_CLOEXEC') |
      (options.nonBlocking === false ? 0 : K('EFD_NONBLOCK')) |
      (options.semaphore ? K('EFD_SEMAPHORE') : 0)
    super(binding.eventfd(initval >>> 0, flags), 'eventfd')
  }

  /** The counter (and resets it), or -errno: -EAGAIN (-11) when it is zero. Does not throw for EAGAIN. */
  read(): number {
    return binding.eventfd_read(this.fd)
  }

  /** Adds n to the counter → 0 or -errno (-EAGAIN if it would overflow). */
  write(n = 1): number {
    return binding.eventfd_write(this.fd, n)
  }
}
