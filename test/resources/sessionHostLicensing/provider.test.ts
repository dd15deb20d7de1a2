/**
 * RdsSessionHostLicensing through the REAL dynamic-provider host, in a real program with a license
 * server and a CAL pack.
 *
 * Real: the Pulumi SDK running the program (RdsLicenseServer, RdsCalPack, RdsSessionHostLicensing
 * classes), the serialized `__provider` shims, the dynamic-provider host process and gRPC, the built
 * providers (bin/) of all three resources, the runner, pwsh 7 and the operation scripts.
 * Stands in: the Pulumi CLI engine (test/helpers/engine.ts, driven by the program's registrations:
 * ../component/liveProgram.ts), Windows (the WMI emulator, state in a temp directory), and the
 * administrator who flips a setting by hand or sets a Group Policy (fixtures/SimAdmin.ps1 through the
 * runner in this test process).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { closeAll } from "../../../provider/powershell/pool";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../../../provider/resources/sessionHostLicensing/resource";
import { createEngine, DeploymentError, type Engine } from "../../helpers/engine";
import { assertBuilt, makeUrn, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { runProgram } from "../component/liveProgram";
import { callLogs, hostView, outOfBand, setGroupPolicy } from "./simAdmin";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-provider-"));
const sim = (host: string) => ({ transport: "simulator" as const, host, stateDir });
const LS = "ls01.contoso.com";
const SH1 = "sh1.contoso.com";
const SH2 = "sh2.contoso.com";
const SHL = "pulumi-nodejs:dynamic/rds:SessionHostLicensing";
const urnOf = (type: string, name: string) => makeUrn(type, name);
const SH1_URN = urnOf(SHL, "sh1");
const SH2_URN = urnOf(SHL, "sh2");
const PACK_URN = urnOf("pulumi-nodejs:dynamic/rds:CalPack", "users-2022");

let host: ProviderHost;
let engine: Engine;

/** The program: a license server, one Per User pack, two session hosts that take the pack. */
function program(): pulumi.Resource[] {
  const ls = new RdsLicenseServer("ls", {
    connection: sim(LS),
    contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
    activation: { method: "automatic" },
  });
  const users = new RdsCalPack("users-2022", {
    licenseServer: ls,
    program: "enterpriseAgreement",
    agreementNumber: "1234567",
    productVersion: "2022",
    calType: "perUser",
    quantity: 50,
  });
  const hosts = [SH1, SH2].map(
    (h) =>
      new RdsSessionHostLicensing(h.split(".")[0], {
        connection: sim(h),
        mode: "perUser",
        licenseServers: [ls.serverName],
        calPacks: [users],
      }),
  );
  return [ls, users, ...hosts];
}

interface SessionHostView {
  licensingType: number;
  effectiveLicensingType: number;
  specifiedLicenseServers: string[];
  effectiveLicenseServers: string[];
}
const sessionHostOf = async (h: string) => (await hostView(stateDir, h)).sessionHost as SessionHostView;
const rpcs = (since: number) => engine.log.slice(since).map((c) => `${c.method}${c.urn ? ` ${c.urn.split("::").pop()}` : ""}`);

beforeAll(async () => {
  assertBuilt([
    "provider/resources/sessionHostLicensing",
    "provider/resources/calPack",
    "provider/resources/licenseServer",
    "provider/shim.ts",
  ]);
  host = await startProviderHost();
  engine = createEngine(host);
}, 120_000);

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("RdsSessionHostLicensing through the host", () => {
  it("configures the session hosts after their pack is installed", async () => {
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
    const log = rpcs(0);
    const packCreated = log.indexOf("Create users-2022");
    expect(packCreated).toBeGreaterThan(-1);
    expect(log.indexOf("Check sh1")).toBeGreaterThan(packCreated);
    expect(log.indexOf("Check sh2")).toBeGreaterThan(packCreated);

    // The emulator's clocks agree: the install on the license server precedes ChangeMode on each host.
    const logs = await callLogs(stateDir, [LS, SH1, SH2]);
    const installAt = logs[LS].find((r) => r.method === "InstallAgreementLicenseKeyPack" && r.result === 0)!.at;
    for (const h of [SH1, SH2]) {
      const writes = logs[h].filter((r) => r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList");
      expect(writes.map((r) => [r.method, r.result])).toEqual([
        ["ChangeMode", 0],
        ["SetSpecifiedLicenseServerList", 0],
      ]);
      expect(Date.parse(writes[0].at)).toBeGreaterThan(Date.parse(installAt));
    }

    const lsOut = engine.outputs(urnOf("pulumi-nodejs:dynamic/rds:LicenseServer", "ls"));
    const out = engine.outputs(SH1_URN);
    expect(out).toMatchObject({
      mode: "perUser",
      effectiveMode: "perUser",
      effectiveLicenseServers: [lsOut.serverName],
      modeSource: "local",
      licenseServersSource: "local",
      gracePeriodDaysLeft: 120,
      osVersion: "2022",
      domainJoined: true,
      serverName: SH1,
    });
    expect((out.calPacks as { keyPackId: number }[])[0].keyPackId).toBe(engine.outputs(PACK_URN).keyPackId);
    // The connection and the pack references (which hold the license server's connection) stay secret.
    const state = engine.entry(SH1_URN).outputs as Record<string, unknown>;
    expect(JSON.stringify(state.connection)).toContain("4dabf18193072939515e22adb298388d");
    expect(JSON.stringify(state.calPacks)).toContain("4dabf18193072939515e22adb298388d");
    expect(await sessionHostOf(SH1)).toMatchObject({ licensingType: 4, specifiedLicenseServers: [lsOut.serverName] });
  }, 600_000);

  it("a second up changes nothing", async () => {
    const mark = engine.log.length;
    const before = await callLogs(stateDir, [SH1, SH2]);
    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
    expect(rpcs(mark).filter((m) => /^(Create|Update|Delete)/.test(m))).toEqual([]);
    const after = await callLogs(stateDir, [SH1, SH2]);
    for (const h of [SH1, SH2]) {
      const writes = (rows: (typeof after)[string]) =>
        rows.filter((r) => r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList");
      expect(writes(after[h])).toHaveLength(writes(before[h]).length);
    }
  }, 600_000);

  it("refresh after the mode was flipped (and a list emptied) out of band shows drift; the next up repairs it", async () => {
    await outOfBand(stateDir, SH1, { method: "ChangeMode", licensingType: 2 });
    await outOfBand(stateDir, SH2, { method: "EmptySpecifiedLicenseServerList" });

    const reports = await engine.refresh();
    const sh1 = reports.find((r) => r.urn === SH1_URN)!;
    const sh2 = reports.find((r) => r.urn === SH2_URN)!;
    expect(sh1.op).toBe("update");
    expect(engine.outputs(SH1_URN)).toMatchObject({ mode: "perUser", effectiveMode: "perDevice", modeSource: "local" });
    expect(sh2.op).toBe("update");
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [] });
    expect(reports.find((r) => r.urn === PACK_URN)!.op).toBe("same");

    const run = await runProgram(engine, program);
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "same"],
      ["users-2022", "same"],
      ["sh1", "update"],
      ["sh2", "update"],
    ]);
    const lsName = engine.outputs(urnOf("pulumi-nodejs:dynamic/rds:LicenseServer", "ls")).serverName;
    expect(engine.outputs(SH1_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [lsName] });
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [lsName] });
    expect(await sessionHostOf(SH1)).toMatchObject({ licensingType: 4 });
    expect(await sessionHostOf(SH2)).toMatchObject({ specifiedLicenseServers: [lsName] });
    // Only what differed was set: SH1 got ChangeMode only, SH2 the list only.
    const logs = await callLogs(stateDir, [SH1, SH2]);
    const lastWrite = (h: string) =>
      logs[h]
        .filter((r) => (r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList") && r.cmdlet === "Invoke-CimMethod")
        .pop()!.method;
    expect(lastWrite(SH1)).toBe("ChangeMode");
    expect(lastWrite(SH2)).toBe("SetSpecifiedLicenseServerList");

    const again = await engine.refresh();
    expect(again.filter((r) => r.op !== "same")).toEqual([]);
  }, 600_000);

  it("reports a Group Policy override: same value shows source groupPolicy without drift; a contrary one fails the next up", async () => {
    await setGroupPolicy(stateDir, SH2, { licensingMode: 4 });
    let reports = await engine.refresh();
    expect(reports.find((r) => r.urn === SH2_URN)!.op).toBe("same");
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", modeSource: "groupPolicy", licenseServersSource: "local" });
    const same = await runProgram(engine, program);
    expect(same.steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);

    await setGroupPolicy(stateDir, SH2, { licensingMode: 2 });
    reports = await engine.refresh();
    expect(reports.find((r) => r.urn === SH2_URN)!.op).toBe("update");
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perDevice", modeSource: "groupPolicy" });

    const run = await runProgram(engine, program);
    expect(run.errors.map((e) => e.urn)).toEqual([SH2_URN]);
    const err = run.errors[0].error as DeploymentError;
    expect(err).toBeInstanceOf(DeploymentError);
    expect(err.message).toContain("a Group Policy controls the licensing mode and sets perDevice");
    expect(err.message).toContain("HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services");
    expect(err.message).toContain("Remote Desktop Session Host > Licensing");
    // The provider never wrote the policy, nor fought it through WMI.
    expect(await sessionHostOf(SH2)).toMatchObject({ licensingType: 4, effectiveLicensingType: 2 });
    const view = await hostView(stateDir, SH2);
    expect(view.groupPolicy).toMatchObject({ LicensingMode: 2 });

    // Once the policy is gone, the next up has nothing to repair (the local value was never changed).
    await setGroupPolicy(stateDir, SH2, { licensingMode: null });
    await engine.refresh();
    const clean = await runProgram(engine, program);
    expect(clean.errors).toEqual([]);
    expect(engine.outputs(SH2_URN)).toMatchObject({ effectiveMode: "perUser", modeSource: "local" });
  }, 600_000);

  it("destroy leaves the hosts configured (resetOnDelete defaults to false)", async () => {
    await engine.destroy();
    expect(engine.state.size).toBe(0);
    const sh1 = await sessionHostOf(SH1);
    expect(sh1.licensingType).toBe(4);
    expect(sh1.specifiedLicenseServers).toHaveLength(1);
  }, 600_000);
});
