/**
 * Connect log: one line per connection attempt of a remote transport (ssh, winrm), as pulumi-command
 * logs each dial attempt. Lines name the target (`ssh rdstest@10.0.0.5:22`), the attempt, the error
 * code and the wait before the next attempt; never a password, key or envelope.
 *
 * Listeners (`onConnectLog`) receive every event; when there are none, lines go to stderr prefixed with
 * `pulumi-rds-licensing:` (a dynamic provider's stderr reaches the engine's log). `RDS_CONNECT_LOG=off`
 * silences the stderr default.
 */

export interface ConnectLogEvent {
  /** `attempt` before each try, `connected`, `retry` (a transient failure, another attempt follows), `failed` (given up). */
  event: "attempt" | "connected" | "retry" | "failed";
  /** `connect` for a fresh warm pwsh, `reconnect` when its remote session was lost. */
  phase: "connect" | "reconnect";
  /** The pool key. */
  key: string;
  /** The connection's host. */
  host: string;
  /** The transport's description of the target (no secrets). */
  target: string;
  attempt: number;
  attempts: number;
  /** The error code of a failed attempt. */
  code?: string;
  /** Wait before the next attempt (retry). */
  delayMs?: number;
  /** Milliseconds the attempt took (connected, retry, failed). */
  durationMs?: number;
  /** The whole line. */
  message: string;
}

type Listener = (event: ConnectLogEvent) => void;
const listeners = new Set<Listener>();

/** Calls `listener` with every connect event. Returns the unsubscribe function. */
export function onConnectLog(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Emits one event (to the listeners, else to stderr). */
export function emitConnectLog(event: ConnectLogEvent): void {
  if (listeners.size > 0) {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's failure must not break a connect
      }
    }
    return;
  }
  if ((process.env.RDS_CONNECT_LOG ?? "").toLowerCase() === "off") return;
  process.stderr.write(`pulumi-rds-licensing: ${event.message}\n`);
}
