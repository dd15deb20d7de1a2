/**
 * Fleet benchmark: a fleet through the REAL dynamic-provider host, pooled vs naive.
 *
 *   npm run bench [-- --scale 0.2] [--parallel 16] [--cap 64] [--check-cap 8] [--no-naive] [--quick]
 *   npm run bench -- --transport ssh [--quick]   (the fleet over the ssh lab: sshFleet.ts)
 *
 * What is real: the host process (`@pulumi/pulumi`'s dynamic-provider, spoken to over gRPC as the
 * engine does: engine/grpcHost.ts), the serialized `__provider` strings and inputs the SDK
 * registers (engine/capture.ts), the built providers, the pool, pwsh and the operation
 * scripts. What stands in: the Pulumi CLI engine (driver.ts: the engine emulation's step logic with
 * `--parallel` operations in flight and the dependency order), Windows (the simulator's emulator).
 *
 * Modes, each with its own host process, simulator state and install journal:
 * - pooled: the defaults: warm pwsh, the simulator's targets on shared workers (RDS_SIM_WORKERS:
 *   one per CPU), read coalescing on; cap `--cap` (64), idle close after 10 min (longer than the run).
 *   Phases up, second up, refresh, then an overhead probe (sequential reads; see `probe`), a refresh
 *   by a second host with a pwsh per target (RDS_SIM_WORKERS=0, as the remote transports run: all
 *   50 targets warm), one more with that and a cap of `--check-cap` (the cap under a 50-target
 *   fleet), and destroy.
 * - naive: `RDS_BENCH_NAIVE=1` (read by hostTap.ts, which sets the pool's fresh-pwsh-per-operation policy) and
 *   `RDS_COALESCE_WINDOW_MS=0`: a fresh pwsh for every script, closed right after; no coalescing.
 *
 * Counting inside the host: hostTap.ts is preloaded into the host (NODE_OPTIONS=--require) and logs
 * the pool's events (pwsh start/exit, each script with its time) to a file; tapLog.ts reads it.
 * Host memory: VmHWM of the host process, reset per phase through /proc/<pid>/clear_refs.
 *
 * A benchmark, never a test: nothing here asserts a timing. It prints a table and writes
 * bench/results/fleet.json and bench/results/fleet.svg (at scale 1; other scales write to the temp dir).
 */
import { numberOption } from "./cliOptions";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { targetKey } from "../provider/powershell/transport";
import { startProviderHost } from "../engine/grpcHost";
import { PROJECT_ROOT } from "../engine/hostProcess";
import type { ProviderHost } from "../engine/hostProtocol";
import { phaseChart } from "./chart";
import { ConcurrentEngine, type PhaseRun } from "./driver";
import { buildFleet, FULL_FLEET, scaled, type Fleet, type FleetNode, type FleetSize } from "./fleet";
import { flushTap, phaseTimings, probeReads, scriptsOn, type PhaseTimings, type ProbeResult } from "./measure";
import { mib, peakRss, resetPeakRss } from "./procMemory";
import { summarize, type Summary } from "./stats";
import { runSshFleet } from "./sshFleet";
import { countWindow, readTap, type TapEvent } from "./tapLog";

// ---- options ----------------------------------------------------------------------------------------

const SCALE = numberOption("scale", 1, false);
const PARALLEL = numberOption("parallel", 16, false);
const CAP = numberOption("cap", 64, false);
const CHECK_CAP = numberOption("check-cap", 8, false);
const NAIVE = !process.argv.includes("--no-naive");
/** No per-target and capped refreshes: for quick looks, never for the results. */
const QUICK = process.argv.includes("--quick");
const PROBE_ROUNDS = 2;

// ---- one phase --------------------------------------------------------------------------------------

interface PhaseResult extends PhaseTimings {
  opsPerSec: number;
  pwshStarted: number;
  peakPwshAlive: number;
  pwshAliveAtEnd: number;
  scripts: number;
  /** Scripts on the license server holding the packs, per operation name. */
  packServerScripts: Record<string, number>;
  hostPeakRssMiB: number;
  /** 1-minute load average when the phase ended (the machine is shared: read timings with it). */
  loadAverage1m: number;
  /** Script run time in pwsh (Bootstrap's scriptMs) per operation name. */
  scriptMsByOperation: Record<string, Summary>;
  errors: { urn: string; message: string }[];
}

interface ModeContext {
  name: string;
  host: ProviderHost;
  tapFile: string;
  fleet: Fleet;
  stateDir: string;
  driver: ConcurrentEngine;
}

function aliveAt(events: readonly TapEvent[], t: number): number {
  let alive = 0;
  for (const e of events) {
    if (e.t > t) break;
    if (e.type === "start") alive++;
    if (e.type === "exit") alive--;
  }
  return alive;
}

async function phase(ctx: ModeContext, label: string, run: () => Promise<PhaseRun>): Promise<PhaseResult> {
  const resetOk = resetPeakRss(ctx.host.pid);
  const result = await run();
  const hwm = peakRss(ctx.host.pid);
  await flushTap();
  const events = readTap(ctx.tapFile);
  const counts = countWindow(events, result.start, result.end);
  const packKey = targetKey({ transport: "simulator", host: ctx.fleet.packServer, stateDir: ctx.stateDir });
  const packServerScripts = scriptsOn(counts, (key) => key === packKey);
  const timings = phaseTimings(label, result);
  const out: PhaseResult = {
    ...timings,
    opsPerSec: Math.round((result.records.length / ((result.end - result.start) / 1000)) * 10) / 10,
    pwshStarted: counts.pwshStarted,
    peakPwshAlive: counts.peakPwshAlive,
    pwshAliveAtEnd: aliveAt(events, result.end),
    scripts: counts.scripts,
    packServerScripts,
    hostPeakRssMiB: mib(hwm),
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    scriptMsByOperation: Object.fromEntries(Object.entries(counts.scriptMsByOperation).map(([op, ms]) => [op, summarize(ms)])),
    errors: result.errors,
  };
  if (!resetOk) (out as PhaseResult & { note?: string }).note = "clear_refs refused: host peak is since the host started";
  printPhase(ctx.name, out);
  return out;
}

// ---- the overhead probe -------------------------------------------------------------------------------

/** The overhead probe (measure.ts probeReads), printed. */
async function probe(ctx: ModeContext): Promise<ProbeResult> {
  const result = await probeReads(ctx.driver.engine, ctx.fleet.nodes, PROBE_ROUNDS, ctx.tapFile);
  console.log(
    `  [${ctx.name}] overhead probe: ${result.samples} sequential Reads: latency p50 ${result.readLatencyMs.p50} ms, script p50 ${result.scriptMs.p50} ms, ` +
      `overhead p50 ${result.overheadMs.p50} / p95 ${result.overheadMs.p95} ms (pool p50 ${result.poolOverheadMs.p50}, host and gRPC p50 ${result.hostOverheadMs.p50}); inside the host (provider method minus scripts) p50 ${result.inHostOverheadMs.p50} / p95 ${result.inHostOverheadMs.p95} ms` +
      Object.entries(result.overheadByKindMs)
        .map(([k, s]) => `; ${k} ${s!.p50}/${s!.p95}`)
        .join(""),
  );
  return result;
}

// ---- modes --------------------------------------------------------------------------------------------

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rds-bench-${prefix}-`));
}

async function startHost(stateDir: string, journalDir: string, tapFile: string, env: Record<string, string>): Promise<ProviderHost> {
  return startProviderHost({
    callTimeoutMs: 900_000,
    startTimeoutMs: 120_000,
    env: {
      RDS_SIM_STATE_DIR: stateDir,
      RDS_JOURNAL_DIR: journalDir,
      RDS_BENCH_TAP_FILE: tapFile,
      NODE_OPTIONS:
        `--require ${path.join(PROJECT_ROOT, "bin", "bench", "hostTap.js")} ${process.env.RDS_BENCH_HOST_NODE_OPTIONS ?? ""}`.trim(),
      ...env,
    },
  });
}

interface ModeResult {
  mode: string;
  env: Record<string, string>;
  phases: PhaseResult[];
  probe?: ProbeResult;
  capCheck?: { cap: number; phase: PhaseResult; boundedByCap: boolean };
  /** The fleet refreshed by a host with a pwsh per target (RDS_SIM_WORKERS=0, as remote transports run). */
  perTarget?: PhaseResult;
  hostPeakRssMiB: number;
  peakPwshAlive: number;
}

async function runMode(name: string, size: FleetSize, env: Record<string, string>, extras: boolean): Promise<ModeResult> {
  const stateDir = tempDir(`${name}-state`);
  const journalDir = tempDir(`${name}-journal`);
  const tapDir = tempDir(`${name}-tap`);
  const tapFile = path.join(tapDir, "pool.jsonl");
  const fleet = await buildFleet(size, stateDir);
  const host = await startHost(stateDir, journalDir, tapFile, env);
  const driver = new ConcurrentEngine(host, fleet.nodes, PARALLEL);
  const ctx: ModeContext = { name, host, tapFile, fleet, stateDir, driver };
  const phases: PhaseResult[] = [];
  const result: ModeResult = { mode: name, env, phases, hostPeakRssMiB: NaN, peakPwshAlive: 0 };
  console.log(
    `\n== ${name} (${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}) host pid ${host.pid}`,
  );
  try {
    phases.push(await phase(ctx, "up", () => driver.up()));
    phases.push(await phase(ctx, "second up", () => driver.up()));
    phases.push(await phase(ctx, "refresh", () => driver.refresh()));
    // The coalescing case on its own: a refresh of just the packs (`--target` them), all on one server.
    phases.push(await phase(ctx, "refresh (packs)", () => driver.refresh((n) => n.kind === "calPack")));
    if (name === "pooled") result.probe = await probe(ctx);
    if (extras) {
      // A pwsh per target, as the remote transports always run (no shared simulator workers): a
      // second host refreshes the fleet, leaving every target warm (host memory with 50 warm targets).
      const ownTap = path.join(tapDir, "per-target.jsonl");
      const own = await startHost(stateDir, journalDir, ownTap, { ...env, RDS_SIM_WORKERS: "0" });
      driver.useHost(own);
      try {
        result.perTarget = await phase(
          { ...ctx, name: `${name}, a pwsh per target`, host: own, tapFile: ownTap },
          "refresh (a pwsh per target)",
          () => driver.refresh(),
        );
      } finally {
        await own.close();
        driver.useHost(host);
      }
      // The cap under a 50-target fleet: a host with a pwsh per target and the default-sized cap.
      const capTap = path.join(tapDir, "capped.jsonl");
      const capped = await startHost(stateDir, journalDir, capTap, {
        ...env,
        RDS_SIM_WORKERS: "0",
        RDS_POOL_MAX_SESSIONS: String(CHECK_CAP),
      });
      driver.useHost(capped);
      try {
        const p = await phase(
          { ...ctx, name: `${name}, cap ${CHECK_CAP}`, host: capped, tapFile: capTap },
          `refresh (cap ${CHECK_CAP})`,
          () => driver.refresh(),
        );
        result.capCheck = { cap: CHECK_CAP, phase: p, boundedByCap: p.peakPwshAlive <= CHECK_CAP };
      } finally {
        await capped.close();
        driver.useHost(host);
      }
    }
    phases.push(await phase(ctx, "destroy", () => driver.destroy()));
  } finally {
    await host.close();
    for (const d of [stateDir, journalDir, tapDir]) if (!process.env.RDS_BENCH_KEEP_TAP) fs.rmSync(d, { recursive: true, force: true });
  }
  result.hostPeakRssMiB = Math.max(...phases.map((p) => p.hostPeakRssMiB));
  result.peakPwshAlive = Math.max(...phases.map((p) => p.peakPwshAlive));
  return result;
}

// ---- output -----------------------------------------------------------------------------------------

function printPhase(mode: string, p: PhaseResult): void {
  const pack = Object.entries(p.packServerScripts)
    .map(([op, n]) => `${op}×${n}`)
    .join(" ");
  console.log(
    `  [${mode}] ${p.phase.padEnd(16)} ${(p.wallMs / 1000).toFixed(1).padStart(7)} s  ${String(p.operations).padStart(3)} ops  ${String(p.opsPerSec).padStart(6)} ops/s  ` +
      `p50 ${String(p.latencyMs.p50).padStart(7)} ms  p95 ${String(p.latencyMs.p95).padStart(7)} ms  pwsh started ${String(p.pwshStarted).padStart(3)}  ` +
      `peak alive ${String(p.peakPwshAlive).padStart(3)}  scripts ${String(p.scripts).padStart(4)}  host peak ${p.hostPeakRssMiB} MiB  load ${p.loadAverage1m}` +
      (pack ? `\n      scripts on the pack server: ${pack}` : "") +
      (Object.keys(p.scriptMsByOperation).length
        ? `\n      script time p50/p95 ms: ${Object.entries(p.scriptMsByOperation)
            .map(([op, s]) => `${op} ${s.p50}/${s.p95}`)
            .join(", ")}`
        : "") +
      (p.errors.length
        ? `\n      ERRORS: ${p.errors.map((e) => `${e.urn.split("::").pop()}: ${e.message}`).join("\n              ")}`
        : ""),
  );
}

function machine() {
  const cpus = os.cpus();
  return {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    totalMemMiB: Math.round(os.totalmem() / 1048576),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function main(): Promise<void> {
  // `--transport ssh`: the fleet over the ssh lab, warm sessions vs per command (sshFleet.ts).
  const transportAt = process.argv.indexOf("--transport");
  const transport = transportAt < 0 ? "simulator" : process.argv[transportAt + 1];
  if (transport === "ssh") return runSshFleet();
  if (transport !== "simulator") throw new Error(`--transport takes simulator (the default) or ssh, not ${transport}`);
  const size = SCALE === 1 ? FULL_FLEET : scaled(SCALE);
  const started = new Date().toISOString();
  const m = machine();
  console.log(
    `fleet benchmark: ${size.licenseServers} license servers, ${size.calPacks} CAL packs (all on ls01), ${size.sessionHosts} session hosts; ${PARALLEL} operations in flight`,
  );
  console.log(
    `machine: ${m.platform}, ${m.cpus} × ${m.cpuModel}, ${m.totalMemMiB} MiB, node ${m.node}, load average ${m.loadAverageAtStart.join(" ")}`,
  );

  const pooled = await runMode("pooled", size, { RDS_POOL_MAX_SESSIONS: String(CAP), RDS_POOL_IDLE_MS: "600000" }, !QUICK);
  const naive = NAIVE
    ? await runMode("naive", size, { RDS_BENCH_NAIVE: "1", RDS_COALESCE_WINDOW_MS: "0", RDS_POOL_MAX_SESSIONS: String(CAP) }, false)
    : undefined;

  const wall = (r: ModeResult | undefined, p: string) => r?.phases.find((x) => x.phase === p)?.wallMs ?? NaN;
  const labels = ["up", "second up", "refresh", "destroy"];
  const ratios: Record<string, number> = {};
  for (const l of labels) ratios[l] = Math.round((wall(naive, l) / wall(pooled, l)) * 10) / 10;
  const upRefresh = { pooledMs: wall(pooled, "up") + wall(pooled, "refresh"), naiveMs: wall(naive, "up") + wall(naive, "refresh") };
  ratios["up + refresh"] = Math.round((upRefresh.naiveMs / upRefresh.pooledMs) * 10) / 10;

  const refresh = pooled.phases.find((p) => p.phase === "refresh")!;
  const warmTargets = pooled.phases.find((p) => p.phase === "up")?.pwshAliveAtEnd ?? 0;
  const packsOnly = pooled.phases.find((p) => p.phase === "refresh (packs)");
  const calPackReadInvocations = packsOnly?.packServerScripts["calPack.get"] ?? NaN;
  const fleetRefreshCalPackInvocations = refresh.packServerScripts["calPack.get"] ?? 0;
  const must = {
    upPlusRefreshSpeedup: ratios["up + refresh"],
    providerOverheadP50Ms: pooled.probe?.overheadMs.p50 ?? NaN,
    providerOverheadP95Ms: pooled.probe?.overheadMs.p95 ?? NaN,
    providerOverheadInHostP50Ms: pooled.probe?.inHostOverheadMs.p50 ?? NaN,
    providerOverheadInHostP95Ms: pooled.probe?.inHostOverheadMs.p95 ?? NaN,
    refreshCalPackReads: size.calPacks,
    refreshCalPackReadInvocationsOnPackServer: calPackReadInvocations,
    fleetRefreshCalPackReadInvocationsOnPackServer: fleetRefreshCalPackInvocations,
    hostPeakRssMiBPooled: pooled.hostPeakRssMiB,
    warmTargetsAfterUp: warmTargets,
    pooledCap: CAP,
    pooledPeakPwshAlive: pooled.peakPwshAlive,
    perTarget: pooled.perTarget
      ? {
          warmTargets: pooled.perTarget.pwshAliveAtEnd,
          hostPeakRssMiB: pooled.perTarget.hostPeakRssMiB,
          peakPwshAlive: pooled.perTarget.peakPwshAlive,
          cap: CAP,
        }
      : undefined,
    capCheck: pooled.capCheck
      ? { cap: pooled.capCheck.cap, peakPwshAlive: pooled.capCheck.phase.peakPwshAlive, bounded: pooled.capCheck.boundedByCap }
      : undefined,
  };

  console.log("\n== ratios (naive wall time / pooled wall time)");
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(14)} ${v}×`);
  console.log("\n== must-show numbers");
  console.log(
    `  whole-fleet up + refresh: pooled ${(upRefresh.pooledMs / 1000).toFixed(1)} s, naive ${(upRefresh.naiveMs / 1000).toFixed(1)} s: ${must.upPlusRefreshSpeedup}× faster`,
  );
  console.log(
    `  provider overhead per operation (probe): p50 ${must.providerOverheadP50Ms} ms, p95 ${must.providerOverheadP95Ms} ms through gRPC; inside the host p50 ${must.providerOverheadInHostP50Ms} ms, p95 ${must.providerOverheadInHostP95Ms} ms`,
  );
  console.log(
    `  refresh of the ${size.calPacks} CAL packs on ls01 (packs only): ${calPackReadInvocations} calPack.get invocation(s) on that host (all its scripts: ${JSON.stringify(packsOnly?.packServerScripts ?? {})})`,
  );
  console.log(
    `  ... inside the whole-fleet refresh (${refresh.operations} resources, ${PARALLEL} in flight): ${fleetRefreshCalPackInvocations} calPack.get invocation(s) for the ${size.calPacks} pack reads (all scripts on ls01: ${JSON.stringify(refresh.packServerScripts)})`,
  );
  console.log(
    `  host peak memory with ${warmTargets} warm targets (cap ${CAP}): ${must.hostPeakRssMiBPooled} MiB; peak pwsh alive ${must.pooledPeakPwshAlive} (≤ cap ${CAP}: ${must.pooledPeakPwshAlive <= CAP})`,
  );
  if (must.perTarget)
    console.log(
      `  a pwsh per target (RDS_SIM_WORKERS=0): host peak memory with ${must.perTarget.warmTargets} warm targets: ${must.perTarget.hostPeakRssMiB} MiB; peak pwsh alive ${must.perTarget.peakPwshAlive} (cap ${CAP})`,
    );
  if (must.capCheck)
    console.log(
      `  refresh with cap ${must.capCheck.cap}: peak pwsh alive ${must.capCheck.peakPwshAlive} (bounded by the cap: ${must.capCheck.bounded})`,
    );

  const doc = {
    started,
    finished: new Date().toISOString(),
    machine: { ...m, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    fleet: { ...size, packServer: "ls01", parallel: PARALLEL, scale: SCALE },
    must,
    ratios,
    pooled,
    naive,
  };
  const resultsDir = SCALE === 1 && !QUICK ? path.join(PROJECT_ROOT, "bench", "results") : tempDir("results");
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, "fleet.json"), JSON.stringify(doc, null, 2) + "\n");
  if (naive) {
    const rows = labels.map((l) => ({ label: l, pooledMs: wall(pooled, l), naiveMs: wall(naive, l) }));
    rows.push({ label: "up + refresh", ...upRefresh });
    const subtitle = `${size.licenseServers} LS, ${size.calPacks} CAL packs, ${size.sessionHosts} session hosts; ${PARALLEL} in flight; ${m.cpus} CPUs, load ${m.loadAverageAtStart[0]}`;
    fs.writeFileSync(path.join(resultsDir, "fleet.svg"), phaseChart(rows, "Fleet through the provider host: pooled vs naive", subtitle));
  }
  console.log(`\nwrote ${path.join(resultsDir, "fleet.json")}${naive ? ` and fleet.svg` : ""}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

export type { FleetNode };
