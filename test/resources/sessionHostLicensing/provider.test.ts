/**
 * RdsSessionHostLicensing, the real slice: through the REAL dynamic-provider host, in a real program with
 * a license server, a CAL pack and one session host. One cycle: create (the host configured only after
 * its pack is installed, the connection and the pack references secret in state after gRPC), a second up
 * that changes nothing, a refresh that shows out-of-band drift and the up that repairs only what differs,
 * destroy. The decisions (the same cycle over two session hosts, a list emptied out of band, a Group
 * Policy override, resetOnDelete, bad input) run in process in provider.fast.test.ts. What the fake world
 * there does not model, so is only here: the emulator's WMI call log (the writes the host received, in
 * order, and the emulator's clocks across hosts), the secrets of a program's state through gRPC, and
 * the `connectivity` output following a network cut and its repair (refresh) with the up's warning. *
 * Real: the Pulumi SDK running the program (RdsLicenseServer, RdsCalPack, RdsSessionHostLicensing
 * classes), the serialized `__provider` shims, the dynamic-provider host process and gRPC, the built
 * providers (bin/) of all three resources, the runner, pwsh 7 and the operation scripts.
 * Stands in: the Pulumi CLI engine (test/helpers/engine.ts, driven by the program's registrations:
 * ../component/liveProgram.ts), Windows (the WMI emulator, state in a temp directory), and the
 * administrator who flips a setting by hand (fixtures/SimAdmin.ps1 through the runner in this test
 * process).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { createEngine, type Engine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { runProgram } from "../component/liveProgram";
import { expectSh1Configured, expectPackBeforeHosts, LS, LS_URN, PACK_URN, programFor, rpcsOf, SH1, SH1_URN } from "./program";
import { withWarnings } from "../../helpers/warnings";
import { callLog, callLogs, hostView, outOfBand, setFault, type CallLogRow } from "./simAdmin";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-provider-"));
/** One session host: the second one of the full program (and its list drift) is provider.fast.test.ts's. */
const program = programFor(stateDir, { sessionHosts: [SH1] });

let host: ProviderHost;
let engine: Engine;
/**
 * The administrator's warm pwsh (in this process) starting: begun with the host, awaited once the
 * first up ran, so the two pwsh starts (this process's and the host's) overlap on the two cores. It
 * reads the call logs of no host: nothing is read or changed.
 */
let adminWarm: Promise<unknown>;

interface SessionHostView {
  licensingType: number;
  effectiveLicensingType: number;
  specifiedLicenseServers: string[];
  effectiveLicenseServers: string[];
}
const sessionHostOf = async (h: string) => (await hostView(stateDir, h)).sessionHost as SessionHostView;
const rpcs = (since: number) => rpcsOf(engine, since);

beforeAll(async () => {
  assertBuilt([
    "provider/resources/sessionHostLicensing",
    "provider/resources/calPack",
    "provider/resources/licenseServer",
    "provider/shim.ts",
  ]);
  adminWarm = callLogs(stateDir, []);
  host = await startProviderHost();
  engine = createEngine(host);
}, 120_000);

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** The licensing writes (ChangeMode, SetSpecifiedLicenseServerList) in a host's call log, with their result. */
const writesIn = (rows: CallLogRow[]) =>
  rows.filter((r) => r.cmdlet === "Invoke-CimMethod" && (r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList"));

describe("RdsSessionHostLicensing through the host: one cycle", () => {
  it("configures the session host after its pack is installed", async () => {
    const [run] = await Promise.all([runProgram(engine, program), adminWarm]);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "create"],
      ["users-2022", "create"],
      ["sh1", "create"],
    ]);
    // The engine's call log: the pack's Create returned before the host's Check was even sent
    // (the host's inputs come from the pack's outputs).
    expectPackBeforeHosts(rpcs(0), ["sh1"]);

    // What ran on each host (the order across hosts is the engine's, asserted above from its RPC log,
    // not from the emulator's clocks): the pack installed on the license server, the host's two writes.
    const logs = await callLogs(stateDir, [LS, SH1]);
    expect(logs[LS].filter((r) => r.method === "InstallAgreementLicenseKeyPack" && r.result === 0)).toHaveLength(1);
    const writes = writesIn(logs[SH1]);
    expect(writes.map((r) => [r.method, r.result])).toEqual([
      ["ChangeMode", 0],
      ["SetSpecifiedLicenseServerList", 0],
    ]);

    expectSh1Configured(engine, await sessionHostOf(SH1));
  }, 600_000);

  it("a second up changes nothing", async () => {
    const mark = engine.log.length;
    const before = await callLog(stateDir, SH1);
    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => s.op)).toEqual(["same", "same", "same"]);
    expect(rpcs(mark).filter((m) => /^(Create|Update|Delete)/.test(m))).toEqual([]);
    expect(writesIn(await callLog(stateDir, SH1))).toHaveLength(writesIn(before).length);
  }, 600_000);

  it("refresh after the mode was flipped out of band shows drift; the next up repairs it, setting only the mode", async () => {
    await outOfBand(stateDir, SH1, { method: "ChangeMode", licensingType: 2 });

    const reports = await engine.refresh();
    expect(reports.find((r) => r.urn === SH1_URN)!.op).toBe("update");
    expect(engine.outputs(SH1_URN)).toMatchObject({ mode: "perUser", effectiveMode: "perDevice", modeSource: "local" });
    expect(reports.find((r) => r.urn === PACK_URN)!.op).toBe("same");

    const before = await callLog(stateDir, SH1);
    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "same"],
      ["users-2022", "same"],
      ["sh1", "update"],
    ]);
    const lsName = engine.outputs(LS_URN).serverName;
    expect(engine.outputs(SH1_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [lsName] });
    expect(await sessionHostOf(SH1)).toMatchObject({ licensingType: 4, specifiedLicenseServers: [lsName] });
    // Only what differed was set: ChangeMode, not the list.
    const made = writesIn((await callLog(stateDir, SH1)).slice(before.length));
    expect(made.map((r) => [r.method, r.result])).toEqual([["ChangeMode", 0]]);

    const again = await engine.refresh();
    expect(again.filter((r) => r.op !== "same")).toEqual([]);
  }, 600_000);

  it("a network cut to the license server shows in connectivity after a refresh, with a warning on the next up; the repair after the next refresh", async () => {
    const lsName = engine.outputs(LS_URN).serverName as string;
    const valid = { licenseServer: lsName, status: 11, name: "LS_CONNECTABLE_VALID_LS", ok: true };
    expect(engine.outputs(SH1_URN).connectivity).toEqual([expect.objectContaining(valid)]);

    await setFault(stateDir, SH1, "networkCut", LS);
    await engine.refresh();
    expect(engine.outputs(SH1_URN).connectivity).toEqual([
      {
        licenseServer: lsName,
        status: 6,
        name: "LS_NOT_CONNECTABLE",
        meaning: "Remote Desktop Services cannot connect to the license server.",
        ok: false,
      },
    ]);
    // An up changes nothing on the host (the settings are as declared) and warns about the server.
    const { result: run, warnings } = await withWarnings(() => runProgram(engine, program));
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => s.op)).toEqual(["same", "same", "same"]);
    expect(warnings.filter((w) => w.includes("LS_NOT_CONNECTABLE"))).toEqual([
      expect.stringContaining(`cannot get CALs from its license server: ${lsName} (6 LS_NOT_CONNECTABLE`),
    ]);

    await setFault(stateDir, SH1, "networkCut", { to: LS, cut: false });
    await engine.refresh();
    expect(engine.outputs(SH1_URN).connectivity).toEqual([expect.objectContaining(valid)]);
  }, 600_000);

  it("destroy leaves the host configured (resetOnDelete defaults to false)", async () => {
    await engine.destroy();
    expect(engine.state.size).toBe(0);
    const sh1 = await sessionHostOf(SH1);
    expect(sh1.licensingType).toBe(4);
    expect(sh1.specifiedLicenseServers).toHaveLength(1);
  }, 600_000);
});
