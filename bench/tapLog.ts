/**
 * Reads the host tap's JSON lines (hostTap.ts) and answers the benchmark's questions for a time
 * window: pwsh processes started, the peak number alive at once, scripts run per target and per
 * operation name. Times are wall-clock ms (performance.timeOrigin + performance.now()) in both
 * processes.
 */
import * as fs from "fs";

export type TapEvent =
  | { t: number; type: "start" | "exit"; key: string; pid?: number }
  | { t: number; type: "script"; key: string; pid?: number; operation: string; durationMs: number; scriptMs?: number }
  /** One provider method inside the host, from entry to its promise settling (hostTap.ts wraps them). */
  | { t: number; type: "provider"; resource: string; method: string; ms: number };

export function readTap(file: string): TapEvent[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as TapEvent)
    .sort((a, b) => a.t - b.t);
}

/** The init operation every fresh pwsh runs (transports/simulator.ts): not an operation of a resource. */
export const INIT_OPERATION = "session.init";

export interface WindowCounts {
  /** pwsh processes started in the window. */
  pwshStarted: number;
  /** Most pwsh processes alive at once in the window (counting from the whole log). */
  peakPwshAlive: number;
  /** Operation scripts run in the window (init operations excluded). */
  scripts: number;
  /** Scripts per target key. */
  scriptsByKey: Record<string, number>;
  /** Scripts per target key and operation name ("<key>|<operation>"). */
  scriptsByKeyAndOperation: Record<string, number>;
  /** The scripts' own run times (scriptMs) per operation name, init operations included. */
  scriptMsByOperation: Record<string, number[]>;
}

export function countWindow(events: readonly TapEvent[], from: number, to: number): WindowCounts {
  let alive = 0;
  let peak = 0;
  const out: WindowCounts = {
    pwshStarted: 0,
    peakPwshAlive: 0,
    scripts: 0,
    scriptsByKey: {},
    scriptsByKeyAndOperation: {},
    scriptMsByOperation: {},
  };
  for (const e of events) {
    if (e.type === "start") alive++;
    if (e.type === "exit") alive--;
    if (e.t < from) {
      peak = alive;
      continue;
    }
    if (e.t > to) break;
    peak = Math.max(peak, alive);
    if (e.type === "start") out.pwshStarted++;
    if (e.type === "script" && e.scriptMs !== undefined) (out.scriptMsByOperation[e.operation] ??= []).push(e.scriptMs);
    if (e.type === "script" && e.operation !== INIT_OPERATION) {
      out.scripts++;
      out.scriptsByKey[e.key] = (out.scriptsByKey[e.key] ?? 0) + 1;
      const k = `${e.key}|${e.operation}`;
      out.scriptsByKeyAndOperation[k] = (out.scriptsByKeyAndOperation[k] ?? 0) + 1;
    }
  }
  out.peakPwshAlive = peak;
  return out;
}
