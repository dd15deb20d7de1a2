/**
 * Reliability: the fault matrix's real slice. One case per fault kind of the emulator, each at a step
 * where it matters, through real pwsh and the emulator's own fault injection. The full matrix (every
 * fault at every step of every resource's create, update, read and delete) runs in process over the
 * fake world in faults.fast.test.ts, with the same assertions; latencyMs is only here (the fake world
 * has no clock).
 *
 * For each case the steps of its (resource, operation) are recorded from a clean run (the operation
 * scripts the provider runs, in order); then the starting state is restored and the operation runs
 * again with the fault switched on just before the chosen step and off just after it. Each case must
 * show the expected typed error naming the host and the step (latency: no bite, nothing changed in the
 * outcome), no partial state lost, and convergence once the fault is cleared, never a second install or
 * activation: the check is ./faultMatrix.ts's, shared with faults.fast.test.ts; this file holds the
 * slice and how a fault is injected and counted through the emulator.
 *
 * Real: the three providers (TypeScript sources, in process), the runner, pool, pwsh 7, every operation
 * script, the emulator and its fault switches (set with Set-RdsSimFault through fixtures/RelAdmin.ps1).
 * Stands in: the engine (engine/engine.ts over the in-process host, through ResourceUnderTest), Windows
 * (the emulator). A spy on runner.runOperation only inserts the admin calls that switch a fault on and
 * off around the chosen step; the step itself runs unchanged. Starting states are restored by writing
 * back the host state files and the install journal (the emulator re-reads a file whose text changed).
 */
import * as fs from "fs";
import * as path from "path";
import { closeAll } from "../../provider/powershell/pool";
import type { Connection } from "../../provider/powershell/transport";
import { FAULTS, FaultMatrix, Injections, LATENCY_FAULT, type CaseResult, type FaultBench } from "./faultMatrix";
import { ACTIVATE_METHODS, INSTALL_METHODS, Sim, tempDir } from "./support";

jest.setTimeout(900_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runner = require("../../provider/powershell/runner") as typeof import("../../provider/powershell/runner");
const realRun = runner.runOperation;

const stateDir = tempDir("faults");
const journalDir = tempDir("faults-journal");
/** Every fault kind, latency included (the emulator sleeps for real). */
const KINDS = [...FAULTS, LATENCY_FAULT];

/**
 * The slice: one case per fault kind (by FAULTS name), at the first run of `step` in `scenario`, with
 * the outcome the emulator must give there ("ok": the fault does not bite). Chosen so the real scripts
 * of all three resources, a state-changing step of each, and both failure styles are exercised.
 */
const SLICE: { scenario: string; step: string; fault: string; outcome: string }[] = [
  {
    scenario: "RdsLicenseServer create",
    step: "licenseServer.activate",
    fault: "clearinghouseUnreachable",
    outcome: "RDS_CLEARINGHOUSE_UNREACHABLE",
  },
  { scenario: "RdsCalPack delete", step: "calPack.remove", fault: "accessDenied", outcome: "RDS_ACCESS_DENIED" },
  { scenario: "RdsSessionHostLicensing update", step: "sessionHostLicensing.set", fault: "providerFailure", outcome: "RDS_WMI_ERROR" },
  { scenario: "RdsCalPack update", step: "calPack.resize", fault: "providerFailure, failureStyle exception", outcome: "RDS_WMI_ERROR" },
  { scenario: "RdsCalPack create", step: "calPack.install", fault: "latencyMs 250", outcome: "ok" },
  { scenario: "RdsLicenseServer create", step: "licenseServer.get", fault: "classNotReadyCalls 2", outcome: "RDS_CLASS_NOT_READY" },
  { scenario: "RdsLicenseServer delete", step: "licenseServer.deactivate", fault: "activationStatusUnknown", outcome: "RDS_SCRIPT_ERROR" },
  {
    scenario: "RdsSessionHostLicensing create",
    step: "sessionHostLicensing.read",
    fault: "groupPolicy (another mode and list)",
    outcome: "RDS_GROUP_POLICY_CONFLICT",
  },
];

// ---- fault injection around one step, and what the emulator counted ------------------------------------

const injections = new Injections();

beforeAll(() => {
  process.env.RDS_JOURNAL_DIR = journalDir;
  jest.spyOn(runner, "runOperation").mockImplementation((async (connection: Connection, op: { name: string }) => {
    const fault = injections.stepOn(connection.host, op.name);
    if (!fault) return realRun(connection, op as never);
    await fault.sim.faults(connection.host, fault.faults);
    try {
      return await realRun(connection, op as never);
    } finally {
      await fault.sim.admin({ action: "clearFaults", host: connection.host });
    }
  }) as never);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await closeAll();
  delete process.env.RDS_JOURNAL_DIR;
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });
});

function hostFile(host: string): string {
  return path.join(stateDir, "hosts", `${Buffer.from(host.toLowerCase(), "utf8").toString("hex")}.json`);
}

/** Reads the call logs (files in the state directory, no pwsh). */
const logs = new Sim(stateDir);

function successful(hosts: string[], methods: string[]): number {
  return hosts.reduce(
    (n, h) => n + logs.callRows(h).filter((r) => r.method !== null && methods.includes(r.method) && r.result === 0).length,
    0,
  );
}

/**
 * The emulator's side of the matrix: host states are its state files (written back to restore; it
 * re-reads a file whose text changed), installs and activations its call log's successful calls.
 */
const bench: FaultBench = {
  injections,
  journalDir,
  hostText: (host) => (fs.existsSync(hostFile(host)) ? fs.readFileSync(hostFile(host), "utf8") : null),
  putHost: (host, text) => {
    if (text === null) fs.rmSync(hostFile(host), { force: true });
    else fs.writeFileSync(hostFile(host), text);
  },
  installs: (hosts) => successful(hosts, INSTALL_METHODS),
  activations: (hosts) => successful(hosts, ACTIVATE_METHODS),
};

/** The slice's cases of a scenario: the first run of the chosen step, with the chosen fault. */
const matrix = new FaultMatrix(bench, (sc) => {
  const label = `${sc.resource} ${sc.op}`;
  return SLICE.filter((c) => c.scenario === label).map((chosen) => {
    const k = sc.steps.findIndex((s) => s.op === chosen.step);
    const fault = KINDS.find((f) => f.name === chosen.fault);
    if (k < 0 || !fault) throw new Error(`slice case ${label} / ${chosen.step} / ${chosen.fault}: no such step or fault`);
    return { k, fault };
  });
});

/** An admin of its own for each pipeline (they run at the same time, each on its own hosts). */
function adminFor(pipeline: string): Sim {
  const sim = new Sim(stateDir);
  (sim as { adminConnection: Connection }).adminConnection = { transport: "simulator", host: `rel-admin-${pipeline}.invalid`, stateDir };
  return sim;
}

// ---- the table ------------------------------------------------------------------------------------------

let results: CaseResult[] = [];

beforeAll(async () => {
  const started = Date.now();
  const all = await Promise.all([matrix.licenseServer(adminFor("ls")), matrix.calPack(adminFor("cp")), matrix.sessionHost(adminFor("sh"))]);
  results = all.flat();

  console.log(`faults (real slice): ${results.length} cases in ${Math.round((Date.now() - started) / 1000)} s`);
});

describe("one case per fault kind, through real pwsh and the emulator's fault injection", () => {
  test("the slice has every fault kind once, and each case ran", () => {
    expect(SLICE.map((c) => c.fault).sort()).toEqual(KINDS.map((f) => f.name).sort());
    expect(results.map((r) => r.fault).sort()).toEqual(KINDS.map((f) => f.name).sort());
  });

  for (const c of SLICE) {
    test(`${c.scenario}, ${c.fault} at ${c.step}: ${c.outcome === "ok" ? "no bite" : c.outcome}, nothing lost, converges once cleared`, () => {
      const mine = results.find((r) => r.scenario === c.scenario && r.fault === c.fault);
      expect(mine).toBeDefined();
      expect({ step: mine!.step.replace(/^\d+:/, ""), outcome: mine!.outcome, problems: mine!.problems }).toEqual({
        step: c.step,
        outcome: c.outcome,
        problems: [],
      });
    });
  }
});
