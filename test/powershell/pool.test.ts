/**
 * The session pool with real pwsh: what only a real process shows. A pwsh really killed at its
 * timeout (launcher and inner pwsh) and replaced, a pwsh that dies, idle close with a small real idle
 * time, closeAll leaving nothing running, the script events with Bootstrap.ps1's own run time,
 * finding pwsh, and no pwsh outliving Node (parent watchdog, SIGKILL, SIGTERM, an idle pool letting
 * Node exit). The pool's rules (FIFO per target, parallel targets, the cap and LRU eviction, what a
 * timeout or a dying session does to the queue, closeAll rejecting queued operations, the
 * fresh-pwsh-per-operation policy) are checked in process in pool.fast.test.ts.
 *
 * Real: pwsh processes (node-powershell), Bootstrap.ps1, the simulator transport with the real
 * emulator module, process signals (a child Node process is SIGKILLed / SIGTERMed for the
 * exit-cleanup cases; it loads the TypeScript sources through typescript's transpileModule).
 * Stand-ins: the operation scripts are fixtures that sleep, echo, or end the pwsh process.
 */
import { spawn } from "child_process";
import * as path from "path";
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
import { packageRoot } from "../../provider/paths";
import { PWSH_INSTALL_HINT } from "../../provider/powershell/executable";
import { closeAll, configurePool, onPoolEvent, poolOptions, poolStats, type PoolEvent } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey } from "../../provider/powershell/transport";
import {
  echoSchema,
  fixture,
  isRunning,
  ProcessRef,
  processRef,
  rdsErrorOf,
  removeTempDirs,
  sim,
  sleepSchema,
  tempDir,
  waitFor,
} from "./support";

// These tests are about a pwsh per target (what the remote transports always get): the simulator's
// shared workers are off here and tested in sharedWorkers.test.ts.
configurePool({ simulatorWorkers: 0 });

const stateDir = tempDir("rds-pool-test");
const anything = z.unknown();
const defaults = { ...poolOptions() };

function echo(host: string) {
  return runOperation(sim(host, stateDir), { name: "test.echo", script: fixture("Echo"), args: {}, result: echoSchema });
}

function sessionOf(host: string) {
  return poolStats().sessions.find((s) => s.key === targetKey(sim(host, stateDir)));
}

/** The running processes of a target's session: the spawned launcher and the real pwsh. */
function processesOf(host: string): ProcessRef[] {
  const session = sessionOf(host);
  const refs = [processRef(session?.pid), processRef(session?.pwshPid)];
  expect(refs.every((ref) => ref !== undefined)).toBe(true);
  return refs as ProcessRef[];
}

const allGone = (refs: ProcessRef[]) => () => refs.every((ref) => !isRunning(ref));

afterEach(async () => {
  configurePool(defaults);
});

afterAll(async () => {
  await closeAll();
  removeTempDirs();
});

// Each real pwsh start counts, so the tests below reuse what earlier ones left warm: the timeout
// and the exit each replace the pwsh of one target, and closeAll closes what the idle and events
// tests left. Run alone, a test warms its targets itself. closeAll also leaves the pool empty for
// "finding pwsh", which counts live processes.
const REPLACED = "pool-replace";
const IDLE = "pool-idle";
const EVENTS = "pool-events";

describe("timeouts and dying pwsh", () => {
  it("kills a pwsh that runs past its timeout, rejects with RDS_TIMEOUT, and replaces it", async () => {
    const host = REPLACED;
    const first = await echo(host);
    expect(sessionOf(host)?.pwshPid).toBe(first.pid);
    const before = processesOf(host);
    const startedBefore = poolStats().started;
    const timeoutsBefore = poolStats().timeouts;

    const err = await rdsErrorOf(
      runOperation(sim(host, stateDir), {
        name: "test.slow",
        script: fixture("Sleep"),
        args: { ms: 30_000 },
        result: anything,
        timeoutMs: 800,
      }),
    );
    expect(err.code).toBe(ErrorCode.Timeout);
    expect(err.message).toBe(`running test.slow on ${host}: timed out after 800 ms; its pwsh was stopped and will be replaced`);
    expect(err.host).toBe(host);
    expect(err.operation).toBe("test.slow");
    expect(poolStats().timeouts).toBe(timeoutsBefore + 1);
    // The old pwsh (and its dotnet-tool launcher) are gone.
    await waitFor("the timed-out pwsh to be gone", allGone(before), 5000);

    const next = await echo(host);
    expect(next.pid).not.toBe(first.pid);
    expect(poolStats().started).toBe(startedBefore + 1);
  });

  it("rejects the call whose pwsh dies and gives the next call a fresh pwsh", async () => {
    const host = REPLACED;
    const first = await echo(host);
    const before = processesOf(host);
    const diedBefore = poolStats().died;
    const err = await rdsErrorOf(
      runOperation(sim(host, stateDir), { name: "test.exit", script: fixture("Exit"), args: { code: 3 }, result: anything }),
    );
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toBe(
      `running test.exit on ${host}: pwsh exited during the operation (exit code 3); the next operation starts a fresh one`,
    );
    expect(poolStats().died).toBe(diedBefore + 1);
    await waitFor("the dead pwsh to be gone", allGone(before), 5000);
    const next = await echo(host);
    expect(next.pid).not.toBe(first.pid);
  });
});

describe("lifecycle", () => {
  it("closes a session after the idle time", async () => {
    configurePool({ idleMs: 400 });
    const host = IDLE;
    const first = await echo(host);
    const before = processesOf(host);
    await waitFor("the idle pwsh to close", () => sessionOf(host) === undefined && allGone(before)(), 8000);
    const startedBefore = poolStats().started;
    const again = await echo(host);
    expect(again.pid).not.toBe(first.pid);
    expect(poolStats().started).toBe(startedBefore + 1);
  });

  it("report each script with the script's own run time from Bootstrap.ps1, within the pool's round trip", async () => {
    const events: PoolEvent[] = [];
    const stop = onPoolEvent((e) => events.push(e));
    const conn = sim(EVENTS, stateDir);
    try {
      await runOperation(conn, { name: "test.sleep", script: fixture("Sleep"), args: { ms: 20 }, result: sleepSchema });
    } finally {
      stop();
    }
    const scripts = events.filter((e): e is Extract<PoolEvent, { type: "script" }> => e.type === "script");
    expect(scripts.map((e) => e.operation)).toEqual(["session.init", "test.sleep"]);
    for (const e of scripts) {
      expect(e.key).toBe(targetKey(conn));
      expect(typeof e.scriptMs).toBe("number");
      expect(e.scriptMs!).toBeLessThanOrEqual(e.durationMs + 1);
    }
  });

  it("closeAll leaves no pwsh running", async () => {
    await Promise.all([echo(IDLE), echo(EVENTS)]);
    const refs = [...processesOf(IDLE), ...processesOf(EVENTS)];
    expect(refs.every(isRunning)).toBe(true);
    await closeAll();
    expect(poolStats().alive).toBe(0);
    expect(poolStats().sessions).toEqual([]);
    await waitFor("every pwsh to be gone", allGone(refs), 5000);
  });
});

describe("finding pwsh", () => {
  const saved = { RDS_PWSH: process.env.RDS_PWSH, PATH: process.env.PATH, HOME: process.env.HOME };
  // A test below counts live pwsh processes: none may be left from earlier tests.
  beforeAll(() => closeAll());
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("says how to install PowerShell 7 when RDS_PWSH points nowhere", async () => {
    process.env.RDS_PWSH = "/nonexistent/pwsh";
    const before = poolStats().started;
    const err = await rdsErrorOf(echo("pool-no-pwsh-1"));
    expect(err.code).toBe(ErrorCode.HostUnreachable);
    expect(err.message).toContain("starting pwsh for pool-no-pwsh-1: RDS_PWSH is set to /nonexistent/pwsh");
    expect(err.message).toContain("dotnet tool install --global PowerShell --version 7.6.9");
    expect(err.message).toContain(PWSH_INSTALL_HINT);
    expect(poolStats().started).toBe(before);
  });

  it("says how to install PowerShell 7 when pwsh is neither on PATH nor in ~/.dotnet/tools", async () => {
    delete process.env.RDS_PWSH;
    process.env.PATH = "/usr/bin:/bin";
    process.env.HOME = tempDir("rds-empty-home");
    const err = await rdsErrorOf(echo("pool-no-pwsh-2"));
    expect(err.code).toBe(ErrorCode.HostUnreachable);
    expect(err.message).toContain("pwsh was not found on PATH nor at");
    expect(err.message).toContain("put ~/.dotnet/tools on PATH");
  });

  it("reports a pwsh that exits at once as RDS_HOST_UNREACHABLE", async () => {
    process.env.RDS_PWSH = "/bin/false";
    const err = await rdsErrorOf(echo("pool-bad-pwsh"));
    expect(err.code).toBe(ErrorCode.HostUnreachable);
    expect(err.message).toMatch(/^starting pwsh for pool-bad-pwsh: pwsh exited while starting \(exit code 1\)/);
    expect(poolStats().alive).toBe(0);
  });

  it("reports a target the emulator refuses (host name over its 100-byte limit) as RDS_HOST_UNREACHABLE", async () => {
    const host = "h".repeat(120);
    const err = await rdsErrorOf(echo(host));
    expect(err.code).toBe(ErrorCode.HostUnreachable);
    expect(err.message).toContain(`starting pwsh for ${host}:`);
    expect(err.message).toContain("at most 100 bytes");
  });
});

describe("no pwsh outlives Node", () => {
  // A child Node process runs operations through the pool and prints the pwsh pids; the test then
  // ends it in different ways and checks the pwsh processes are gone.
  const root = packageRoot();
  const childScript = `
    const ts = require(${JSON.stringify(require.resolve("typescript"))});
    const fs = require("fs");
    require.extensions[".ts"] = (m, filename) => m._compile(ts.transpileModule(fs.readFileSync(filename, "utf8"),
      { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, filename);
    const { runOperation } = require(${JSON.stringify(path.join(root, "provider/powershell/runner.ts"))});
    const { poolStats } = require(${JSON.stringify(path.join(root, "provider/powershell/pool.ts"))});
    const { z } = require("zod");
    const [mode, stateDir] = process.argv.slice(2);
    const conn = { transport: "simulator", host: "outlive-" + mode, stateDir };
    (async () => {
      await runOperation(conn, { name: "echo", script: ${JSON.stringify(fixture("Echo"))}, args: {}, result: z.unknown() });
      const s = poolStats().sessions[0];
      process.stdout.write(JSON.stringify({ pid: s.pid, pwshPid: s.pwshPid }) + "\\n");
      if (mode === "busy") await runOperation(conn, { name: "sleep", script: ${JSON.stringify(fixture("Sleep"))}, args: { ms: 60000 }, result: z.unknown() });
      if (mode === "idle") setInterval(() => undefined, 1000);
      // mode "natural": nothing left to do; Node must exit on its own with the pwsh idle.
    })();
  `;

  async function startChild(mode: string): Promise<{ child: ReturnType<typeof spawn>; refs: ProcessRef[] }> {
    // The child's private envelope directory goes under a temp dir of ours (a SIGKILLed child cannot remove it).
    const env = { ...process.env, TMPDIR: tempDir("rds-pool-child-tmp") };
    const child = spawn(process.execPath, ["-e", childScript, mode, stateDir], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
    const pids = await new Promise<{ pid: number; pwshPid: number }>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n")[0];
        if (out.includes("\n")) resolve(JSON.parse(line));
      });
      child.once("exit", (code) => reject(new Error(`the child exited early (${code})`)));
    });
    const refs = [processRef(pids.pid), processRef(pids.pwshPid)];
    expect(refs.every((ref) => ref !== undefined)).toBe(true);
    return { child, refs: refs as ProcessRef[] };
  }

  function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  }

  it("a busy pwsh exits when Node is SIGKILLed (parent watchdog)", async () => {
    const { child, refs } = await startChild("busy");
    await new Promise((resolve) => setTimeout(resolve, 500)); // the sleep is running
    child.kill("SIGKILL");
    await exitOf(child);
    await waitFor("the busy pwsh to exit", allGone(refs), 10_000);
  });

  it("an idle pwsh exits when Node is SIGKILLed (stdin EOF)", async () => {
    const { child, refs } = await startChild("idle");
    child.kill("SIGKILL");
    await exitOf(child);
    await waitFor("the idle pwsh to exit", allGone(refs), 10_000);
  });

  it("SIGTERM kills the sessions and still ends Node with SIGTERM", async () => {
    const { child, refs } = await startChild("idle");
    child.kill("SIGTERM");
    const { signal } = await exitOf(child);
    expect(signal).toBe("SIGTERM");
    await waitFor("the pwsh to exit", allGone(refs), 10_000);
  });

  it("an idle pool does not keep Node alive, and its pwsh goes with Node", async () => {
    const { child, refs } = await startChild("natural");
    const idleFrom = Date.now();
    const { code } = await exitOf(child);
    expect(code).toBe(0);
    expect(Date.now() - idleFrom).toBeLessThan(10_000); // far below the 60 s idle time
    await waitFor("the pwsh to exit", allGone(refs), 10_000);
  });
});
