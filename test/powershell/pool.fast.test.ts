/**
 * The session pool's rules, in process: per-target FIFO, parallel targets, the cap and LRU eviction,
 * idle close, timeouts (and no envelope file left after one) and dying sessions, closing the pool, the
 * fresh-pwsh-per-operation policy and shared worker groups. Each test asserts the order and count of
 * events, never a duration.
 *
 * Real: the SessionPool and all its parts (Session with its timeout / kill / close logic, Capacity,
 * WorkerGroup, start and bind steps, telemetry), the envelope files, the result-document parser.
 * Stand-ins: pwsh (FakeShells from fakeShell.ts answer the Bootstrap hello and run named
 * behaviours: answer, hang, die, wait for a gate), the transport (fakeTransport: a pwsh per target,
 * or worker groups per state directory like the simulator's), and time (jest fake timers drive idle
 * closes, timeouts and the LRU clock). What only a real pwsh shows (a process really killed, the
 * parent watchdog, host binding inside pwsh) is in pool.test.ts and sharedWorkers.test.ts.
 */
import * as fs from "fs";
import { ErrorCode } from "../../provider/errors";
import {
  SessionPool,
  freshPwshPerOperation,
  warmSessions,
  type PoolEvent,
  type PoolHooks,
  type PoolOptions,
  type TargetSpec,
} from "../../provider/powershell/pool";
import { FakeShells, fakeTarget, fakeTransport, settle } from "./fakeShell";
import { rdsErrorOf } from "./support";

interface Answer {
  host: string;
  pid: number;
  args: Record<string, unknown>;
}

const baseOptions: PoolOptions = { idleMs: 60_000, maxSessions: 8, startupTimeoutMs: 120_000, simulatorWorkers: 0 };
const ownPwsh = fakeTransport(false);
const workers = fakeTransport(true);

let shells: FakeShells;
let pool: SessionPool;
let events: PoolEvent[];

function newPool(options: Partial<PoolOptions> = {}, hooks: PoolHooks = warmSessions): SessionPool {
  pool = new SessionPool({ options: { ...baseOptions, ...options }, hooks, startShell: shells.start });
  pool.telemetry.onPoolEvent((e) => events.push(e));
  return pool;
}

/** Runs a fake script on a target; resolves with what it answered. */
async function op(target: TargetSpec, script: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<Answer> {
  const outcome = await pool.run(target, (session) =>
    session.runScript({ name: `test.${script}`, script, args, host: target.host, timeoutMs }),
  );
  if (!outcome.document.ok) throw new Error(`the fake script failed: ${outcome.document.error.message}`);
  return outcome.document.result as Answer;
}

/** Moves the fake clock (idle timers, timeouts, lastUsed) and lets the pool react. */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
  await settle();
}

const starts = () => events.filter((e) => e.type === "start");
const exitedPids = () => shells.entries("exit").map((e) => e.pid);

/** Most fake processes alive at once, from the journal. */
function peakAlive(): number {
  let alive = 0;
  let peak = 0;
  for (const e of shells.journal) {
    if (e.type === "spawn") alive++;
    if (e.type === "exit") alive--;
    peak = Math.max(peak, alive);
  }
  return peak;
}

/** begin/end of one host's operations must alternate: never two running at once. */
function expectOneAtATime(host: string): void {
  const marks = shells.journal.filter((e) => (e.type === "begin" || e.type === "end") && e.script !== "init" && e.host === host);
  marks.forEach((e, i) => expect(e.type).toBe(i % 2 === 0 ? "begin" : "end"));
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
  shells = new FakeShells();
  events = [];
  newPool();
});

afterEach(async () => {
  await pool.close();
  jest.useRealTimers();
});

describe("a pwsh per target", () => {
  const a = fakeTarget(ownPwsh, "a");
  const b = fakeTarget(ownPwsh, "b");
  const c = fakeTarget(ownPwsh, "c");

  it("runs one target's operations one at a time, in the order they were queued, on one warm session", async () => {
    const runs = [0, 1, 2, 3, 4].map((id) => op(a, "gate", { gate: `g${id}`, id }));
    await settle();
    expect(shells.begun()).toEqual(["gate:a"]);
    shells.open("g2"); // opening a later gate first changes nothing: g2 has not started
    await settle();
    expect(shells.begun()).toHaveLength(1);
    for (const id of [0, 1, 3, 4]) {
      shells.open(`g${id}`);
      await settle();
    }
    const results = await Promise.all(runs);
    expect(results.map((r) => r.args.id)).toEqual([0, 1, 2, 3, 4]);
    expect(
      shells
        .entries("begin")
        .filter((e) => e.script === "gate")
        .map((e) => e.args.id),
    ).toEqual([0, 1, 2, 3, 4]);
    expectOneAtATime("a");
    expect(new Set(results.map((r) => r.pid)).size).toBe(1);
    expect(shells.entries("spawn")).toHaveLength(1);
  });

  it("a target that cannot be reached fails what is queued behind the first try with the same error; later operations try again", async () => {
    // A transport whose connect (its init operation) always fails: the pwsh exits during it.
    const unreachable = fakeTarget(
      { ...ownPwsh, initOperation: () => ({ name: "session.init", script: "die", args: { code: 1 } }) },
      "down",
    );
    const queued = [0, 1, 2].map((id) => rdsErrorOf(op(unreachable, "echo", { id })));
    const errors = await Promise.all(queued);
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.HostUnreachable, ErrorCode.HostUnreachable, ErrorCode.HostUnreachable]);
    expect(new Set(errors.map((e) => e.message)).size).toBe(1);
    // Each its own error object (a resource rephrases the one it gets).
    expect(new Set(errors).size).toBe(3);
    // One start for the three: the two behind it did not each start a pwsh and connect.
    expect(shells.entries("spawn")).toHaveLength(1);
    expect(shells.begun()).toEqual(["die:down"]); // one connect, and no operation ran
    // An operation queued after the failure tries again.
    expect((await rdsErrorOf(op(unreachable, "echo", { id: 3 }))).code).toBe(ErrorCode.HostUnreachable);
    expect(shells.entries("spawn")).toHaveLength(2);
  });

  it("runs different targets in parallel, each on its own session", async () => {
    const runs = [op(a, "gate", { gate: "a" }), op(b, "gate", { gate: "b" })];
    await settle();
    expect(shells.begun().sort()).toEqual(["gate:a", "gate:b"]); // both running before either is let go
    shells.open("a");
    shells.open("b");
    const [ra, rb] = await Promise.all(runs);
    expect(ra.pid).not.toBe(rb.pid);
  });

  it("never has more sessions than maxSessions: with every session busy, the next start waits for one to go idle", async () => {
    newPool({ maxSessions: 2 });
    const runs = [a, b, c].map((t) => op(t, "gate", { gate: t.host }));
    await settle();
    expect(shells.begun()).toEqual(["gate:a", "gate:b"]);
    expect(shells.entries("spawn")).toHaveLength(2);
    const aPid = shells.entries("spawn")[0].pid;
    shells.open("a");
    await settle();
    // a's idle session was closed to make room, and only then c's started.
    const kinds = shells.journal.map((e) => (e.type === "spawn" || e.type === "exit" ? `${e.type}:${e.pid}` : ""));
    const cPid = shells.entries("spawn")[2].pid;
    expect(kinds.indexOf(`exit:${aPid}`)).toBeLessThan(kinds.indexOf(`spawn:${cPid}`));
    shells.open("b");
    shells.open("c");
    await Promise.all(runs);
    expect(peakAlive()).toBeLessThanOrEqual(2);
    expect(pool.stats().alive).toBeLessThanOrEqual(2);
  });

  it("under the cap, closes the least recently used idle session to start a new one", async () => {
    newPool({ maxSessions: 2 });
    await op(a, "echo");
    await advance(10);
    const bPid = (await op(b, "echo")).pid;
    await advance(10);
    await op(a, "echo"); // b is now the least recently used
    await advance(10);
    await op(c, "echo");
    await settle();
    expect(exitedPids()).toEqual([bPid]);
    expect(
      pool
        .stats()
        .sessions.map((s) => s.key)
        .sort(),
    ).toEqual([a.key, c.key].sort());
    expect(pool.stats().warm).toBe(2);
    expect(pool.stats().alive).toBe(2);
  });

  it("an operation waiting for a place under the cap fails when the pool closes, and starts no session", async () => {
    newPool({ maxSessions: 1 });
    const busy = op(a, "hang");
    await settle();
    const waiting = rdsErrorOf(op(b, "echo"));
    await settle();
    await pool.close();
    const err = await waiting;
    expect(err.code).toBe(ErrorCode.HostUnreachable);
    expect(err.message).toContain("the session pool was closed");
    await busy.catch(() => undefined);
    expect(starts().map((e) => e.key)).toEqual([a.key]);
  });

  it("closes a session once it has been idle for idleMs, and the next operation starts a fresh one", async () => {
    newPool({ idleMs: 1000 });
    const first = await op(a, "echo");
    await advance(500);
    const second = await op(b, "echo"); // idle from 500 on
    await advance(499);
    expect(exitedPids()).toEqual([]);
    await advance(1);
    expect(exitedPids()).toEqual([first.pid]); // only a's idle time is up
    await advance(500);
    expect(exitedPids()).toEqual([first.pid, second.pid]);
    expect(pool.stats().sessions).toEqual([]);
    const again = await op(a, "echo");
    expect(again.pid).not.toBe(first.pid);
    expect(shells.entries("spawn")).toHaveLength(3);
  });

  it("a timeout kills only its own session; the operations queued behind it run on one fresh session", async () => {
    const first = await op(a, "echo");
    const other = op(b, "gate", { gate: "b" });
    // What the pool had seen exit when the timeout error reached the caller.
    // What the pool had seen exit when the timeout error reached the pool's caller.
    let exitedAtRejection: (number | undefined)[] = [];
    const hung = rdsErrorOf(
      pool
        .run(a, (session) => session.runScript({ name: "test.hang", script: "hang", args: {}, host: "a", timeoutMs: 500 }))
        .catch((e: unknown) => {
          exitedAtRejection = events.filter((ev) => ev.type === "exit").map((ev) => ev.pid);
          throw e;
        }),
    );
    const after = [op(a, "echo", { n: 1 }), op(a, "echo", { n: 2 })];
    await settle();
    expect(exitedPids()).toEqual([]);
    await advance(500);
    const err = await hung;
    expect(err.code).toBe(ErrorCode.Timeout);
    expect(err.message).toBe("running test.hang on a: timed out after 500 ms; its pwsh was stopped and will be replaced");
    expect(err.host).toBe("a");
    expect(err.operation).toBe("test.hang");
    expect(pool.stats().timeouts).toBe(1);
    expect(exitedAtRejection).toEqual([first.pid]); // killed before the error is returned
    const [x, y] = await Promise.all(after);
    expect(x.pid).toBe(y.pid);
    expect(x.pid).not.toBe(first.pid);
    expect(exitedPids()).toEqual([first.pid]); // b's session was not touched
    shells.open("b");
    expect((await other).host).toBe("b");
    expect(exitedPids()).toEqual([first.pid]);
  });

  it("a timeout leaves no envelope file behind, whether or not the pwsh got to delete it", async () => {
    // The fake reads the envelope but never deletes it (Bootstrap.ps1 would): the pool removes it itself.
    // A real pwsh that had read and deleted it before its timeout: pool.test.ts.
    const envelopes: string[] = [];
    pool.telemetry.onCommand((command) => {
      const match = /^Invoke-RdsOperation -ScriptPath 'hang' -EnvelopePath '((?:[^']|'')*)'$/.exec(command);
      if (match !== null) envelopes.push(match[1].replace(/''/g, "'"));
    });
    const hung = rdsErrorOf(op(a, "hang", {}, 500));
    await settle();
    expect(envelopes).toHaveLength(1);
    expect(fs.existsSync(envelopes[0])).toBe(true); // written, and still there while the operation runs
    await advance(500);
    expect((await hung).code).toBe(ErrorCode.Timeout);
    expect(fs.existsSync(envelopes[0])).toBe(false);
  });

  it("rejects the call whose session dies and gives the next call a fresh one", async () => {
    const first = await op(a, "echo");
    const err = await rdsErrorOf(op(a, "die", { code: 3 }));
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toBe(
      "running test.die on a: pwsh exited during the operation (exit code 3); the next operation starts a fresh one",
    );
    expect(pool.stats().died).toBe(1);
    const next = await op(a, "echo");
    expect(next.pid).not.toBe(first.pid);
    expect(exitedPids()).toEqual([first.pid]);
  });

  it("says why a pwsh that crashed at start did, and how to fix it; a crash after an answer is an ordinary death", async () => {
    // A corrupt startup profile kills every pwsh of the account at start (SIGSEGV; 139 through a shell).
    shells.crashAtStart(139);
    const viaShell = await rdsErrorOf(op(a, "echo"));
    shells.crashAtStart(null, "SIGABRT");
    const bySignal = await rdsErrorOf(op(b, "echo"));
    const advice = (kind: string) =>
      `pwsh crashed (${kind}) before it answered; a known cause is a corrupt PowerShell startup profile of that account, ` +
      "left by pwsh processes that exited together (PowerShell issue 26528): delete StartupProfileData-NonInteractive " +
      "and StartupProfileData-SSHServerMode from its PowerShell cache folder (~/.cache/powershell on Linux and macOS, " +
      "%LOCALAPPDATA%\\Microsoft\\PowerShell on Windows; %LOCALAPPDATA%\\Microsoft\\Windows\\PowerShell for Windows PowerShell 5.1), " +
      "then run again";
    expect(viaShell.message).toContain(`(exit code 139); ${advice("SIGSEGV")}`);
    expect(bySignal.message).toContain(`(signal SIGABRT); ${advice("SIGABRT")}`);
    // The same exit once the pwsh has answered: no advice, the usual message.
    await op(a, "echo");
    const later = await rdsErrorOf(op(a, "die", { code: 139 }));
    expect(later.message).toBe(
      "running test.die on a: pwsh exited during the operation (exit code 139); the next operation starts a fresh one",
    );
  });

  it("closing the pool rejects queued operations, kills the running one and leaves nothing alive", async () => {
    await op(b, "echo"); // an idle session too
    const running = rdsErrorOf(op(a, "hang"));
    const queued = rdsErrorOf(op(a, "echo"));
    await settle();
    await pool.close();
    expect((await queued).code).toBe(ErrorCode.HostUnreachable);
    expect((await running).code).toBe(ErrorCode.ScriptError);
    expect(pool.stats().alive).toBe(0);
    expect(pool.stats().sessions).toEqual([]);
    expect(exitedPids().sort()).toEqual(
      shells
        .entries("spawn")
        .map((e) => e.pid)
        .sort(),
    );
  });

  it("freshPwshPerOperation gives every operation a fresh session and keeps none", async () => {
    newPool({}, freshPwshPerOperation);
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push((await op(a, "echo", { i })).pid);
    await settle();
    expect(new Set(pids).size).toBe(3);
    expect(starts()).toHaveLength(3);
    expect(pool.stats().warm).toBe(0);
  });

  it("reports each script (the init too) as an event keyed by its target", async () => {
    await op(a, "echo");
    const scripts = events.filter((e): e is Extract<PoolEvent, { type: "script" }> => e.type === "script");
    expect(scripts.map((e) => [e.operation, e.key])).toEqual([
      ["session.init", a.key],
      ["test.echo", a.key],
    ]);
  });
});

describe("shared worker groups", () => {
  const sharedOptions = { simulatorWorkers: 2 };
  const hostsOf = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  beforeEach(() => {
    newPool(sharedOptions);
  });

  it("serves 40 operations over 20 targets with 2 workers, each operation run for its own target", async () => {
    const hosts = hostsOf(20, "ws");
    const results = await Promise.all([...hosts, ...hosts].map((h, i) => op(fakeTarget(workers, h), "echo", { i })));
    for (const [i, r] of results.entries()) expect(r.host).toBe(hosts[i % hosts.length]);
    expect(starts()).toHaveLength(2);
    for (const e of starts()) expect(JSON.parse(e.key)[0]).toBe("fake-workers");
    expect(new Set(results.map((r) => r.pid)).size).toBe(2);
    // Each worker is bound once (its group init), never per target.
    expect(shells.entries("begin").filter((e) => e.script === "init")).toHaveLength(2);
    const scriptKeys = new Set(events.filter((e) => e.type === "script" && e.operation === "test.echo").map((e) => e.key));
    expect(scriptKeys).toEqual(new Set(hosts.map((h) => fakeTarget(workers, h).key)));
    expect(pool.stats().warm).toBe(2);
  });

  it("runs one target's operations one at a time, in order, even with a worker free", async () => {
    const t = fakeTarget(workers, "fifo");
    const runs = [0, 1, 2, 3].map((id) => op(t, "gate", { gate: `f${id}`, id }));
    await settle();
    expect(shells.begun()).toEqual(["gate:fifo"]);
    for (const id of [0, 1, 2, 3]) {
      shells.open(`f${id}`);
      await settle();
    }
    expect((await Promise.all(runs)).map((r) => r.args.id)).toEqual([0, 1, 2, 3]);
    expectOneAtATime("fifo");
  });

  it("runs different targets in parallel on different workers", async () => {
    const runs = ["pa", "pb"].map((h) => op(fakeTarget(workers, h), "gate", { gate: h }));
    await settle();
    expect(shells.begun().sort()).toEqual(["gate:pa", "gate:pb"]);
    shells.open("pa");
    shells.open("pb");
    const [x, y] = await Promise.all(runs);
    expect(x.pid).not.toBe(y.pid);
  });

  it("gives each state directory a worker group of its own", async () => {
    const [x, y] = await Promise.all([op(fakeTarget(workers, "same", "dir-a"), "echo"), op(fakeTarget(workers, "same", "dir-b"), "echo")]);
    expect(x.pid).not.toBe(y.pid);
    expect(new Set(starts().map((e) => e.key)).size).toBe(2);
  });

  it("the cap bounds the workers: maxSessions 1 gives one worker for everything", async () => {
    newPool({ ...sharedOptions, maxSessions: 1 });
    const results = await Promise.all(["ca", "cb", "cc"].map((h) => op(fakeTarget(workers, h), "echo")));
    expect(results.map((r) => r.host)).toEqual(["ca", "cb", "cc"]);
    expect(starts()).toHaveLength(1);
  });

  it("a timeout replaces only the worker it happened on; the other targets carry on", async () => {
    const hung = rdsErrorOf(op(fakeTarget(workers, "hang"), "hang", {}, 500));
    const others = Promise.all(["oa", "ob", "oc"].map((h) => op(fakeTarget(workers, h), "echo")));
    expect((await others).map((r) => r.host)).toEqual(["oa", "ob", "oc"]);
    await advance(500);
    const err = await hung;
    expect(err.code).toBe(ErrorCode.Timeout);
    expect(err.message).toContain("on hang:");
    expect((await op(fakeTarget(workers, "hang"), "echo")).host).toBe("hang");
    const exited = exitedPids();
    expect(exited).toHaveLength(1);
    expect(pool.stats().sessions.map((s) => s.pid)).not.toContain(exited[0]);
  });

  it("closes idle workers after idleMs", async () => {
    newPool({ ...sharedOptions, idleMs: 1000 });
    const runs = ["ia", "ib"].map((h) => op(fakeTarget(workers, h), "gate", { gate: "go" }));
    await settle(); // both running at once: two workers
    shells.open("go");
    await Promise.all(runs);
    expect(pool.stats().warm).toBe(2);
    await advance(999);
    expect(pool.stats().alive).toBe(2);
    await advance(1);
    expect(pool.stats().alive).toBe(0);
    expect(exitedPids()).toHaveLength(starts().length);
  });

  it("simulatorWorkers 0, or freshPwshPerOperation, gives each target a session of its own", async () => {
    const hosts = ["own-a", "own-b", "own-c"];
    for (const make of [() => newPool({ simulatorWorkers: 0 }), () => newPool(sharedOptions, freshPwshPerOperation)]) {
      await pool.close();
      events = [];
      make();
      await Promise.all(hosts.map((h) => op(fakeTarget(workers, h), "echo")));
      expect(
        starts()
          .map((e) => e.key)
          .sort(),
      ).toEqual(hosts.map((h) => fakeTarget(workers, h).key).sort());
    }
  });
});
