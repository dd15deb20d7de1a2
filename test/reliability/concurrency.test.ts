/**
 * Reliability: concurrency. 50 operations at once against one simulated host, and against ten hosts.
 *
 * 1. Emulator level: 50 read-modify-write operations (fixtures/RelAdmin.ps1 `counterStep`: read a
 *    counter with Get-CimInstance, hold, write it back +1 with Set-CimInstance) queued at once through
 *    the real runner. No update is lost (the counter ends at the number of operations), and no
 *    operation ran inside another on the same target: their begin/end times (taken in pwsh, the clock
 *    of the emulator's call log) never overlap per host, and the call log shows each operation's Get and
 *    Set next to each other, inside its own begin/end window.
 * 2. Provider level: 50 RdsCalPack creates at once (distinct declarations) on one license server, and
 *    spread over ten license servers: every pack is installed exactly once and each is in its
 *    resource's outputs (no lost update), and the pool ran one operation at a time per target (a spy on
 *    pool.runOnTarget records when each operation's work starts and ends on the warm pwsh).
 *
 * Real: the runner, pool (per-target FIFO queue, one warm pwsh per target), pwsh 7, the emulator with
 * its file locks, the CAL pack provider (in process) and its install journal.
 * Stands in: Windows (the emulator); the engine (creates called directly, as the engine does for
 * independent resources with --parallel).
 */
import * as fs from "fs";
import { z } from "zod";
import { closeAll, configurePool, poolOptions } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { installedPacks, INSTALL_METHODS, providers, REL_ADMIN, Sim, strip, tempDir } from "./support";

jest.setTimeout(600_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pool = require("../../provider/powershell/pool") as typeof import("../../provider/powershell/pool");
const realRunOnTarget = pool.runOnTarget;

const stateDir = tempDir("concurrency");
const journalDir = tempDir("concurrency-journal");
const sim = new Sim(stateDir);
const P = providers();
const N = 50;
/** The same hosts serve both levels (their warm pwsh is reused; the license server tests add packs only). */
const ONE_HOST = "one.contoso.com";
const TEN_HOSTS = Array.from({ length: 10 }, (_, i) => `many${i}.contoso.com`);

interface Window {
  key: string;
  begin: number;
  end: number;
}
const windows: Window[] = [];
const savedCap = poolOptions().maxSessions;
const savedWorkers = poolOptions().simulatorWorkers;

beforeAll(() => {
  process.env.RDS_JOURNAL_DIR = journalDir;
  // Eleven targets at once (ten hosts and the admin): room for all of them.
  configurePool({ maxSessions: 16 });
  jest.spyOn(pool, "runOnTarget").mockImplementation(((spec: { key: string }, work: (s: unknown) => Promise<unknown>) =>
    realRunOnTarget(spec as never, async (session) => {
      const w: Window = { key: spec.key, begin: performance.timeOrigin + performance.now(), end: Number.NaN };
      windows.push(w);
      try {
        return await work(session);
      } finally {
        w.end = performance.timeOrigin + performance.now();
      }
    })) as never);
});

afterAll(async () => {
  jest.restoreAllMocks();
  configurePool({ maxSessions: savedCap });
  await closeAll();
  delete process.env.RDS_JOURNAL_DIR;
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });
});

/** Per key, the work windows never overlap. */
function expectSerialPerKey(ws: Window[]): void {
  const byKey = new Map<string, Window[]>();
  for (const w of ws) byKey.set(w.key, [...(byKey.get(w.key) ?? []), w]);
  for (const [key, list] of byKey) {
    const sorted = [...list].sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].begin < sorted[i - 1].end) throw new Error(`two operations overlapped on ${key}`);
    }
  }
}

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
    if (windowsOf[i].begin < windowsOf[i - 1].end) throw new Error(`${windowsOf[i].marker} began inside ${windowsOf[i - 1].marker} on ${host}`);
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
  const tenHosts = TEN_HOSTS.map((h) => `w${workers}-${h}`);

  test(`${N} operations on one host: no lost update, none inside another`, async () => {
    const host = oneHost;
    await sim.config(host, { roleInstalled: true });
    const results = await counterSteps([host]);
    expect((await sim.host(host)).licenseServer.contact.OrgUnit).toBe(String(N));
    expect(results.map((r) => r.read).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    expectNoInterleaving(host, results);
  });

  test(`${N} operations over ten hosts: no lost update, none inside another on a host`, async () => {
    const hosts = tenHosts;
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

describe("provider level: CAL pack creates at once", () => {
  async function creates(hosts: string[]) {
    for (const h of hosts) await sim.prepareLicenseServer(h, [], "2022");
    windows.length = 0;
    const decls = Array.from({ length: N }, (_, i) => ({
      connection: sim.conn(hosts[i % hosts.length]),
      journalKey: `proj/stack/pack${i}`,
      program: "enterpriseAgreement",
      agreementNumber: String(1_000_000 + i),
      productVersion: "2022",
      calType: i % 2 ? "perUser" : "perDevice",
      quantity: i + 1,
    }));
    const made = await Promise.all(
      decls.map(async (d) => {
        const checked = await P.calPack.check({}, d);
        expect(checked.failures ?? []).toEqual([]);
        return P.calPack.create(strip(checked.inputs!));
      }),
    );
    return { decls, made };
  }

  function expectEveryPackOnce(decls: { quantity: number; connection: { host: string } }[], made: { id: string; outs?: Record<string, unknown> }[], byHost: Map<string, ReturnType<typeof installedPacks>>) {
    made.forEach((m, i) => {
      const packs = byHost.get(decls[i].connection.host)!;
      const p = packs.find((x) => String(x.KeyPackId) === m.id);
      if (!p) throw new Error(`pack #${m.id} of create ${i} is not on ${decls[i].connection.host}`);
      expect(p.TotalLicenses).toBe(decls[i].quantity);
      expect(strip(m.outs!).totalLicenses).toBe(decls[i].quantity);
    });
    const total = [...byHost.values()].reduce((n, l) => n + l.length, 0);
    expect(total).toBe(N);
  }

  test(`${N} creates on one license server: ${N} packs, each installed once, none lost`, async () => {
    const host = ONE_HOST;
    const { decls, made } = await creates([host]);
    expect(new Set(made.map((m) => `${m.id}`)).size).toBe(N);
    expectEveryPackOnce(decls, made, new Map([[host, installedPacks(await sim.host(host))]]));
    const installs = sim.callRows(host).filter((r) => r.method !== null && INSTALL_METHODS.includes(r.method));
    // (prepareLicenseServer installs no pack: every Install call here is one of the creates)
    expect(installs.filter((r) => r.result === 0).length).toBe(N);
    expect(installs.length).toBe(N);
    expectSerialPerKey(windows);
    expect(windows.length).toBeGreaterThanOrEqual(2 * N);
  });

  test(`${N} creates over ten license servers: five packs each, each installed once, none lost`, async () => {
    const hosts = TEN_HOSTS;
    const { decls, made } = await creates(hosts);
    const byHost = new Map<string, ReturnType<typeof installedPacks>>();
    for (const h of hosts) {
      byHost.set(h, installedPacks(await sim.host(h)));
      expect(byHost.get(h)!.length).toBe(N / hosts.length);
      expect(sim.callRows(h).filter((r) => r.method !== null && INSTALL_METHODS.includes(r.method)).length).toBe(N / hosts.length);
    }
    expectEveryPackOnce(decls, made, byHost);
    expectSerialPerKey(windows);
  });
});
