/**
 * The pool's session policy: the one place a benchmark (or an embedding program) changes how long a
 * pwsh lives, set once with `setPoolHooks()` (pool.ts), never a per-call switch in the pool.
 *
 * - `warmSessions` (the default): a target's pwsh stays warm for the next operation; the simulator's
 *   targets share a group's workers when `simulatorWorkers` > 0.
 * - `freshPwshPerOperation`: the benchmark's naive baseline: every operation gets a fresh pwsh of
 *   its own, closed as soon as the operation ends. (The baseline also runs without read
 *   coalescing: that is coalesce.ts's `$RDS_COALESCE_WINDOW_MS=0`.)
 */
import type { PoolOptions } from "./options";
import type { TargetSpec } from "./target";

export interface PoolHooks {
  /** The worker group a target's operations run in, or undefined for a pwsh of its own. */
  workerGroupOf(spec: TargetSpec, options: PoolOptions): string | undefined;
  /** After each operation on a target's own pwsh: `retire()` closes it (the next operation starts a fresh one). */
  afterOperation(target: { retire(): void }): void;
}

/** The transport's worker group, when it has one and shared workers are on. */
function transportWorkerGroup(spec: TargetSpec, options: PoolOptions): string | undefined {
  if (options.simulatorWorkers === 0) return undefined;
  const transport = spec.transport;
  if (transport.workerGroup === undefined || transport.workerInitOperation === undefined) return undefined;
  return transport.workerGroup(spec.connection);
}

export const warmSessions: PoolHooks = {
  workerGroupOf: transportWorkerGroup,
  afterOperation: () => undefined,
};

export const freshPwshPerOperation: PoolHooks = {
  workerGroupOf: () => undefined,
  afterOperation: (target) => target.retire(),
};
