/**
 * RdsLicenseServer's addToLicenseServersGroup and its Active Directory and CAL usage outputs, through the
 * REAL dynamic-provider host, driven in the engine's order (Must show, issue 17): create (the server in the
 * Terminal Server License Servers group afterwards, one AddLStoTSLSGroup in the emulator's call log), drift
 * after a removal by hand (refresh reads member false; the diff plans an update), convergence (the update
 * adds it again; a second up makes no call), the access-denied error naming Domain Admins, a workgroup
 * server refused before anything is written, and the calUsage output after planted issues.
 *
 * What is real: the Pulumi dynamic-provider host process (@pulumi/pulumi cmd/dynamic-provider) and gRPC;
 * the inputs and `__provider` string the Pulumi SDK registers for `new RdsLicenseServer(...)`; the built
 * provider code in bin/ loaded by the host; the runner and its warm pwsh inside the host; every operation
 * script (install, wait, get, set, activate, group).
 * What stands in: the Pulumi CLI engine (test/helpers/engine.ts); Windows WMI, Active Directory's group,
 * the role, the service and Microsoft's Clearinghouse (the WMI emulator, on a temporary state directory).
 * The administrator's actions (removing the server from the group by hand, installing packs, clients
 * taking CALs) go through fixtures/SimAdmin.ps1 in pwsh, via the runner in this test process; what the
 * provider did is read from the emulator's call log.
 */
import { DiffChanges } from "../../helpers/providerHost";
import { expectFailure } from "./program";
import { useRealProviderHost } from "./realHost";
import { methodCalls, type CallLogEntry } from "./simAdmin";

jest.setTimeout(600_000);

const { stateDir, args, program, newEngine, fresh } = useRealProviderHost("ls-group-");

const adds = (calls: readonly CallLogEntry[]) => methodCalls(calls).filter((m) => m === "AddLStoTSLSGroup");

interface GroupView {
  licenseServer: { licenseServersGroup: boolean };
}

test("create adds the server to the group (one AddLStoTSLSGroup); a removal by hand is drift at refresh; up adds it again; a second up makes no call", async () => {
  const admin = await fresh();
  const engine = newEngine();
  const spec = await program(args({ addToLicenseServersGroup: true }));
  expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
  expect(adds(await admin.calls())).toEqual(["AddLStoTSLSGroup"]);
  expect(((await admin.host()) as unknown as GroupView).licenseServer.licenseServersGroup).toBe(true);
  expect(engine.outputs(spec.urn)).toMatchObject({
    addToLicenseServersGroup: true,
    licenseServersGroup: { domainJoined: true, domain: "contoso.com", member: true, scpRegistered: false, readError: null },
  });

  // An administrator removes the server from the group by hand (RemoveLSfromTSLSGroup, as a Domain Admin).
  expect((await admin.invoke("RemoveLSfromTSLSGroup")).ReturnValue).toBe(0);
  const refreshed = await engine.refresh();
  expect(refreshed.map((d) => d.op)).toEqual(["update"]);
  expect(engine.outputs(spec.urn).licenseServersGroup).toMatchObject({ member: false });

  // The next up plans an update for it and adds the server again: one more AddLStoTSLSGroup.
  const before = await admin.calls();
  const updated = await engine.up([await program(args({ addToLicenseServersGroup: true }))]);
  expect(updated.map((s) => s.op)).toEqual(["update"]);
  // The declaration did not change: the update comes from the live membership read by the refresh.
  expect(updated[0].diff!.changes).toBe(DiffChanges.DIFF_SOME);
  expect(updated[0].diff!.replaces).toEqual([]);
  expect(adds((await admin.calls()).slice(before.length))).toEqual(["AddLStoTSLSGroup"]);
  expect(engine.outputs(spec.urn).licenseServersGroup).toMatchObject({ member: true });

  // Converged: another up is no step, and not one call on the host.
  const settled = await admin.calls();
  const again = await engine.up([await program(args({ addToLicenseServersGroup: true }))]);
  expect(again.map((s) => s.op)).toEqual(["same"]);
  expect(again[0].diff!.changes).toBe(DiffChanges.DIFF_NONE);
  expect((await admin.calls()).slice(settled.length)).toEqual([]);

  // Removing the input never removes the server from the group (other servers' users may depend on it).
  const beforeUnset = await admin.calls();
  expect((await engine.up([await program(args())])).map((s) => s.op)).toEqual(["update"]);
  expect(methodCalls((await admin.calls()).slice(beforeUnset.length))).not.toContain("RemoveLSfromTSLSGroup");
  expect(((await admin.host()) as unknown as GroupView).licenseServer.licenseServersGroup).toBe(true);
});

test("a server already in the group: create makes no AddLStoTSLSGroup call", async () => {
  const admin = await fresh();
  await admin.config({ licenseServersGroup: true });
  const engine = newEngine();
  await engine.up([await program(args({ addToLicenseServersGroup: true }))]);
  expect(adds(await admin.calls())).toEqual([]);
});

test("an account that is only a local administrator: RDS_ACCESS_DENIED naming Domain Admins, across gRPC; the rest of the create is recorded", async () => {
  const admin = await fresh();
  await admin.config({ roleInstalled: true, callerRights: "localAdmin" });
  const engine = newEngine();
  const spec = await program(args({ addToLicenseServersGroup: true }));
  const err = await expectFailure(engine.up([spec]));
  expect(err.message).toContain("[RDS_ACCESS_DENIED]");
  expect(err.message).toContain("AddLStoTSLSGroup");
  expect(err.message).toContain("needs a member of Domain Admins");
  expect(err.message).not.toContain(stateDir);
  expect((await admin.calls()).filter((c) => c.method === "AddLStoTSLSGroup").map((c) => c.result)).toEqual([0x80041003]);
  expect(((await admin.host()) as unknown as GroupView).licenseServer.licenseServersGroup).toBe(false);
  // The activation done before the refusal is kept (partial success), the membership read as it is.
  expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", licenseServersGroup: { member: false } });
});

test("a server in a workgroup: RDS_VALIDATION before anything is written", async () => {
  const admin = await fresh();
  await admin.config({ domain: "" });
  const engine = newEngine();
  const err = await expectFailure(engine.up([await program(args({ addToLicenseServersGroup: true }))]));
  expect(err.message).toContain("[RDS_VALIDATION]");
  expect(err.message).toContain("workgroup");
  const view = await admin.host();
  expect(view.roleInstalled).toBe(false);
  expect(view.licenseServer.activated).toBe(false);
});

test("calUsage after planted issues: per pack, per device (listed), per user from the report", async () => {
  const admin = await fresh();
  const engine = newEngine();
  const spec = await program(args({ addToLicenseServersGroup: true }));
  await engine.up([spec]);
  const device = await admin.installPack(0, 20);
  const user = await admin.installPack(1, 2);
  await admin.issue(device, 2, { computer: "KIOSK" });
  await admin.issue(user, 3, { user: "clerk" });
  expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  const usage = engine.outputs(spec.urn).calUsage as {
    packs: unknown[];
    perDevice: { total: number; listed: Array<{ device: string }> };
    perUser: unknown;
  };
  expect(usage.packs).toEqual([
    { keyPackId: device, calType: "perDevice", productVersion: "2019", installed: 20, issued: 2, available: 18 },
    { keyPackId: user, calType: "perUser", productVersion: "2019", installed: 2, issued: 2, available: 0 },
  ]);
  expect(usage.perDevice.total).toBe(2);
  expect(usage.perDevice.listed.map((l) => l.device).sort()).toEqual(["KIOSK-1", "KIOSK-2"]);
  // Three users hold a per-user CAL, two are installed: over-allocated (per-user CALs are not enforced).
  expect(usage.perUser).toEqual({ installed: 2, issued: 3, reportAvailable: true, reason: null });
});
