/**
 * The pool's reconnect of one target (SessionPool.reconnect, pool.ts reconnectTarget): for a host that
 * restarted, the target's warm session is dropped so that its next operation opens a new one, counted
 * per target in `reconnects`; a session busy with an operation is dropped when that operation ends;
 * a target served by shared workers keeps its workers (a worker binds the host per operation) and only
 * the count changes. Asserted by counts and event order, never by time.
 *
 * Real: the SessionPool and its parts (Session, start and bind steps, worker groups, telemetry).
 * Stand-ins: pwsh (FakeShells, fakeShell.ts: `echo` answers with its pid, `gate` waits for the test), the
 * transports (fakeTransport: a pwsh per target, or worker groups like the simulator's). What the real
 * simulator shows about a restarting host (unreachable, then a new session needed) is restart.test.ts's.
 */
import { SessionPool, warmSessions, type PoolOptions, type TargetSpec } from "../../provider/powershell/pool";
import { FakeShells, fakeTarget, fakeTransport, settle } from "./fakeShell";

interface Answer {
  pid: number;
}

const options: PoolOptions = { idleMs: 60_000, maxSessions: 8, startupTimeoutMs: 120_000, simulatorWorkers: 2 };
let shells: FakeShells;
let pool: SessionPool;

async function op(target: TargetSpec, script: string, args: Record<string, unknown> = {}): Promise<Answer> {
  const outcome = await pool.run(target, (session) =>
    session.runScript({ name: `test.${script}`, script, args, host: target.host, timeoutMs: 60_000 }),
  );
  if (!outcome.document.ok) throw new Error(`the fake script failed: ${outcome.document.error.message}`);
  return outcome.document.result as Answer;
}

beforeEach(() => {
  shells = new FakeShells();
  pool = new SessionPool({ options, hooks: warmSessions, startShell: shells.start });
});

afterEach(async () => {
  await pool.close();
});

test("an idle target's session is dropped: counted, its pwsh exits, the next operation opens a new one", async () => {
  const a = fakeTarget(fakeTransport(false), "a");
  const other = fakeTarget(fakeTransport(false), "other");
  const first = await op(a, "echo");
  const untouched = await op(other, "echo");
  await pool.reconnect(a);
  expect(pool.stats().reconnects).toEqual({ [a.key]: 1 });
  expect(shells.entries("exit").map((e) => e.pid)).toEqual([first.pid]);
  const second = await op(a, "echo");
  expect(second.pid).not.toBe(first.pid);
  expect(shells.entries("spawn")).toHaveLength(3);
  // The other target kept its warm session.
  expect((await op(other, "echo")).pid).toBe(untouched.pid);
});

test("a session busy with an operation is dropped when that operation ends, not under it", async () => {
  const a = fakeTarget(fakeTransport(false), "a");
  const running = op(a, "gate", { gate: "g" });
  await settle();
  await pool.reconnect(a);
  expect(shells.entries("exit")).toHaveLength(0);
  shells.open("g");
  const first = await running;
  await settle();
  expect(shells.entries("exit").map((e) => e.pid)).toEqual([first.pid]);
  expect((await op(a, "echo")).pid).not.toBe(first.pid);
  expect(pool.stats().reconnects).toEqual({ [a.key]: 1 });
});

test("a target served by shared workers keeps the workers: only the reconnect is counted", async () => {
  const a = fakeTarget(fakeTransport(true), "a");
  const first = await op(a, "echo");
  await pool.reconnect(a);
  expect(pool.stats().reconnects).toEqual({ [a.key]: 1 });
  expect(shells.entries("exit")).toHaveLength(0);
  expect((await op(a, "echo")).pid).toBe(first.pid);
});

test("a target the pool has never seen: counted, nothing else happens", async () => {
  const a = fakeTarget(fakeTransport(false), "never");
  await pool.reconnect(a);
  expect(pool.stats().reconnects).toEqual({ [a.key]: 1 });
  expect(shells.entries("spawn")).toHaveLength(0);
});
