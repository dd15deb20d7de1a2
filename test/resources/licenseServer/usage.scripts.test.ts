/**
 * RdsLicenseServer scripts, the Active Directory and CAL usage part: get.ps1's `licenseServersGroup` and
 * `calUsage` facts, group.ps1 (AddLStoTSLSGroup), and install.ps1's workgroup refusal for
 * addToLicenseServersGroup, run as the provider runs them.
 *
 * What is real: pwsh 7, the scripts in provider/resources/licenseServer (with Directory.Common.ps1
 * and Usage.Common.ps1), RdsCommon.psm1 and Bootstrap.ps1, the runner (envelope file, warm pwsh
 * pool, result validation with the scripts' zod schemas, typed RdsErrors) on a simulator connection with
 * its own temporary state directory.
 * What stands in: Windows (WMI: Win32_TSLicenseServer's group and SCP methods, Win32_TSLicenseKeyPack,
 * Win32_TSIssuedLicense, Win32_TSLicenseReport; Active Directory's group) and the Clearinghouse, by the
 * WMI emulator. Setup and out-of-band administrator actions go through fixtures/SimAdmin.ps1 (also run
 * through the runner); what the scripts did is read from the emulator's call log.
 */
import type { Connection } from "../../../provider/powershell/transport";
import { getResultSchema, installResultSchema } from "../../../provider/resources/licenseServer/schema";
import { activate, errorOf, get, group, runScript, set, useScriptHosts, wait } from "./scriptHosts";
import { methodCalls, simAdmin } from "./simAdmin";

const { newHost } = useScriptHosts("ls-usage-");

/** install.ps1 as the provider runs it, requireDomain being addToLicenseServersGroup. */
const install = (c: Connection, requireDomain = false) =>
  runScript(c, "install", { installRole: true, requireDomain }, installResultSchema);

/** A license server installed, its contact set and activated (ready to take packs). */
async function activatedHost(prefix = "ls"): Promise<Connection> {
  const c = await newHost(prefix);
  await install(c);
  await wait(c);
  await set(c, { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" });
  await activate(c, "ActivateServerAutomatic");
  return c;
}

describe("get.ps1: licenseServersGroup", () => {
  test("a fresh domain server: joined, not in the group, no SCP (the emulator's default, as a server is until someone adds it)", async () => {
    const c = await activatedHost();
    expect((await get(c)).licenseServersGroup).toEqual({
      domainJoined: true,
      domain: "contoso.com",
      member: false,
      scpRegistered: false,
      readError: null,
    });
    const calls = methodCalls(await simAdmin(c).calls());
    expect(calls).toContain("IsLSinTSLSGroup");
    expect(calls).toContain("IsLSRegisteredToSCP");
  });

  test("after rds-sim's ls-group facts: member and SCP registered", async () => {
    const c = await activatedHost();
    await simAdmin(c).config({ licenseServersGroup: true, scpRegistered: true });
    expect((await get(c)).licenseServersGroup).toMatchObject({ member: true, scpRegistered: true, readError: null });
  });

  test("a workgroup server: neither method is called; member and scpRegistered null with the reason", async () => {
    const c = await activatedHost("wg");
    await simAdmin(c).config({ domain: "" });
    const before = (await simAdmin(c).calls()).length;
    const r = await get(c);
    expect(r.licenseServersGroup).toEqual({
      domainJoined: false,
      domain: null,
      member: null,
      scpRegistered: null,
      readError: expect.stringContaining("workgroup"),
    });
    expect(methodCalls((await simAdmin(c).calls()).slice(before))).not.toContain("IsLSinTSLSGroup");
    expect(r.calUsage!.perUser).toMatchObject({ reportAvailable: false, issued: null, reason: expect.stringContaining("workgroup") });
  });

  // Without the role there is no server and no fact at all: scripts.test.ts ("without the role").
});

describe("get.ps1: calUsage", () => {
  test("packs (no built-in pack, no leftover row), per-device licenses soonest expiry first, per user from the report", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    await admin.config({ licenseServersGroup: true });
    const device = await admin.installPack(0, 10);
    const user = await admin.installPack(1, 5, 7);
    await admin.leftoverPack();
    await admin.issue(device, 3, { computer: "PC" });
    await admin.issue(user, 2, { user: "alice" });
    const r = (await get(c)).calUsage!;
    expect(r.packs).toEqual([
      { keyPackId: device, calType: "perDevice", productVersion: "2019", installed: 10, issued: 3, available: 7 },
      { keyPackId: user, calType: "perUser", productVersion: "2022", installed: 5, issued: 2, available: 3 },
    ]);
    expect(r.perDevice.total).toBe(3);
    expect(r.perDevice.limit).toBe(50);
    expect(r.perDevice.listed.map((l) => [l.device, l.keyPackId])).toEqual(
      expect.arrayContaining([
        ["PC-1", device],
        ["PC-2", device],
        ["PC-3", device],
      ]),
    );
    const expiries = r.perDevice.listed.map((l) => l.expires);
    for (const e of expiries) expect(e).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect([...expiries].sort()).toEqual(expiries);
    expect(r.perUser).toEqual({ installed: 5, issued: 2, reportAvailable: true, reason: null });
    // The report made for the read is deleted at once: nothing is left on the server.
    const view = (await admin.host()) as unknown as { licenseServer: { reports: string[] } };
    expect(view.licenseServer.reports).toEqual([]);
    const calls = methodCalls(await admin.calls());
    expect(calls.filter((m) => m === "GenerateReportEx")).toHaveLength(1);
    expect(calls.filter((m) => m === "DeleteReport")).toHaveLength(1);
  });

  test("Per User over-allocated: more users with a CAL than per-user CALs installed (Windows does not enforce per-user CALs)", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    await admin.config({ licenseServersGroup: true });
    const user = await admin.installPack(1, 3);
    await admin.issue(user, 5, { user: "u" });
    expect((await get(c)).calUsage!.perUser).toEqual({ installed: 3, issued: 5, reportAvailable: true, reason: null });
  });

  test("per-device listing is bounded: 60 active licenses, the total counts all, 50 listed", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    const device = await admin.installPack(0, 60);
    await admin.issue(device, 60);
    const r = (await get(c)).calUsage!;
    expect(r.perDevice.total).toBe(60);
    expect(r.perDevice.listed).toHaveLength(50);
  });

  test("outside the group, per-user usage is not read (tracking and reporting need the group) and says why", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    const user = await admin.installPack(1, 4);
    await admin.issue(user, 1);
    const before = (await admin.calls()).length;
    const r = (await get(c)).calUsage!;
    expect(r.perUser).toEqual({
      installed: 4,
      issued: null,
      reportAvailable: false,
      reason: expect.stringContaining("not in the Terminal Server License Servers group"),
    });
    expect(methodCalls((await admin.calls()).slice(before))).not.toContain("GenerateReportEx");
  });

  test("perUserReport 'existing' (rds-licensing check) makes no report: the newest administrator's report is read, and said so; none there: why and how to get one", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    await admin.config({ licenseServersGroup: true });
    const user = await admin.installPack(1, 10);
    await admin.issue(user, 4, { user: "u" });
    const readExisting = () => runScript(c, "get", { perUserReport: "existing" }, getResultSchema);
    const logLength = async () => (await admin.calls()).length;
    const start = await logLength();
    expect((await readExisting()).calUsage!.perUser).toEqual({
      installed: 10,
      issued: null,
      reportAvailable: false,
      reason: expect.stringContaining("no per-user report on the server to read (this read makes none)"),
    });
    const firstRead = await logLength();
    const name = await admin.report();
    await admin.issue(user, 2, { user: "late" });
    const secondStart = await logLength();
    // The report counted 4 users when it was made; the 2 issued since are not in it.
    expect((await readExisting()).calUsage!.perUser).toEqual({
      installed: 10,
      issued: 4,
      reportAvailable: true,
      reason: expect.stringMatching(new RegExp(`^from the newest per-user report on the server, ${name.replace(/\./g, "\\.")} of \\d{4}-`)),
    });
    // The two reads themselves made and deleted nothing (the administrator's GenerateReportEx lies between them).
    const calls = await admin.calls();
    const byReads = methodCalls([...calls.slice(start, firstRead), ...calls.slice(secondStart)]);
    expect(byReads).toContain("FetchReportSummaryEntries");
    expect(byReads).not.toContain("GenerateReportEx");
    expect(byReads).not.toContain("DeleteReport");
    expect(await errorOf(runScript(c, "get", { perUserReport: "some" }, getResultSchema))).toMatchObject({ code: "RDS_VALIDATION" });
  });

  test("in the group without per-user CALs: the report is read, 0 issued", async () => {
    const c = await activatedHost();
    await simAdmin(c).config({ licenseServersGroup: true });
    expect((await get(c)).calUsage).toEqual({
      packs: [],
      perDevice: { total: 0, listed: [], limit: 50 },
      perUser: { installed: 0, issued: 0, reportAvailable: true, reason: null },
    });
  });
});

describe("group.ps1", () => {
  test("not a member: one AddLStoTSLSGroup, then a member; again: no call (converges)", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    expect(await group(c)).toEqual({ added: true, member: true });
    expect(methodCalls(await admin.calls()).filter((m) => m === "AddLStoTSLSGroup")).toHaveLength(1);
    expect(((await admin.host()) as unknown as { licenseServer: { licenseServersGroup: boolean } }).licenseServer.licenseServersGroup).toBe(
      true,
    );
    expect(await group(c)).toEqual({ added: false, member: true });
    expect(methodCalls(await admin.calls()).filter((m) => m === "AddLStoTSLSGroup")).toHaveLength(1);
  });

  test("as a local administrator only: RDS_ACCESS_DENIED naming Domain Admins; nothing changes", async () => {
    const c = await activatedHost();
    const admin = simAdmin(c);
    await admin.config({ callerRights: "localAdmin" });
    const e = await errorOf(group(c));
    expect(e.code).toBe("RDS_ACCESS_DENIED");
    expect(e.message).toContain("AddLStoTSLSGroup");
    expect(e.message).toContain("needs a member of Domain Admins");
    expect((await get(c)).licenseServersGroup!.member).toBe(false);
  });

  test("as a Domain Admin (not Enterprise Admin): added", async () => {
    const c = await activatedHost();
    await simAdmin(c).config({ callerRights: "domainAdmin" });
    expect(await group(c)).toEqual({ added: true, member: true });
  });

  test("a workgroup server: RDS_VALIDATION before any group call", async () => {
    const c = await activatedHost("wg");
    await simAdmin(c).config({ domain: "" });
    const before = (await simAdmin(c).calls()).length;
    const e = await errorOf(group(c));
    expect(e.code).toBe("RDS_VALIDATION");
    expect(e.message).toContain("workgroup");
    expect(methodCalls((await simAdmin(c).calls()).slice(before))).toEqual([]);
  });
});

describe("install.ps1 with requireDomain (addToLicenseServersGroup)", () => {
  test("a workgroup server is refused with RDS_VALIDATION before the role is installed", async () => {
    const c = await newHost("wg");
    await simAdmin(c).config({ domain: "" });
    const e = await errorOf(install(c, true));
    expect(e.code).toBe("RDS_VALIDATION");
    expect(e.message).toContain("addToLicenseServersGroup");
    expect((await simAdmin(c).host()).roleInstalled).toBe(false);
  });

  test("a domain server installs as before", async () => {
    const c = await newHost();
    expect(await install(c, true)).toEqual({ installedNow: true, restartNeeded: false });
  });
});
