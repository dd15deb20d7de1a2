/**
 * The session pool with real pwsh: what only a real process shows. A pwsh really killed at its
 * timeout (launcher and inner pwsh) and replaced, its envelope file gone; a pwsh that really exits
 * mid-operation, with its exit code; an idle pwsh really closed after a small idle time; closeAll
 * leaving nothing running; the script events with Bootstrap.ps1's own run time; finding pwsh; and no
 * pwsh outliving Node (parent watchdog, SIGKILL, SIGTERM, an idle pool letting Node exit). The pool's
 * rules (FIFO per target, parallel targets, the cap and LRU eviction, what a timeout or a dying
 * session does to the queue, the next operation after a death or an idle close starting a fresh
 * pwsh, closeAll rejecting queued operations, the fresh-pwsh-per-operation policy) are checked in
 * process in pool.fast.test.ts.
 *
 * Real: pwsh processes (node-powershell), Bootstrap.ps1, the simulator transport with the real
 * emulator module, process signals (a child Node process is SIGKILLed / SIGTERMed for the
 * exit-cleanup cases; it loads the TypeScript sources through typescript's transpileModule).
 * Stand-ins: the operation scripts are fixtures that sleep, echo, or end the pwsh process.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
import { packageRoot } from "../../provider/paths";
import { PWSH_INSTALL_HINT } from "../../provider/powershell/executable";
import * as localPwsh from "../../provider/powershell/localPwsh";
import { closeAll, configurePool, onCommand, onPoolEvent, poolOptions, poolStats, type PoolEvent } from "../../provider/powershell/pool";
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
// test leaves a replacement pwsh that the exit test ends; the events test leaves a pwsh that the
// idle test lets close. What the pool does next (a fresh pwsh for the next operation) is in
// pool.fast.test.ts. Run alone, a test warms its targets itself. closeAll also leaves the pool empty
// for "finding pwsh", which counts live processes.
const REPLACED = "pool-replace";
const EVENTS = "pool-events";
const CLOSED = "pool-close-all";

describe("timeouts and dying pwsh", () => {
  it("kills a pwsh that runs past its timeout, rejects with RDS_TIMEOUT, and replaces it", async () => {
    const host = REPLACED;
    const first = await echo(host);
    expect(sessionOf(host)?.pwshPid).toBe(first.pid);
    const before = processesOf(host);
    const startedBefore = poolStats().started;
    const timeoutsBefore = poolStats().timeouts;

    const envelopes: string[] = [];
    const stop = onCommand((command) => {
      const match = /-EnvelopePath '((?:[^']|'')*)'$/.exec(command);
      if (match !== null) envelopes.push(match[1].replace(/''/g, "'"));
    });
    const err = await rdsErrorOf(
      runOperation(sim(host, stateDir), {
        name: "test.slow",
        script: fixture("Sleep"),
        args: { ms: 30_000 },
        result: anything,
        timeoutMs: 800,
      }),
    ).finally(stop);
    expect(err.code).toBe(ErrorCode.Timeout);
    expect(err.message).toBe(`running test.slow on ${host}: timed out after 800 ms; its pwsh was stopped and will be replaced`);
    expect(err.host).toBe(host);
    expect(err.operation).toBe("test.slow");
    expect(poolStats().timeouts).toBe(timeoutsBefore + 1);
    // The old pwsh (and its dotnet-tool launcher) are gone, and so is the envelope file it had read
    // (a timeout before pwsh reads it: pool.fast.test.ts).
    await waitFor("the timed-out pwsh to be gone", allGone(before), 5000);
    expect(envelopes).toHaveLength(1);
    expect(fs.existsSync(envelopes[0])).toBe(false);

    const next = await echo(host);
    expect(next.pid).not.toBe(first.pid);
    expect(poolStats().started).toBe(startedBefore + 1);
  });

  it("rejects the call whose pwsh really exits mid-operation, with its exit code, and the pwsh is gone", async () => {
    const host = REPLACED;
    await echo(host);
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
    expect(sessionOf(host)).toBeUndefined();
  });
});

describe("lifecycle", () => {
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

  it("closes a session after the idle time: the pwsh and its launcher really exit", async () => {
    const host = EVENTS;
    configurePool({ idleMs: 400 });
    await echo(host); // warm from the events test (run alone: started here); idle from now on
    const before = processesOf(host);
    await waitFor("the idle pwsh to close", () => sessionOf(host) === undefined && allGone(before)(), 8000);
  });

  it("closeAll leaves no pwsh running", async () => {
    await echo(CLOSED);
    const refs = processesOf(CLOSED);
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

  it("says how to install PowerShell 7 when pwsh is neither on PATH, in ~/.dotnet/tools nor in a project-local .tools/pwsh", async () => {
    delete process.env.RDS_PWSH;
    process.env.PATH = "/usr/bin:/bin";
    process.env.HOME = tempDir("rds-empty-home");
    // The project-local pwsh the lookup tries (under the package root and the working directory) is
    // one in an empty folder: a fresh clone's npm test installs PowerShell into <repo>/.tools/pwsh.
    const elsewhere = tempDir("rds-no-local-pwsh");
    const missing = path.join(elsewhere, ".tools", "pwsh", "pwsh");
    const local = jest.spyOn(localPwsh, "localPwshExecutable").mockReturnValue(missing);
    try {
      const err = await rdsErrorOf(echo("pool-no-pwsh-2"));
      expect(err.code).toBe(ErrorCode.HostUnreachable);
      expect(err.message).toContain("pwsh was not found on PATH nor at");
      expect(err.message).toContain(`nor in the project-local tool folder .tools/pwsh (${missing}`);
      expect(err.message).toContain("put ~/.dotnet/tools on PATH");
    } finally {
      local.mockRestore();
    }
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
  // A child Node process runs operations through the pool (a pwsh per target) and prints the pids of
  // its pwsh processes; the test then ends it in different ways and checks the pwsh processes are gone.
  const root = packageRoot();
  // The children load the TypeScript sources through transpileModule. Transpiling them takes longer than
  // the rest of a child's start, so the first child writes each module's output to a cache shared by the
  // children of this file, keyed by the source's path and text (an edited source is transpiled again).
  const transpileCache = tempDir("rds-pool-child-ts");
  const childScript = `
    const fs = require("fs");
    const path = require("path");
    const crypto = require("crypto");
    let ts;
    require.extensions[".ts"] = (m, filename) => {
      const source = fs.readFileSync(filename, "utf8");
      const cached = path.join(${JSON.stringify(transpileCache)}, crypto.createHash("sha256").update(filename + "\\0" + source).digest("hex") + ".js");
      let js;
      try {
        js = fs.readFileSync(cached, "utf8");
      } catch {
        ts ??= require(${JSON.stringify(require.resolve("typescript"))});
        js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
        fs.writeFileSync(cached + "." + process.pid, js);
        fs.renameSync(cached + "." + process.pid, cached); // whole, for a child reading it at the same time
      }
      m._compile(js, filename);
    };
    const { runOperation } = require(${JSON.stringify(path.join(root, "provider/powershell/runner.ts"))});
    const { configurePool, poolStats } = require(${JSON.stringify(path.join(root, "provider/powershell/pool.ts"))});
    const { z } = require("zod");
    // Under "node -e" the arguments start at process.argv[1].
    const [mode, stateDir, beginFile] = process.argv.slice(1);
    const print = (value) => process.stdout.write(JSON.stringify(value) + "\\n");
    configurePool({ simulatorWorkers: 0 });
    const conn = (name) => ({ transport: "simulator", host: "outlive-" + mode + "-" + name, stateDir });
    // Registered before the pool's own handlers (the pool installs them when it starts its first pwsh).
    let reported = false;
    process.on("beforeExit", () => {
      if (reported) return;
      reported = true;
      print({ beforeExit: { alive: poolStats().alive } });
    });
    (async () => {
      const names = mode === "kill" ? ["idle", "busy"] : ["idle"];
      await Promise.all(names.map((name) => runOperation(conn(name), { name: "echo", script: ${JSON.stringify(fixture("Echo"))}, args: {}, result: z.unknown() })));
      print(poolStats().sessions.map((s) => ({ pid: s.pid, pwshPid: s.pwshPid })));
      // mode "kill": one pwsh idle, one busy in a long sleep (it appends "begin" to beginFile once running).
      if (mode === "kill") await runOperation(conn("busy"), { name: "sleep", script: ${JSON.stringify(fixture("Sleep"))}, args: { ms: 60000, file: beginFile, id: 1 }, result: z.unknown() });
      // mode "term": Node stays busy with a timer of its own, the pwsh idle.
      if (mode === "term") setInterval(() => undefined, 1000);
      // mode "natural": nothing left to do; Node must exit on its own with the pwsh idle.
    })();
  `;

  interface Child {
    child: ReturnType<typeof spawn>;
    refs: ProcessRef[];
    /** Resolves with the n-th JSON line the child printed (0: the pwsh pids). */
    line<T>(n: number): Promise<T>;
  }

  async function startChild(mode: "kill" | "term" | "natural", beginFile = ""): Promise<Child> {
    // The child's private envelope directory goes under a temp dir of ours (a SIGKILLed child cannot remove it).
    const env = { ...process.env, TMPDIR: tempDir("rds-pool-child-tmp") };
    const child = spawn(process.execPath, ["-e", childScript, mode, stateDir, beginFile], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const waiting: Array<() => void> = [];
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      for (const wake of waiting.splice(0)) wake();
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const line = async <T>(n: number): Promise<T> => {
      for (;;) {
        const lines = out.split("\n");
        if (lines.length > n + 1) return JSON.parse(lines[n]) as T;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the child exited before printing line ${n}:\n${out}`);
        await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), exited]);
      }
    };
    const sessions = await line<Array<{ pid: number; pwshPid: number }>>(0);
    expect(sessions).toHaveLength(mode === "kill" ? 2 : 1);
    const refs = sessions.flatMap((s) => [processRef(s.pid), processRef(s.pwshPid)]);
    expect(refs.every((ref) => ref !== undefined)).toBe(true);
    return { child, refs: refs as ProcessRef[], line };
  }

  function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  }

  it("when Node is SIGKILLed, a busy pwsh exits (parent watchdog) and an idle one too (stdin EOF)", async () => {
    const beginFile = path.join(tempDir("rds-pool-busy"), "log.txt");
    const { child, refs } = await startChild("kill", beginFile);
    await waitFor(
      "the sleep to be running",
      () => fs.existsSync(beginFile) && fs.readFileSync(beginFile, "utf8").includes("begin 1"),
      60_000,
    );
    child.kill("SIGKILL");
    await exitOf(child);
    await waitFor("both pwsh to exit", allGone(refs), 10_000);
  });

  it("SIGTERM kills the sessions and still ends Node with SIGTERM", async () => {
    const { child, refs } = await startChild("term");
    child.kill("SIGTERM");
    const { signal } = await exitOf(child);
    expect(signal).toBe("SIGTERM");
    await waitFor("the pwsh to exit", allGone(refs), 10_000);
  });

  it("an idle pool does not keep Node alive, and its pwsh goes with Node", async () => {
    const { child, refs, line } = await startChild("natural");
    // Node ran out of work while its pwsh was still warm: the pool's idle close (60 s) had not been
    // needed to let it go. Had the idle pwsh held Node, beforeExit would come only after that close.
    expect(await line<{ beforeExit: { alive: number } }>(1)).toEqual({ beforeExit: { alive: 1 } });
    const { code } = await exitOf(child);
    expect(code).toBe(0);
    await waitFor("the pwsh to exit", allGone(refs), 10_000);
  });
});
