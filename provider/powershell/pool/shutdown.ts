/**
 * No pwsh outlives Node: every pool that has started a pwsh is killed on `exit`, SIGINT, SIGTERM and
 * SIGHUP and closed on `beforeExit`. The handlers are process-wide, so this module keeps the set of
 * pools to clean up; a pool joins it when it starts its first pwsh. If Node is SIGKILLed, an idle
 * pwsh exits on stdin EOF and a busy one is ended by the parent watchdog in Bootstrap.ps1
 * (RDS_RUNNER_PARENT_PID) within a second.
 */
import { removeEnvelopeDir } from "../envelope";

/** What the exit handlers need of a pool. */
export interface ExitCleanup {
  /** Synchronous last-resort kill of every pwsh. */
  killNow(): void;
  /** Some pwsh has not exited yet. */
  hasLiveSessions(): boolean;
  /** Closes gracefully (then by force). */
  close(): Promise<void>;
}

const pools = new Set<ExitCleanup>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const pool of pools) pool.killNow();
}

function onExit(): void {
  killAllNow();
  removeEnvelopeDir();
}

function onBeforeExit(): void {
  for (const pool of pools) if (pool.hasLiveSessions()) void pool.close();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  removeEnvelopeDir();
  // Keep Node's default behaviour (exit on the signal) when nobody else handles it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

/** Registers a pool for cleanup at exit (installs the process handlers once). */
export function cleanUpAtExit(pool: ExitCleanup): void {
  pools.add(pool);
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", onExit);
  process.on("beforeExit", onBeforeExit);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
}
