/**
 * Runner benchmark: what a warm pwsh buys.
 *
 *   npx tsc -p tsconfig.json && node bin/bench/runner.js [--warm 200] [--naive 10]
 *
 * Measures, on the simulator transport with the real emulator and the Echo fixture script:
 * - the first call on a target (pwsh start + Bootstrap.ps1 + emulator import + init + the call),
 *   split into its phases;
 * - p50 / p95 of the warm calls that follow on the same pwsh;
 * - the naive baseline: a fresh pwsh for every call (closeAll() before each).
 * Prints a table and writes the numbers as JSON to bench/results/runner.json.
 * A benchmark, never a test: nothing here asserts.
 */
import { numberOption } from "./cliOptions";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { packageRoot } from "../provider/paths";
import { closeAll, onCommand, poolStats } from "../provider/powershell/pool";
import { runOperation } from "../provider/powershell/runner";
import type { Connection } from "../provider/powershell/transport";

interface Summary {
  n: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  meanMs: number;
}

function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n: sorted.length,
    minMs: round(sorted[0]),
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    maxMs: round(sorted[sorted.length - 1]),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

const echo = path.join(packageRoot(), "test", "fixtures", "scripts", "Echo.ps1");
const result = z.object({ pid: z.number() }).passthrough();

async function call(conn: Connection, i: number): Promise<number> {
  const started = process.hrtime.bigint();
  await runOperation(conn, { name: "bench.echo", script: echo, args: { i, text: "a moderately sized argument ".repeat(4) }, result });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const warmCalls = numberOption("warm", 200);
  const naiveCalls = numberOption("naive", 10);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-bench-runner-"));
  const conn: Connection = { transport: "simulator", host: "bench-runner", stateDir };

  // First call, with the time at which each startup command was sent.
  const marks: { at: number; command: string }[] = [];
  const stop = onCommand((command) => marks.push({ at: performance.now(), command }));
  const t0 = performance.now();
  await runOperation(conn, { name: "bench.echo", script: echo, args: { i: -1 }, result });
  const t1 = performance.now();
  stop();
  const phase = (from: number, to: number) => Math.round((to - from) * 10) / 10;
  const [bootstrap, emulator, init, op] = marks.map((m) => m.at);
  const firstCall = {
    totalMs: phase(t0, t1),
    pwshStartAndBootstrapMs: phase(bootstrap, emulator),
    emulatorImportMs: phase(emulator, init),
    initOperationMs: phase(init, op),
    callMs: phase(op, t1),
  };

  const warm: number[] = [];
  for (let i = 0; i < warmCalls; i++) warm.push(await call(conn, i));
  const startedAfterWarm = poolStats().started;

  const naive: number[] = [];
  for (let i = 0; i < naiveCalls; i++) {
    await closeAll();
    naive.push(await call(conn, i));
  }
  await closeAll();

  const warmSummary = summarize(warm);
  const naiveSummary = summarize(naive);
  const report = {
    benchmark: "runner",
    date: new Date().toISOString(),
    machine: {
      platform: process.platform,
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      node: process.version,
    },
    firstCall,
    warm: { ...warmSummary, pwshStarted: startedAfterWarm },
    naiveFreshPwshPerCall: naiveSummary,
    speedupP50: Math.round((naiveSummary.p50Ms / warmSummary.p50Ms) * 10) / 10,
  };

  const rows: [string, string, string, string, string][] = [
    ["measure", "n", "p50 ms", "p95 ms", "max ms"],
    ["first call (start + init + call)", "1", String(firstCall.totalMs), "", ""],
    ["  pwsh start + Bootstrap.ps1", "", String(firstCall.pwshStartAndBootstrapMs), "", ""],
    ["  emulator import", "", String(firstCall.emulatorImportMs), "", ""],
    ["  init operation (select host)", "", String(firstCall.initOperationMs), "", ""],
    ["  the call itself", "", String(firstCall.callMs), "", ""],
    ["warm call (same pwsh)", String(warmSummary.n), String(warmSummary.p50Ms), String(warmSummary.p95Ms), String(warmSummary.maxMs)],
    [
      "naive: fresh pwsh per call",
      String(naiveSummary.n),
      String(naiveSummary.p50Ms),
      String(naiveSummary.p95Ms),
      String(naiveSummary.maxMs),
    ],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
  console.log(
    `warm p50 is ${report.speedupP50}x faster than a fresh pwsh per call; load average ${report.machine.loadAverage.join(" ")} on ${report.machine.cpus} cpus`,
  );

  const outDir = path.join(packageRoot(), "bench", "results");
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, "runner.json");
  fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + "\n");
  console.log(`written ${path.relative(process.cwd(), outFile) || outFile}`);
  fs.rmSync(stateDir, { recursive: true, force: true });
}

main().catch(async (err) => {
  console.error(err);
  await closeAll();
  process.exitCode = 1;
});
