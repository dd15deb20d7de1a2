/**
 * RdsLicenseServer's decisions, in process: activation by each method, adoption of an activated server,
 * updates and replacement, drift after out-of-band changes and its repair, the delete variants, failures
 * (partial success recorded, access denied, the Clearinghouse unreachable, not-ready calls), bad input
 * in check, preview with unknowns. The engine's order and answers are the same as through the real
 * host; provider.test.ts keeps the real slice.
 *
 * Real: the Pulumi SDK's registrations and `__provider` strings (captured under setMocks, the connection
 * wrapped as a secret), the engine's step logic (engine/engine.ts: secret stripping and re-marking,
 * refresh and its drift diff, partial failures, preview unknowns), the provider (TypeScript sources),
 * the runner's validation and result typing.
 * Stands in: the dynamic-provider host process (engine/inProcessHost.ts does what it does around each
 * call); pwsh, the operation scripts, Windows and the Clearinghouse (the FakeWorld behind the FakeRunner,
 * test/fake/, held to the emulator's recorded answers by test/fake/world.contract.test.ts); the
 * administrator's out-of-band actions and the Clearinghouse's web site / telephone operator are the fake
 * world's admin actions (RelAdmin.ps1's, through `Sim`). The emulator's WMI call log is not modelled:
 * what the provider did on the host is the record of the operation scripts it ran and their answers
 * (an install that installed the role, a set that wrote the contact or changed the role, the activation
 * call an activate or deactivate made or attempted), each the script's own account of its WMI calls.
 * Not modelled by the fake, so kept in provider.test.ts: the WMI call log itself. The `rds-sim` CLI the
 * nextStep names is a separate process: the nextStep's command is asserted here, the id it prints
 * activating the server in test/emulator/cli.test.ts.
 */
import { DiffChanges } from "../../../engine/hostProtocol";
import { isSecret, secret, UNKNOWN, type Props } from "../../../engine/secrets";
import type { ResourceSpec } from "../../../engine/spec";
import type { Connection } from "../../../provider/powershell/transport";
import type { OpRecord } from "../../fake/opRecorder";
import { useInProcessProvider } from "./inProcess";
import {
  activatedOutputs,
  CONTACT,
  expectFailure,
  expectPendingNextStep,
  LIVE_CONTACT,
  LS,
  LS2,
  pasted,
  expectUnreachablePartial,
  WMI_CONTACT,
} from "./program";

jest.setTimeout(60_000);

// ---- the world, the record of the operation scripts it answered, and the provider in process --------

const { stateDir, conn, args, program, ops, sim, fresh, world, newEngine } = useInProcessProvider("ls-provider");

/** The provider's operation scripts on `host` since `mark` (an index into the record). */
function opsOn(host: string, mark = 0): OpRecord[] {
  return ops.slice(mark).filter((r) => r.host === host.toLowerCase());
}

/**
 * The activation-changing WMI calls on `host` since `mark`, in order: the call each activate.ps1 or
 * deactivate.ps1 made ("none" left out), or attempted when it failed (the method its error names).
 */
function activationCalls(host: string, mark = 0): string[] {
  return opsOn(host, mark)
    .filter((r) => r.op === "licenseServer/activate" || r.op === "licenseServer/deactivate")
    .map((r) => (r.ok ? String(r.result!.call) : (r.error!.method ?? "")))
    .filter((call) => call !== "none" && call !== "");
}

/** install.ps1 runs that installed the role (its Install-WindowsFeature). */
const roleInstalls = (host: string, mark = 0) =>
  opsOn(host, mark).filter((r) => r.op === "licenseServer/install" && r.ok && r.result!.installedNow);
/** set.ps1 runs that wrote the contact (its one Set-CimInstance). */
const contactWrites = (host: string, mark = 0) =>
  opsOn(host, mark).filter((r) => r.op === "licenseServer/set" && r.ok && (r.result!.changedProperties as string[]).length > 0);
/** set.ps1 runs that changed the discovery scope (its ChangeRole). */
const roleChanges = (host: string, mark = 0) =>
  opsOn(host, mark).filter((r) => r.op === "licenseServer/set" && r.ok && r.result!.roleChanged);

/** An administrator calling a Win32_TSLicenseServer method by hand (uint32 arguments). */
async function invoke(host: string, method: string, uint32Args: Record<string, number> = {}): Promise<void> {
  const r = await sim.wmi(host, {
    className: "Win32_TSLicenseServer",
    method,
    arguments: Object.fromEntries(Object.entries(uint32Args).map(([k, v]) => [k, { type: "uint32", value: v }])),
  });
  expect(r.returnValue).toBe(0);
}

/** The activated LS's outputs (its product id and license server id as the world derives them). */
async function activatedLs() {
  const productId = world().view(LS).licenseServer.productId;
  return activatedOutputs(stateDir, productId, await sim.licenseServerId(productId));
}

// ---- the cases ------------------------------------------------------------------------------------------

describe("activation by each method", () => {
  test("automatic: installs the role, sets the contact, activates; a second up changes nothing", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["create"]);

    const view = world().view(LS);
    expect(engine.entry(spec.urn).id).toBe(LS);
    expect(engine.outputs(spec.urn)).toMatchObject(await activatedLs());
    expect(isSecret(engine.entry(spec.urn).outputs.connection)).toBe(true);
    expect(view.roleInstalled).toBe(true);
    expect(view.licenseServer.activated).toBe(true);

    expect(roleInstalls(LS)).toHaveLength(1);
    expect(contactWrites(LS)).toHaveLength(1);
    expect(activationCalls(LS)).toEqual(["ActivateServerAutomatic"]);
    // contact committed before the activation call
    const setAt = ops.findIndex((r) => r.op === "licenseServer/set" && r.ok);
    const activateAt = ops.findIndex((r) => r.op === "licenseServer/activate" && r.ok);
    expect(setAt).toBeGreaterThanOrEqual(0);
    expect(setAt).toBeLessThan(activateAt);

    const mark = ops.length;
    const before = world().hostText(LS);
    const again = await engine.up([await program(args())]);
    expect(again.map((s) => s.op)).toEqual(["same"]);
    expect(again[0].diff!.changes).toBe(DiffChanges.DIFF_NONE);
    expect(opsOn(LS, mark)).toEqual([]);
    expect(world().hostText(LS)).toBe(before);
  });

  for (const method of ["web", "telephone"] as const) {
    test(`${method}: created pending with the product id and the next step; the license server id then activates it`, async () => {
      fresh();
      const engine = newEngine();
      const spec = await program(args({ activation: { method } }));
      expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
      const out = engine.outputs(spec.urn);
      const productId = world().view(LS).licenseServer.productId;
      expect(out).toMatchObject({
        activationStatus: "pending",
        productId,
        licenseServerId: "",
        activationMethod: "",
        activatedProductId: "",
      });
      expectPendingNextStep(String(out.nextStep), method, productId);
      expect(activationCalls(LS)).toEqual([]);
      expect(world().view(LS).licenseServer.activated).toBe(false);

      // Pending is the desired state until the id is given: a second up changes nothing.
      expect((await engine.up([await program(args({ activation: { method } }))])).map((s) => s.op)).toEqual(["same"]);

      // The Clearinghouse (web site / telephone operator) gives the id for the product id (the rds-sim
      // CLI the nextStep names prints the same id: test/emulator/cli.test.ts).
      const id = await sim.licenseServerId(productId);
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
      expect(activationCalls(LS)).toEqual(["ActivateServer"]);
      expect((await engine.up([phase2])).map((s) => s.op)).toEqual(["same"]);
    });
  }

  test("web: a wrong license server id is a clear RDS_REJECTED error and changes nothing", async () => {
    fresh();
    const engine = newEngine();
    await engine.up([await program(args({ activation: { method: "web" } }))]);
    const before = engine.outputs((await program(args())).urn);
    const wrong = await sim.licenseServerId("00000-00000-00000-AA000");
    const err = await expectFailure(engine.up([await program(args({ activation: { method: "web", licenseServerId: wrong } }))]));
    expect(err.kind).toBe("rpc");
    expect(err.message).toContain("[RDS_REJECTED]");
    expect(err.message).toContain("activating license server on ls.contoso.com");
    expect(err.message).toContain(`for product id ${before.productId}`);
    expect(err.message).toContain("nothing was changed");
    expect(world().view(LS).licenseServer.activated).toBe(false);
    expect(engine.outputs((await program(args())).urn)).toEqual(before);
  });

  test("an already activated server is adopted as the desired state: no second activation call", async () => {
    fresh();
    await sim.config(LS, { roleInstalled: true });
    await sim.setContact(LS, WMI_CONTACT);
    await invoke(LS, "ActivateServerAutomatic");
    expect(world().view(LS).licenseServer.activated).toBe(true);

    const engine = newEngine();
    const spec = await program(args());
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", activationMethod: "external", nextStep: "" });
    expect(activationCalls(LS)).toEqual([]);
    expect(contactWrites(LS)).toEqual([]);
    expect(roleInstalls(LS)).toEqual([]);
    // It read the activation status and the license server id (get.ps1: GetActivationStatus, GetLicenseServerId).
    const reads = opsOn(LS).filter((r) => r.op === "licenseServer/get" && r.ok);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.at(-1)!.result!.server).toMatchObject({ activationStatus: 0, licenseServerId: expect.stringMatching(/^[A-Z0-9]{35}$/) });
  });

  test("a server activated by hand while a web activation was pending is adopted", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args({ activation: { method: "web" } }));
    await engine.up([spec]);
    await invoke(LS, "ActivateServerAutomatic");
    const drift = await engine.refresh();
    expect(drift[0].op).toBe("same"); // activated is fine for a pending web activation
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", activationMethod: "external" });
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["same"]);
  });
});

describe("updates and replacement", () => {
  test("a contact change updates the server in place (no activation call)", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    const mark = ops.length;
    const changed = await program(args({ contact: { ...CONTACT, city: "Manchester", email: "ops@contoso.example" } }));
    const steps = await engine.up([changed]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(steps[0].diff!.replaces).toEqual([]);
    expect(engine.entry(spec.urn).id).toBe(LS);
    expect(engine.outputs(spec.urn).contact).toEqual({ ...LIVE_CONTACT, city: "Manchester", email: "ops@contoso.example" });
    expect(contactWrites(LS, mark)).toHaveLength(1);
    expect(activationCalls(LS, mark)).toEqual([]);
    expect(world().view(LS).licenseServer.contact.City).toBe("Manchester");
    expect((await engine.up([changed])).map((s) => s.op)).toEqual(["same"]);
  });

  test("discovery scope: ChangeRole on create, live in the outputs; changed out of band -> drift; up sets it back", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args({ discoveryScope: "forest" }));
    await engine.up([spec]);
    expect(engine.outputs(spec.urn).discoveryScope).toBe("forest");
    expect(world().view(LS).licenseServer.serverRole).toBe(2);
    expect(roleChanges(LS)).toHaveLength(1);

    await invoke(LS, "ChangeRole", { ServerRole: 0 });
    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    expect(engine.outputs(spec.urn).discoveryScope).toBe("workgroup");
    const mark = ops.length;
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["update"]);
    expect(roleChanges(LS, mark)).toHaveLength(1);
    expect(world().view(LS).licenseServer.serverRole).toBe(2);

    // Not declared: not managed, not compared (a scope set by hand is left alone).
    const unmanaged = await program(args());
    expect((await engine.up([unmanaged])).map((s) => s.op)).toEqual(["update"]);
    await invoke(LS, "ChangeRole", { ServerRole: 1 });
    expect((await engine.refresh())[0].op).toBe("same");
    expect(engine.outputs(spec.urn).discoveryScope).toBeUndefined();
  });

  test("a different host replaces the resource (create the new one, then delete the old one)", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    const steps = await engine.up([await program(args({ connection: conn(LS2) }))]);
    expect(steps.map((s) => s.op)).toEqual(["replace"]);
    expect(steps[0].diff!.replaces).toEqual(expect.arrayContaining(["host"]));
    expect(engine.entry(spec.urn).id).toBe(LS2);
    expect(engine.outputs(spec.urn)).toMatchObject({ serverName: LS2, activationStatus: "activated" });
    expect(world().view(LS2).licenseServer.activated).toBe(true);
    // the old server's activation was left in place (deactivateOnDelete defaults to false)
    expect(world().view(LS).licenseServer.activated).toBe(true);
    // Create before delete: the new server was activated before the old resource's Delete was sent.
    const methods = engine.calls().map((c) => c.method);
    expect(methods.lastIndexOf("Create")).toBeLessThan(methods.lastIndexOf("Delete"));
  });

  test("a connection change other than the host (stateDir) only updates state: nothing runs on the host", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    const mark = ops.length;
    // Same server, different connection details (through the real host, RDS_SIM_STATE_DIR names the same directory).
    const { stateDir: _dropped, ...withoutStateDir } = conn();
    const steps = await engine.up([await program(args({ connection: withoutStateDir as Connection }))]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(steps[0].diff!.replaces).toEqual([]);
    expect(engine.outputs(spec.urn).connection).toEqual(withoutStateDir);
    expect(isSecret(engine.entry(spec.urn).outputs.connection)).toBe(true);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
    expect(opsOn(LS, mark)).toEqual([]);
  });
});

describe("refresh shows drift, and the next up repairs it", () => {
  test("no drift: refresh reports the same state", async () => {
    fresh();
    const engine = newEngine();
    await engine.up([await program(args())]);
    const drift = await engine.refresh();
    expect(drift.map((d) => d.op)).toEqual(["same"]);
  });

  test("automatic: deactivated out of band -> drift; up activates again with ActivateServerAutomatic, never Reactivate*", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    await invoke(LS, "DeactivateServerAutomatic");

    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    expect(drift[0].diff!.changes).toBe(DiffChanges.DIFF_SOME);
    expect(engine.outputs(spec.urn)).toMatchObject({
      activationStatus: "notActivated",
      licenseServerId: "",
      activationMethod: "automatic",
    });
    expect(String(engine.outputs(spec.urn).nextStep)).toContain("run pulumi up to activate it automatically");

    const mark = ops.length;
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(activationCalls(LS, mark)).toEqual(["ActivateServerAutomatic"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", activationMethod: "automatic" });
    expect(world().host(LS).licenseServer.reactivations).toBe(0);
    expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  });

  // Found by the convergence property (seed 1411265304): a pending web declaration kept "unknown" and
  // the stopped service forever, because its desired status was whatever the last read said.
  test.each(["web", "automatic"] as const)(
    "%s: service stopped out of band -> refresh says unknown; up starts the service and reads the real status",
    async (method) => {
      fresh();
      const engine = newEngine();
      const spec = await program(args({ activation: { method } }));
      await engine.up([spec]);
      if (method === "web") await invoke(LS, "ActivateServerAutomatic"); // activated by hand while pending
      await sim.config(LS, { serviceStatus: "Stopped" });

      const drift = await engine.refresh();
      expect(drift[0].op).toBe("update");
      expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "unknown" });
      expect(String(engine.outputs(spec.urn).nextStep)).toContain("run pulumi up, which starts the service");

      const steps = await engine.up([spec]);
      expect(steps.map((s) => s.op)).toEqual(["update"]);
      expect(world().view(LS).serviceStatus).toBe("Running");
      expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated" });
      expect((await engine.up([spec])).map((s) => s.op)).toEqual(["same"]);
      expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
    },
  );

  test.each(["web", "telephone"] as const)(
    "%s: deactivated out of band -> drift; up activates again with ActivateServer and the given id, never Reactivate*",
    async (method) => {
      fresh();
      const engine = newEngine();
      await engine.up([await program(args({ activation: { method } }))]);
      const productId = world().view(LS).licenseServer.productId;
      const id = await sim.licenseServerId(productId);
      const spec = await program(args({ activation: { method, licenseServerId: id } }));
      await engine.up([spec]);
      await invoke(LS, "DeactivateServerAutomatic");

      expect((await engine.refresh())[0].op).toBe("update");
      expect(engine.outputs(spec.urn).activationStatus).toBe("notActivated");
      const mark = ops.length;
      await engine.up([spec]);
      expect(activationCalls(LS, mark)).toEqual(["ActivateServer"]);
      expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", licenseServerId: id });
      expect(world().host(LS).licenseServer.reactivations).toBe(0);
    },
  );

  test("contact changed out of band -> drift; up sets it back", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    await sim.setContact(LS, { Company: "Fabrikam", City: "Paris" });

    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    expect(engine.outputs(spec.urn).contact).toEqual({ ...LIVE_CONTACT, company: "Fabrikam", city: "Paris" });
    const mark = ops.length;
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["update"]);
    expect(contactWrites(LS, mark)).toHaveLength(1);
    expect(activationCalls(LS, mark)).toEqual([]);
    expect(engine.outputs(spec.urn).contact).toEqual(LIVE_CONTACT);
  });

  test("rebuilt server (new product id), web: drift says a new license server id is needed; up refuses the old one; the new one activates", async () => {
    fresh();
    const engine = newEngine();
    await engine.up([await program(args({ activation: { method: "web" } }))]);
    const oldProductId = world().view(LS).licenseServer.productId;
    const oldId = await sim.licenseServerId(oldProductId);
    const spec = await program(args({ activation: { method: "web", licenseServerId: oldId } }));
    await engine.up([spec]);

    const newProductId = "11111-22222-33333-BB444";
    await sim.config(LS, { productId: newProductId });
    const drift = await engine.refresh();
    expect(drift[0].op).toBe("update");
    const out = engine.outputs(spec.urn);
    expect(out).toMatchObject({ productId: newProductId, activationStatus: "notActivated", activatedProductId: oldProductId });
    expect(String(out.nextStep)).toContain(`changed from ${oldProductId} to ${newProductId}`);
    expect(String(out.nextStep)).toContain(`npx rds-sim clearinghouse license-server-id ${newProductId}`);

    const mark = ops.length;
    const err = await expectFailure(engine.up([spec]));
    expect(err.message).toContain("[RDS_REJECTED]");
    expect(err.message).toContain("the server was rebuilt");
    expect(err.message).toContain(`get a new license server id for product id ${newProductId}`);
    expect(activationCalls(LS, mark)).toEqual([]);

    const newId = await sim.licenseServerId(newProductId);
    await engine.up([await program(args({ activation: { method: "web", licenseServerId: newId } }))]);
    expect(activationCalls(LS, mark)).toEqual(["ActivateServer"]);
    expect(engine.outputs(spec.urn)).toMatchObject({
      activationStatus: "activated",
      productId: newProductId,
      licenseServerId: newId,
      activatedProductId: newProductId,
    });
  });

  test("rebuilt server, automatic: refresh shows drift and up activates it again (ActivateServerAutomatic)", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    await sim.config(LS, { productId: "22222-33333-44444-CC555" });
    expect((await engine.refresh())[0].op).toBe("update");
    const mark = ops.length;
    await engine.up([spec]);
    expect(activationCalls(LS, mark)).toEqual(["ActivateServerAutomatic"]);
    expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", productId: "22222-33333-44444-CC555" });
  });

  test("role removed out of band: refresh finds the license server gone; the next up creates it again", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    await sim.config(LS, { roleInstalled: false });
    const drift = await engine.refresh();
    expect(drift.map((d) => d.op)).toEqual(["delete"]);
    expect(engine.state.size).toBe(0);
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
    expect(world().view(LS).roleInstalled).toBe(true);
  });
});

describe("delete", () => {
  test("by default, destroy leaves the activation in place and runs nothing on the host", async () => {
    fresh();
    const engine = newEngine();
    await engine.up([await program(args())]);
    const mark = ops.length;
    const before = world().hostText(LS);
    expect((await engine.destroy()).map((s) => s.op)).toEqual(["delete"]);
    expect(engine.state.size).toBe(0);
    expect(world().view(LS).licenseServer.activated).toBe(true);
    expect(opsOn(LS, mark)).toEqual([]);
    expect(world().hostText(LS)).toBe(before);
  });

  test("with deactivateOnDelete, destroy deactivates with DeactivateServerAutomatic", async () => {
    fresh();
    const engine = newEngine();
    await engine.up([await program(args({ deactivateOnDelete: true }))]);
    const mark = ops.length;
    await engine.destroy();
    expect(activationCalls(LS, mark)).toEqual(["DeactivateServerAutomatic"]);
    expect(world().view(LS).licenseServer.activated).toBe(false);
  });

  test("with deactivateOnDelete and no Clearinghouse, destroy fails with the ways out and keeps the resource", async () => {
    fresh();
    const engine = newEngine();
    const spec = await program(args({ deactivateOnDelete: true }));
    await engine.up([spec]);
    await sim.fault(LS, "clearinghouseUnreachable", true);
    const err = await expectFailure(engine.destroy());
    expect(err.message).toContain("[RDS_CLEARINGHOUSE_UNREACHABLE]");
    expect(err.message).toContain("deactivating license server on ls.contoso.com");
    expect(err.message).toContain("by telephone");
    expect(engine.state.has(spec.urn)).toBe(true);
    expect(world().view(LS).licenseServer.activated).toBe(true);
  });

  test("switching deactivateOnDelete on is a state-only update", async () => {
    fresh();
    const engine = newEngine();
    await engine.up([await program(args())]);
    const mark = ops.length;
    const steps = await engine.up([await program(args({ deactivateOnDelete: true }))]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(opsOn(LS, mark)).toEqual([]);
  });
});

describe("failures", () => {
  test("Clearinghouse unreachable on create: the error names web and telephone; the installed role is recorded (partial success); up again activates", async () => {
    fresh();
    await sim.fault(LS, "clearinghouseUnreachable", true);
    const engine = newEngine();
    const spec = await program(args());
    const err = await expectFailure(engine.up([spec]));
    expectUnreachablePartial(engine, spec.urn, err, stateDir);
    expect(world().view(LS).roleInstalled).toBe(true);

    await sim.clearFaults(LS);
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
    expect(engine.entry(spec.urn).initErrors).toBeUndefined();
    // the refused attempt (WBEM_E_NOT_AVAILABLE), then the one that worked: never a second success
    const attempts = opsOn(LS).filter((r) => r.op === "licenseServer/activate");
    expect(attempts.map((r) => (r.ok ? r.result!.call : `${r.error!.method} ${r.error!.code}`))).toEqual([
      "ActivateServerAutomatic CLEARINGHOUSE_UNREACHABLE",
      "ActivateServerAutomatic",
    ]);
    expect(attempts[0].error!.message).toContain("WBEM_E_NOT_AVAILABLE, 0x80041009");
  });

  test("the role wait rides over a few not-ready calls during create", async () => {
    fresh();
    await sim.config(LS, { roleInstalled: true });
    await sim.fault(LS, "classNotReadyCalls", 3);
    const engine = newEngine();
    const spec = await program(args());
    await engine.up([spec]);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
    // The three not-ready answers were given (and ridden over), not skipped.
    expect(world().host(LS).faults.classNotReadyCalls).toBe(0);
  });

  test("access denied: a clear RDS_ACCESS_DENIED that says what is needed, nothing recorded", async () => {
    fresh();
    await sim.config(LS, { roleInstalled: true });
    await sim.fault(LS, "accessDenied", true);
    const engine = newEngine();
    const spec = await program(args());
    const err = await expectFailure(engine.up([spec]));
    expect(err.kind).toBe("rpc");
    expect(err.message).toContain("[RDS_ACCESS_DENIED]");
    expect(err.message).toContain("local administrator");
    expect(err.message).not.toContain(stateDir);
    expect(engine.state.has(spec.urn)).toBe(false);
  });

  test("bad input fails in check, with the field named, before the host is touched", async () => {
    fresh();
    const engine = newEngine();
    const bad = await program(
      args({ connection: conn(LS2), contact: { ...CONTACT, lastName: "" }, activation: { method: "email" as "web" } }),
    );
    const err = await expectFailure(engine.up([bad]));
    expect(err.kind).toBe("checkFailed");
    expect(err.details.failures!.map((f) => f.property).sort()).toEqual(["activation.method", "contact.lastName"]);
    expect(opsOn(LS2)).toEqual([]);
    expect(world().peek(LS2)).toBeUndefined();
  });
});

describe("preview", () => {
  test("with unknown inputs: check passes, a new resource previews as create, an existing one as update (not replace); nothing runs", async () => {
    fresh();
    const engine = newEngine();
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
    expect(ops).toEqual([]);
    expect(world().peek(LS)).toBeUndefined();

    await engine.up([base]);
    const mark = ops.length;
    const before = world().hostText(LS);
    const planned = await engine.preview([withUnknowns(base)]);
    expect(planned.map((s) => s.op)).toEqual(["update"]);
    expect(planned[0].diff!.replaces).toEqual([]);
    expect(opsOn(LS, mark)).toEqual([]);
    expect(world().hostText(LS)).toBe(before);
    expect(engine.outputs(base.urn).activationStatus).toBe("activated");
  });
});
