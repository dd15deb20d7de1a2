/**
 * End to end: a whole RDS licensing environment declared with the RdsLicensing component (one license
 * server activated by web in two phases, three CAL packs, four session hosts), deployed through the
 * real dynamic-provider host.
 *
 * Real: the Pulumi SDK running the program (the component, the three resource classes, their apply
 * callbacks, the findings), the serialized `__provider` shims, the dynamic-provider host process and
 * gRPC, the built providers (bin/) of all three resources, the runner and pool, pwsh 7 and every
 * operation script.
 * Stands in: the Pulumi CLI engine (test/helpers/engine.ts driven by the program's registrations, see
 * liveProgram.ts); Windows, through the WMI emulator (state in a temp directory), whose Clearinghouse
 * also plays the Remote Desktop Licensing web site that turns the product id into a license server id
 * (what the administrator would do in a browser between the two phases).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { RdsLicensing } from "../../../provider/resources/component/rdsLicensing";
import type { Finding } from "../../../provider/resources/component/findings";
import { createEngine, type Engine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { callLogs, clearinghouseLicenseServerId, setHostConfig, type CallLogRow } from "../sessionHostLicensing/simAdmin";
import { componentResources, runProgram } from "./liveProgram";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-e2e-"));
const sim = (host: string) => ({ transport: "simulator" as const, host, stateDir });
const LS = "ls01.contoso.com";
const HOSTS = ["sh1.contoso.com", "sh2.contoso.com", "sh3.contoso.com", "sh4.contoso.com"];

let host: ProviderHost;
let engine: Engine;
let env: RdsLicensing | undefined;

/** The environment template; `licenseServerId` is what phase 2 adds. */
function environment(licenseServerId?: string) {
  return () => {
    env = new RdsLicensing("farm", {
      licenseServer: {
        connection: sim(LS),
        contact: { firstName: "Ada", lastName: "Lovelace", company: 'Contoso "RDS" Ltd', countryRegion: "United Kingdom" },
        activation: licenseServerId === undefined ? { method: "web" } : { method: "web", licenseServerId },
      },
      calPacks: [
        {
          name: "users-2022",
          program: "enterpriseAgreement",
          agreementNumber: "1234567",
          productVersion: "2022",
          calType: "perUser",
          quantity: 50,
        },
        { name: "users-2019", program: "select", agreementNumber: "7654321", productVersion: "2019", calType: "perUser", quantity: 25 },
        {
          name: "devices-2022",
          program: "openLicense",
          licenseNumber: "12345678",
          authorizationNumber: "ABCDE12345FGHIJ",
          productVersion: "2022",
          calType: "perDevice",
          quantity: 10,
        },
      ],
      mode: "perUser",
      sessionHosts: HOSTS.map((h, i) => ({
        name: h.split(".")[0],
        connection: sim(h),
        osVersion: i === 3 ? ("2019" as const) : ("2022" as const),
        domainJoined: true,
      })),
    });
    return [env, ...componentResources(env)];
  };
}

const findingsOf = (component: RdsLicensing) => (component.findings as unknown as { promise(): Promise<Finding[]> }).promise();
const short = (urn: string) => urn.split("::").pop()!;

beforeAll(async () => {
  assertBuilt(["provider/resources", "provider/shim.ts"]);
  // sh4 runs Windows Server 2019 (covered by the 2022 CALs); the others keep the default 2022.
  await setHostConfig(stateDir, HOSTS[3], { osVersion: "2019" });
  host = await startProviderHost();
  engine = createEngine(host);
}, 300_000);

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("RdsLicensing end to end (web activation in two phases, 3 packs, 4 session hosts)", () => {
  let productId = "";

  it("phase 1: the license server is created pending; nothing is installed and no host is touched", async () => {
    const run = await runProgram(engine, environment());
    expect(run.steps.map((s) => [short(s.urn), s.op])).toEqual([["farm-ls", "create"]]);
    // The first pack refuses: the server is not activated (the BPA rule), with the next step.
    expect(run.errors.map((e) => short(e.urn))).toEqual(["farm-users-2022"]);
    expect(run.errors[0].error.message).toContain("must be activated before you can install RDS CALs");
    expect(run.errors[0].error.message).toContain("https://activate.microsoft.com");
    expect(run.skipped.map(short)).toEqual(expect.arrayContaining(["farm-users-2019", "farm-devices-2022"]));

    const ls = engine.outputs(engine.calls({ method: "Create" })[0].urn!);
    expect(ls.activationStatus).toBe("pending");
    productId = ls.productId as string;
    expect(productId).toMatch(/^\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3}$/);
    expect(ls.nextStep).toContain(productId);

    const logs = await callLogs(stateDir, [LS, ...HOSTS]);
    expect(logs[LS].filter((r) => /Install.*KeyPack/.test(r.method ?? ""))).toEqual([]);
    for (const h of HOSTS) expect(logs[h]).toEqual([]);

    // The findings say what is wrong and what to do.
    const findings = await findingsOf(env!);
    const activation = findings.find((f) => f.id === "RDS-LIC-001")!;
    expect(activation.status).toBe("fail");
    expect(activation.fix).toContain(productId);
  }, 900_000);

  it("phase 2: with the license server id, activation precedes installation precedes host configuration, and every finding passes", async () => {
    const licenseServerId = await clearinghouseLicenseServerId(stateDir, productId);
    const mark = engine.log.length;
    const run = await runProgram(engine, environment(licenseServerId));
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => [short(s.urn), s.op])).toEqual([
      ["farm-ls", "update"],
      ["farm-users-2022", "create"],
      ["farm-users-2019", "create"],
      ["farm-devices-2022", "create"],
      ["farm-sh1", "create"],
      ["farm-sh2", "create"],
      ["farm-sh3", "create"],
      ["farm-sh4", "create"],
    ]);

    // The engine's call log: the license server's Update returns before any pack is checked, and the
    // last pack's Create returns before any host is checked.
    const rpc = engine.log.slice(mark).map((c) => `${c.method} ${c.urn ? short(c.urn) : ""}`.trim());
    const at = (entry: string) => rpc.indexOf(entry);
    const lastPack = Math.max(at("Create farm-users-2022"), at("Create farm-users-2019"), at("Create farm-devices-2022"));
    expect(at("Update farm-ls")).toBeGreaterThan(-1);
    for (const p of ["farm-users-2022", "farm-users-2019", "farm-devices-2022"])
      expect(at(`Check ${p}`)).toBeGreaterThan(at("Update farm-ls"));
    for (const h of ["farm-sh1", "farm-sh2", "farm-sh3", "farm-sh4"]) expect(at(`Check ${h}`)).toBeGreaterThan(lastPack);

    // The emulator's clocks across hosts: ActivateServer < every install < every host write.
    const logs = await callLogs(stateDir, [LS, ...HOSTS]);
    const time = (r: CallLogRow) => Date.parse(r.at);
    const activate = logs[LS].filter((r) => r.method === "ActivateServer" && r.result === 0);
    expect(activate).toHaveLength(1);
    const installs = logs[LS].filter((r) => /^Install.*KeyPack$/.test(r.method ?? "") && r.result === 0);
    expect(installs.map((r) => r.method).sort()).toEqual([
      "InstallAgreementLicenseKeyPack",
      "InstallAgreementLicenseKeyPack",
      "InstallOpenLicenseKeyPack",
    ]);
    for (const i of installs) expect(time(i)).toBeGreaterThanOrEqual(time(activate[0]));
    expect(Math.min(...installs.map((r) => r.seq))).toBeGreaterThan(activate[0].seq);
    const lastInstall = Math.max(...installs.map(time));
    for (const h of HOSTS) {
      const writes = logs[h].filter((r) => r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList");
      expect(writes.map((r) => [r.method, r.result])).toEqual([
        ["ChangeMode", 0],
        ["SetSpecifiedLicenseServerList", 0],
      ]);
      // No host call of any kind happened before the last pack was installed.
      expect(Math.min(...logs[h].map(time))).toBeGreaterThanOrEqual(lastInstall);
    }

    // Every host ended up Per User, pointed at the license server.
    const lsName = engine.outputs(engine.calls({ method: "Create" })[0].urn!).serverName;
    for (const h of ["farm-sh1", "farm-sh2", "farm-sh3", "farm-sh4"]) {
      const urn = run.registered.find((u) => short(u) === h)!;
      expect(engine.outputs(urn)).toMatchObject({ effectiveMode: "perUser", effectiveLicenseServers: [lsName], modeSource: "local" });
    }
    expect(engine.outputs(run.registered.find((u) => short(u) === "farm-sh4")!).osVersion).toBe("2019");

    // The findings, computed by the component from the real outputs: all green.
    const findings = await findingsOf(env!);
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ["RDS-LIC-001", "pass"],
      ["RDS-LIC-002", "pass"],
      ["RDS-LIC-003", "pass"],
      ["RDS-LIC-004", "pass"],
      ["RDS-LIC-005", "pass"],
      ["RDS-LIC-006", "pass"],
      ["RDS-LIC-007", "pass"],
      ["RDS-LIC-008", "pass"],
    ]);
    expect(findings.find((f) => f.id === "RDS-LIC-002")!.detail).toContain("75 Per User CALs available");
  }, 900_000);

  it("a third up changes nothing, and refresh finds no drift", async () => {
    const licenseServerId = await clearinghouseLicenseServerId(stateDir, productId);
    const run = await runProgram(engine, environment(licenseServerId));
    expect(run.errors).toEqual([]);
    expect(new Set(run.steps.map((s) => s.op))).toEqual(new Set(["same"]));
    expect(run.steps).toHaveLength(8);
    const reports = await engine.refresh();
    expect(reports.filter((r) => r.op !== "same").map((r) => short(r.urn))).toEqual([]);
  }, 900_000);
});
