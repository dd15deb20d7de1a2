/**
 * Preloaded into the dynamic-provider host by the fleet benchmark (NODE_OPTIONS=--require): records
 * the pool's events (pwsh started / exited, every script with the time the pool saw and the script's
 * own run time) as JSON lines in $RDS_BENCH_TAP_FILE, so the benchmark can count pwsh processes and
 * invocations inside the host process, which it cannot see from outside. With $RDS_BENCH_PER_COMMAND
 * (the ssh benchmark's baseline) it also replaces the runner's core with perCommand.ts.
 *
 * It subscribes to the same pool module the provider loads (bin/provider/powershell/pool.js). Lines
 * are buffered and flushed every 100 ms (and at exit), so the tap adds no synchronous file I/O to the
 * operations it measures. Nothing here carries an argument or a command: keys, pids, names, times.
 */
import * as fs from "fs";
import { freshPwshPerOperation, onPoolEvent, setPoolHooks } from "../provider/powershell/pool";
import { setOperationRunner } from "../provider/powershell/runner";
import { perCommandRunner, type PerCommandSettings } from "./perCommand";

// The naive baseline: the pool's session policy is set once here, by the benchmark, never a branch
// per call in the pool (a fresh pwsh for every script, closed right after).
if (process.env.RDS_BENCH_NAIVE === "1") setPoolHooks(freshPwshPerOperation);

const file = process.env.RDS_BENCH_TAP_FILE;
let buffer: string[] = [];
const record = (event: object) => {
  if (file) buffer.push(JSON.stringify({ t: performance.timeOrigin + performance.now(), ...event }) + "\n");
};

// The per-command baseline over ssh (perCommand.ts): a new ssh connection and a new remote pwsh per
// script instead of the pool; its processes and scripts go to the tap in the pool's event shapes.
const perCommand = process.env.RDS_BENCH_PER_COMMAND;
if (perCommand) setOperationRunner(perCommandRunner(JSON.parse(perCommand) as PerCommandSettings, record));

if (file) {
  const flush = () => {
    if (buffer.length === 0) return;
    const text = buffer.join("");
    buffer = [];
    fs.appendFileSync(file, text);
  };
  onPoolEvent(record);
  setInterval(flush, 100).unref();
  process.on("exit", flush);

  // Each resource's provider methods, timed inside the host: the provider's own overhead (its code,
  // the runner, the envelope) is their time minus the scripts', without gRPC and the host around it.
  // The shim requires these same modules (by the package's name, which resolves to these files).
  for (const resource of ["licenseServer", "calPack", "sessionHostLicensing"]) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const impl = require(`../provider/resources/${resource}/provider`).provider as Record<string, unknown>;
    for (const method of ["check", "diff", "create", "read", "update", "delete"]) {
      const original = impl[method];
      if (typeof original !== "function") continue;
      impl[method] = async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (original as (...a: unknown[]) => Promise<unknown>).apply(impl, args);
        } finally {
          const end = performance.now();
          buffer.push(JSON.stringify({ t: performance.timeOrigin + end, type: "provider", resource, method, ms: end - started }) + "\n");
        }
      };
    }
  }
}

// Ad-hoc memory look (not used by the benchmark's results): with $RDS_BENCH_MEMORY_FILE set, the
// host's process.memoryUsage() every $RDS_BENCH_MEMORY_MS (default 200) as JSON lines.
const memoryFile = process.env.RDS_BENCH_MEMORY_FILE;
if (memoryFile) {
  const every = Number(process.env.RDS_BENCH_MEMORY_MS ?? 200);
  setInterval(() => {
    const status = fs.readFileSync("/proc/self/status", "utf8");
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
    const threads = kib("Threads");
    fs.appendFileSync(
      memoryFile,
      JSON.stringify({ t: Date.now(), ...process.memoryUsage(), rssAnonKiB: kib("RssAnon"), rssFileKiB: kib("RssFile"), threads }) + "\n",
    );
  }, every).unref();
}

// Ad-hoc CPU profile of the host (not used by the benchmark's results): with $RDS_BENCH_CPU_PROFILE
// set to a file, the V8 profiler runs from load to exit and writes a .cpuprofile there.
const profileFile = process.env.RDS_BENCH_CPU_PROFILE;
if (profileFile) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const inspector = require("inspector") as typeof import("inspector");
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable", () => session.post("Profiler.start"));
  const stop = () =>
    session.post("Profiler.stop", (err, result) => {
      if (!err) fs.writeFileSync(profileFile, JSON.stringify(result.profile));
    });
  process.once("SIGTERM", () => {
    stop();
    setTimeout(() => process.exit(0), 200);
  });
  process.once("beforeExit", stop);
}
