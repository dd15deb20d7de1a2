/**
 * A target: a pool key (Transport.targetKey) with its FIFO queue of jobs and, unless its transport
 * shares workers, its own warm session. Plain state: the pool decides what happens to it.
 */
import type { Connection, Transport } from "../transport";
import type { ScriptOutcome, ScriptRun, Session } from "./session";

/** What the pool needs to know about a target. */
export interface TargetSpec {
  key: string;
  /** For messages. */
  host: string;
  connection: Connection;
  transport: Transport;
}

/** The warm session handed to work on a target. */
export interface WarmSession {
  readonly pid: number | undefined;
  readonly pwshPid: number | undefined;
  runScript(run: ScriptRun): Promise<ScriptOutcome>;
}

export interface Job {
  /**
   * The connection that asked. Every job of a target shares its key (trust and credentials are part
   * of it), but not always its other settings (host name, connect timeout, attempts): a reconnect in
   * the middle of this job uses this job's.
   */
  spec: TargetSpec;
  work: (session: WarmSession) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export interface Target {
  key: string;
  spec: TargetSpec;
  /** Its own warm pwsh (never set for a target served by shared workers). */
  session: Session | undefined;
  queue: Job[];
  /** A job of this target is running (the next waits: one at a time, in queue order). */
  running: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

export function newTarget(spec: TargetSpec): Target {
  return { key: spec.key, spec, session: undefined, queue: [], running: false, idleTimer: undefined };
}

/** Nothing runs or waits on it. */
export function isIdle(target: Target): boolean {
  return !target.running && target.queue.length === 0;
}

export function cancelIdleClose(target: Target): void {
  if (target.idleTimer !== undefined) {
    clearTimeout(target.idleTimer);
    target.idleTimer = undefined;
  }
}
