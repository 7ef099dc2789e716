// The numbers of the Cartesi Machine I/O device: devices, commands, reasons, GIO domains, buffer placement.
// Values from cartesi/machine-emulator htif-defines.h and address-range-defines.h (v0.21.0); see the README.

/** HTIF devices (the word's top byte). The kernel/OpenSBI force every yield's dev to YIELD. */
export const Dev = { HALT: 0, CONSOLE: 1, YIELD: 2 } as const

/** Yield commands. Any other cmd is ignored by the emulator: the machine does not stop and the guest reads 0. */
export const Cmd = { AUTOMATIC: 0, MANUAL: 1 } as const

/** Reasons of automatic yields (cmd 0). */
export const AutomaticReason = { PROGRESS: 1, TX_OUTPUT: 2, TX_REPORT: 4 } as const

/** Reasons of manual yields (cmd 1). Any other manual reason is a GIO domain. */
export const ManualReason = { RX_ACCEPTED: 1, RX_REJECTED: 2, TX_EXCEPTION: 4 } as const

/** The host's reply reason after an rx-accepted yield. */
export const RollupReason = { ADVANCE_STATE: 0, INSPECT_STATE: 1 } as const

/** GIO domains of the bridges (tapcmio). */
export const Domain = { TAP: 0x42, SOCKETS: 0x43 } as const

/** Where the emulator places the buffers (physical = virtual in the guest) and their size, 2 MiB each. */
export const RX_ADDRESS = 0x60000000n
export const TX_ADDRESS = 0x60800000n
export const BUFFER_LENGTH = 0x200000

/** The device path tapcmio and libcmt open. */
export const DEFAULT_DEVICE = '/dev/cmio'
