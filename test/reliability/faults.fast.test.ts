/**
 * Reliability: the fault matrix, in process. Every fault switch of the emulator at every step of
 * every resource's create, update, read and delete (table: resource x operation x step x fault).
 *
 * For each (resource, operation) the steps are recorded from a clean run (the operation scripts the
 * provider runs, in order). Then, for every step and every fault, the same starting state is restored
 * and the operation runs again with the fault switched on just before that step and off just after it.
 * Each case must show a typed error of the fault's kind naming the host and the step (or, where the
 * fault does not bite, an unchanged outcome), no partial state lost, and convergence once the fault is
 * cleared, never a second install or activation (the check is ./faultMatrix.ts's, point by point).
 *
 * The faults: clearinghouseUnreachable, accessDenied, providerFailure (failureStyle return and
 * exception), classNotReadyCalls, activationStatusUnknown, and a Group Policy appearing out of band.
 * Not here: latencyMs. The fake world has no clock, so a latency case would pass without testing
 * anything; faults.test.ts runs it through real pwsh and the emulator.
 *
 * Real: the three providers (TypeScript sources, in process), their check/diff/create/read/update/
 * delete, the calPack install journal (files in a temporary RDS_JOURNAL_DIR), the runner's validation,
 * error typing and result validation (runOperation around the FakeRunner's core).
 * Stands in: the engine (engine/engine.ts over the in-process host, through ResourceUnderTest in
 * ./support); pwsh, the operation scripts and the emulator with its fault switches (the FakeWorld
 * behind the FakeRunner, test/fake/, held to the emulator's recorded answers, faults included, by
 * test/fake/world.contract.test.ts). The faults are switched with the admin's own action (RelAdmin.ps1's
 * `faults` and `clearFaults`, answered by the fake world) by a wrapper around the FakeRunner's core;
 * the step itself runs unchanged. Installs and activations are counted from the world around each
 * operation script (key pack ids handed out; the server going from not activated to activated, or a
 * reactivation). The install journal's key stretching (scrypt, 50-100 ms a fingerprint by design) is
 * a keyed SHA-256 here: only the cost of a fingerprint is cut. Nothing here depends on the clock.
 *
 * faults.test.ts keeps a thin slice of this matrix (one case per fault kind) through real pwsh and
 * the emulator's own fault injection. The matrix itself (faults, scenarios, the check of a case) is
 * ./faultMatrix.ts, shared by both; this file holds how a fault is injected and counted here.
 */
import { resetOperationRunner, setOperationRunner, type OperationRunner } from "../../provider/powershell/runner";
import { useFastJournal } from "../fake/fastJournal";
import type { FakeHost } from "../fake/host";
import { FakeRunner } from "../fake/runner";
import { FAULTS, FaultMatrix, Injections, type CaseResult, type FaultBench } from "./faultMatrix";
import { Sim, type Props } from "./support";

jest.setTimeout(300_000);

const { stateDir: STATE_DIR, journalDir } = useFastJournal("faults-fast");
const fake = new FakeRunner();
const world = fake.world;
const injections = new Injections();

// ---- fault injection around one step, and what each step did --------------------------------------

/** Successful Install* and Activate* calls per host (lower case), counted around each operation script. */
const installs = new Map<string, number>();
const activations = new Map<string, number>();

/** One admin action on the fake world (as RelAdmin.ps1); a refused one fails the test setup loudly. */
function adminOnWorld(args: Props): void {
  const doc = world.admin(args);
  if (!doc.ok) throw new Error(`admin ${String(args.action)} refused: ${doc.error.message}`);
}

/** The FakeRunner's core, with the fault switched on around the chosen step and the effects counted. */
const injectingCore: OperationRunner = async (connection, call) => {
  if (call.name.startsWith("test.")) return fake.core(connection, call);
  const key = connection.host.toLowerCase();
  const fault = injections.stepOn(connection.host, call.name);
  if (fault) adminOnWorld({ action: "faults", host: connection.host, faults: fault.faults });
  const before = countable(world.peek(connection.host));
  try {
    return await fake.core(connection, call);
  } finally {
    const after = countable(world.peek(connection.host));
    installs.set(key, (installs.get(key) ?? 0) + after.keyPackIds - before.keyPackIds);
    const activated = (!before.activated && after.activated) || after.reactivations > before.reactivations;
    if (activated) activations.set(key, (activations.get(key) ?? 0) + 1);
    if (fault) adminOnWorld({ action: "clearFaults", host: connection.host });
  }
};

/** What the install and activation counts are taken from (key pack ids start at 3, one per install). */
function countable(h: FakeHost | undefined): { keyPackIds: number; activated: boolean; reactivations: number } {
  return h
    ? { keyPackIds: h.licenseServer.nextKeyPackId, activated: h.licenseServer.activated, reactivations: h.licenseServer.reactivations }
    : { keyPackIds: 3, activated: false, reactivations: 0 };
}

const total = (counts: Map<string, number>, hosts: string[]) => hosts.reduce((n, h) => n + (counts.get(h.toLowerCase()) ?? 0), 0);

/** The fake world's side of the matrix: host states in memory, counts from the world around each script. */
const bench: FaultBench = {
  injections,
  journalDir,
  hostText: (host) => {
    const live = world.peek(host);
    return live ? JSON.stringify(live) : null;
  },
  putHost: (host, text) => {
    world.forget(host);
    if (text !== null) Object.assign(world.host(host), JSON.parse(text));
  },
  installs: (hosts) => total(installs, hosts),
  activations: (hosts) => total(activations, hosts),
};

/** Every fault at every step of every scenario. */
const matrix = new FaultMatrix(bench, (sc) => sc.steps.flatMap((_, k) => FAULTS.map((fault) => ({ k, fault }))));

beforeAll(() => {
  setOperationRunner(injectingCore);
});

afterAll(() => {
  resetOperationRunner();
});

// ---- the table --------------------------------------------------------------------------------------

let results: CaseResult[] = [];

beforeAll(async () => {
  // The admin's actions (setup, inspection) go to the same fake world, through the same runner.
  const sim = new Sim(STATE_DIR);
  // One pipeline at a time: the world and the journal directory are shared.
  results = [...(await matrix.licenseServer(sim)), ...(await matrix.calPack(sim)), ...(await matrix.sessionHost(sim))];
  console.log(`faults (in process): ${results.length} cases`);
});

describe("every fault switch at every step of create, update, read and delete (in process, over the fake world)", () => {
  test("the table covers the three resources, their four operations, and every fault switch", () => {
    const scenarios = new Set(results.map((r) => r.scenario));
    expect(scenarios.size).toBe(12);
    const faults = new Set(results.map((r) => r.fault));
    expect(faults.size).toBe(FAULTS.length);
    // Faults bite somewhere (the table is not vacuous).
    for (const f of FAULTS.filter((x) => x.codes.length > 0)) {
      expect(results.filter((r) => r.fault === f.name && r.outcome !== "ok").length).toBeGreaterThan(0);
    }
  });

  for (const resource of ["RdsLicenseServer", "RdsCalPack", "RdsSessionHostLicensing"]) {
    for (const op of ["create", "update", "read", "delete"]) {
      test(`${resource} ${op}: typed errors naming host and step, nothing lost, converges once cleared`, () => {
        const mine = results.filter((r) => r.scenario === `${resource} ${op}`);
        expect(mine.length).toBeGreaterThan(0);
        const bad = mine
          .filter((r) => r.problems.length > 0)
          .map((r) => `[${r.step} | ${r.fault} -> ${r.outcome}] ${r.problems.join(" / ")}`);
        expect(bad).toEqual([]);
      });
    }
  }
});
