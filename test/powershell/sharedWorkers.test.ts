/**
 * Shared simulator workers in real pwsh: many simulated targets served by two pwsh (pool option
 * simulatorWorkers), each operation bound to its own host inside pwsh, which only a real pwsh with
 * SimulatorInit.ps1's per-operation host selection shows. The group rules (per-target FIFO with a
 * worker free, parallel targets, one group per state directory, the cap bounding the workers, a
 * timeout replacing only its worker, idle workers closed, simulatorWorkers 0 and the
 * fresh-pwsh-per-operation policy) are checked in process in pool.fast.test.ts.
 *
 * Real: pwsh processes, Bootstrap.ps1, the simulator transport with the emulator, SimulatorInit.ps1's
 * per-operation host selection, the pool. Stand-ins: the operation script is the WhoAmI fixture
 * (reports the host the emulator and a CIM call see). Process counts come from the pool's own events
 * (onPoolEvent).
 */
import { z } from "zod";
import {
  closeAll,
  configurePool,
  onPoolEvent,
  poolOptions,
  poolStats,
  setPoolHooks,
  warmSessions,
  type PoolEvent,
} from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey } from "../../provider/powershell/transport";
import { fixture, removeTempDirs, sim, tempDir } from "./support";

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

function who(host: string, ms = 0) {
  return runOperation(sim(host, stateDir), { name: "test.whoami", script: fixture("WhoAmI"), args: { ms }, result: whoAmI });
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
});
