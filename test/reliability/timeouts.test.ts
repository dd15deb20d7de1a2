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
 * Lean on purpose: each real pwsh start is the cost here, so one resource hangs for real, the one whose
 * hang leaves the most to recover: RdsLicenseServer's create, stopped in its first step (the role install),
 * then converged by the next up on a fresh pwsh. Where the other resources' hangs are asserted:
 * - RdsCalPack and RdsSessionHostLicensing: RDS_TIMEOUT naming host and step, through the real provider
 *   host, in test/resources/calPack/codes.test.ts and test/resources/sessionHostLicensing/codes.test.ts;
 * - what follows a timeout (the pwsh killed and replaced, the next operation on a fresh one) is the pool's
 *   and the same for every resource: here, and in test/powershell/pool.test.ts;
 * - what a timeout does to the pool's queue (operations behind it, other targets untouched): in process,
 *   test/powershell/pool.fast.test.ts.
 *
 * Real: the license server provider (TypeScript sources, in process), the runner and pool, pwsh 7, the emulator.
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
/** The one simulated host of this file. */
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

test("RdsLicenseServer: create hangs in its first step; stopped at the timeout, the next up converges", async () => {
  const desired = {
    connection: sim.conn(HOST),
    contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "UK" },
    activation: { method: "automatic" },
  };
  // Warm the host's pwsh: a read of a server without the role.
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

test("nothing is left running: every pwsh this file started is gone after the pool closes", async () => {
  rememberPids();
  expect(seenPids.size).toBeGreaterThanOrEqual(4); // the host's pwsh before and after each hang (launcher and pwsh each)
  await closeAll();
  await waitFor("every pwsh to exit", () => [...seenPids].every((pid) => !processAlive(pid)), 15_000);
  expect(poolStats().alive).toBe(0);
});
