/**
 * Reliability: concurrency at the emulator level. 12 read-modify-write operations
 * (fixtures/RelAdmin.ps1 `counterStep`: read a counter with Get-CimInstance, hold, write it back +1
 * with Set-CimInstance) queued at once through the real runner, against one simulated host and over
 * four. No update is lost (the counter ends at the number of operations), and no operation ran inside
 * another on the same target: their begin/end times (taken in pwsh, the clock of the emulator's call
 * log) never overlap per host, and the call log shows each operation's Get and Set next to each other,
 * inside its own begin/end window.
 *
 * Why this part stays real: what it proves lives below the runner seam, where no fake can stand in:
 * the pool's per-target FIFO and its shared simulator workers handing real pwsh processes between
 * targets, and the emulator's file locks keeping each host's state file consistent across those
 * processes. 12 operations (not 50) are enough to queue many at once on one target and three per host
 * over four hosts in both pool modes; more only adds time.
 * The provider-level part (50 RdsCalPack creates at once, each pack installed exactly once and in its
 * own outputs) runs in process over the fake world in concurrency.fast.test.ts.
 *
 * Real: the runner, pool (per-target FIFO queue, one warm pwsh per target or shared simulator
 * workers), pwsh 7, the emulator with its file locks.
 * Stands in: Windows (the emulator).
 */
import * as fs from "fs";
import { z } from "zod";
import { closeAll, configurePool, poolOptions } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { REL_ADMIN, Sim, tempDir } from "./support";

jest.setTimeout(600_000);

const stateDir = tempDir("concurrency");
const sim = new Sim(stateDir);
const N = 12;
const ONE_HOST = "one.contoso.com";
// Four hosts: three operations each, so operations on one host do queue behind each other, and with a
// pwsh per target four cold starts (ten showed nothing more and cost most of the file's time).
const MANY_HOSTS = Array.from({ length: 4 }, (_, i) => `many${i}.contoso.com`);

const savedCap = poolOptions().maxSessions;
const savedWorkers = poolOptions().simulatorWorkers;

beforeAll(() => {
  // Five targets at once (four hosts and the admin): room for all of them.
  configurePool({ maxSessions: 16 });
});

afterAll(async () => {
  configurePool({ maxSessions: savedCap });
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const stepResult = z.object({ marker: z.string(), pid: z.number(), read: z.number(), begin: z.string(), end: z.string() });
type StepResult = z.infer<typeof stepResult>;

async function counterSteps(hosts: string[]): Promise<StepResult[]> {
  return Promise.all(
    Array.from({ length: N }, (_, i) =>
      runOperation(sim.conn(hosts[i % hosts.length]), {
        name: "test.counterStep",
        script: REL_ADMIN,
        args: { action: "counterStep", marker: `op${i}`, holdMs: 15 },
        result: stepResult,
        timeoutMs: 300_000,
      }),
    ),
  );
}

/** The call-log proof for one host: Get/Set pairs adjacent, each inside its own operation's window. */
function expectNoInterleaving(host: string, results: StepResult[]): void {
  const ticks = (iso: string) => Date.parse(iso.slice(0, 23) + "Z") * 10_000 + Number(iso.slice(23, 27).padEnd(4, "0"));
  const windowsOf = results.map((r) => ({ marker: r.marker, begin: ticks(r.begin), end: ticks(r.end) })).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < windowsOf.length; i++) {
    if (windowsOf[i].begin < windowsOf[i - 1].end)
      throw new Error(`${windowsOf[i].marker} began inside ${windowsOf[i - 1].marker} on ${host}`);
  }
  const rows = sim
    .callRows(host)
    .filter((r) => r.className === "Win32_TSLicenseServer" && (r.cmdlet === "Get-CimInstance" || r.cmdlet === "Set-CimInstance"))
    .slice(-2 * results.length);
  expect(rows.length).toBe(2 * results.length);
  for (let i = 0; i < rows.length; i += 2) {
    expect([rows[i].cmdlet, rows[i + 1].cmdlet]).toEqual(["Get-CimInstance", "Set-CimInstance"]);
    const get = ticks(rows[i].at);
    const set = ticks(rows[i + 1].at);
    const owner = windowsOf.filter((w) => w.begin <= get && set <= w.end);
    if (owner.length !== 1) throw new Error(`call pair ${i / 2} on ${host} is inside ${owner.length} operation windows`);
  }
  // Each operation's Get and Set come from one pwsh; with a pwsh per target, every call does.
  for (let i = 0; i < rows.length; i += 2) expect(rows[i + 1].pid).toBe(rows[i].pid);
  if (poolOptions().simulatorWorkers === 0) expect(new Set(rows.map((r) => r.pid)).size).toBe(1);
}

// Both ways the pool runs simulator targets: shared workers (the default) and a pwsh per target
// (what remote transports always get).
describe.each([
  ["shared simulator workers", 2],
  ["a pwsh per target", 0],
])("emulator level, %s: read-modify-write operations queued at once", (_mode, workers) => {
  beforeAll(async () => {
    await closeAll();
    configurePool({ simulatorWorkers: workers });
  });
  afterAll(async () => {
    await closeAll();
    configurePool({ simulatorWorkers: savedWorkers });
  });
  // Hosts of their own per mode: each test counts from a fresh host.
  const oneHost = `w${workers}-${ONE_HOST}`;
  const manyHosts = MANY_HOSTS.map((h) => `w${workers}-${h}`);

  test(`${N} operations on one host: no lost update, none inside another`, async () => {
    const host = oneHost;
    await sim.config(host, { roleInstalled: true });
    const results = await counterSteps([host]);
    expect((await sim.host(host)).licenseServer.contact.OrgUnit).toBe(String(N));
    expect(results.map((r) => r.read).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    expectNoInterleaving(host, results);
  });

  test(`${N} operations over four hosts: no lost update, none inside another on a host`, async () => {
    const hosts = manyHosts;
    for (const h of hosts) await sim.config(h, { roleInstalled: true });
    const results = await counterSteps(hosts);
    for (const [i, h] of hosts.entries()) {
      const mine = results.filter((_, j) => j % hosts.length === i);
      expect((await sim.host(h)).licenseServer.contact.OrgUnit).toBe(String(mine.length));
      expect(mine.map((r) => r.read).sort((a, b) => a - b)).toEqual(Array.from({ length: mine.length }, (_, k) => k));
      expectNoInterleaving(h, mine);
    }
  });
});
