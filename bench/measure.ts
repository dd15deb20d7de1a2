/**
 * What both fleet benchmarks (run.ts on the simulator, sshFleet.ts over ssh) measure the same way: a
 * phase's timings from the driver's records, the scripts the tap saw on one target, and the overhead
 * probe (Reads one at a time on warm sessions, minus the scripts' own time).
 */
import type { Engine } from "../engine/engine";
import { stripSecrets } from "../engine/secrets";
import { coalesceOptionsFromEnv } from "../provider/powershell/coalesce";
import { delay } from "../provider/powershell/pool/processes";
import { now, type PhaseRun } from "./driver";
import type { FleetNode, Kind } from "./fleet";
import { summarize, type Summary } from "./stats";
import { readTap, type TapEvent, type WindowCounts } from "./tapLog";

const KINDS = ["licenseServer", "calPack", "sessionHost"] as const;

/** Waits until the host's tap has written what happened so far (it flushes every 100 ms). */
export const flushTap = () => delay(300);

/** What every benchmark phase reports first: its wall time, and the latency of its operations. */
export interface PhaseTimings {
  phase: string;
  wallMs: number;
  operations: number;
  latencyMs: Summary;
  latencyByKindMs: Partial<Record<Kind, Summary>>;
  /** Engine steps by kind (create, update, same, ...). */
  steps: Record<string, number>;
}

/** A summary of `value` per resource kind, for the kinds that have rows. */
function byKind<T extends { kind: Kind }>(rows: readonly T[], value: (row: T) => number): Partial<Record<Kind, Summary>> {
  const out: Partial<Record<Kind, Summary>> = {};
  for (const kind of KINDS) {
    const values = rows.filter((r) => r.kind === kind).map(value);
    if (values.length) out[kind] = summarize(values);
  }
  return out;
}

export function phaseTimings(label: string, result: PhaseRun): PhaseTimings {
  const steps: Record<string, number> = {};
  for (const r of result.records) steps[r.op] = (steps[r.op] ?? 0) + 1;
  return {
    phase: label,
    wallMs: Math.round(result.end - result.start),
    operations: result.records.length,
    latencyMs: summarize(result.records.map((r) => r.ms)),
    latencyByKindMs: byKind(result.records, (r) => r.ms),
    steps,
  };
}

/** The scripts of a phase's window per operation name, on the targets whose pool key `isTarget` accepts. */
export function scriptsOn(counts: WindowCounts, isTarget: (key: string) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(counts.scriptsByKeyAndOperation)) {
    const cut = k.lastIndexOf("|");
    if (isTarget(k.slice(0, cut))) out[k.slice(cut + 1)] = n;
  }
  return out;
}

export interface ProbeResult {
  samples: number;
  /** How long the probe waited after the phase before it, before its first Read (the coalescer's follow time, and a margin). */
  startedAfterMs: number;
  /** RPC latency seen by the gRPC client, one Read at a time on warm sessions. */
  readLatencyMs: Summary;
  /** The scripts' own run time (Bootstrap.ps1's scriptMs), summed per Read. */
  scriptMs: Summary;
  /** Latency minus script time: host, gRPC, provider code, pool, envelope, bootstrap (and, remote, the round trip). */
  overheadMs: Summary;
  overheadByKindMs: Partial<Record<Kind, Summary>>;
  /** Of the overhead: the pool's part (command sent to document parsed, minus the script's time). */
  poolOverheadMs: Summary;
  /** Of the overhead: the rest (gRPC, the host, the provider code before and after its scripts). */
  hostOverheadMs: Summary;
  /**
   * Inside the host only: the provider method's time (timed by hostTap.ts around the resource's
   * provider object) minus its scripts' time: the provider's code, the runner, the pool and the
   * envelope, without gRPC and the host's request handling.
   */
  inHostOverheadMs: Summary;
}

/**
 * Provider overhead per operation: Reads sent one at a time (no queueing, no coalescing partner),
 * every target warm, `rounds` times over the fleet. For each Read, the tap's script events inside its
 * window give the script time. CAL pack reads include the coalescing window (they wait for quiet
 * before their batch runs).
 */
export async function probeReads(engine: Engine, nodes: readonly FleetNode[], rounds: number, tapFile: string): Promise<ProbeResult> {
  // A read that comes alone within the follow time of a wave of reads on its target waits up to the
  // follow quiet time (150 ms) for the rest of its wave, on purpose (provider/powershell/coalesce.ts).
  // Started right after a refresh, the probe's first Read on each target did (the simulator's p95 was
  // 161 ms); it measures the provider's own overhead, so it starts once that time has passed. The
  // hosts run with the bench's environment, so their follow time is the one read here.
  const startedAfterMs = coalesceOptionsFromEnv().followMs + 500;
  await delay(startedAfterMs);
  const samples: { kind: Kind; t0: number; t1: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const n of nodes) {
      const entry = engine.entry(n.spec.urn);
      const t0 = now();
      await engine.host.read({ urn: entry.urn, id: entry.id, properties: stripSecrets(entry.outputs), inputs: stripSecrets(entry.inputs) });
      samples.push({ kind: n.kind, t0, t1: now() });
    }
  }
  await flushTap();
  const tapped = readTap(tapFile);
  const scripts = tapped.filter((e): e is Extract<TapEvent, { type: "script" }> => e.type === "script");
  const reads = tapped.filter((e): e is Extract<TapEvent, { type: "provider" }> => e.type === "provider" && e.method === "read");
  const rows = samples.map((s) => {
    const inside = scripts.filter((e) => e.t >= s.t0 && e.t <= s.t1 + 1);
    const script = inside.reduce((a, e) => a + (e.scriptMs ?? 0), 0);
    const pooled = inside.reduce((a, e) => a + e.durationMs, 0);
    const providerMs = reads.filter((e) => e.t >= s.t0 && e.t <= s.t1 + 1).reduce((a, e) => a + e.ms, 0);
    const latency = s.t1 - s.t0;
    return {
      kind: s.kind,
      latency,
      script,
      overhead: latency - script,
      pool: pooled - script,
      rest: latency - pooled,
      inHost: providerMs - script,
    };
  });
  return {
    samples: rows.length,
    startedAfterMs,
    readLatencyMs: summarize(rows.map((r) => r.latency)),
    scriptMs: summarize(rows.map((r) => r.script)),
    overheadMs: summarize(rows.map((r) => r.overhead)),
    overheadByKindMs: byKind(rows, (r) => r.overhead),
    poolOverheadMs: summarize(rows.map((r) => r.pool)),
    hostOverheadMs: summarize(rows.map((r) => r.rest)),
    inHostOverheadMs: summarize(rows.map((r) => r.inHost)),
  };
}
