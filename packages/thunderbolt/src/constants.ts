// The plugin's constants (ALH477/HydraMesh rust/plugins/usb4/lib.rs:28-47; the Lisp port has the same values).

export const DEFAULT_INTERFACE = 'thunderbolt0'
/** UDP control channel; both ends use the same port. */
export const DEFAULT_CONTROL_PORT = 5000
/** TCP data streams; both ends use the same port. */
export const DEFAULT_DATA_PORT = 5001
/** Socket buffer size (SO_SNDBUF / SO_RCVBUF), 64 MiB. */
export const DEFAULT_BUFFER_SIZE = 64 * 1024 * 1024
/** Largest control message (the IPv4 UDP maximum, kept for parity although IPv6 allows 65,527). */
export const MAX_UDP_PAYLOAD = 65_507
/** listen(2) backlog of the data-stream listener. */
export const LISTEN_BACKLOG = 128
/** TCP_KEEPIDLE of initiated streams, in seconds (interval and count stay at the kernel's defaults). */
export const KEEPALIVE_IDLE_SECS = 60
/** How long openDataStream waits for the handshake. */
export const CONNECT_TIMEOUT_MS = 10_000
/** measureRtt's default timeout. */
export const DEFAULT_RTT_TIMEOUT_MS = 5_000
/** Control messages an async iterator buffers for a slow consumer before it drops new ones. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 4096
