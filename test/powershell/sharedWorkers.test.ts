/**
 * Shared simulator workers: many simulated targets served by a few pwsh (pool option
 * simulatorWorkers), each operation bound to its own host, the per-target FIFO kept.
 *
 * Real: pwsh processes, Bootstrap.ps1, the simulator transport with the emulator, SimulatorInit.ps1's
 * per-operation host selection, the pool. Stand-ins: the operation scripts are fixtures (WhoAmI
 * reports the host the emulator and a CIM call see, Sleep marks its window). Process counts come from
 * the pool's own events (onPoolEvent).
 */
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
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
import { fixture, rdsErrorOf, removeTempDirs, sim, sleepSchema, tempDir } from "./support";

jest.setTimeout(180_000);

const stateDir = tempDir("rds-shared-workers");
const defaults = { ...poolOptions(), simulatorWorkers: 2, maxSessions: 8 };
let events: PoolEvent[] = [];
let stop: () => void = () => undefined;

const whoAmI = z.object({
  envelopeHost: z.string(),
  contextHost: z.string(),
  stateDir: z.string(),
  cimName: z.string(),
  pid: z.number().int(),
});

function who(host: string, ms = 0, dir = stateDir) {
  return runOperation(sim(host, dir), { name: "test.whoami", script: fixture("WhoAmI"), args: { ms }, result: whoAmI });
}

beforeEach(() => {
  configurePool(defaults);
  setPoolHooks(warmSessions);
  events = [];
  stop = onPoolEvent((e) => events.push(e));
});

afterEach(async () => {
  stop();
  await closeAll();
});

afterAll(async () => {
  await closeAll();
  removeTempDirs();
});

const starts = () => events.filter((e) => e.type === "start");

describe("many targets, few pwsh", () => {
  test("40 operations over 20 hosts run in 2 pwsh, each bound to its own host", async () => {
    const hosts = Array.from({ length: 20 }, (_, i) => `ws${String(i).padStart(2, "0")}.contoso.com`);
    const results = await Promise.all([...hosts, ...hosts].map((h, i) => who(h, i % 3 === 0 ? 30 : 0)));
    for (const [i, r] of results.entries()) {
      const host = hosts[i % hosts.length];
      expect(r.envelopeHost).toBe(host);
      expect(r.contextHost).toBe(host);
      expect(r.cimName.toLowerCase()).toBe(host.split(".")[0]);
    }
    expect(starts()).toHaveLength(2);
    expect(new Set(results.map((r) => r.pid)).size).toBe(2);
    // Every start is a worker of the state directory's group, not of a target.
    for (const e of starts()) expect(JSON.parse(e.key)[0]).toBe("simulator-workers");
    // Scripts are still reported per target.
    const scriptKeys = new Set(events.filter((e) => e.type === "script" && e.operation === "test.whoami").map((e) => e.key));
    expect(scriptKeys).toEqual(new Set(hosts.map((h) => targetKey(sim(h, stateDir)))));
    expect(poolStats().warm).toBe(2);
  });

  test("operations on one target never overlap, even with a worker free", async () => {
    const host = "fifo.contoso.com";
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, id) =>
        runOperation(sim(host, stateDir), { name: "test.sleep", script: fixture("Sleep"), args: { ms: 150, id }, result: sleepSchema }),
      ),
    );
    // FIFO order, one after the other.
    expect(runs.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 1; i < runs.length; i++) expect(runs[i].started).toBeGreaterThanOrEqual(runs[i - 1].ended);
  });

  test("different targets do run in parallel on the workers", async () => {
    const runs = await Promise.all(
      ["par-a", "par-b"].map((h, id) =>
        runOperation(sim(h, stateDir), { name: "test.sleep", script: fixture("Sleep"), args: { ms: 1500, id }, result: sleepSchema }),
      ),
    );
    expect(runs[0].pid).not.toBe(runs[1].pid);
    expect(Math.max(runs[0].started, runs[1].started)).toBeLessThan(Math.min(runs[0].ended, runs[1].ended));
  });

  test("each state directory has its own workers", async () => {
    const other = tempDir("rds-shared-workers-b");
    const [a, b] = await Promise.all([who("same.contoso.com"), who("same.contoso.com", 0, other)]);
    expect(a.stateDir).not.toBe(b.stateDir);
    expect(a.pid).not.toBe(b.pid);
    expect(new Set(starts().map((e) => e.key)).size).toBe(2);
  });
});

describe("limits and failures", () => {
  test("the cap bounds the workers: maxSessions 1 gives one pwsh for everything", async () => {
    configurePool({ maxSessions: 1 });
    const results = await Promise.all(["cap-a", "cap-b", "cap-c"].map((h) => who(h, 100)));
    expect(results.map((r) => r.contextHost)).toEqual(["cap-a", "cap-b", "cap-c"]);
    expect(starts()).toHaveLength(1);
  });

  test("a timeout replaces only the worker it happened on; the other targets carry on", async () => {
    const hung = runOperation(sim("hang.contoso.com", stateDir), {
      name: "test.sleep",
      script: fixture("Sleep"),
      args: { ms: 60_000 },
      result: sleepSchema,
      timeoutMs: 1500,
    });
    const others = Promise.all(["ok-a", "ok-b", "ok-c"].map((h) => who(h, 200)));
    const err = await rdsErrorOf(hung);
    expect(err.code).toBe(ErrorCode.Timeout);
    expect(err.message).toContain("hang.contoso.com");
    expect((await others).map((r) => r.contextHost)).toEqual(["ok-a", "ok-b", "ok-c"]);
    // The killed worker is gone; the next operation on the hung target works.
    expect((await who("hang.contoso.com")).contextHost).toBe("hang.contoso.com");
    const exited = events.filter((e) => e.type === "exit").map((e) => e.pid);
    expect(exited).toHaveLength(1);
    expect(poolStats().sessions.map((s) => s.pid)).not.toContain(exited[0]);
  });

  test("idle workers are closed after the idle time", async () => {
    configurePool({ idleMs: 300 });
    await Promise.all(["idle-a", "idle-b"].map((h) => who(h)));
    expect(poolStats().warm).toBeGreaterThanOrEqual(1);
    const deadline = Date.now() + 10_000;
    while (poolStats().alive > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(poolStats().alive).toBe(0);
    expect(events.filter((e) => e.type === "exit")).toHaveLength(starts().length);
  });

  test("simulatorWorkers 0 and naive mode give each target a pwsh of its own", async () => {
    const setups = [() => configurePool({ ...defaults, simulatorWorkers: 0 }), () => setPoolHooks(freshPwshPerOperation)];
    for (const setup of setups) {
      await closeAll();
      configurePool(defaults);
      setup();
      events = [];
      const hosts = ["own-a", "own-b", "own-c"];
      await Promise.all(hosts.map((h) => who(h)));
      expect(
        starts()
          .map((e) => e.key)
          .sort(),
      ).toEqual(hosts.map((h) => targetKey(sim(h, stateDir))).sort());
    }
  });
});
