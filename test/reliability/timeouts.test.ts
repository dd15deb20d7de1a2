/**
 * Reliability: timeouts. A hung script (the emulator's latencyMs fault, larger than the operation
 * timeout) is stopped at the operation's timeout with RDS_TIMEOUT naming the host and the step; its pwsh
 * (the dotnet-tool launcher and the real pwsh behind it) is killed and the next operation gets a fresh
 * one; nothing is left running.
 *
 * The resources' own timeouts are minutes long (an install talks to the Clearinghouse); the
 * `RDS_OPERATION_TIMEOUT_MS` knob (provider/resources/timeouts.ts, documented in each resource README)
 * replaces them, and is set here to 1.5 s while the hung operation runs. The latency (6 s) exceeds it
 * fourfold, so the hung step always loses to the timeout (never a race); 1.5 s leaves room for the
 * steps before the hung one (no emulated call, so no latency) on a loaded machine.
 *
 * Lean on purpose: each real pwsh start is the cost here, so the three resources share one simulated
 * host (and its warm pwsh), in order: the session host's licensing settings, then the license server
 * role on the same host, then a CAL pack on that license server. Every hang still starts one fresh
 * pwsh, which is the behaviour under test. What a timeout does to the pool's queue (operations behind
 * it, other targets untouched) is checked in process in test/powershell/pool.fast.test.ts.
 *
 * Real: the three providers (TypeScript sources, in process), the runner and pool, pwsh 7, the emulator.
 * Stands in: the engine (engine/engine.ts over the in-process host, through ResourceUnderTest), Windows
 * (the emulator, made slow with latencyMs).
 */
import * as fs from "fs";
import { isRdsError } from "../../provider/errors";
import { closeAll, configurePool, poolStats } from "../../provider/powershell/pool";
import { ResourceUnderTest, processAlive, providers, Sim, strip, tempDir, waitFor, type Props } from "./support";

jest.setTimeout(300_000);

const TIMEOUT_MS = 1500;
const LATENCY_MS = 6000;
const stateDir = tempDir("timeouts");
const journalDir = tempDir("timeouts-journal");
const sim = new Sim(stateDir);
/** The one simulated host of this file: session host and license server at once. */
const HOST = "hang.contoso.com";
const P = providers();
const seenPids = new Set<number>();

function rememberPids(): void {
  for (const s of poolStats().sessions) {
    if (s.pid) seenPids.add(s.pid);
    if (s.pwshPid) seenPids.add(s.pwshPid);
  }
}

function sessionOf(host: string) {
  return poolStats().sessions.find((s) => JSON.parse(s.key)[2] === host);
}

// The host's pwsh is found by its target key: a pwsh per target, as remote transports get. A timeout
// on a shared worker: test/powershell/pool.fast.test.ts.
configurePool({ simulatorWorkers: 0 });

beforeAll(() => {
  process.env.RDS_JOURNAL_DIR = journalDir;
});

afterAll(async () => {
  delete process.env.RDS_OPERATION_TIMEOUT_MS;
  delete process.env.RDS_JOURNAL_DIR;
  await closeAll();
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Runs `act` with every emulated call on `host` made slower than the timeout; checks the typed error,
 * the replaced pwsh, and that the next run (fault cleared) works on a fresh pwsh.
 */
async function hang(host: string, step: RegExp, act: () => Promise<unknown>, again: () => Promise<unknown>): Promise<void> {
  // A warm session on the host first, so we know which processes must be stopped.
  const before = sessionOf(host);
  expect(before).toBeDefined();
  rememberPids();
  const timeoutsBefore = poolStats().timeouts;
  await sim.fault(host, "latencyMs", LATENCY_MS);
  // The knob shortens the hung operation's timeout (set and preparation run with the defaults).
  process.env.RDS_OPERATION_TIMEOUT_MS = String(TIMEOUT_MS);
  let failure: unknown;
  try {
    await act();
  } catch (e) {
    failure = e;
  } finally {
    delete process.env.RDS_OPERATION_TIMEOUT_MS;
  }
  const message = failure instanceof Error ? failure.message : String((failure as Props)?.message ?? failure);
  expect(isRdsError(failure) ? failure.code : /\[(RDS_[A-Z_]+)\]/.exec(message)?.[1]).toBe("RDS_TIMEOUT");
  expect(message).toContain(host);
  expect(message).toMatch(step);
  expect(message).toMatch(/timed out after 1500 ms; its pwsh was stopped and will be replaced/);
  // The pool's timeout counter, not a clock, proves the operation was stopped by the timeout (no
  // assertion on wall-clock time: the machine is shared).
  expect(poolStats().timeouts).toBe(timeoutsBefore + 1);
  // The hung pwsh and its launcher are gone.
  await waitFor("the timed-out pwsh to exit", () => !processAlive(before!.pid) && !processAlive(before!.pwshPid), 10_000);
  expect(sessionOf(host)).toBeUndefined();
  // The fault cleared, the next operation works, on a fresh pwsh.
  await sim.clearFaults(host);
  await again();
  const after = sessionOf(host);
  expect(after).toBeDefined();
  expect(after!.pid).not.toBe(before!.pid);
  expect(after!.pwshPid).not.toBe(before!.pwshPid);
  rememberPids();
}

test("RdsSessionHostLicensing: an update hangs; stopped at the timeout, the next up converges", async () => {
  const engine = new ResourceUnderTest(P.sessionHost);
  const desired = { connection: sim.conn(HOST), mode: "perDevice", licenseServers: ["ls1.contoso.com"] };
  expect(await engine.up(desired)).toBe("create");
  const changed = { ...desired, licenseServers: ["ls2.contoso.com"] };
  await hang(
    HOST,
    /sessionHostLicensing\.read on hang\.contoso\.com/,
    () => engine.up(changed),
    async () => {
      expect(await engine.up(changed)).toBe("update");
      expect(strip(engine.entry!.outputs).effectiveLicenseServers).toEqual(["ls2.contoso.com"]);
    },
  );
});

test("RdsLicenseServer: create hangs in its first step; stopped at the timeout, the next up converges", async () => {
  const desired = {
    connection: sim.conn(HOST),
    contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "UK" },
    activation: { method: "automatic" },
  };
  // Warm the host's pwsh (reused from the test above when it ran): a read of a server without the role.
  await sim.config(HOST, { osVersion: "2022" });
  await expect(P.licenseServer.read(HOST, { connection: sim.conn(HOST) })).resolves.toEqual({});
  const engine = new ResourceUnderTest(P.licenseServer);
  await hang(
    HOST,
    /installing the RDS-Licensing role on hang\.contoso\.com/,
    () => engine.up(desired),
    async () => {
      expect(await engine.up(desired)).toBe("create");
      expect(strip(engine.entry!.outputs).activationStatus).toBe("activated");
      expect(await engine.up(desired)).toBe("same");
    },
  );
});

test("RdsCalPack: a refresh hangs; stopped at the timeout, the next refresh works", async () => {
  // The license server the test above activated (prepared here when this test runs alone).
  if (sim.stateFile(HOST)?.licenseServer?.activated !== true) await sim.prepareLicenseServer(HOST, [], "2022");
  const engine = new ResourceUnderTest(P.calPack);
  const desired = {
    connection: sim.conn(HOST),
    program: "select",
    agreementNumber: "5550123",
    productVersion: "2022",
    calType: "perDevice",
    quantity: 4,
  };
  expect(await engine.up(desired)).toBe("create");
  await hang(
    HOST,
    /reading CAL pack #\d+ on hang\.contoso\.com/,
    () => engine.refresh(),
    async () => expect((await engine.refresh()).op).toBe("same"),
  );
});

test("nothing is left running: every pwsh this file started is gone after the pool closes", async () => {
  rememberPids();
  expect(seenPids.size).toBeGreaterThanOrEqual(4); // the host's pwsh before and after each hang (launcher and pwsh each)
  await closeAll();
  await waitFor("every pwsh to exit", () => [...seenPids].every((pid) => !processAlive(pid)), 15_000);
  expect(poolStats().alive).toBe(0);
});
