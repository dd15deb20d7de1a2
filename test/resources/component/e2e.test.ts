/**
 * End to end: a whole RDS licensing environment declared with the RdsLicensing component (one license
 * server activated by web in two phases, three CAL packs, four session hosts), deployed through the
 * real dynamic-provider host. Phase 1 (no license server id) succeeds: the license server is created
 * pending, the packs and hosts are deferred, and the component warns with the next step; phase 2 runs
 * the rds-sim command that warning names and declares the id it prints, as a secret.
 *
 * Real: the Pulumi SDK running the program (the component, the three resource classes, their apply
 * callbacks, the findings), the serialized `__provider` shims, the dynamic-provider host process and
 * gRPC, the built providers (bin/) of all three resources, the runner and pool, pwsh 7 and every
 * operation script.
 * Stands in: the Pulumi CLI engine (test/helpers/engine.ts driven by the program's registrations, see
 * liveProgram.ts); Windows, through the WMI emulator (state in a temp directory), whose Clearinghouse
 * also plays the Remote Desktop Licensing web site that turns the product id into a license server id
 * (what the administrator would do in a browser between the two phases). `pulumi.log.warn` reaches
 * the console under the harness's mocks (no engine to send it to): the test captures console.warn.
 * With RDS_COMPONENT_TRANSCRIPT=<file>, both runs' warnings and outputs are written there as JSON.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { closeAll } from "../../../provider/powershell/pool";
import { RdsLicensing } from "../../../provider/resources/component/rdsLicensing";
import type { Finding } from "../../../provider/resources/component/findings";
import { createEngine, type Engine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { callLogs, clearinghouseLicenseServerId, setHostConfig, type CallLogRow } from "../sessionHostLicensing/simAdmin";
import { componentResources, runProgram } from "./liveProgram";
import { withWarnings } from "../../helpers/warnings";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-e2e-"));
const sim = (host: string) => ({ transport: "simulator" as const, host, stateDir });
const LS = "ls01.contoso.com";
const HOSTS = ["sh1.contoso.com", "sh2.contoso.com", "sh3.contoso.com", "sh4.contoso.com"];

let host: ProviderHost;
let engine: Engine;
let env: RdsLicensing | undefined;

/** The environment template; `licenseServerId` is what phase 2 adds (a secret, as from `cfg.requireSecret`). */
function environment(licenseServerId?: pulumi.Input<string>) {
  return () => {
    env = new RdsLicensing("farm", {
      licenseServer: {
        connection: sim(LS),
        contact: { firstName: "Ada", lastName: "Lovelace", company: 'Contoso "RDS" Ltd', countryRegion: "United Kingdom" },
        activation: licenseServerId === undefined ? { method: "web" } : { method: "web", licenseServerId },
        // Per User in a domain: the server belongs in the Terminal Server License Servers group (RDS-LIC-009).
        addToLicenseServersGroup: true,
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

const settled = <T>(o: pulumi.Output<T>) => (o as unknown as { promise(): Promise<T> }).promise();
const findingsOf = (component: RdsLicensing) => settled<Finding[]>(component.findings);
const short = (urn: string) => urn.split("::").pop()!;
const CLI = path.resolve(__dirname, "../../../bin/provider/emulator/cli.js");

/** What `pulumi stack output` would show of the component and its license server after a run. */
async function stackOutputs(component: RdsLicensing, run: { registered: string[] }) {
  const ls = engine.outputs(run.registered.find((u) => short(u) === "farm-ls")!);
  return {
    licenseServer: { serverName: ls.serverName, productId: ls.productId, activationStatus: ls.activationStatus, nextStep: ls.nextStep },
    activationStatus: await settled(component.activationStatus),
    deferred: await settled(component.deferred),
    nextStep: await settled(component.nextStep),
    findings: await findingsOf(component),
  };
}

const transcript: Record<string, unknown> = {};

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

  it("phase 1 succeeds: the license server is created pending, packs and hosts are deferred, the warning says what to do next", async () => {
    const { result: run, warnings } = await withWarnings(async () => {
      const r = await runProgram(engine, environment());
      await settled(env!.nextStep); // the warning is sent once the license server's outputs are known
      return r;
    });
    expect(run.errors).toEqual([]);
    expect(run.skipped).toEqual([]);
    expect(run.registered.map(short)).toEqual(["farm-ls"]);
    expect(run.steps.map((s) => [short(s.urn), s.op])).toEqual([["farm-ls", "create"]]);
    expect(env!.calPacks).toEqual([]);
    expect(env!.sessionHosts).toEqual([]);

    const outputs = await stackOutputs(env!, run);
    productId = outputs.licenseServer.productId as string;
    expect(productId).toMatch(/^\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3}$/);
    expect(outputs.licenseServer.activationStatus).toBe("pending");
    expect(outputs.activationStatus).toBe("pending");
    const deferred = ["farm-users-2022", "farm-users-2019", "farm-devices-2022", "farm-sh1", "farm-sh2", "farm-sh3", "farm-sh4"];
    expect(outputs.deferred).toEqual(deferred);

    // One warning, on the component: the product id, the route (on the simulator: rds-sim, then the web
    // site it stands in for), where the id goes, and what is deferred.
    const ours = warnings.filter((w) => w.includes("phase 1 of web activation"));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toBe(`warning: [runtime] ${outputs.nextStep}`);
    const text = outputs.nextStep;
    expect(text).toContain(`license server ${outputs.licenseServer.serverName} (product id ${productId}) is created and pending`);
    expect(text).toContain(
      "deferred until the license server is activated (not registered, not failed): CAL packs farm-users-2022, farm-users-2019, farm-devices-2022 and session hosts farm-sh1, farm-sh2, farm-sh3, farm-sh4",
    );
    expect(text).toContain(`on the simulator, run npx rds-sim clearinghouse license-server-id ${productId}`);
    expect(text).toContain(`go to https://activate.microsoft.com, choose to activate a license server, enter product id ${productId}`);
    expect(text).toContain(
      "put it in licenseServer.activation.licenseServerId, for example: pulumi config set --secret licenseServerId <id>",
    );
    expect(text).not.toContain(stateDir);

    // The findings are exported: the pending activation, with what waits for it.
    expect(outputs.findings.map((f) => [f.id, f.status])).toEqual([["RDS-LIC-001", "fail"]]);
    expect(outputs.findings[0].detail).toBe(
      `${outputs.licenseServer.serverName}: pending; deferred until it is activated: CAL packs farm-users-2022, farm-users-2019, farm-devices-2022 and session hosts farm-sh1, farm-sh2, farm-sh3, farm-sh4`,
    );
    expect(outputs.findings[0].fix).toBe(text);

    // Nothing was installed and no host was touched.
    const logs = await callLogs(stateDir, [LS, ...HOSTS]);
    expect(logs[LS].filter((r) => /Install.*KeyPack/.test(r.method ?? ""))).toEqual([]);
    for (const h of HOSTS) expect(logs[h]).toEqual([]);
    transcript.phase1 = { warnings: ours, outputs };
  }, 900_000);

  it("phase 2: with the license server id, activation precedes installation precedes host configuration, and every error and warning finding passes", async () => {
    // The command the warning names (npx rds-sim runs this package's bin), and what it prints.
    const printed = execFileSync(process.execPath, [CLI, "--state-dir", stateDir, "clearinghouse", "license-server-id", productId], {
      encoding: "utf8",
    }).trim();
    expect(printed).toBe(await clearinghouseLicenseServerId(stateDir, productId));
    const mark = engine.log.length;
    const { result: run, warnings } = await withWarnings(async () => {
      const r = await runProgram(engine, environment(pulumi.secret(printed)));
      await settled(env!.nextStep);
      return r;
    });
    expect(run.errors).toEqual([]);
    expect(warnings.filter((w) => w.includes("phase 1"))).toEqual([]);
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

    // The findings, computed by the component from the real outputs: every error and warning passes
    // (the server in the AD group, each host reaching it); the Per Device pack no host uses is info.
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
      ["RDS-LIC-009", "pass"],
      ["RDS-LIC-010", "pass"],
      ["RDS-LIC-011", "pass"],
      ["RDS-LIC-012", "fail"],
      ["RDS-LIC-013", "pass"],
    ]);
    expect(findings.find((f) => f.id === "RDS-LIC-002")!.detail).toContain("75 Per User CALs available");
    expect(findings.find((f) => f.id === "RDS-LIC-012")).toMatchObject({
      severity: "info",
      detail: expect.stringMatching(/^unused: #\d+ perDevice 2022 \(10 CALs\)$/),
    });
    expect(findings.find((f) => f.id === "RDS-LIC-013")!.detail).toBe("4 host-to-server links valid");

    const outputs = await stackOutputs(env!, run);
    expect(outputs).toMatchObject({ activationStatus: "activated", deferred: [], nextStep: "" });
    expect(outputs.licenseServer).toMatchObject({ activationStatus: "activated", nextStep: "" });
    transcript.phase2 = { warnings, steps: run.steps.map((s) => [short(s.urn), s.op]), outputs };
    if (process.env.RDS_COMPONENT_TRANSCRIPT) fs.writeFileSync(process.env.RDS_COMPONENT_TRANSCRIPT, JSON.stringify(transcript, null, 2));
  }, 900_000);

  it("a third up changes nothing, and refresh finds no drift", async () => {
    const licenseServerId = await clearinghouseLicenseServerId(stateDir, productId);
    const run = await runProgram(engine, environment(pulumi.secret(licenseServerId)));
    expect(run.errors).toEqual([]);
    expect(new Set(run.steps.map((s) => s.op))).toEqual(new Set(["same"]));
    expect(run.steps).toHaveLength(8);
    const reports = await engine.refresh();
    expect(reports.filter((r) => r.op !== "same").map((r) => short(r.urn))).toEqual([]);
  }, 900_000);
});
