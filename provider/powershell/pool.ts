/**
 * The pwsh session pool of this process: one warm pwsh per target (the simulator: a few shared
 * workers), a FIFO queue per target, idle close, a cap on pwsh processes, per-call timeouts, and
 * cleanup when Node exits. The pool itself is the SessionPool object (pool/sessionPool.ts, with its
 * parts beside it); this module holds the process's one default pool and the functions the rest of
 * the provider, the tests and the benchmarks call.
 *
 * This module holds the only long-lived state of the provider. The serialized provider shim requires
 * it at call time, never captures it, so every resource of a provider host shares the one pool.
 * The exported functions are plain functions (not re-exports) so a test can spy on them.
 */
import type { PoolHooks } from "./pool/hooks";
import type { PoolOptions } from "./pool/options";
import { SessionPool } from "./pool/sessionPool";
import type { TargetSpec, WarmSession } from "./pool/target";
import type { CommandListener, PoolListener, PoolStats } from "./pool/telemetry";

export { freshPwshPerOperation, warmSessions, type PoolHooks } from "./pool/hooks";
export type { PoolOptions } from "./pool/options";
export type { ScriptOutcome, ScriptRun } from "./pool/session";
export { SessionPool, type SessionPoolSettings } from "./pool/sessionPool";
export type { Invocation, Shell, StartShell } from "./pool/shell";
export type { TargetSpec, WarmSession } from "./pool/target";
export type { CommandEvent, PoolEvent, PoolStats, SessionStats } from "./pool/telemetry";

const defaultPool = new SessionPool();

/** The pool's current options (environment defaults are read on first use). */
export function poolOptions(): PoolOptions {
  return defaultPool.options;
}

/** Changes pool options for the rest of the process (tests, benchmarks, embedding programs). */
export function configurePool(changes: Partial<PoolOptions>): PoolOptions {
  return defaultPool.configure(changes);
}

/**
 * Replaces the pool's session policy for the rest of the process (pool/hooks.ts): the fleet
 * benchmark's naive baseline sets `freshPwshPerOperation`; `warmSessions` is the default.
 */
export function setPoolHooks(hooks: PoolHooks): void {
  defaultPool.setHooks(hooks);
}

/** A snapshot of the pool, for tests and benchmarks. */
export function poolStats(): PoolStats {
  return defaultPool.stats();
}

/** Calls `listener` with every command string sent to any pwsh. Returns the unsubscribe function. */
export function onCommand(listener: CommandListener): () => void {
  return defaultPool.telemetry.onCommand(listener);
}

/** Calls `listener` with every pool event (pwsh start / exit, each script run). Returns the unsubscribe function. */
export function onPoolEvent(listener: PoolListener): () => void {
  return defaultPool.telemetry.onPoolEvent(listener);
}

/**
 * Runs `work` on the target's warm pwsh (starting one if needed) after every earlier operation on
 * the same target has finished.
 */
export function runOnTarget<T>(spec: TargetSpec, work: (session: WarmSession) => Promise<T>): Promise<T> {
  return defaultPool.run(spec, work);
}

/**
 * Drops the target's warm session so that its next operation opens a new one (counted per target in
 * `poolStats().reconnects`): for a host that restarted, which ends every session to it.
 */
export function reconnectTarget(spec: TargetSpec): Promise<void> {
  return defaultPool.reconnect(spec);
}

/** Closes every session (gracefully, then by force) and rejects queued operations. For tests and shutdown. */
export function closeAll(): Promise<void> {
  return defaultPool.close();
}
