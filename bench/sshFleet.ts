/**
 * Fleet benchmark over the ssh transport: warm sessions against the per-command way, in one run.
 *
 *   npm run bench -- --transport ssh [--quick] [--parallel 16] [--no-per-command] [--idle-ms 600000]
 *                                    [--no-controller-group]
 *
 * Needs the ssh lab (scripts/sshLab.ts: test/transports/ssh-lab-setup.sh, run as root, prepares the
 * machine) and root (the lab hands each target's emulator state directory to its account).
 *
 * What is real: the dynamic-provider host over gRPC (as in run.ts), the providers, the pool, the ssh
 * transport's exec channel (its default), Debian's sshd on a free 127.0.0.1 port, OpenSSH's client, a
 * remote pwsh per connection, the operation scripts. What stands in: the Pulumi CLI engine (driver.ts) and Windows (the WMI emulator, loaded
 * by the remote pwsh). Every target is a distinct host name dialled at 127.0.0.1 with its own
 * emulator state directory (which is also what makes it a target of its own in the pool's key, as a
 * distinct address would on a real network).
 *
 * Modes, each with its own host process, emulator state and tap:
 * - warm sessions: the production pool (per target one ssh client whose remote pwsh is the warm
 *   session, the exec channel; read coalescing on; idle close 60 s, the default) with the cap raised
 *   to the fleet's target count (the README's advice: the default 8 would evict sessions of a
 *   12-target fleet in every phase).
 * - per command: perCommand.ts, preloaded by hostTap.ts: a new ssh connection and a new remote pwsh
 *   for every script (`remote.Command` per step), no coalescing (each command is one step).
 *
 * Scheduling: both ends share the 2 cores, but on a real fleet the controller (this process, the host
 * and its ssh clients) has CPUs of its own. It runs in a cpu group with a high weight
 * (controllerGroup.ts), so it is served the moment it has work; the lab's sessions share the rest
 * among themselves as the system schedules them (a group per session), in both modes.
 *
 * Counted: connects (sshd's log: one "Accepted publickey" line per connection), scripts per target
 * (the tap), ssh connections and remote pwsh alive at once and their memory (procTree.ts), the host's
 * peak RSS, the CPU time of the host and of the lab (the remote pwsh) per phase (cpuAccount.ts) and the
 * machine's busy and steal shares: with both ends on the same cores, CPU time is what bounds both
 * modes. A benchmark, never a test: nothing here asserts a timing. Writes bench/results/fleet-ssh.json
 * and fleet-ssh.svg (not with --quick: those go to the temp dir).
 */
import { flag, numberOption } from "./cliOptions";
import { CpuAccount, machineTicks } from "./cpuAccount";
import { CONTROLLER_SCHEDULING, ControllerGroup, systemScheduling, type ControllerScheduling } from "./controllerGroup";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Connection } from "../provider/powershell/transport";
import { startProviderHost } from "../engine/grpcHost";
import { PROJECT_ROOT } from "../engine/hostProcess";
import type { ProviderHost } from "../engine/hostProtocol";
import { SshLab, labPwshPath } from "../scripts/sshLab";
import { phaseChart } from "./chart";
import { ConcurrentEngine, type PhaseRun } from "./driver";
import { buildFleet, type Fleet, type FleetSize } from "./fleet";
import type { PerCommandSettings } from "./perCommand";
import { flushTap, phaseTimings, probeReads, scriptsOn, type PhaseTimings, type ProbeResult } from "./measure";
import { mib, peakRss, resetPeakRss } from "./procMemory";
import { TreeSampler, type TreePeaks } from "./procTree";
import { summarize, type Summary } from "./stats";
import { countWindow, readTap } from "./tapLog";

/**
 * 4 license servers + 8 session hosts = 12 targets (30 packs on ls01): 12 remote pwsh warm at once
 * (about 2.7 GB) beside 12 ssh clients; the far side's pwsh start and emulator import run on the same
 * 2 cores as the controller, and the per-command half starts one for each of its 158 scripts. The
 * machine has RAM for more; the cores and the per-command half's run time set the scale (README,
 * "Over ssh").
 */
const FULL: FleetSize = { licenseServers: 4, calPacks: 30, sessionHosts: 8 };
const QUICK_SIZE: FleetSize = { licenseServers: 2, calPacks: 5, sessionHosts: 3 };

interface SshPhase extends PhaseTimings {
  /** New ssh connections sshd accepted in the phase. */
  connects: number;
  /** Warm: sessions started (an ssh client each); per command: ssh + remote pwsh started (one per script). */
  processesStarted: number;
  /** Warm: most sessions alive at once (the pool's cap bounds it); per command: most ssh clients. */
  localPeakAlive: number;
  scripts: number;
  /** Scripts on the license server holding the packs, per operation name. */
  scriptsOnPackServer: Record<string, number>;
  scriptMsByOperation: Record<string, Summary>;
  hostPeakRssMiB: number;
  trees: TreePeaks;
  /** CPU time in the phase (cpuAccount.ts), seconds: the provider host and what it started; the lab's sshd and its remote pwsh. Absent where no cgroup could be made. */
  cpuSeconds?: { host: number; lab: number };
  /** Share of the machine's CPU time that was busy in the phase (all processes, 0-1). */
  machineBusy: number;
  /** Share of it the hypervisor gave to others (steal, 0-1): the phase had that much less than its cores. */
  machineSteal: number;
  loadAverage1m: number;
  errors: { urn: string; message: string }[];
}

interface ModeRun {
  mode: string;
  env: Record<string, string>;
  phases: SshPhase[];
  probe?: ProbeResult;
  connectsTotal: number;
}

interface Ctx {
  mode: string;
  lab: SshLab;
  host: ProviderHost;
  tapFile: string;
  fleet: Fleet;
  /** The pack server's emulator state directory: it tells its pool key from the others'. */
  packStateDir: string;
  sampler: TreeSampler;
  cpu?: { host: CpuAccount; lab: CpuAccount };
}

/**
 * The emulator state directory in an ssh pool key (ssh.ts targetKey: a JSON array, the state
 * directory 6th). The key's last part is a digest keyed with random bytes of the host process, so
 * the benchmark cannot recompute a key; each target has its own state directory instead.
 */
function stateDirOfKey(key: string): string | undefined {
  try {
    const parts = JSON.parse(key) as unknown[];
    return parts[0] === "ssh" && typeof parts[5] === "string" ? parts[5] : undefined;
  } catch {
    return undefined;
  }
}

const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;

async function phase(ctx: Ctx, label: string, run: () => Promise<PhaseRun>): Promise<SshPhase> {
  const loginsBefore = ctx.lab.acceptedLogins().length;
  const cpuBefore = ctx.cpu && { host: ctx.cpu.host.seconds(), lab: ctx.cpu.lab.seconds() };
  const ticksBefore = machineTicks();
  ctx.sampler.take();
  resetPeakRss(ctx.host.pid);
  const result = await run();
  const hwm = peakRss(ctx.host.pid);
  const trees = ctx.sampler.take();
  const ticks = machineTicks();
  const round = (x: number) => Math.round(x * 100) / 100;
  const shareOf = (part: "busy" | "steal") => round((ticks[part] - ticksBefore[part]) / Math.max(1, ticks.total - ticksBefore.total));
  const cpuSeconds = ctx.cpu &&
    cpuBefore && { host: round(ctx.cpu.host.seconds() - cpuBefore.host), lab: round(ctx.cpu.lab.seconds() - cpuBefore.lab) };
  await flushTap();
  const counts = countWindow(readTap(ctx.tapFile), result.start, result.end);
  const onPack = scriptsOn(counts, (key) => stateDirOfKey(key) === ctx.packStateDir);
  const out: SshPhase = {
    ...phaseTimings(label, result),
    connects: ctx.lab.acceptedLogins().length - loginsBefore,
    processesStarted: counts.pwshStarted,
    localPeakAlive: counts.peakPwshAlive,
    scripts: counts.scripts,
    scriptsOnPackServer: onPack,
    scriptMsByOperation: Object.fromEntries(Object.entries(counts.scriptMsByOperation).map(([op, ms]) => [op, summarize(ms)])),
    hostPeakRssMiB: mib(hwm),
    trees,
    ...(cpuSeconds ? { cpuSeconds } : {}),
    machineBusy: shareOf("busy"),
    machineSteal: shareOf("steal"),
    loadAverage1m: load1(),
    errors: result.errors,
  };
  console.log(
    `  [${ctx.mode}] ${label.padEnd(16)} ${(out.wallMs / 1000).toFixed(1).padStart(7)} s  ${String(out.operations).padStart(3)} ops  ` +
      `p50 ${out.latencyMs.p50} / p95 ${out.latencyMs.p95} ms  connects ${out.connects}  scripts ${out.scripts}  ` +
      `ssh conns peak ${trees.sshConnectionsPeak}  remote pwsh peak ${trees.remotePwshPeak} (${trees.remotePwshRssMiB} MiB)  ` +
      `host ${out.hostPeakRssMiB} MiB + children ${trees.hostChildrenRssMiB} MiB  load ${out.loadAverage1m}\n` +
      `      CPU time: ${cpuSeconds ? `host ${cpuSeconds.host} s, lab (sshd, remote pwsh) ${cpuSeconds.lab} s` : "not measured (no cgroup)"}; machine busy ${Math.round(out.machineBusy * 100)}% (steal ${Math.round(out.machineSteal * 100)}%)` +
      (Object.keys(onPack).length ? `\n      scripts on the pack server: ${JSON.stringify(onPack)}` : "") +
      (out.errors.length
        ? `\n      ERRORS: ${out.errors.map((e) => `${e.urn.split("::").pop()}: ${e.message}`).join("\n              ")}`
        : ""),
  );
  return out;
}

/** The overhead probe (measure.ts probeReads, as run.ts), printed. */
async function probe(ctx: Ctx, driver: ConcurrentEngine, rounds: number): Promise<ProbeResult> {
  const result = await probeReads(driver.engine, ctx.fleet.nodes, rounds, ctx.tapFile);
  console.log(
    `  [${ctx.mode}] overhead probe: ${result.samples} sequential Reads: latency p50 ${result.readLatencyMs.p50} ms, script p50 ${result.scriptMs.p50} ms, overhead p50 ${result.overheadMs.p50} / p95 ${result.overheadMs.p95} ms`,
  );
  return result;
}

function tempDir(prefix: string, mode = 0o700): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rds-bench-ssh-${prefix}-`));
  fs.chmodSync(dir, mode);
  return dir;
}

async function runMode(
  lab: SshLab,
  name: string,
  size: FleetSize,
  parallel: number,
  env: Record<string, string>,
  withProbe: boolean,
  labCpu: CpuAccount | undefined,
): Promise<ModeRun> {
  // 0755: the lab account reaches its targets' state directories (each handed to it) from the far side.
  const stateRoot = tempDir(`${name.replace(/\W+/g, "-")}-state`, 0o755);
  const journalDir = tempDir("journal");
  const tapDir = tempDir("tap");
  const tapFile = path.join(tapDir, "pool.jsonl");
  const connectionFor = (host: string): Connection => lab.connection(host, path.join(stateRoot, host), "key");
  const fleet = await buildFleet(size, stateRoot, connectionFor);
  const host = await startProviderHost({
    callTimeoutMs: 900_000,
    startTimeoutMs: 120_000,
    env: {
      RDS_JOURNAL_DIR: journalDir,
      RDS_BENCH_TAP_FILE: tapFile,
      NODE_OPTIONS: `--require ${path.join(PROJECT_ROOT, "bin", "bench", "hostTap.js")}`,
      ...env,
    },
  });
  const sampler = new TreeSampler(host.pid, lab.listenerPid!);
  sampler.start();
  // The host's own group (one per mode: a group not yet removed never mixes two hosts' time), joined
  // before the host starts anything (its ssh clients, local pwsh).
  const hostCpu = labCpu && CpuAccount.open(`host-${name.replace(/\W+/g, "-")}`);
  hostCpu?.join(host.pid);
  const cpu = labCpu && hostCpu ? { host: hostCpu, lab: labCpu } : undefined;
  const ctx: Ctx = { mode: name, lab, host, tapFile, fleet, packStateDir: path.join(stateRoot, fleet.packServer), sampler, cpu };
  const driver = new ConcurrentEngine(host, fleet.nodes, parallel);
  const loginsAtStart = lab.acceptedLogins().length;
  const run: ModeRun = { mode: name, env: redactEnv(env), phases: [], connectsTotal: 0 };
  console.log(`\n== ${name} (host pid ${host.pid})`);
  try {
    run.phases.push(await phase(ctx, "up", () => driver.up()));
    run.phases.push(await phase(ctx, "second up", () => driver.up()));
    run.phases.push(await phase(ctx, "refresh", () => driver.refresh()));
    run.phases.push(await phase(ctx, "refresh (packs)", () => driver.refresh((n) => n.kind === "calPack")));
    if (withProbe) run.probe = await probe(ctx, driver, 2);
    run.phases.push(await phase(ctx, "destroy", () => driver.destroy()));
  } finally {
    run.connectsTotal = lab.acceptedLogins().length - loginsAtStart;
    sampler.stop();
    await host.close();
    await hostCpu?.close();
    for (const d of [stateRoot, journalDir, tapDir]) fs.rmSync(d, { recursive: true, force: true });
  }
  return run;
}

/** The per-command settings hold paths only; kept in the results as they are, other values too. */
function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, k === "RDS_BENCH_PER_COMMAND" ? "(key file, known_hosts, remote pwsh)" : v]),
  );
}

/** The simulator benchmark's overhead, from its last full run (bench/results/fleet.json). */
function simulatorReference(): Record<string, unknown> | undefined {
  const file = path.join(PROJECT_ROOT, "bench", "results", "fleet.json");
  if (!fs.existsSync(file)) return undefined;
  const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { started: string; must: Record<string, unknown> };
  return {
    source: "bench/results/fleet.json (the simulator benchmark's last full run; shared simulator workers)",
    started: doc.started,
    providerOverheadP50Ms: doc.must.providerOverheadP50Ms,
    providerOverheadP95Ms: doc.must.providerOverheadP95Ms,
    upPlusRefreshSpeedup: doc.must.upPlusRefreshSpeedup,
  };
}

export async function runSshFleet(): Promise<void> {
  const quick = flag("quick");
  const parallel = numberOption("parallel", 16);
  // The production idle close (60 s) unless given: a variant to see what the reconnects after it cost.
  const idleMs = flag("idle-ms") ? numberOption("idle-ms", 60_000) : undefined;
  const variant = quick || idleMs !== undefined || flag("no-per-command") || flag("no-controller-group");
  const size = quick ? QUICK_SIZE : FULL;
  const targets = size.licenseServers + size.sessionHosts;
  const started = new Date().toISOString();
  const machine = {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    totalMemMiB: Math.round(os.totalmem() / 1048576),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  console.log(
    `fleet benchmark over ssh: ${size.licenseServers} license servers, ${size.calPacks} CAL packs (all on ls01), ${size.sessionHosts} session hosts = ${targets} targets; ${parallel} operations in flight`,
  );
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemMiB} MiB, load average ${machine.loadAverageAtStart.join(" ")}`,
  );
  const lab = new SshLab();
  await lab.start();
  // The lab's sshd in a group of its own: every remote pwsh of both modes runs under it.
  const labCpu = CpuAccount.open("lab");
  labCpu?.join(lab.listenerPid!);
  const work = tempDir("client");
  const knownHostsFile = path.join(work, "known_hosts");
  fs.writeFileSync(knownHostsFile, `[${lab.address}]:${lab.port} ${lab.hostKey}\n`, { mode: 0o600 });
  const perCommandSettings: PerCommandSettings = { keyFile: lab.clientKeyFile, knownHostsFile, remotePwsh: labPwshPath() };
  let warm: ModeRun;
  let perCommand: ModeRun | undefined;
  // The controller runs the moment it has work, as on a machine of its own, in both modes. Joined
  // after the lab has started: the lab's sshd stays in the root group, so its sessions keep a
  // scheduling group each, as before (controllerGroup.ts).
  const controllerGroup = flag("no-controller-group") ? undefined : ControllerGroup.open();
  const controllerScheduling: ControllerScheduling = controllerGroup ? CONTROLLER_SCHEDULING : systemScheduling();
  console.log(`controller scheduling: ${controllerScheduling}`);
  try {
    warm = await runMode(
      lab,
      "warm sessions",
      size,
      parallel,
      { RDS_POOL_MAX_SESSIONS: String(targets), ...(idleMs === undefined ? {} : { RDS_POOL_IDLE_MS: String(idleMs) }) },
      true,
      labCpu,
    );
    if (!flag("no-per-command"))
      perCommand = await runMode(
        lab,
        "per command",
        size,
        parallel,
        { RDS_BENCH_PER_COMMAND: JSON.stringify(perCommandSettings), RDS_COALESCE_WINDOW_MS: "0" },
        false,
        labCpu,
      );
  } finally {
    await lab.stop();
    await labCpu?.close();
    await controllerGroup?.close();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const wall = (r: ModeRun | undefined, p: string) => r?.phases.find((x) => x.phase === p)?.wallMs ?? NaN;
  const labels = ["up", "second up", "refresh", "refresh (packs)", "destroy"];
  const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
  const ratios: Record<string, number> = {};
  for (const l of labels) ratios[l] = ratio(wall(perCommand, l), wall(warm, l));
  const upRefresh = {
    warmMs: wall(warm, "up") + wall(warm, "refresh"),
    perCommandMs: wall(perCommand, "up") + wall(perCommand, "refresh"),
  };
  ratios["up + refresh"] = ratio(upRefresh.perCommandMs, upRefresh.warmMs);
  const packs = warm.phases.find((p) => p.phase === "refresh (packs)")!;
  // What bounds both modes: CPU time in up + refresh, both ends of every connection on the same cores.
  const cpuOf = (r: ModeRun | undefined) => {
    const phases = (r?.phases ?? []).filter((p) => p.phase === "up" || p.phase === "refresh");
    if (phases.length === 0 || phases.some((p) => !p.cpuSeconds)) return undefined;
    const sum = (f: (c: { host: number; lab: number }) => number) => Math.round(phases.reduce((a, p) => a + f(p.cpuSeconds!), 0) * 10) / 10;
    return { host: sum((c) => c.host), lab: sum((c) => c.lab), machineBusy: phases.map((p) => p.machineBusy) };
  };
  const must = {
    upPlusRefreshSpeedup: ratios["up + refresh"],
    warmUpPlusRefreshMs: upRefresh.warmMs,
    perCommandUpPlusRefreshMs: upRefresh.perCommandMs,
    targets,
    warmConnectsTotal: warm.connectsTotal,
    warmConnectsPerPhase: Object.fromEntries(warm.phases.map((p) => [p.phase, p.connects])),
    warmReconnects: Math.max(0, warm.connectsTotal - targets),
    perCommandConnectsTotal: perCommand?.connectsTotal,
    packRefreshReads: size.calPacks,
    packRefreshScriptsOnPackServer: Object.values(packs.scriptsOnPackServer).reduce((a, b) => a + b, 0),
    packRefreshScriptsByOperation: packs.scriptsOnPackServer,
    perCommandPackRefreshScriptsOnPackServer: perCommand
      ? Object.values(perCommand.phases.find((p) => p.phase === "refresh (packs)")!.scriptsOnPackServer).reduce((a, b) => a + b, 0)
      : undefined,
    upPlusRefreshCpuSeconds: { warm: cpuOf(warm), perCommand: cpuOf(perCommand) },
    sshOverheadP50Ms: warm.probe?.overheadMs.p50,
    sshOverheadP95Ms: warm.probe?.overheadMs.p95,
    simulator: simulatorReference(),
    warmPeakSshConnections: Math.max(...warm.phases.map((p) => p.trees.sshConnectionsPeak)),
    warmPeakRemotePwsh: Math.max(...warm.phases.map((p) => p.trees.remotePwshPeak)),
    warmPeakRemotePwshRssMiB: Math.max(...warm.phases.map((p) => p.trees.remotePwshRssMiB)),
    warmPeakHostRssMiB: Math.max(...warm.phases.map((p) => p.hostPeakRssMiB)),
    warmPeakHostChildrenRssMiB: Math.max(...warm.phases.map((p) => p.trees.hostChildrenRssMiB)),
  };

  console.log("\n== per command / warm sessions (wall time)");
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(16)} ${v}×`);
  console.log("\n== must-show numbers (ssh)");
  console.log(
    `  up + refresh: warm ${(upRefresh.warmMs / 1000).toFixed(1)} s, per command ${(upRefresh.perCommandMs / 1000).toFixed(1)} s: ${must.upPlusRefreshSpeedup}×`,
  );
  console.log(
    `  connects with warm sessions: ${must.warmConnectsTotal} for ${targets} targets over the whole run (${JSON.stringify(must.warmConnectsPerPhase)}); per command: ${must.perCommandConnectsTotal}`,
  );
  console.log(
    `  refresh of the ${size.calPacks} packs on ls01: ${must.packRefreshScriptsOnPackServer} script invocation(s) on that host ${JSON.stringify(must.packRefreshScriptsByOperation)} (per command: ${must.perCommandPackRefreshScriptsOnPackServer})`,
  );
  const cpuLine = (c: ReturnType<typeof cpuOf>) =>
    c
      ? `host ${c.host} s + lab ${c.lab} s (machine busy ${c.machineBusy.map((b) => `${Math.round(b * 100)}%`).join(", ")})`
      : "not measured";
  console.log(
    `  CPU time in up + refresh: warm ${cpuLine(must.upPlusRefreshCpuSeconds.warm)}; per command ${cpuLine(must.upPlusRefreshCpuSeconds.perCommand)}`,
  );
  console.log(
    `  provider overhead per Read over ssh, warm: p50 ${must.sshOverheadP50Ms} ms, p95 ${must.sshOverheadP95Ms} ms (simulator: ${JSON.stringify(must.simulator)})`,
  );
  console.log(
    `  peaks with warm sessions: ${must.warmPeakSshConnections} ssh connections, ${must.warmPeakRemotePwsh} remote pwsh (${must.warmPeakRemotePwshRssMiB} MiB), host ${must.warmPeakHostRssMiB} MiB + its pwsh/ssh ${must.warmPeakHostChildrenRssMiB} MiB`,
  );

  const doc = {
    benchmark: "fleet over ssh",
    started,
    finished: new Date().toISOString(),
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100), controllerScheduling },
    fleet: { ...size, targets, packServer: "ls01", parallel, quick, cap: targets, idleMs: idleMs ?? "default (60000)" },
    must,
    ratios,
    warm,
    perCommand,
  };
  // Only the full run with the production settings writes the results the README quotes.
  const resultsDir = variant ? tempDir("results", 0o755) : path.join(PROJECT_ROOT, "bench", "results");
  fs.writeFileSync(path.join(resultsDir, "fleet-ssh.json"), JSON.stringify(doc, null, 2) + "\n");
  if (perCommand) {
    const rows = labels.map((l) => ({ label: l, pooledMs: wall(warm, l), naiveMs: wall(perCommand, l) }));
    rows.push({ label: "up + refresh", pooledMs: upRefresh.warmMs, naiveMs: upRefresh.perCommandMs });
    const subtitle = `ssh to loopback sshd: ${size.licenseServers} LS, ${size.calPacks} CAL packs, ${size.sessionHosts} session hosts (${targets} targets); ${parallel} in flight; ${machine.cpus} CPUs, load ${machine.loadAverageAtStart[0]}`;
    const names = { pooled: "warm sessions (one per target)", naive: "per command (new ssh + pwsh per script)", short: "warm" };
    fs.writeFileSync(
      path.join(resultsDir, "fleet-ssh.svg"),
      phaseChart(rows, "Fleet over ssh: warm sessions vs per command", subtitle, names, "bench/sshFleet.ts"),
    );
  }
  console.log(`\nwrote ${path.join(resultsDir, "fleet-ssh.json")}${perCommand ? " and fleet-ssh.svg" : ""}`);
}
