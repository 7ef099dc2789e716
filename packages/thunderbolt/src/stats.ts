// Counters with the reference's semantics (lib.rs:116-181): sent = sendMessage only; received = every datagram
// read, pings included (not pongs a measureRtt consumed); errors = receive/accept failures and handler exceptions.

export interface TransportStats {
  messagesSent: number
  messagesReceived: number
  bytesSent: number
  bytesReceived: number
  connectionsAccepted: number
  connectionsInitiated: number
  errors: number
  /** Whole seconds since the transport was built or the stats were last reset (Rust's uptime_secs). */
  uptimeSecs: number
  /** The same, in milliseconds with a fraction. */
  uptimeMs: number
}

export class StatsCounter {
  messagesSent = 0
  messagesReceived = 0
  bytesSent = 0
  bytesReceived = 0
  connectionsAccepted = 0
  connectionsInitiated = 0
  errors = 0
  #since = performance.now()

  recordSent(bytes: number): void {
    this.messagesSent++
    this.bytesSent += bytes
  }

  recordReceived(bytes: number): void {
    this.messagesReceived++
    this.bytesReceived += bytes
  }

  recordConnection(initiated: boolean): void {
    if (initiated) this.connectionsInitiated++
    else this.connectionsAccepted++
  }

  recordError(): void {
    this.errors++
  }

  reset(): void {
    this.messagesSent = 0
    this.messagesReceived = 0
    this.bytesSent = 0
    this.bytesReceived = 0
    this.connectionsAccepted = 0
    this.connectionsInitiated = 0
    this.errors = 0
    this.#since = performance.now()
  }

  snapshot(): TransportStats {
    const ms = performance.now() - this.#since
    return {
      messagesSent: this.messagesSent,
      messagesReceived: this.messagesReceived,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      connectionsAccepted: this.connectionsAccepted,
      connectionsInitiated: this.connectionsInitiated,
      errors: this.errors,
      uptimeSecs: Math.floor(ms / 1000),
      uptimeMs: ms,
    }
  }
}
