/**
 * What the pool tells the outside: its counters, its events (benchmarks count pwsh processes and
 * script time from inside the provider host) and the commands it sends (tests check that no user
 * value is ever in a command). One job: collect and hand out; it never changes what the pool does.
 */

export interface CommandEvent {
  key: string;
  pid: number | undefined;
}
export type CommandListener = (command: string, event: CommandEvent) => void;

export type PoolEvent =
  /** A pwsh process was spawned for `key`. */
  | { type: "start"; key: string; pid: number | undefined }
  /** That process exited (closed, evicted, killed or died). */
  | { type: "exit"; key: string; pid: number | undefined }
  /**
   * One script ran (operations and init operations alike): `key` is the target it ran for (a shared
   * worker's init: the worker group), `pid` the pwsh that ran it; `durationMs` as the pool saw it
   * (command sent to document parsed), `scriptMs` the script's own run time in pwsh (Bootstrap.ps1).
   */
  | { type: "script"; key: string; pid: number | undefined; operation: string; durationMs: number; scriptMs: number | undefined };
export type PoolListener = (event: PoolEvent) => void;

export interface SessionStats {
  key: string;
  /** pid of the process Node spawned (the dotnet-tool launcher, or pwsh itself). */
  pid: number | undefined;
  /** pid of the pwsh that runs the scripts (differs from `pid` behind the dotnet-tool launcher). */
  pwshPid: number | undefined;
  busy: boolean;
  /** When the session last finished an operation (ms since epoch). */
  lastUsed: number;
}

export interface PoolStats {
  /** pwsh processes started since the process began. */
  started: number;
  /** pwsh processes that have not exited yet (including ones being closed). */
  alive: number;
  /** Warm pwsh: sessions attached to a target, plus shared workers (their key is the worker group's). */
  warm: number;
  /** Operations that timed out (each replaced its pwsh). */
  timeouts: number;
  /** Sessions whose pwsh died on its own (crash, exit from a script). */
  died: number;
  /** Operations started per target key (init operations not counted). */
  invocations: Record<string, number>;
  /**
   * Remote transports: sessions opened per target key (the connect operation succeeded: the first
   * connect of each warm pwsh and every reconnect after a lost session).
   */
  connects: Record<string, number>;
  /** Remote transports: connect attempts that failed, per target key (each retry counts). */
  connectFailures: Record<string, number>;
  /**
   * Sessions dropped on request so that the next operation opens a new one, per target key: the
   * target's host restarted (pool.ts reconnectTarget), which ends every session to it.
   */
  reconnects: Record<string, number>;
  sessions: SessionStats[];
}

function subscribe<L>(listeners: Set<L>, listener: L): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Counters and listeners of one pool. Listener errors are swallowed: a debug hook never breaks an operation. */
export class PoolTelemetry {
  started = 0;
  timeouts = 0;
  died = 0;
  readonly invocations = new Map<string, number>();
  readonly connects = new Map<string, number>();
  readonly connectFailures = new Map<string, number>();
  readonly reconnects = new Map<string, number>();
  private readonly commandListeners = new Set<CommandListener>();
  private readonly poolListeners = new Set<PoolListener>();

  onCommand(listener: CommandListener): () => void {
    return subscribe(this.commandListeners, listener);
  }

  onPoolEvent(listener: PoolListener): () => void {
    return subscribe(this.poolListeners, listener);
  }

  /** Whether anyone listens for pool events (a script event is only built when someone does). */
  get hasPoolListeners(): boolean {
    return this.poolListeners.size > 0;
  }

  command(command: string, event: CommandEvent): void {
    for (const listener of this.commandListeners) {
      try {
        listener(command, event);
      } catch {
        // a debug hook never breaks an operation
      }
    }
  }

  event(event: PoolEvent): void {
    for (const listener of this.poolListeners) {
      try {
        listener(event);
      } catch {
        // a debug hook never breaks an operation
      }
    }
  }

  invoked(key: string): void {
    increment(this.invocations, key);
  }

  connected(key: string): void {
    increment(this.connects, key);
  }

  connectFailed(key: string): void {
    increment(this.connectFailures, key);
  }

  reconnectRequested(key: string): void {
    increment(this.reconnects, key);
  }

  /** The counters as PoolStats fields (the caller adds what it knows about live sessions). */
  snapshot(): Pick<PoolStats, "started" | "timeouts" | "died" | "invocations" | "connects" | "connectFailures" | "reconnects"> {
    return {
      started: this.started,
      timeouts: this.timeouts,
      died: this.died,
      invocations: Object.fromEntries(this.invocations),
      connects: Object.fromEntries(this.connects),
      connectFailures: Object.fromEntries(this.connectFailures),
      reconnects: Object.fromEntries(this.reconnects),
    };
  }
}
