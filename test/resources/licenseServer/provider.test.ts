/**
 * RdsLicenseServer, the real slice: through the REAL dynamic-provider host, driven in the engine's order.
 * One cycle over real pwsh (create: role, contact, then the activation; a second up that changes
 * nothing; a refresh without drift; a contact change in place; destroy), the registered thin shim, and a
 * partial success (init failure) across gRPC with the connection kept secret and out of the message.
 * The decisions (each activation method, adoption, updates and replacement, drift and its repair, the
 * delete variants, failures, bad input, preview with unknowns) run in process in provider.fast.test.ts.
 * What the fake world there does not model, so is only here: the emulator's WMI call log (the calls the
 * scripts make, in order: role, contact before activation, nothing at all on a no-change up or a
 * destroy). The `rds-sim` CLI the nextStep of a web or telephone activation names is a separate process
 * on the emulator's state directory: provider.fast.test.ts asserts the command in the nextStep, and
 * test/emulator/cli.test.ts that the id it prints activates the server (its pwsh round trip).
 *
 * What is real: the Pulumi dynamic-provider host process (@pulumi/pulumi cmd/dynamic-provider) and gRPC;
 * the inputs and `__provider` string the Pulumi SDK registers for `new RdsLicenseServer(...)` (captured
 * under setMocks, the connection wrapped as a secret); the built provider code in bin/ loaded by the
 * host through the package's own name; the runner and its warm pwsh inside the host; every operation
 * script.
 * What stands in: the Pulumi CLI engine (test/helpers/engine.ts: step order, secret stripping and
 * re-marking, refresh and its drift diff, partial failures); Windows WMI, the role, the service and
 * Microsoft's Clearinghouse (the WMI emulator, on a temporary state directory). The administrator's
 * actions and the Clearinghouse's web site (the license server id for a product id) go through
 * fixtures/SimAdmin.ps1 in pwsh, via the runner in this test process; what the provider did is read
 * from the emulator's call log.
 */
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { captureProvider } from "../../helpers/captureProvider";
import { DiffChanges, isSecret } from "../../helpers/providerHost";
import { activatedOutputs, CONTACT, expectFailure, expectUnreachablePartial, LIVE_CONTACT, LS, TYPE } from "./program";
import { useRealProviderHost } from "./realHost";
import { activationCalls, simAdmin, type CallLogEntry } from "./simAdmin";

jest.setTimeout(600_000);

/**
 * The administrator's warm pwsh (in this process) starting: begun with the host, awaited once the
 * first up runs, so the two pwsh starts (this process's and the host's) overlap on the two cores.
 * The call itself reads nothing and changes nothing (the Clearinghouse's id for a made-up product id).
 */
let adminWarm: Promise<unknown>;

const { stateDir, conn, args, program, newEngine, fresh } = useRealProviderHost("ls-provider-", (connection) => {
  adminWarm = simAdmin(connection).licenseServerIdFor("00000-00000-00000-AA000");
});

function since(calls: CallLogEntry[], before: CallLogEntry[]): CallLogEntry[] {
  return calls.slice(before.length);
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

test("one cycle: create installs the role, sets the contact, then activates; a second up changes nothing; refresh shows no drift; a contact change updates in place; destroy leaves the activation and runs nothing", async () => {
  // This file's state directory is new: the host has no state yet, no reset needed (see adminWarm).
  const admin = simAdmin(conn());
  const engine = newEngine();
  const spec = await program(args());
  const [steps] = await Promise.all([engine.up([spec]), adminWarm]);
  expect(steps.map((s) => s.op)).toEqual(["create"]);

  const view = await admin.host();
  expect(engine.entry(spec.urn).id).toBe(LS);
  expect(engine.outputs(spec.urn)).toMatchObject(
    activatedOutputs(stateDir, view.licenseServer.productId, await admin.licenseServerIdFor(view.licenseServer.productId)),
  );
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

  // A second up: no step, and not one call on the host.
  const again = await engine.up([await program(args())]);
  expect(again.map((s) => s.op)).toEqual(["same"]);
  expect(again[0].diff!.changes).toBe(DiffChanges.DIFF_NONE);
  expect(since(await admin.calls(), calls)).toEqual([]);

  expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);

  // A contact change: one Set-CimInstance, no activation call.
  const beforeUpdate = await admin.calls();
  const changed = await program(args({ contact: { ...CONTACT, city: "Manchester", email: "ops@contoso.example" } }));
  const updated = await engine.up([changed]);
  expect(updated.map((s) => s.op)).toEqual(["update"]);
  expect(updated[0].diff!.replaces).toEqual([]);
  expect(engine.outputs(spec.urn).contact).toEqual({ ...LIVE_CONTACT, city: "Manchester", email: "ops@contoso.example" });
  const made = since(await admin.calls(), beforeUpdate);
  expect(made.filter((c) => c.cmdlet === "Set-CimInstance")).toHaveLength(1);
  expect(activationCalls(made)).toEqual([]);
  expect((await admin.host()).licenseServer.contact.City).toBe("Manchester");

  const beforeDestroy = await admin.calls();
  expect((await engine.destroy()).map((s) => s.op)).toEqual(["delete"]);
  expect(engine.state.size).toBe(0);
  expect((await admin.host()).licenseServer.activated).toBe(true);
  expect(since(await admin.calls(), beforeDestroy)).toEqual([]);
});

test("a partial success across gRPC: Clearinghouse unreachable on create records the installed role (init failure), the connection secret and out of the message; up again activates", async () => {
  const admin = await fresh();
  await admin.fault("clearinghouseUnreachable", true);
  const engine = newEngine();
  const spec = await program(args());
  const err = await expectFailure(engine.up([spec]));
  expectUnreachablePartial(engine, spec.urn, err, stateDir);
  expect((await admin.host()).roleInstalled).toBe(true);

  await admin.clearFaults();
  expect((await engine.up([spec])).map((s) => s.op)).toEqual(["update"]);
  expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
  expect(engine.entry(spec.urn).initErrors).toBeUndefined();
  // the refused attempt (WBEM_E_NOT_AVAILABLE), then the one that worked: never a second success
  const attempts = (await admin.calls()).filter((c) => c.method === "ActivateServerAutomatic").map((c) => c.result);
  expect(attempts).toEqual([0x80041009, 0]);
});

// Must show (issue 15): activation of a deactivated server uses Activate*, per the emulator's call log.
test.each(["automatic", "web", "telephone"] as const)(
  "%s: a server activated, then deactivated by an administrator, is activated again by up with Activate*, never Reactivate*",
  async (method) => {
    const admin = await fresh();
    const engine = newEngine();
    let spec = await program(args({ activation: { method } }));
    await engine.up([spec]);
    if (method !== "automatic") {
      // Phase two: the license server id the web site gives, or the operator reads out, for the server's product id.
      const id = await admin.licenseServerIdFor((await admin.host()).licenseServer.productId);
      spec = await program(args({ activation: { method, licenseServerId: id } }));
      await engine.up([spec]);
    }
    const call = method === "automatic" ? "ActivateServerAutomatic" : "ActivateServer";
    expect(activationCalls(await admin.calls())).toEqual([call]);
    await admin.invoke("DeactivateServerAutomatic");

    expect((await engine.refresh())[0].op).toBe("update");
    const before = await admin.calls();
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["update"]);
    expect(activationCalls(since(await admin.calls(), before))).toEqual([call]);
    expect(engine.outputs(spec.urn).activationStatus).toBe("activated");
    expect((await admin.host()).licenseServer.reactivations).toBe(0);
  },
);

test("discoveryScope forest with an account that is not an Enterprise Admin: RDS_ACCESS_DENIED naming the group, across gRPC", async () => {
  const admin = await fresh();
  await admin.config({ roleInstalled: true, callerRights: "domainAdmin" });
  const engine = newEngine();
  const err = await expectFailure(engine.up([await program(args({ discoveryScope: "forest" }))]));
  expect(err.message).toContain('discoveryScope "forest" needs a member of Enterprise Admins');
  expect(err.message).toContain("[RDS_ACCESS_DENIED]");
  // The script's words already say who must be what: the resource's generic access-denied hint is not added again.
  expect(err.message.split("must be a local administrator on the license server")).toHaveLength(2);
  expect(err.message).not.toContain(stateDir);
  expect((await admin.host()).licenseServer.serverRole).toBe(1);
  expect((await admin.calls()).filter((c) => c.method === "ChangeRole").map((c) => c.result)).toEqual([0x80041003]);
});
