/**
 * Reliability: crashes, the thin real slice. The real dynamic-provider host is killed (SIGKILL of its
 * process group, pwsh included) at the point of a multi-resource `pulumi up` that matters most: while the
 * first CAL pack install is in flight (the effect saved by the emulator, the result not yet back: the
 * latency fault holds every emulated call open), where only the install journal can tell the next run
 * that the pack on the server is its own. The next
 * `up`, on a restarted host, must converge without a double install, a double activation or an
 * orphaned pack: the Install and Activate calls are counted in the emulator's call log, and the packs on the
 * server are compared with the packs in state. A second up then changes nothing and a refresh shows no
 * drift. The full matrix (before and during every state-changing operation, the activation included,
 * and every lost answer) runs in process in crash.fast.test.ts; this file proves that a real process
 * kill (host, pwsh and all) leaves the same to recover from.
 *
 * The program: the RdsLicensing component (license server with automatic activation, two CAL packs,
 * the session host on the license server itself, a common small deployment, which keeps one pwsh per
 * run). Each kill point is found in the emulator's call log as the up runs (no clean reference run first).
 *
 * Real: the Pulumi SDK running the program (component and classes), the serialized providers, the
 * dynamic-provider host process and gRPC, the built providers (bin/), the runner, pwsh 7, the operation
 * scripts, the install journal. Stands in: the Pulumi CLI engine (engine/engine.ts and engine/program.ts,
 * through test/helpers/engine.ts and test/resources/component/liveProgram.ts), Windows (the emulator, slowed by latencyMs so a kill lands
 * inside a call).
 */
import * as fs from "fs";
import { closeAll } from "../../provider/powershell/pool";
import { RdsLicensing } from "../../provider/resources/component/rdsLicensing";
import { createEngine, type Engine } from "../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../helpers/providerHost";
import { componentResources, runProgram } from "../resources/component/liveProgram";
import { crashFarmArgs } from "./crashFarm";
import { ACTIVATE_METHODS, INSTALL_METHODS, installedPacks, Sim, tempDir, waitFor } from "./support";

jest.setTimeout(1_200_000);

const stateDir = tempDir("crash");
const journalDir = tempDir("crash-journal");
const sim = new Sim(stateDir);
const LATENCY_MS = 120;
function program(host: string) {
  return () => componentResources(new RdsLicensing("farm", crashFarmArgs(host, stateDir)));
}

async function startHost(): Promise<ProviderHost> {
  return startProviderHost({ env: { RDS_JOURNAL_DIR: journalDir, RDS_SIM_STATE_DIR: stateDir } });
}

function successful(host: string, methods: string[]): number {
  return sim.callRows(host).filter((r) => r.method !== null && methods.includes(r.method) && r.result === 0).length;
}

/** After recovery: converged, nothing doubled, nothing orphaned, and idempotent. */
async function expectConverged(host: string, engine: Engine, label: string): Promise<void> {
  const h = await sim.host(host);
  expect({ label, activated: h.licenseServer.activated }).toEqual({ label, activated: true });
  expect({ label, activations: successful(host, ACTIVATE_METHODS) }).toEqual({ label, activations: 1 });
  expect({ label, installs: successful(host, INSTALL_METHODS) }).toEqual({ label, installs: 2 });
  const onServer = installedPacks(h)
    .map((p) => String(p.KeyPackId))
    .sort();
  const inState = [...engine.state.values()]
    .filter((e) => e.type.endsWith(":CalPack"))
    .map((e) => e.id)
    .sort();
  expect({ label, packs: onServer }).toEqual({ label, packs: inState });
  expect(h.sessionHost.licensingType).toBe(4);
  expect(engine.state.size).toBe(4);
  for (const e of engine.state.values())
    expect({ label, urn: e.urn, initErrors: e.initErrors }).toEqual({ label, urn: e.urn, initErrors: undefined });
}

/**
 * The kill point, found by the emulator's call log (the row is written when the call's effect is saved;
 * the latency then holds the call open): the first CAL pack install. The whole matrix of points, from a
 * clean run's calls, is in crash.fast.test.ts.
 */
const POINTS: { why: string; methods: string[] }[] = [{ why: "during the first CAL pack install", methods: INSTALL_METHODS }];

beforeAll(() => {
  assertBuilt(["provider/resources", "provider/shim.ts", "provider/diff.ts", "provider/check.ts", "provider/powershell"]);
});

afterAll(async () => {
  await closeAll();
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });
});

async function crashAt(point: { why: string; methods: string[] }, i: number, failures: string[]): Promise<void> {
  const HOST = `ls-crash-${i}.contoso.com`;
  const host = await startHost();
  try {
    const engine = createEngine(host);
    // Every emulated call now stays open LATENCY_MS after its effect is saved and logged.
    await sim.fault(HOST, "latencyMs", LATENCY_MS);
    const base = sim.callRows(HOST).length;
    const run = runProgram(engine, program(HOST));
    const reached = () =>
      sim
        .callRows(HOST)
        .slice(base)
        .some((r) => r.method !== null && point.methods.includes(r.method));
    // The kill is recorded when it is decided, not when the process is gone: the killed up can end (its
    // RPC dropped) before host.kill() has seen the process exit.
    let killing: Promise<void> | undefined;
    let finished = false;
    await Promise.race([
      waitFor(point.why, () => finished || reached(), 600_000, 5).then(() => {
        if (finished) return;
        killing = host.kill("SIGKILL");
        return killing;
      }),
      run.then(() => {
        finished = true;
      }),
    ]);
    const first = await run;
    if (killing === undefined) {
      const why = first.errors.map((e) => (e.error instanceof Error ? e.error.message : String(e.error))).join("; ");
      failures.push(`${point.why}: the up finished without reaching the call (${why || "no error"})`);
      return;
    }
    await killing;
    if (first.errors.length === 0) failures.push(`${point.why}: the killed up reported no error`);
    await sim.admin({ action: "clearFaults", host: HOST });

    await host.restart();
    const second = await runProgram(engine, program(HOST));
    if (second.errors.length) failures.push(`${point.why}: recovery up failed: ${second.errors.map((e) => e.error.message).join(" | ")}`);
    else {
      try {
        await expectConverged(HOST, engine, point.why);
        const third = await runProgram(engine, program(HOST));
        const ops = third.steps.map((s) => s.op);
        if (third.errors.length || ops.some((o) => o !== "same")) failures.push(`${point.why}: a second up did ${JSON.stringify(ops)}`);
        const drift = await engine.refresh();
        if (drift.some((d) => d.op !== "same"))
          failures.push(`${point.why}: refresh shows ${JSON.stringify(drift.map((d) => [d.urn.split("::").pop(), d.op]))}`);
      } catch (e) {
        failures.push(`${point.why}: ${(e as Error).message}`);
      }
    }
  } finally {
    await host.close();
  }
}

describe("the provider host killed during the pack install of a multi-resource up", () => {
  test("the next up on a restarted host converges, nothing doubled, nothing orphaned", async () => {
    const failures: string[] = [];
    // One at a time: the program runs under the SDK's (process-wide) mocks.
    for (const [i, point] of POINTS.entries()) await crashAt(point, i, failures);
    expect(failures).toEqual([]);
  });
});
