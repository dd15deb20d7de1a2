/**
 * The pool's strict cap, the naive baseline's session policy (freshPwshPerOperation) and its event
 * hook (what the fleet benchmark relies on).
 *
 * Real: pwsh processes, Bootstrap.ps1 (its scriptMs), the simulator transport with the emulator.
 * Stand-ins: the operation scripts are the Sleep and Echo fixtures. Process counts come from the
 * pool's own events (onPoolEvent), checked against poolStats().
 */
import {
  closeAll,
  configurePool,
  freshPwshPerOperation,
  onPoolEvent,
  poolOptions,
  poolStats,
  setPoolHooks,
  warmSessions,
  type PoolEvent,
} from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey } from "../../provider/powershell/transport";
import { echoSchema, fixture, removeTempDirs, sim, sleepSchema, tempDir } from "./support";

// These tests are about a pwsh per target (what the remote transports always get): the simulator's
// shared workers are off here and tested in sharedWorkers.test.ts.
configurePool({ simulatorWorkers: 0 });

const stateDir = tempDir("rds-pool-modes");
const defaults = { ...poolOptions() };
let events: PoolEvent[] = [];
let stop: () => void = () => undefined;

beforeEach(() => {
  events = [];
  stop = onPoolEvent((e) => events.push(e));
});

afterEach(async () => {
  stop();
  await closeAll();
  configurePool(defaults);
  setPoolHooks(warmSessions);
});

afterAll(() => removeTempDirs());

/** Most pwsh processes alive at once, from the start/exit events. */
function peakAlive(list: PoolEvent[]): number {
  let alive = 0;
  let peak = 0;
  for (const e of list) {
    if (e.type === "start") alive++;
    if (e.type === "exit") alive--;
    peak = Math.max(peak, alive);
  }
  return peak;
}

describe("the cap", () => {
  it("never has more pwsh processes than maxSessions, even when every session is busy", async () => {
    configurePool({ maxSessions: 2 });
    const hosts = ["cap-a", "cap-b", "cap-c", "cap-d", "cap-e"];
    const results = await Promise.all(
      hosts.map((h, id) =>
        runOperation(sim(h, stateDir), { name: "test.sleep", script: fixture("Sleep"), args: { ms: 300, id }, result: sleepSchema }),
      ),
    );
    expect(results.map((r) => r.id)).toEqual([0, 1, 2, 3, 4]);
    expect(events.filter((e) => e.type === "start")).toHaveLength(5);
    expect(peakAlive(events)).toBeLessThanOrEqual(2);
    expect(poolStats().alive).toBeLessThanOrEqual(2);
  }, 120_000);

  it("an operation waiting for a slot fails when the pool is closed, and starts no pwsh", async () => {
    configurePool({ maxSessions: 1 });
    const busy = runOperation(sim("cap-busy", stateDir), {
      name: "test.sleep",
      script: fixture("Sleep"),
      args: { ms: 3000 },
      result: sleepSchema,
    });
    // Let the first start its pwsh, then queue one that must wait for a slot.
    while (!events.some((e) => e.type === "script")) await new Promise((r) => setTimeout(r, 50));
    const waiting = runOperation(sim("cap-waiting", stateDir), {
      name: "test.echo",
      script: fixture("Echo"),
      args: {},
      result: echoSchema,
    });
    const outcome = waiting.then(
      () => "fulfilled",
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    await closeAll();
    expect(await outcome).toMatchObject({ code: "RDS_HOST_UNREACHABLE", message: expect.stringContaining("the session pool was closed") });
    await busy.catch(() => undefined);
    expect(events.filter((e) => e.type === "start" && e.key === targetKey(sim("cap-waiting", stateDir)))).toHaveLength(0);
  }, 120_000);
});

describe("the naive baseline (freshPwshPerOperation)", () => {
  it("gives every operation a fresh pwsh and keeps none", async () => {
    setPoolHooks(freshPwshPerOperation);
    const conn = sim("naive-a", stateDir);
    const pids: number[] = [];
    for (let i = 0; i < 3; i++)
      pids.push((await runOperation(conn, { name: "test.echo", script: fixture("Echo"), args: { i }, result: echoSchema })).pid);
    expect(new Set(pids).size).toBe(3);
    expect(events.filter((e) => e.type === "start")).toHaveLength(3);
    expect(poolStats().warm).toBe(0);
  }, 120_000);
});

describe("script events", () => {
  it("report each script with the script's own run time from Bootstrap.ps1, within the pool's round trip", async () => {
    const conn = sim("events-a", stateDir);
    await runOperation(conn, { name: "test.sleep", script: fixture("Sleep"), args: { ms: 20 }, result: sleepSchema });
    const scripts = events.filter((e): e is Extract<PoolEvent, { type: "script" }> => e.type === "script");
    expect(scripts.map((e) => e.operation)).toEqual(["session.init", "test.sleep"]);
    for (const e of scripts) {
      expect(e.key).toBe(targetKey(conn));
      expect(typeof e.scriptMs).toBe("number");
      expect(e.scriptMs!).toBeLessThanOrEqual(e.durationMs + 1);
    }
  }, 120_000);
});
