/**
 * RdsLicenseServer's addToLicenseServersGroup decisions and its Active Directory and CAL usage outputs, in
 * process: create adds the server once, convergence (no group.ps1 while a member), drift after a removal
 * and its repair, unsetting the input (never removes), a workgroup server refused before anything runs,
 * access denied as a partial success, and the calUsage output after planted issues (per device, per user,
 * over-allocated). provider.fast.test.ts holds the rest of the resource; group.provider.test.ts the real slice.
 *
 * Real: the Pulumi SDK's registrations (captured under setMocks), the engine's step logic (engine/engine.ts:
 * refresh and its drift diff, partial failures), the provider (TypeScript sources), the runner's validation
 * and result typing.
 * Stands in: the dynamic-provider host process (engine/inProcessHost.ts); pwsh, the operation scripts, Windows
 * and Active Directory (the FakeWorld behind the FakeRunner, test/fake/: licenseServerOps.ts follows get.ps1,
 * group.ps1 and install.ps1); the administrator's actions are the fake world's admin actions (through `Sim`:
 * `config` for the group membership, `issue` for clients and users taking CALs). What the provider did is
 * the record of the operation scripts it ran.
 */
import type { OpRecord } from "../../fake/opRecorder";
import { useInProcessProvider } from "./inProcess";
import { expectFailure, LS } from "./program";

jest.setTimeout(60_000);

const { args, program, ops, sim, fresh, world, newEngine } = useInProcessProvider("ls-group-fast");

const groupRuns = (mark = 0): OpRecord[] => ops.slice(mark).filter((r) => r.op === "licenseServer/group");
const adds = (mark = 0) => groupRuns(mark).filter((r) => r.ok && r.result!.added);

const withGroup = () => program(args({ addToLicenseServersGroup: true }));

test("create adds the server once; up again runs nothing; a removal is drift; the update adds it again", async () => {
  fresh();
  const engine = newEngine();
  const spec = await withGroup();
  expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
  expect(adds()).toHaveLength(1);
  expect(engine.outputs(spec.urn)).toMatchObject({ addToLicenseServersGroup: true, licenseServersGroup: { member: true } });

  expect((await engine.up([await withGroup()])).map((s) => s.op)).toEqual(["same"]);
  expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);

  await sim.config(LS, { licenseServersGroup: false });
  expect((await engine.refresh()).map((d) => d.op)).toEqual(["update"]);
  const mark = ops.length;
  expect((await engine.up([await withGroup()])).map((s) => s.op)).toEqual(["update"]);
  expect(adds(mark)).toHaveLength(1);
  expect(engine.outputs(spec.urn).licenseServersGroup).toMatchObject({ member: true });
});

test("a member already: converging runs no group.ps1 at all (the read says member)", async () => {
  fresh();
  await sim.config(LS, { licenseServersGroup: true });
  const engine = newEngine();
  await engine.up([await withGroup()]);
  expect(groupRuns()).toEqual([]);
});

test("unset (false or removed): an update that never removes the server from the group", async () => {
  fresh();
  const engine = newEngine();
  await engine.up([await withGroup()]);
  const mark = ops.length;
  expect((await engine.up([await program(args())])).map((s) => s.op)).toEqual(["update"]);
  expect(groupRuns(mark)).toEqual([]);
  expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  const spec = await program(args());
  expect(engine.outputs(spec.urn)).toMatchObject({ addToLicenseServersGroup: false, licenseServersGroup: { member: true } });
});

test("without the input, a server out of the group is no drift (membership not managed)", async () => {
  fresh();
  const engine = newEngine();
  await engine.up([await program(args())]);
  expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  expect(groupRuns()).toEqual([]);
});

test("a workgroup server: RDS_VALIDATION at install, before anything is written", async () => {
  fresh();
  await sim.config(LS, { domain: "" });
  const err = await expectFailure(newEngine().up([await withGroup()]));
  expect(err.message).toContain("[RDS_VALIDATION]");
  expect(err.message).toContain("in a workgroup");
  expect(world().view(LS).roleInstalled).toBe(false);
  expect(ops.filter((r) => r.op !== "licenseServer/install")).toEqual([]);
});

test("a local administrator only: RDS_ACCESS_DENIED naming Domain Admins; what was done before is recorded", async () => {
  fresh();
  await sim.config(LS, { callerRights: "localAdmin" });
  const engine = newEngine();
  const spec = await withGroup();
  const err = await expectFailure(engine.up([spec]));
  expect(err.message).toContain("[RDS_ACCESS_DENIED]");
  expect(err.message).toContain("needs a member of Domain Admins");
  expect(engine.outputs(spec.urn)).toMatchObject({ activationStatus: "activated", licenseServersGroup: { member: false } });
});

test("calUsage: per pack, per device and per user; Per User over-allocated shows issued above installed", async () => {
  fresh();
  const engine = newEngine();
  const spec = await withGroup();
  await engine.up([spec]);
  const [device, user] = await installPacks();
  await sim.admin({ action: "issue", host: LS, keyPackId: device, count: 2, computer: "PC" });
  await sim.admin({ action: "issue", host: LS, keyPackId: user, count: 4 });
  await engine.refresh();
  expect(engine.outputs(spec.urn).calUsage).toEqual({
    packs: [
      { keyPackId: device, calType: "perDevice", productVersion: "2019", installed: 5, issued: 2, available: 3 },
      { keyPackId: user, calType: "perUser", productVersion: "2019", installed: 3, issued: 3, available: 0 },
    ],
    perDevice: {
      total: 2,
      listed: [
        { device: "PC-1", keyPackId: device, expires: expect.stringMatching(/Z$/) },
        { device: "PC-2", keyPackId: device, expires: expect.stringMatching(/Z$/) },
      ],
      limit: 50,
    },
    perUser: { installed: 3, issued: 4, reportAvailable: true, reason: null },
  });
});

/** Two agreement packs on the activated LS (2019: 5 per device, 3 per user), through the fake's admin WMI call. */
async function installPacks(): Promise<[number, number]> {
  const install = async (productType: number, count: number) => {
    const r = await sim.wmi(LS, {
      className: "Win32_TSLicenseKeyPack",
      method: "InstallAgreementLicenseKeyPack",
      arguments: {
        AgreementType: { type: "uint32", value: 1 },
        sAgreementNumber: { type: "string", value: "1234567" },
        ProductVersion: { type: "uint32", value: 6 },
        ProductType: { type: "uint32", value: productType },
        LicenseCount: { type: "uint32", value: count },
      },
    });
    expect(r.returnValue).toBe(0);
    return r.keyPackId!;
  };
  return [await install(0, 5), await install(1, 3)];
}
