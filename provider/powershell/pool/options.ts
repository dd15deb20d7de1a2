/**
 * The pool's options: their defaults (from the environment, read once) and their validation.
 * One job: what the options are. The pool reads them through a getter, so a change applies at once.
 */
import * as os from "os";

export interface PoolOptions {
  /** Close a warm pwsh after this long without work (ms). Default 60 000, or `$RDS_POOL_IDLE_MS`. */
  idleMs: number;
  /**
   * pwsh processes at most (starting, warm or closing): a new one first closes the least recently
   * used idle session, or waits for a session to go idle. Default 8, or `$RDS_POOL_MAX_SESSIONS`.
   */
  maxSessions: number;
  /** Time allowed to start pwsh and bind it to its target (ms). Default 120 000, or `$RDS_POOL_STARTUP_TIMEOUT_MS`. */
  startupTimeoutMs: number;
  /**
   * Shared pwsh workers per worker group (Transport.workerGroup: the simulator's targets of one
   * state directory). 0: one pwsh per target, as for every remote transport. Default: the number
   * of CPUs (at least 2), or `$RDS_SIM_WORKERS`. Workers count against `maxSessions`.
   */
  simulatorWorkers: number;
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= min ? value : fallback;
}

/** The defaults, each overridable from the environment (an invalid value falls back to the default). */
export function optionsFromEnv(): PoolOptions {
  return {
    idleMs: intFromEnv("RDS_POOL_IDLE_MS", 60_000, 1),
    maxSessions: intFromEnv("RDS_POOL_MAX_SESSIONS", 8, 1),
    startupTimeoutMs: intFromEnv("RDS_POOL_STARTUP_TIMEOUT_MS", 120_000, 1),
    simulatorWorkers: intFromEnv("RDS_SIM_WORKERS", Math.max(2, os.cpus().length), 0),
  };
}

const OPTION_NAMES: readonly string[] = ["idleMs", "maxSessions", "startupTimeoutMs", "simulatorWorkers"] satisfies (keyof PoolOptions)[];

/**
 * Throws a RangeError naming the first unknown or invalid option (each is an integer; all but
 * simulatorWorkers positive). Unknown names are refused so that a removed option (the benchmark's
 * old `naive`: now pool hooks) cannot be set silently to no effect.
 */
export function checkOptions(options: PoolOptions): void {
  for (const [name, value] of Object.entries(options)) {
    if (!OPTION_NAMES.includes(name)) throw new RangeError(`unknown pool option ${name}`);
    if (name === "simulatorWorkers") {
      if (!Number.isInteger(value) || (value as number) < 0)
        throw new RangeError("pool option simulatorWorkers must be 0 or a positive integer");
    } else if (!Number.isInteger(value) || (value as number) <= 0) {
      throw new RangeError(`pool option ${name} must be a positive integer`);
    }
  }
}
