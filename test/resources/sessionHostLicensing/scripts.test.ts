/**
 * RdsSessionHostLicensing scripts (get.ps1, set.ps1, reset.ps1, packs.ps1, and installRole's role.ps1,
 * restart.ps1, boot.ps1) and the provider's create/update flow, run for real.
 *
 * Real: pwsh 7, Bootstrap.ps1 and RdsCommon.psm1, the runner (runOperation) and its warm pool, the
 * simulator transport, the operation scripts of this resource, and the provider object's methods
 * (called directly, without the Pulumi host: that is provider.test.ts).
 *
 * Over ssh: test/transports/ssh-key-suites.test.ts runs the `it.remote` cases again over ssh to a real
 * local sshd (key login; the emulator on the far side: test/helpers/scriptConnection.ts): get (a fresh
 * host; the script error of a host that is no broker), set (Per User; WMI's WBEM_E_INVALID_OPERATION
 * under Group Policy), reset, packs, role / restart / boot (each with its access-denied error), and
 * provider.create refusing a Group Policy conflict. So every
 * script, SessionHost.Common.ps1 and the envelope cross PowerShell SSH remoting, with results and
 * typed errors coming back whole (reset and packs have no error case). The rest exercises the scripts'
 * logic and the provider's rules, the same whatever the transport.
 * Stands in: Windows, through the WMI emulator (provider/emulator/RdsEmulator.psm1): session hosts,
 * a connection broker, the license server and its packs, Group Policy values. The license server and
 * its packs are prepared with the emulator's own stand-ins for the WMI calls (simAdmin.ts), not by
 * the RdsLicenseServer / RdsCalPack resources.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, isRdsError, type RdsError } from "../../../provider/errors";
import { closeAll } from "../../../provider/powershell/pool";
import { runOperation } from "../../../provider/powershell/runner";
import type { Connection } from "../../../provider/powershell/transport";
import { providerFile } from "../../../provider/paths";
import { provider } from "../../../provider/resources/sessionHostLicensing/provider";
import { interpret } from "../../../provider/resources/sessionHostLicensing/rules";
import {
  bootResultSchema,
  getResultSchema,
  packsResultSchema,
  resetResultSchema,
  restartResultSchema,
  roleResultSchema,
  setResultSchema,
} from "../../../provider/resources/sessionHostLicensing/schema";
import { it, scriptConnection } from "../../helpers/scriptConnection";
import { callLog, prepareLicenseServer, setFault, setGroupPolicy, setHostConfig } from "./simAdmin";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-scripts-"));
const sim = (host: string): Connection => scriptConnection(host, stateDir);
const script = (name: string) => providerFile(`resources/sessionHostLicensing/${name}.ps1`);

const get = (host: string, scope: "sessionHost" | "deployment" = "sessionHost") =>
  runOperation(sim(host), { name: "sessionHostLicensing.read", script: script("get"), args: { scope }, result: getResultSchema });
const set = (host: string, args: Record<string, unknown>) =>
  runOperation(sim(host), { name: "sessionHostLicensing.set", script: script("set"), args, result: setResultSchema });
const reset = (host: string, scope: "sessionHost" | "deployment") =>
  runOperation(sim(host), { name: "sessionHostLicensing.reset", script: script("reset"), args: { scope }, result: resetResultSchema });

async function rdsErrorOf(promise: Promise<unknown>): Promise<RdsError> {
  try {
    await promise;
  } catch (err) {
    if (isRdsError(err)) return err;
    throw new Error(`expected an RdsError, got: ${err instanceof Error ? err.stack : JSON.stringify(err)}`);
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

/** Inputs as check() would hand them to create. */
function inputs(host: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { connection: sim(host), scope: "sessionHost", resetOnDelete: false, ...extra };
}

let packs: { user2022: number; device2022: number; user2019: number };

const SH_A = "sh-a.contoso.com";
const SH_B = "sh-b.contoso.com";
const CB = "cb01.contoso.com";
const LS = "ls01.contoso.com";
const SH_GPO = "sh-gpo.contoso.com";
const SH_WG = "sh-wg";
const SH_2025 = "sh-2025.contoso.com";

beforeAll(async () => {
  const [user2022, device2022, user2019] = await prepareLicenseServer(stateDir, LS, [
    { productVersion: "2022", calType: "perUser", count: 50 },
    { productVersion: "2022", calType: "perDevice", count: 20 },
    { productVersion: "2019", calType: "perUser", count: 10 },
  ]);
  packs = { user2022, device2022, user2019 };
  // Host facts: a 2025 host, a workgroup host, a connection broker (the others keep the defaults:
  // Windows Server 2022, domain contoso.com).
  await setHostConfig(stateDir, SH_2025, { osVersion: "2025" });
  await setHostConfig(stateDir, SH_WG, { partOfDomain: false, osVersion: "2022" });
  await setHostConfig(stateDir, CB, { isConnectionBroker: true, osVersion: "2022" });
}, 300_000);

afterAll(async () => {
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const lsConn = () => sim(LS);
const ref = (keyPackId: number, calType: string, productVersion: string) => ({
  keyPackId,
  calType,
  productVersion,
  licenseServerConnection: lsConn(),
  licenseServerName: LS,
});
const writesOn = async (host: string) =>
  (await callLog(stateDir, host)).filter((r) => r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList");

describe("get.ps1 and set.ps1, scope sessionHost", () => {
  it.remote("reads a fresh session host: mode not configured, no list, full grace period, OS and domain", async () => {
    const raw = await get(SH_A);
    expect(raw).toMatchObject({
      scope: "sessionHost",
      licensingType: 5,
      policySourceLicensingType: 0,
      policySourceConfiguredLicenseServers: 0,
      licenseServers: [],
      policy: { licensingMode: null, licenseServers: null },
      gracePeriodDaysLeft: 120,
      partOfDomain: true,
      domain: "contoso.com",
    });
    expect(raw.os.caption).toContain("Windows Server 2022");
    expect(interpret(raw)).toMatchObject({
      effectiveMode: "notConfigured",
      effectiveLicenseServers: [],
      modeSource: "local",
      licenseServersSource: "local",
      osVersion: "2022",
      domainJoined: true,
    });
  });

  it.remote("Per User: ChangeMode 4 then SetSpecifiedLicenseServerList, the list in the order given", async () => {
    const out = await set(SH_A, { scope: "sessionHost", mode: "perUser", licenseServers: ["ls02.contoso.com", LS] });
    expect(out.calls).toEqual(["ChangeMode", "SetSpecifiedLicenseServerList"]);
    const raw = await get(SH_A);
    expect(raw.licensingType).toBe(4);
    expect(raw.licenseServers).toEqual(["ls02.contoso.com", LS]);
    // The emulator accepted both calls: it rejects wrong parameter names and types with a WBEM code.
    const log = (await callLog(stateDir, SH_A)).filter((r) => r.cmdlet === "Invoke-CimMethod");
    expect(
      log.filter((r) => r.method === "ChangeMode" || r.method === "SetSpecifiedLicenseServerList").map((r) => [r.method, r.result]),
    ).toEqual([
      ["ChangeMode", 0],
      ["SetSpecifiedLicenseServerList", 0],
    ]);
  });

  it("keeps any order it is given, including a reversed one, and a single entry stays a list", async () => {
    await set(SH_A, { scope: "sessionHost", mode: null, licenseServers: ["c.contoso.com", "a.contoso.com", "b.contoso.com"] });
    expect((await get(SH_A)).licenseServers).toEqual(["c.contoso.com", "a.contoso.com", "b.contoso.com"]);
    await set(SH_A, { scope: "sessionHost", mode: null, licenseServers: ["b.contoso.com", "a.contoso.com", "c.contoso.com"] });
    expect((await get(SH_A)).licenseServers).toEqual(["b.contoso.com", "a.contoso.com", "c.contoso.com"]);
    await set(SH_A, { scope: "sessionHost", mode: null, licenseServers: ["only.contoso.com"] });
    const raw = await get(SH_A);
    expect(raw.licenseServers).toEqual(["only.contoso.com"]);
    expect(raw.licensingType).toBe(4);
  });

  it.remote("reset.ps1 empties the list and leaves the mode (ChangeMode cannot set 'not configured')", async () => {
    const out = await reset(SH_A, "sessionHost");
    expect(out.calls).toEqual(["EmptySpecifiedLicenseServerList"]);
    expect(out.skipped.join(" ")).toMatch(/mode/);
    const raw = await get(SH_A);
    expect(raw.licenseServers).toEqual([]);
    expect(raw.licensingType).toBe(4);
  });

  it("Per Device: ChangeMode 2; the list is left alone when not asked for", async () => {
    await set(SH_B, { scope: "sessionHost", mode: null, licenseServers: [LS] });
    const out = await set(SH_B, { scope: "sessionHost", mode: "perDevice", licenseServers: null });
    expect(out.calls).toEqual(["ChangeMode"]);
    const raw = await get(SH_B);
    expect(raw.licensingType).toBe(2);
    expect(raw.licenseServers).toEqual([LS]);
  });
});

describe("scope deployment (through the connection broker)", () => {
  it("sets mode and list with one Set-RDLicenseConfiguration, reads them back, and resets to NotConfigured", async () => {
    const before = await get(CB, "deployment");
    expect(before).toMatchObject({ scope: "deployment", rdmsMode: "NotConfigured", licenseServers: [], licensingType: null });
    expect(interpret(before)).toMatchObject({
      effectiveMode: "notConfigured",
      modeSource: "deployment",
      licenseServersSource: "deployment",
    });

    const out = await set(CB, { scope: "deployment", mode: "perDevice", licenseServers: ["ls02.contoso.com", LS] });
    expect(out.calls).toEqual(["Set-RDLicenseConfiguration"]);
    const after = await get(CB, "deployment");
    expect(after.rdmsMode).toBe("PerDevice");
    expect(after.licenseServers).toEqual(["ls02.contoso.com", LS]);

    await set(CB, { scope: "deployment", mode: "perUser", licenseServers: null });
    const user = interpret(await get(CB, "deployment"));
    expect(user.effectiveMode).toBe("perUser");
    expect(user.effectiveLicenseServers).toEqual(["ls02.contoso.com", LS]);

    const r = await reset(CB, "deployment");
    expect(r.calls).toEqual(["Set-RDLicenseConfiguration"]);
    const cleared = interpret(await get(CB, "deployment"));
    expect(cleared.effectiveMode).toBe("notConfigured");
    expect(cleared.effectiveLicenseServers).toEqual([]);
  });

  it("provider.create configures the deployment through the broker (Per Device and Per User) and reports source deployment", async () => {
    const device = await provider.create(
      inputs(CB, { scope: "deployment", mode: "perDevice", licenseServers: [LS], calPacks: [ref(packs.device2022, "perDevice", "2022")] }),
    );
    expect(device.id).toBe("deployment:cb01.contoso.com");
    expect(device.outs).toMatchObject({ effectiveMode: "perDevice", effectiveLicenseServers: [LS] });
    const user = await provider.update!(
      device.id,
      device.outs,
      inputs(CB, { scope: "deployment", mode: "perUser", licenseServers: [LS], calPacks: [ref(packs.user2022, "perUser", "2022")] }),
    );
    expect(user.outs).toMatchObject({
      effectiveMode: "perUser",
      effectiveLicenseServers: [LS],
      modeSource: "deployment",
      licenseServersSource: "deployment",
      osVersion: "2022",
    });
  });

  it.remote("on a host that is not a connection broker, fails with the RDMS message", async () => {
    const err = await rdsErrorOf(get(SH_B, "deployment"));
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toMatch(/deployment does not exist/i);
  });
});

describe("packs.ps1 (on the license server)", () => {
  it.remote("returns the packs asked for by KeyPackId and names the missing ones", async () => {
    const out = await runOperation(lsConn(), {
      name: "sessionHostLicensing.packs",
      script: script("packs"),
      args: { keyPackIds: [packs.user2022, packs.device2022, 999] },
      result: packsResultSchema,
    });
    expect(out.packs.map((p) => [p.keyPackId, p.productType, p.productVersionId, p.availableLicenses])).toEqual([
      [packs.user2022, 1, 7, 50],
      [packs.device2022, 0, 7, 20],
    ]);
    expect(out.missing).toEqual([999]);
  });
});

describe("provider create/update against the emulator", () => {
  it("sets only what differs: a second converge makes no WMI change", async () => {
    const args = inputs(SH_B, {
      mode: "perDevice",
      licenseServers: [LS, "ls02.contoso.com"],
      calPacks: [ref(packs.device2022, "perDevice", "2022")],
    });
    const before = (await writesOn(SH_B)).length;
    const first = await provider.create(args);
    expect(first.outs).toMatchObject({
      effectiveMode: "perDevice",
      effectiveLicenseServers: [LS, "ls02.contoso.com"],
      modeSource: "local",
    });
    // Mode was already Per Device: only the list was written.
    const afterCreate = await writesOn(SH_B);
    expect(afterCreate.slice(before).map((r) => r.method)).toEqual(["SetSpecifiedLicenseServerList"]);
    await provider.update!(first.id, first.outs, args);
    expect(await writesOn(SH_B)).toHaveLength(afterCreate.length);
  });

  it("Group Policy set to the SAME values: nothing is written, the outputs say groupPolicy", async () => {
    await setGroupPolicy(stateDir, SH_GPO, { licensingMode: 4, licenseServers: `${LS},ls02.contoso.com` });
    const raw = await get(SH_GPO);
    expect(raw.policy).toEqual({ licensingMode: 4, licenseServers: `${LS},ls02.contoso.com` });
    expect(raw.policySourceLicensingType).toBe(1);
    expect(raw.policySourceConfiguredLicenseServers).toBe(1);

    const created = await provider.create(
      inputs(SH_GPO, { mode: "perUser", licenseServers: [LS, "ls02.contoso.com"], calPacks: [ref(packs.user2022, "perUser", "2022")] }),
    );
    expect(created.outs).toMatchObject({
      effectiveMode: "perUser",
      effectiveLicenseServers: [LS, "ls02.contoso.com"],
      modeSource: "groupPolicy",
      licenseServersSource: "groupPolicy",
    });
    expect(await writesOn(SH_GPO)).toEqual([]);
  });

  it.remote("Group Policy set to a DIFFERENT mode: RDS_GROUP_POLICY_CONFLICT naming the policy and where, nothing written", async () => {
    await setGroupPolicy(stateDir, SH_GPO, { licensingMode: 2, licenseServers: null });
    const err = await rdsErrorOf(
      provider.create(inputs(SH_GPO, { mode: "perUser", licenseServers: [LS], calPacks: [ref(packs.user2022, "perUser", "2022")] })),
    );
    expect(err.code).toBe(ErrorCode.GroupPolicyConflict);
    expect(err.message).toContain("sh-gpo.contoso.com");
    expect(err.message).toContain("a Group Policy controls the licensing mode and sets perDevice");
    expect(err.message).toContain("HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services");
    expect(err.message).toContain("value LicensingMode");
    expect(err.message).toContain(
      "Computer Configuration > Administrative Templates > Windows Components > Remote Desktop Services > Remote Desktop Session Host > Licensing",
    );
    // Nothing was written, not even the list (which the policy no longer controls).
    expect(await writesOn(SH_GPO)).toEqual([]);
    expect((await get(SH_GPO)).licenseServers).toEqual([]);
  });

  it.remote("WMI itself refuses a setter under Group Policy (WBEM_E_INVALID_OPERATION): the provider checks first instead", async () => {
    const err = await rdsErrorOf(set(SH_GPO, { scope: "sessionHost", mode: "perUser", licenseServers: null }));
    expect(err.code).toBe(ErrorCode.Wmi);
    expect(err.returnValue).toBe(0x80041016);
  });

  it("Group Policy set to a DIFFERENT list: RDS_GROUP_POLICY_CONFLICT naming LicenseServers", async () => {
    await setGroupPolicy(stateDir, SH_GPO, { licensingMode: null, licenseServers: "other-ls.contoso.com" });
    const attempts = (await writesOn(SH_GPO)).length; // the refused ChangeMode of the test above
    const err = await rdsErrorOf(
      provider.create(inputs(SH_GPO, { mode: "perUser", licenseServers: [LS], calPacks: [ref(packs.user2022, "perUser", "2022")] })),
    );
    expect(err.code).toBe(ErrorCode.GroupPolicyConflict);
    expect(err.message).toContain("a Group Policy controls the license server list and sets [other-ls.contoso.com]");
    expect(err.message).toContain("value LicenseServers");
    expect((await get(SH_GPO)).licensingType).toBe(5);
    expect(await writesOn(SH_GPO)).toHaveLength(attempts);
  });

  it("a workgroup host asking for Per User: RDS_MODE_MISMATCH before anything changes; Per Device is fine", async () => {
    const err = await rdsErrorOf(
      provider.create(inputs(SH_WG, { mode: "perUser", licenseServers: [LS], calPacks: [ref(packs.user2022, "perUser", "2022")] })),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain("mode perUser on sh-wg");
    expect(err.message).toContain("sh-wg is in a workgroup");
    expect(err.message).toContain('join sh-wg to a domain, or use mode "perDevice"');
    const raw = await get(SH_WG);
    expect(raw.licensingType).toBe(5);
    expect(raw.licenseServers).toEqual([]);
    const ok = await provider.create(
      inputs(SH_WG, { mode: "perDevice", licenseServers: [LS], calPacks: [ref(packs.device2022, "perDevice", "2022")] }),
    );
    expect(ok.outs).toMatchObject({ effectiveMode: "perDevice", domainJoined: false });
  });

  it("a host OS newer than the CALs (2025 host, 2022 CALs): RDS_MODE_MISMATCH naming host, mode, packs and the fix", async () => {
    const err = await rdsErrorOf(
      provider.create(
        inputs(SH_2025, {
          mode: "perUser",
          licenseServers: [LS],
          calPacks: [ref(packs.user2022, "perUser", "2022"), ref(packs.device2022, "perDevice", "2022")],
        }),
      ),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain("mode perUser on sh-2025.contoso.com");
    expect(err.message).toContain("Windows Server 2025");
    expect(err.message).toContain(`#${packs.user2022} Per User 2022`);
    expect(err.message).toContain(`#${packs.device2022} Per Device 2022`);
    expect(err.message).toContain("install a Per User CAL pack of version 2025");
    expect((await get(SH_2025)).licensingType).toBe(5);
    expect(await writesOn(SH_2025)).toEqual([]);
  });

  it("the live packs decide, not the declared ones: a pack declared Per User that is Per Device on the server is refused", async () => {
    const err = await rdsErrorOf(
      provider.create(inputs(SH_A, { mode: "perUser", licenseServers: [LS], calPacks: [ref(packs.device2022, "perUser", "2022")] })),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain(`#${packs.device2022} Per Device 2022`);
    expect(err.message).toContain('or set mode to "perDevice"');
  });

  it("a pack that is no longer on the license server is reported as not found", async () => {
    const err = await rdsErrorOf(
      provider.create(inputs(SH_A, { mode: "perUser", licenseServers: [LS], calPacks: [ref(4242, "perUser", "2022")] })),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain("#4242 (not found on ls01.contoso.com)");
  });

  it("an older pack of the right type is not enough when the host is newer (2019 Per User CALs on a 2022 host)", async () => {
    const err = await rdsErrorOf(
      provider.create(inputs(SH_A, { mode: "perUser", licenseServers: [LS], calPacks: [ref(packs.user2019, "perUser", "2019")] })),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain("the Per User packs found are too old");
    expect(err.message).toContain("install a Per User CAL pack of version 2022 or 2025");
  });
});

describe("installRole's scripts: role.ps1 installs RDS-RD-Server, restart.ps1 restarts, boot.ps1 tells the boot and the role", () => {
  const SH_NEW = "sh-new.contoso.com";
  const SH_DENIED = "sh-denied.contoso.com";
  const role = (host: string) =>
    runOperation(sim(host), { name: "sessionHostLicensing.role", script: script("role"), args: {}, result: roleResultSchema });
  const restart = (host: string) =>
    runOperation(sim(host), { name: "sessionHostLicensing.restart", script: script("restart"), args: {}, result: restartResultSchema });
  const boot = (host: string) =>
    runOperation(sim(host), { name: "sessionHostLicensing.boot", script: script("boot"), args: {}, result: bootResultSchema });

  beforeAll(async () => {
    // A restart that is over at once: these cases test the scripts, not the wait (roleInstall.ts).
    await setHostConfig(stateDir, SH_NEW, { sessionHostRole: false, restartSeconds: 0 });
    await setHostConfig(stateDir, SH_DENIED, { sessionHostRole: false });
    await setFault(stateDir, SH_DENIED, "accessDenied", true);
  });

  it.remote("role.ps1 installs the role pending a restart, and says so again without a second install", async () => {
    const first = await role(SH_NEW);
    expect(first).toMatchObject({ installedNow: true, restartNeeded: true });
    expect(first.lastBootUpTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await role(SH_NEW)).toEqual({ installedNow: false, restartNeeded: true, lastBootUpTime: first.lastBootUpTime });
    expect((await callLog(stateDir, SH_NEW)).filter((r) => r.cmdlet === "Install-WindowsFeature")).toHaveLength(1);
  });

  it.remote("restart.ps1 then boot.ps1: a new boot with the role (TerminalServerMode 1)", async () => {
    const before = await boot(SH_NEW);
    expect(before.terminalServerMode).toBe(0);
    expect(await restart(SH_NEW)).toEqual({ requested: true });
    const after = await boot(SH_NEW);
    expect(after.terminalServerMode).toBe(1);
    expect(after.lastBootUpTime).not.toBe(before.lastBootUpTime);
    expect(await role(SH_NEW)).toEqual({ installedNow: false, restartNeeded: false, lastBootUpTime: after.lastBootUpTime });
  });

  it.remote("role.ps1 as a non-administrator: RDS_ACCESS_DENIED, nothing installed", async () => {
    const err = await rdsErrorOf(role(SH_DENIED));
    expect(err.code).toBe(ErrorCode.AccessDenied);
    expect(err.message).toContain(SH_DENIED);
    expect((await callLog(stateDir, SH_DENIED)).filter((r) => r.cmdlet === "Install-WindowsFeature")).toEqual([]);
  });

  it.remote("restart.ps1 as a non-administrator: RDS_ACCESS_DENIED (Restart-Computer needs the shutdown privilege)", async () => {
    const err = await rdsErrorOf(restart(SH_DENIED));
    expect(err.code).toBe(ErrorCode.AccessDenied);
    expect(err.message).toContain("shutdown privilege");
  });

  it.remote("boot.ps1 as a non-administrator: RDS_ACCESS_DENIED", async () => {
    const err = await rdsErrorOf(boot(SH_DENIED));
    expect(err.code).toBe(ErrorCode.AccessDenied);
  });
});
