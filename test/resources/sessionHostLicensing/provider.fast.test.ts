/**
 * RdsSessionHostLicensing's decisions, in process, in a real program with a license server and a CAL
 * pack: the hosts configured only after their pack is installed, a second up that changes nothing, drift
 * after out-of-band changes and a repair that sets only what differs, a Group Policy override (the same
 * value is no drift; a contrary one fails the next up and is never fought), destroy with and without
 * resetOnDelete, bad input refused in check. provider.test.ts keeps the real slice.
 *
 * Real: the Pulumi SDK running the program (RdsLicenseServer, RdsCalPack, RdsSessionHostLicensing
 * classes, engine/program.ts), the serialized `__provider` shims (by which the in-process host finds
 * each provider), the engine's step logic (engine/engine.ts), the three providers (TypeScript sources),
 * the CAL pack install journal (files in a temporary RDS_JOURNAL_DIR), the runner's validation and
 * result typing.
 * Stands in: the dynamic-provider host process (engine/inProcessHost.ts does what it does around each
 * call); pwsh, the operation scripts and Windows (the FakeWorld behind the FakeRunner, test/fake/, held
 * to the emulator's recorded answers by test/fake/world.contract.test.ts); the administrator who flips a
 * setting by hand or sets a Group Policy (the fake world's admin actions, RelAdmin.ps1's, through
 * `Sim`); the journal's key stretching is a keyed SHA-256 (test/fake/fastJournal.ts). The emulator's
 * WMI call log is not modelled: what ran where, and in which order, is the record of the operation
 * scripts the world answered (one sequence for every host), and a write is a set.ps1 run's own list of
 * the calls it made (ChangeMode, SetSpecifiedLicenseServerList).
 * Not modelled by the fake, so kept in provider.test.ts: the emulator's call log and its clocks, the
 * secrets through gRPC.
 */
import { createEngine, type Engine } from "../../../engine/engine";
import { startInProcessHost } from "../../../engine/inProcessHost";
import { runProgram } from "../../../engine/program";
import { DeploymentError } from "../../../engine/state";
import { RdsSessionHostLicensing } from "../../../provider/resources/sessionHostLicensing/resource";
import { resetOperationRunner, setOperationRunner } from "../../../provider/powershell/runner";
import { useFastJournal } from "../../fake/fastJournal";
import { recordOperations } from "../../fake/opRecorder";
import { FakeRunner } from "../../fake/runner";
import { providerTableOf, providers, Sim } from "../../reliability/support";
import {
  expectSh1Configured,
  expectPackBeforeHosts,
  LS,
  LS_URN,
  PACK_URN,
  POLICY_ERROR_PARTS,
  programFor,
  rpcsOf,
  SH1,
  SH1_URN,
  SH2,
  SH2_URN,
} from "./program";

jest.setTimeout(60_000);

const { stateDir } = useFastJournal("shl-provider");

// ---- the world, and the record of the operation scripts it answered --------------------------------

const runner = new FakeRunner();
const sim = new Sim(stateDir);
/** The providers' scripts, in the order the world ran them (the administrator's are not recorded). */
const { core: recordingCore, ops } = recordOperations(() => runner);

beforeAll(() => setOperationRunner(recordingCore));
afterAll(() => resetOperationRunner());

/** The session host's licensing writes (set.ps1's own list of its calls) since `mark`, in order. */
function writes(host: string, mark = 0): string[] {
  return ops
    .slice(mark)
    .filter((r) => r.host === host && r.op === "sessionHostLicensing/set" && r.ok)
    .flatMap((r) => r.result!.calls as string[]);
}

const sessionHostOf = (h: string) => runner.world.view(h).sessionHost;

const uint32 = (value: number) => ({ type: "uint32", value });

/** An administrator's own WMI call on a session host (out-of-band drift). */
async function outOfBand(host: string, method: string, args: Record<string, { type: string; value: unknown }> = {}): Promise<void> {
  const r = await sim.wmi(host, { className: "Win32_TerminalServiceSetting", method, arguments: args });
  expect(r.returnValue).toBe(0);
}

// ---- the providers, in process ----------------------------------------------------------------------

const P = providers();
const providerTable = providerTableOf(P);

const host = startInProcessHost({ providers: providerTable });
const program = programFor(stateDir);

// ---- the scenario ---------------------------------------------------------------------------------------

describe("RdsSessionHostLicensing in a program with its license server and pack", () => {
  const engine: Engine = createEngine(host);
  const rpcs = (since: number) => rpcsOf(engine, since);

  test("configures the session hosts after their pack is installed", async () => {
    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "create"],
      ["users-2022", "create"],
      ["sh1", "create"],
      ["sh2", "create"],
    ]);
    // The engine's call log: the pack's Create returned before either host's Check was even sent
    // (the hosts' inputs come from the pack's outputs).
    expectPackBeforeHosts(rpcs(0), ["sh1", "sh2"]);

    // The world's order agrees: the install on the license server precedes each host's writes.
    const installAt = ops.findIndex((r) => r.host === LS && r.op === "calPack/install" && r.ok);
    expect(installAt).toBeGreaterThan(-1);
    for (const h of [SH1, SH2]) {
      expect(writes(h)).toEqual(["ChangeMode", "SetSpecifiedLicenseServerList"]);
      const firstWrite = ops.findIndex((r) => r.host === h && r.op === "sessionHostLicensing/set");
      expect(firstWrite).toBeGreaterThan(installAt);
    }

    expectSh1Configured(engine, sessionHostOf(SH1));
  });

  test("a second up changes nothing", async () => {
    const mark = engine.log.length;
    const opsMark = ops.length;
    const before = [SH1, SH2].map((h) => runner.world.hostText(h));
    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
    expect(rpcs(mark).filter((m) => /^(Create|Update|Delete)/.test(m))).toEqual([]);
    for (const h of [SH1, SH2]) expect(writes(h, opsMark)).toEqual([]);
    expect([SH1, SH2].map((h) => runner.world.hostText(h))).toEqual(before);
  });

  test("refresh after the mode was flipped (and a list emptied) out of band shows drift; the next up repairs it", async () => {
    await outOfBand(SH1, "ChangeMode", { LicensingType: uint32(2) });
    await outOfBand(SH2, "EmptySpecifiedLicenseServerList");

    const reports = await engine.refresh();
    const sh1 = reports.find((r) => r.urn === SH1_URN)!;
    const sh2 = reports.find((r) => r.urn === SH2_URN)!;
    expect(sh1.op).toBe("update");
    expect(engine.outputs(SH1_URN)).toMatchObject({ mode: "perUser", effectiveMode: "perDevice", modeSource: "local" });
    expect(sh2.op).toBe("update");
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [] });
    expect(reports.find((r) => r.urn === PACK_URN)!.op).toBe("same");

    const opsMark = ops.length;
    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "same"],
      ["users-2022", "same"],
      ["sh1", "update"],
      ["sh2", "update"],
    ]);
    const lsName = engine.outputs(LS_URN).serverName;
    expect(engine.outputs(SH1_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [lsName] });
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [lsName] });
    expect(sessionHostOf(SH1)).toMatchObject({ licensingType: 4 });
    expect(sessionHostOf(SH2)).toMatchObject({ specifiedLicenseServers: [lsName] });
    // Only what differed was set: SH1 got ChangeMode only, SH2 the list only.
    expect(writes(SH1, opsMark)).toEqual(["ChangeMode"]);
    expect(writes(SH2, opsMark)).toEqual(["SetSpecifiedLicenseServerList"]);

    const again = await engine.refresh();
    expect(again.filter((r) => r.op !== "same")).toEqual([]);
  });

  test("reports a Group Policy override: same value shows source groupPolicy without drift; a contrary one fails the next up", async () => {
    await sim.groupPolicy(SH2, { licensingMode: 4 });
    let reports = await engine.refresh();
    expect(reports.find((r) => r.urn === SH2_URN)!.op).toBe("same");
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", modeSource: "groupPolicy", licenseServersSource: "local" });
    const same = await runProgram(engine, program);
    expect(same.steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);

    await sim.groupPolicy(SH2, { licensingMode: 2 });
    reports = await engine.refresh();
    expect(reports.find((r) => r.urn === SH2_URN)!.op).toBe("update");
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perDevice", modeSource: "groupPolicy" });

    const opsMark = ops.length;
    const run = await runProgram(engine, program);
    expect(run.errors.map((e) => e.urn)).toEqual([SH2_URN]);
    const err = run.errors[0].error as DeploymentError;
    expect(err).toBeInstanceOf(DeploymentError);
    for (const part of POLICY_ERROR_PARTS) expect(err.message).toContain(part);
    // The provider never wrote the policy, nor fought it through WMI.
    expect(writes(SH2, opsMark)).toEqual([]);
    expect(sessionHostOf(SH2)).toMatchObject({ licensingType: 4, effectiveLicensingType: 2 });
    expect(runner.world.host(SH2).groupPolicy).toMatchObject({ LicensingMode: 2 });

    // Once the policy is gone, the next up has nothing to repair (the local value was never changed).
    await sim.groupPolicy(SH2, { licensingMode: null });
    await engine.refresh();
    const clean = await runProgram(engine, program);
    expect(clean.errors).toEqual([]);
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", modeSource: "local" });
  });

  test("destroy leaves the hosts configured (resetOnDelete defaults to false)", async () => {
    const opsMark = ops.length;
    await engine.destroy();
    expect(engine.state.size).toBe(0);
    const sh1 = sessionHostOf(SH1);
    expect(sh1.licensingType).toBe(4);
    expect(sh1.specifiedLicenseServers).toHaveLength(1);
    expect(ops.slice(opsMark).filter((r) => r.op === "sessionHostLicensing/reset")).toEqual([]);
  });
});

describe("resetOnDelete", () => {
  test("destroy empties each host's license server list and leaves its mode (ChangeMode cannot unset it)", async () => {
    const engine = createEngine(host);
    const run = await runProgram(engine, programFor(stateDir, { resetOnDelete: true }));
    expect(run.errors).toEqual([]);
    expect(sessionHostOf(SH1).specifiedLicenseServers).toHaveLength(1);

    const opsMark = ops.length;
    await engine.destroy();
    expect(engine.state.size).toBe(0);
    for (const h of [SH1, SH2]) {
      const resets = ops.slice(opsMark).filter((r) => r.host === h && r.op === "sessionHostLicensing/reset" && r.ok);
      expect(resets.map((r) => r.result!.calls)).toEqual([["EmptySpecifiedLicenseServerList"]]);
      expect(sessionHostOf(h)).toMatchObject({ licensingType: 4, specifiedLicenseServers: [] });
    }
  });
});

describe("bad input", () => {
  test("an unknown mode fails in check, with the field named, before the session host is touched", async () => {
    const BAD = "sh-bad.contoso.com";
    const engine = createEngine(host);
    const run = await runProgram(engine, () => [
      new RdsSessionHostLicensing("bad", {
        connection: { transport: "simulator", host: BAD, stateDir },
        mode: "perSeat" as "perUser",
        licenseServers: [LS],
      }),
    ]);
    expect(run.errors).toHaveLength(1);
    const err = run.errors[0].error as DeploymentError;
    expect(err.kind).toBe("checkFailed");
    expect(err.details.failures!.map((f) => f.property)).toEqual(["mode"]);
    expect(ops.filter((r) => r.host === BAD)).toEqual([]);
    expect(runner.world.peek(BAD)).toBeUndefined();
  });
});
