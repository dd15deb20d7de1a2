/**
 * RdsLicenseServer through the REAL dynamic-provider host, driven in the engine's order.
 *
 * What is real: the Pulumi dynamic-provider host process (@pulumi/pulumi cmd/dynamic-provider) and gRPC;
 * the inputs and `__provider` string the Pulumi SDK registers for `new RdsLicenseServer(...)` (captured
 * under setMocks, the connection wrapped as a secret); the built provider code in bin/ loaded by the
 * host through the package's own name; the runner and its warm pwsh inside the host; every operation
 * script.
 * What stands in: the Pulumi CLI engine (test/helpers/engine.ts: step order, secret stripping and
 * re-marking, refresh and its drift diff, partial failures, preview unknowns); Windows WMI, the role, the
 * service and Microsoft's Clearinghouse (the WMI emulator, on a temporary state directory). The
 * administrator's out-of-band actions and the Clearinghouse's web site / telephone operator (the license
 * server id for a product id: Get-RdsSimClearinghouseLicenseServerId) go through fixtures/SimAdmin.ps1
 * in pwsh, via the runner in this test process; what the provider did is read from the emulator's call log.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { closeAll } from "../../../provider/powershell/pool";
import type { Connection, SimulatorConnection } from "../../../provider/powershell/transport";
import { RdsLicenseServer, type RdsLicenseServerArgs } from "../../../provider/resources/licenseServer/resource";
import { captureProvider } from "../../helpers/captureProvider";
import { createEngine, DeploymentError, specOf, type ResourceSpec } from "../../helpers/engine";
import {
  assertBuilt,
  DiffChanges,
  isSecret,
  PROJECT_ROOT,
  secret,
  startProviderHost,
  UNKNOWN,
  type ProviderHost,
  type Props,
} from "../../helpers/providerHost";
import { activationCalls, methodCalls, simAdmin, type CallLogEntry } from "./simAdmin";

jest.setTimeout(600_000);

const execFileAsync = promisify(execFile);

const TYPE = "pulumi-nodejs:dynamic/rds:LicenseServer";
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ls-provider-"));
let host: ProviderHost;

beforeAll(async () => {
  assertBuilt(["provider/resources/licenseServer", "provider/shim.ts", "provider/diff.ts", "provider/check.ts", "provider/powershell"]);
  host = await startProviderHost({ env: { RDS_SIM_STATE_DIR: stateDir } });
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const LS = "ls.contoso.com";
const LS2 = "ls2.contoso.com";

const CONTACT = {
  firstName: "Ada",
  lastName: "Lovelace",
  company: "Contoso Ltd",
  countryRegion: "United Kingdom",
  email: "ada@contoso.example",
};
const LIVE_CONTACT = { ...CONTACT, orgUnit: "", address: "", city: "", state: "", postalCode: "" };

function conn(hostName = LS): SimulatorConnection {
  return { transport: "simulator", host: hostName, stateDir };
}

/** A fresh emulated host (Reset-RdsSim): created again with defaults (no role) on first use. */
async function fresh(hostName = LS) {
  const admin = simAdmin(conn(hostName));
  await admin.reset();
  return admin;
}

function args(over: Partial<RdsLicenseServerArgs> = {}): RdsLicenseServerArgs {
  return { connection: conn(), contact: CONTACT, activation: { method: "automatic" }, ...over };
}

/** The program `new RdsLicenseServer("ls", args)`, as the SDK registers it. */
async function program(a: RdsLicenseServerArgs): Promise<ResourceSpec> {
  const reg = await captureProvider(() => new RdsLicenseServer("ls", a));
  expect(reg.type).toBe(TYPE);
  return specOf(reg, { additionalSecretOutputs: ["connection"] });
}

async function expectFailure(promise: Promise<unknown>): Promise<DeploymentError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DeploymentError) return e;
    throw e;
  }
  throw new Error("expected the deployment to fail");
}

function since(calls: CallLogEntry[], before: CallLogEntry[]): CallLogEntry[] {
  return calls.slice(before.length);
}

function productIdIn(text: string): string {
  const m = /product id (\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3})/.exec(text);
  if (!m) throw new Error(`no product id in: ${text}`);
  return m[1];
}

/** `rds-sim clearinghouse license-server-id <productId>` (the built CLI, on this test's state directory). */
async function rdsSimLicenseServerId(productId: string): Promise<string> {
  const cli = path.join(PROJECT_ROOT, "bin", "provider", "emulator", "cli.js");
  const { stdout } = await execFileAsync(
    process.execPath,
    [cli, "--state-dir", stateDir, "clearinghouse", "license-server-id", productId],
    {
      timeout: 120_000,
    },
  );
  return stdout.trim();
}

/** A license server id as an admin would paste it: 7 groups of 5, lower case. */
function pasted(id: string): string {
  return id.toLowerCase().match(/.{5}/g)!.join("-");
}

test("the registered provider is the thin shim: small, and it captures no schema or connection", async () => {
  const reg = await captureProvider(() => new RdsLicenseServer("ls", args()));
  expect(reg.type).toBe(TYPE);
  expect(reg.providerIsSecret).toBe(false);
  expect(reg.provider).toContain("pulumi-rds-licensing/resources/licenseServer/provider");
  expect(reg.provider).not.toContain("zod");
  expect(reg.provider).not.toContain(stateDir);
  expect(Buffer.byteLength(reg.provider)).toBeLessThan(5000);
  expect(isSecret(reg.inputs.connection)).toBe(true);
});

describe("activation by each method", () => {
  test("automatic: installs the role, sets the contact, activates; a second up changes nothing", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["create"]);

    const view = await admin.host();
    const out = engine.outputs(spec.urn);
    expect(engine.entry(spec.urn).id).toBe(LS);
    expect(out).toMatchObject({
      serverName: LS,
      productId: view.licenseServer.productId,
      licenseServerId: await admin.licenseServerIdFor(view.licenseServer.productId),
      activationStatus: "activated",
      activationMethod: "automatic",
      activatedProductId: view.licenseServer.productId,
      nextStep: "",
      version: "10.0.20348",
      contact: LIVE_CONTACT,
      activation: { method: "automatic" },
      installRole: true,
      deactivateOnDelete: false,
      connection: conn(),
    });
    expect(isSecret(engine.entry(spec.urn).outputs.connection)).toBe(true);
    expect(view.roleInstalled).toBe(true);
    expect(view.licenseServer.activated).toBe(true);

    const calls = await admin.calls();
    expect(calls.filter((c) => c.cmdlet === "Install-WindowsFeature")).toHaveLength(1);
    expect(calls.filter((c) => c.cmdlet === "Set-CimInstance")).toHaveLength(1);
    expect(activationCalls(calls)).toEqual(["ActivateServerAutomatic"]);
    // contact committed before the activation call
    const setAt = calls.findIndex((c) => c.cmdlet === "Set-CimInstance");
    const activateAt = calls.findIndex((c) => c.method === "ActivateServerAutomatic");
    expect(setAt).toBeLessThan(activateAt);

    const again = await engine.up([await program(args())]);
    expect(again.map((s) => s.op)).toEqual(["same"]);
    expect(again[0].diff!.changes).toBe(DiffChanges.DIFF_NONE);
    expect(since(await admin.calls(), calls)).toEqual([]);
  });

  for (const method of ["web", "telephone"] as const) {
    test(`${method}: created pending with the product id and the next step; the license server id then activates it`, async () => {
      const admin = await fresh();
      const engine = createEngine(host);
      const spec = await program(args({ activation: { method } }));
      expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
      const out = engine.outputs(spec.urn);
      const productId = (await admin.host()).licenseServer.productId;
      expect(out).toMatchObject({
        activationStatus: "pending",
        productId,
        licenseServerId: "",
        activationMethod: "",
        activatedProductId: "",
      });
      const next = String(out.nextStep);
      expect(productIdIn(next)).toBe(productId);
      expect(next).toContain(`npx rds-sim clearinghouse license-server-id ${productId}`);
      expect(next).toContain("activation.licenseServerId");
      expect(next).toContain("pulumi up again");
      if (method === "web") expect(next).toContain("https://activate.microsoft.com");
      else expect(next).toMatch(/telephone number .* country\/region \(United Kingdom\)/);
      expect(activationCalls(await admin.calls())).toEqual([]);
      expect((await admin.host()).licenseServer.activated).toBe(false);

      // Pending is the desired state until the id is given: a second up changes nothing.
      expect((await engine.up([await program(args({ activation: { method } }))])).map((s) => s.op)).toEqual(["same"]);

      // The Clearinghouse (web site / telephone operator) gives the id for the product id: for web through
      // the emulator's admin function in pwsh, for telephone through the rds-sim CLI, as nextStep says.
      const id = method === "web" ? await admin.licenseServerIdFor(productId) : await rdsSimLicenseServerId(productId);
      expect(id).toBe(await admin.licenseServerIdFor(productId));
      const phase2 = await program(args({ activation: { method, licenseServerId: pasted(id) } }));
      const steps = await engine.up([phase2]);
      expect(steps.map((s) => s.op)).toEqual(["update"]);
      expect(steps[0].diff!.replaces).toEqual([]);
      expect(engine.outputs(spec.urn)).toMatchObject({
        activationStatus: "activated",
        activationMethod: method,
        licenseServerId: id,
        activation: { method, licenseServerId: id },
        nextStep: "",
      });
      expect(activationCalls(await admin.calls())).toEqual(["ActivateServer"]);
      expect((await engine.up([phase2])).map((s) => s.op)).toEqual(["same"]);
    });
  }

  test("web: a wrong license server id is a clear RDS_REJECTED error and changes nothing", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args({ activation: { method: "web" } }))]);
    const before = engine.outputs((await program(args())).urn);
    const wrong = await admin.licenseServerIdFor("00000-00000-00000-AA000");
    const err = await expectFailure(engine.up([await program(args({ activation: { method: "web", licenseServerId: wrong } }))]));
    expect(err.kind).toBe("rpc");
    expect(err.message).toContain("[RDS_REJECTED]");
    expect(err.message).toContain("activating license server on ls.contoso.com");
    expect(err.message).toContain(`for product id ${before.productId}`);
    expect(err.message).toContain("nothing was changed");
    expect((await admin.host()).licenseServer.activated).toBe(false);
    expect(engine.outputs((await program(args())).urn)).toEqual(before);
  });

  test("an already activated server is adopted as the desired state: no second activation call", async () => {
    const admin = await fresh();
    await admin.config({ roleInstalled: true });
    await admin.setContact({
      FirstName: "Ada",
      LastName: "Lovelace",
      Company: "Contoso Ltd",
      CountryRegion: "United Kingdom",
      eMail: "ada@contoso.example",
    });
    await admin.invoke("ActivateServerAutomatic");
    const before = await admin.calls();
    expect(activationCalls(before)).toEqual(["ActivateServerAutomatic"]);

    const engine = createEngine(host);
    const spec = await program(args());
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", activationMethod: "external", nextStep: "" });
    const made = since(await admin.calls(), before);
    expect(activationCalls(made)).toEqual([]);
    expect(made.filter((c) => c.cmdlet === "Set-CimInstance" || c.cmdlet === "Install-WindowsFeature")).toEqual([]);
    expect(methodCalls(made)).toEqual(expect.arrayContaining(["GetActivationStatus", "GetLicenseServerId"]));
  });

  test("a server activated by hand while a web activation was pending is adopted", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args({ activation: { method: "web" } }));
    await engine.up([spec]);
    await admin.invoke("ActivateServerAutomatic");
    const drift = await engine.refresh();
    expect(drift[0].op).toBe("same"); // activated is fine for a pending web activation
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", activationMethod: "external" });
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["same"]);
  });
});

describe("updates and replacement", () => {
  test("a contact change updates the server in place (no activation call)", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    const before = await admin.calls();
    const changed = await program(args({ contact: { ...CONTACT, city: "Manchester", email: "ops@contoso.example" } }));
    const steps = await engine.up([changed]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(steps[0].diff!.replaces).toEqual([]);
    expect(engine.entry(spec.urn).id).toBe(LS);
    expect(engine.outputs(spec.urn).contact).toEqual({ ...LIVE_CONTACT, city: "Manchester", email: "ops@contoso.example" });
    const made = since(await admin.calls(), before);
    expect(made.filter((c) => c.cmdlet === "Set-CimInstance")).toHaveLength(1);
    expect(activationCalls(made)).toEqual([]);
    expect((await admin.host()).licenseServer.contact.City).toBe("Manchester");
    expect((await engine.up([changed])).map((s) => s.op)).toEqual(["same"]);
  });

  test("discovery scope: ChangeRole on create, live in the outputs; changed out of band -> drift; up sets it back", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args({ discoveryScope: "forest" }));
    await engine.up([spec]);
    expect(engine.outputs(spec.urn).discoveryScope).toBe("forest");
    expect((await admin.host()).licenseServer.serverRole).toBe(2);
    expect(methodCalls(await admin.calls()).filter((m) => m === "ChangeRole")).toHaveLength(1);

    await admin.invoke("ChangeRole", { ServerRole: 0 });
    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    expect(engine.outputs(spec.urn).discoveryScope).toBe("workgroup");
    const before = await admin.calls();
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["update"]);
    expect(methodCalls(since(await admin.calls(), before)).filter((m) => m === "ChangeRole")).toHaveLength(1);
    expect((await admin.host()).licenseServer.serverRole).toBe(2);

    // Not declared: not managed, not compared (a scope set by hand is left alone).
    const unmanaged = await program(args());
    expect((await engine.up([unmanaged])).map((s) => s.op)).toEqual(["update"]);
    await admin.invoke("ChangeRole", { ServerRole: 1 });
    expect((await engine.refresh())[0].op).toBe("same");
    expect(engine.outputs(spec.urn).discoveryScope).toBeUndefined();
  });

  test("a different host replaces the resource (create the new one, then delete the old one)", async () => {
    const admin = await fresh();
    const admin2 = await fresh(LS2);
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    const steps = await engine.up([await program(args({ connection: conn(LS2) }))]);
    expect(steps.map((s) => s.op)).toEqual(["replace"]);
    expect(steps[0].diff!.replaces).toEqual(expect.arrayContaining(["host"]));
    expect(engine.entry(spec.urn).id).toBe(LS2);
    expect(engine.outputs(spec.urn)).toMatchObject({ serverName: LS2, activationStatus: "activated" });
    expect((await admin2.host()).licenseServer.activated).toBe(true);
    // the old server's activation was left in place (deactivateOnDelete defaults to false)
    expect((await admin.host()).licenseServer.activated).toBe(true);
  });

  test("a connection change other than the host (stateDir) only updates state: nothing runs on the host", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    const before = await admin.calls();
    // The host's RDS_SIM_STATE_DIR is the same directory: same server, different connection details.
    const { stateDir: _dropped, ...withoutStateDir } = conn();
    const steps = await engine.up([await program(args({ connection: withoutStateDir as Connection }))]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(steps[0].diff!.replaces).toEqual([]);
    expect(engine.outputs(spec.urn).connection).toEqual(withoutStateDir);
    expect(isSecret(engine.entry(spec.urn).outputs.connection)).toBe(true);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
    expect(since(await admin.calls(), before)).toEqual([]);
  });
});

describe("refresh shows drift, and the next up repairs it", () => {
  test("no drift: refresh reports the same state", async () => {
    await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args())]);
    const drift = await engine.refresh();
    expect(drift.map((d) => d.op)).toEqual(["same"]);
  });

  test("automatic: deactivated out of band -> drift; up reactivates with ReactivateServerAutomatic", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    await admin.invoke("DeactivateServerAutomatic");

    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    expect(drift[0].diff!.changes).toBe(DiffChanges.DIFF_SOME);
    expect(engine.outputs(spec.urn)).toMatchObject({
      activationStatus: "notActivated",
      licenseServerId: "",
      activationMethod: "automatic",
    });
    expect(String(engine.outputs(spec.urn).nextStep)).toContain("run pulumi up to activate it automatically");

    const before = await admin.calls();
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(activationCalls(since(await admin.calls(), before))).toEqual(["ReactivateServerAutomatic"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", activationMethod: "automatic" });
    expect((await admin.host()).licenseServer.reactivations).toBe(1);
    expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  });

  // Found by the convergence property (seed 1411265304): a pending web declaration kept "unknown" and
  // the stopped service forever, because its desired status was whatever the last read said.
  test.each(["web", "automatic"] as const)(
    "%s: service stopped out of band -> refresh says unknown; up starts the service and reads the real status",
    async (method) => {
      const admin = await fresh();
      const engine = createEngine(host);
      const spec = await program(args({ activation: { method } }));
      await engine.up([spec]);
      if (method === "web") await admin.invoke("ActivateServerAutomatic"); // activated by hand while pending
      await admin.config({ serviceStatus: "Stopped" });

      const drift = await engine.refresh();
      expect(drift[0].op).toBe("update");
      expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "unknown" });
      expect(String(engine.outputs(spec.urn).nextStep)).toContain("run pulumi up, which starts the service");

      const steps = await engine.up([spec]);
      expect(steps.map((s) => s.op)).toEqual(["update"]);
      expect((await admin.host()).serviceStatus).toBe("Running");
      expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated" });
      expect((await engine.up([spec])).map((s) => s.op)).toEqual(["same"]);
      expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
    },
  );

  test("web: deactivated out of band -> drift; up reactivates with ReactivateServer and the given id", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args({ activation: { method: "web" } }))]);
    const productId = (await admin.host()).licenseServer.productId;
    const id = await admin.licenseServerIdFor(productId);
    const spec = await program(args({ activation: { method: "web", licenseServerId: id } }));
    await engine.up([spec]);
    await admin.invoke("DeactivateServerAutomatic");

    expect((await engine.refresh())[0].op).toBe("update");
    expect(engine.outputs(spec.urn).activationStatus).toBe("notActivated");
    const before = await admin.calls();
    await engine.up([spec]);
    expect(activationCalls(since(await admin.calls(), before))).toEqual(["ReactivateServer"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", licenseServerId: id });
  });

  test("contact changed out of band -> drift; up sets it back", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    await admin.setContact({ Company: "Fabrikam", City: "Paris" });

    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    expect(engine.outputs(spec.urn).contact).toEqual({ ...LIVE_CONTACT, company: "Fabrikam", city: "Paris" });
    const before = await admin.calls();
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["update"]);
    const made = since(await admin.calls(), before);
    expect(made.filter((c) => c.cmdlet === "Set-CimInstance")).toHaveLength(1);
    expect(activationCalls(made)).toEqual([]);
    expect(engine.outputs(spec.urn).contact).toEqual(LIVE_CONTACT);
  });

  test("rebuilt server (new product id), web: drift says a new license server id is needed; up refuses the old one; the new one activates", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args({ activation: { method: "web" } }))]);
    const oldProductId = (await admin.host()).licenseServer.productId;
    const oldId = await admin.licenseServerIdFor(oldProductId);
    const spec = await program(args({ activation: { method: "web", licenseServerId: oldId } }));
    await engine.up([spec]);

    const newProductId = "11111-22222-33333-BB444";
    await admin.config({ productId: newProductId });
    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    const out = engine.outputs(spec.urn);
    expect(out).toMatchObject({ productId: newProductId, activationStatus: "notActivated", activatedProductId: oldProductId });
    expect(String(out.nextStep)).toContain(`changed from ${oldProductId} to ${newProductId}`);
    expect(String(out.nextStep)).toContain(`npx rds-sim clearinghouse license-server-id ${newProductId}`);

    const before = await admin.calls();
    const err = await expectFailure(engine.up([spec]));
    expect(err.message).toContain("[RDS_REJECTED]");
    expect(err.message).toContain("the server was rebuilt");
    expect(err.message).toContain(`get a new license server id for product id ${newProductId}`);
    expect(activationCalls(since(await admin.calls(), before))).toEqual([]);

    const newId = await admin.licenseServerIdFor(newProductId);
    await engine.up([await program(args({ activation: { method: "web", licenseServerId: newId } }))]);
    expect(activationCalls(since(await admin.calls(), before))).toEqual(["ActivateServer"]);
    expect(engine.outputs(spec.urn)).toMatchObject({
      activationStatus: "activated",
      productId: newProductId,
      licenseServerId: newId,
      activatedProductId: newProductId,
    });
  });

  test("rebuilt server, automatic: refresh shows drift and up activates it again (ActivateServerAutomatic)", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    await admin.config({ productId: "22222-33333-44444-CC555" });
    expect((await engine.refresh())[0].op).toBe("update");
    const before = await admin.calls();
    await engine.up([spec]);
    expect(activationCalls(since(await admin.calls(), before))).toEqual(["ActivateServerAutomatic"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", productId: "22222-33333-44444-CC555" });
  });

  test("role removed out of band: refresh finds the license server gone; the next up creates it again", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    await admin.config({ roleInstalled: false });
    const drift = await engine.refresh();
    expect(drift.map((d) => d.op)).toEqual(["delete"]);
    expect(engine.state.size).toBe(0);
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
    expect((await admin.host()).roleInstalled).toBe(true);
  });
});

describe("delete", () => {
  test("by default, destroy leaves the activation in place and runs nothing on the host", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args())]);
    const before = await admin.calls();
    expect((await engine.destroy()).map((s) => s.op)).toEqual(["delete"]);
    expect(engine.state.size).toBe(0);
    expect((await admin.host()).licenseServer.activated).toBe(true);
    expect(since(await admin.calls(), before)).toEqual([]);
  });

  test("with deactivateOnDelete, destroy deactivates with DeactivateServerAutomatic", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args({ deactivateOnDelete: true }))]);
    const before = await admin.calls();
    await engine.destroy();
    expect(activationCalls(since(await admin.calls(), before))).toEqual(["DeactivateServerAutomatic"]);
    expect((await admin.host()).licenseServer.activated).toBe(false);
  });

  test("with deactivateOnDelete and no Clearinghouse, destroy fails with the ways out and keeps the resource", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const spec = await program(args({ deactivateOnDelete: true }));
    await engine.up([spec]);
    await admin.fault("clearinghouseUnreachable", true);
    const err = await expectFailure(engine.destroy());
    expect(err.message).toContain("[RDS_CLEARINGHOUSE_UNREACHABLE]");
    expect(err.message).toContain("deactivating license server on ls.contoso.com");
    expect(err.message).toContain("by telephone");
    expect(engine.state.has(spec.urn)).toBe(true);
    expect((await admin.host()).licenseServer.activated).toBe(true);
  });

  test("switching deactivateOnDelete on is a state-only update", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    await engine.up([await program(args())]);
    const before = await admin.calls();
    const steps = await engine.up([await program(args({ deactivateOnDelete: true }))]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(since(await admin.calls(), before)).toEqual([]);
  });
});

describe("failures", () => {
  test("Clearinghouse unreachable on create: the error names web and telephone; the installed role is recorded (partial success); up again activates", async () => {
    const admin = await fresh();
    await admin.fault("clearinghouseUnreachable", true);
    const engine = createEngine(host);
    const spec = await program(args());
    const err = await expectFailure(engine.up([spec]));
    expect(err.kind).toBe("initFailed");
    expect(err.message).toContain("[RDS_CLEARINGHOUSE_UNREACHABLE]");
    expect(err.message).toContain('"web"');
    expect(err.message).toContain('"telephone"');
    expect(err.message).toContain("already done: installed the RDS-Licensing role");
    expect(err.message).not.toContain(stateDir); // nothing of the connection in errors
    const entry = engine.entry(spec.urn);
    expect(entry.id).toBe(LS);
    expect(entry.initErrors?.length).toBe(1);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "notActivated", contact: LIVE_CONTACT });
    expect(isSecret(entry.outputs.connection)).toBe(true);
    expect((await admin.host()).roleInstalled).toBe(true);

    await admin.clearFaults();
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
    expect(engine.entry(spec.urn).initErrors).toBeUndefined();
    // the refused attempt (WBEM_E_NOT_AVAILABLE), then the one that worked: never a second success
    const attempts = (await admin.calls()).filter((c) => c.method === "ActivateServerAutomatic").map((c) => c.result);
    expect(attempts).toEqual([0x80041009, 0]);
  });

  test("the role wait rides over a few not-ready calls during create", async () => {
    const admin = await fresh();
    await admin.config({ roleInstalled: true });
    await admin.fault("classNotReadyCalls", 3);
    const engine = createEngine(host);
    const spec = await program(args());
    await engine.up([spec]);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
  });

  test("access denied: a clear RDS_ACCESS_DENIED that says what is needed, nothing recorded", async () => {
    const admin = await fresh();
    await admin.config({ roleInstalled: true });
    await admin.fault("accessDenied", true);
    const engine = createEngine(host);
    const spec = await program(args());
    const err = await expectFailure(engine.up([spec]));
    expect(err.kind).toBe("rpc");
    expect(err.message).toContain("[RDS_ACCESS_DENIED]");
    expect(err.message).toContain("local administrator");
    expect(err.message).not.toContain(stateDir);
    expect(engine.state.has(spec.urn)).toBe(false);
  });

  test("bad input fails in check, with the field named, before the host is touched", async () => {
    await fresh(LS2);
    const hex = Buffer.from(LS2).toString("hex");
    const hostFiles = () => fs.readdirSync(path.join(stateDir, "hosts")).filter((f) => f === `${hex}.json` || f === `${hex}.calls.jsonl`);
    // fresh() removed the host's files: none may come back.
    expect(hostFiles()).toEqual([]);
    const engine = createEngine(host);
    const bad = await program(
      args({ connection: conn(LS2), contact: { ...CONTACT, lastName: "" }, activation: { method: "email" as "web" } }),
    );
    const err = await expectFailure(engine.up([bad]));
    expect(err.kind).toBe("checkFailed");
    expect(err.details.failures!.map((f) => f.property).sort()).toEqual(["activation.method", "contact.lastName"]);
    expect(hostFiles()).toEqual([]);
  });
});

describe("preview", () => {
  test("with unknown inputs: check passes, a new resource previews as create, an existing one as update (not replace); nothing runs", async () => {
    const admin = await fresh();
    const engine = createEngine(host);
    const base = await program(args());

    const withUnknowns = (spec: ResourceSpec): ResourceSpec => ({
      ...spec,
      inputs: {
        ...(spec.inputs as Props),
        connection: secret({ transport: "simulator", host: UNKNOWN, stateDir }),
        contact: { ...CONTACT, firstName: UNKNOWN },
        activation: { method: "web", licenseServerId: UNKNOWN },
      },
    });
    const created = await engine.preview([withUnknowns(base)]);
    expect(created.map((s) => s.op)).toEqual(["create"]);
    expect(await admin.calls()).toEqual([]);

    await engine.up([base]);
    const before = await admin.calls();
    const planned = await engine.preview([withUnknowns(base)]);
    expect(planned.map((s) => s.op)).toEqual(["update"]);
    expect(planned[0].diff!.replaces).toEqual([]);
    expect(since(await admin.calls(), before)).toEqual([]);
    expect(engine.outputs(base.urn).activationStatus).toBe("activated");
  });
});
