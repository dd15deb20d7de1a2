/**
 * RdsLicenseServer operation scripts (install, wait, get, set, activate, deactivate, group .ps1), every path
 * and every fault that applies, run as the provider runs them.
 *
 * What is real: pwsh 7, the scripts in provider/resources/licenseServer, RdsCommon.psm1 and Bootstrap.ps1,
 * the runner (runOperation: envelope file, warm pwsh pool, result validation with the scripts' zod
 * schemas, typed RdsErrors) on a simulator connection with its own temporary state directory.
 *
 * Over ssh: test/transports/ssh-password-suites.test.ts runs the `test.remote` cases again on an ssh
 * connection to a real local sshd (password login; the emulator then runs on the far side;
 * test/helpers/scriptConnection.ts). Per script: a success, a typed script error (New-RdsScriptError)
 * where the script has one, and a WMI error with its WBEM code (for get and deactivate in the
 * "exception" style: a CimException thrown and typed on the far side). That proves each script, its
 * companions and the envelope cross PowerShell SSH remoting, and that results and typed errors come back
 * whole; the other cases exercise the scripts' logic, which runs the same whatever the transport.
 * What stands in: Windows (WMI, the RDS-Licensing role, the TermServLicensing service) and Microsoft's
 * Clearinghouse, by the WMI emulator (provider/emulator/RdsEmulator.psm1). Test setup and out-of-band
 * administrator actions go through the emulator's admin functions (fixtures/SimAdmin.ps1, also run
 * through the runner); assertions on what the scripts did read the emulator's call log. One case
 * ("a contact write that does not take") runs set.ps1 directly in its own pwsh, with Set-CimInstance
 * replaced by a write that changes nothing (its block says why).
 */
import { providerFile } from "../../../provider/paths";
import type { Connection } from "../../../provider/powershell/transport";
import { installResultSchema } from "../../../provider/resources/licenseServer/schema";
import { PwshSession } from "../../helpers/pwshSession";
import { test } from "../../helpers/scriptConnection";
import { activate, deactivate, errorOf, get, GET_WITHOUT_ROLE, group, runScript, set, useScriptHosts, wait } from "./scriptHosts";
import { activationCalls, methodCalls, simAdmin } from "./simAdmin";

const { stateDir, newHost } = useScriptHosts("ls-scripts-");

const CONTACT = {
  firstName: "Ada",
  lastName: "Lovelace",
  company: "Contoso Ltd",
  countryRegion: "United Kingdom",
  email: "ada@contoso.example",
  orgUnit: "IT",
  address: "1 Main Street",
  city: "London",
  state: "",
  postalCode: "N1 9GU",
};
const WMI_NAMES: Record<string, string> = {
  firstName: "FirstName",
  lastName: "LastName",
  company: "Company",
  countryRegion: "CountryRegion",
  email: "eMail",
  orgUnit: "OrgUnit",
  address: "Address",
  city: "City",
  state: "State",
  postalCode: "PostalCode",
};

/** install.ps1 as callers from before addToLicenseServersGroup run it: no requireDomain (optional for the script). */
const install = (c: Connection, installRole = true) => runScript(c, "install", { installRole }, installResultSchema);

/** A host with the role installed and the contact set (ready to activate). */
async function readyHost(prefix = "ls"): Promise<Connection> {
  const c = await newHost(prefix);
  await install(c);
  await wait(c);
  await set(c, CONTACT);
  return c;
}

async function productIdOf(c: Connection): Promise<string> {
  return (await simAdmin(c).host()).licenseServer.productId;
}

describe("install.ps1", () => {
  test.remote("installs the RDS-Licensing role when it is missing, once", async () => {
    const c = await newHost();
    expect((await simAdmin(c).host()).roleInstalled).toBe(false);
    expect(await install(c)).toEqual({ installedNow: true, restartNeeded: false });
    const view = await simAdmin(c).host();
    expect(view.roleInstalled).toBe(true);
    expect(view.features["RDS-Licensing-UI"]).toBe(true); // -IncludeManagementTools
    expect(await install(c)).toEqual({ installedNow: false, restartNeeded: false });
    const calls = await simAdmin(c).calls();
    expect(calls.filter((x) => x.cmdlet === "Install-WindowsFeature")).toHaveLength(1);
  });

  test.remote("when the role is missing and installRole is false, fails with RDS_CLASS_NOT_READY and installs nothing", async () => {
    const c = await newHost();
    const err = await errorOf(install(c, false));
    expect(err.code).toBe("RDS_CLASS_NOT_READY");
    expect(err.message).toContain("installRole is false");
    expect(err.message).toContain("Install-WindowsFeature RDS-Licensing");
    expect((await simAdmin(c).host()).roleInstalled).toBe(false);
  });

  test.remote("when the caller is not an administrator (accessDenied), fails with RDS_ACCESS_DENIED", async () => {
    const c = await newHost();
    await simAdmin(c).fault("accessDenied", true);
    const err = await errorOf(install(c));
    expect(err.code).toBe("RDS_ACCESS_DENIED");
    expect((await simAdmin(c).host()).roleInstalled).toBe(false);
  });
});

describe("wait.ps1", () => {
  test.remote("answers at once when the service runs and the class answers", async () => {
    const c = await newHost();
    await install(c);
    const r = await wait(c);
    expect(r.attempts).toBe(1);
    expect(r.serviceStarted).toBe(false);
  });

  test("rides over a few not-ready calls (classNotReadyCalls) and then answers", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("classNotReadyCalls", 3);
    const r = await wait(c);
    expect(r.attempts).toBe(4);
    expect(typeof r.waitedMs).toBe("number");
    expect((await simAdmin(c).host()).faults.classNotReadyCalls).toBe(0);
  });

  test("gives RDS_CLASS_NOT_READY after its bound when the class never answers", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("classNotReadyCalls", 100000);
    const err = await errorOf(wait(c, 1, 50, 200));
    expect(err.code).toBe("RDS_CLASS_NOT_READY");
    const attempts = /did not answer within 1 s \((\d+) attempts; TermServLicensing service: Running\)/.exec(err.message);
    expect(attempts).not.toBeNull();
    // It polled until its bound (more than one attempt), rather than giving up at the first not-ready answer.
    expect(Number(attempts![1])).toBeGreaterThan(1);
  });

  test("starts the licensing service when it is stopped", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).config({ serviceStatus: "Stopped" });
    const r = await wait(c);
    expect(r.serviceStarted).toBe(true);
    expect((await simAdmin(c).host()).serviceStatus).toBe("Running");
    expect((await simAdmin(c).calls()).filter((x) => x.cmdlet === "Start-Service")).toHaveLength(1);
  });

  test.remote("when the role is missing, fails with RDS_CLASS_NOT_READY at once", async () => {
    const c = await newHost();
    const err = await errorOf(wait(c));
    expect(err.code).toBe("RDS_CLASS_NOT_READY");
    expect(err.message).toContain("role is not installed");
  });

  test.remote("a provider failure is not waited out: RDS_WMI_ERROR WBEM_E_PROVIDER_FAILURE at once", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("providerFailure", true);
    const err = await errorOf(wait(c, 30));
    expect(err.code).toBe("RDS_WMI_ERROR");
    expect(err.wmiName).toBe("WBEM_E_PROVIDER_FAILURE");
    // Not polled: the class was asked once (the emulator's call log, not a clock, says so).
    const asked = (await simAdmin(c).calls()).filter((x) => x.cmdlet === "Get-CimInstance" && x.className === "Win32_TSLicenseServer");
    expect(asked).toHaveLength(1);
  });

  test("access denied while starting the stopped service is RDS_ACCESS_DENIED", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).config({ serviceStatus: "Stopped" });
    await simAdmin(c).fault("accessDenied", true);
    const err = await errorOf(wait(c));
    expect(err.code).toBe("RDS_ACCESS_DENIED");
  });
});

describe("get.ps1", () => {
  test("without the role: roleInstalled false, no server", async () => {
    const c = await newHost();
    expect(await get(c)).toEqual(GET_WITHOUT_ROLE);
  });

  test.remote("a fresh license server: not activated, product id, empty contact, names", async () => {
    const c = await newHost();
    await install(c);
    const r = await get(c);
    const view = await simAdmin(c).host();
    expect(r).toEqual({
      roleInstalled: true,
      serviceStatus: "Running",
      classReady: true,
      server: {
        serverName: c.host,
        productId: view.licenseServer.productId,
        version: "10.0.20348",
        activationStatus: 1,
        licenseServerId: "",
        serverRole: 1,
        contact: {
          firstName: "",
          lastName: "",
          company: "",
          countryRegion: "",
          email: "",
          orgUnit: "",
          address: "",
          city: "",
          state: "",
          postalCode: "",
        },
      },
      // A fresh server in a domain: not in the Terminal Server License Servers group, no SCP, no CALs.
      licenseServersGroup: { domainJoined: true, domain: "contoso.com", member: false, scpRegistered: false, readError: null },
      calUsage: {
        packs: [],
        perDevice: { total: 0, listed: [], limit: 50 },
        perUser: {
          installed: 0,
          issued: null,
          reportAvailable: false,
          reason: expect.stringContaining("not in the Terminal Server License Servers group"),
        },
      },
    });
    expect(r.server!.productId).toMatch(/^\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3}$/);
  });

  test("an activated server reports the license server id the Clearinghouse issued", async () => {
    const c = await readyHost();
    await activate(c, "ActivateServerAutomatic");
    const r = await get(c);
    expect(r.server!.activationStatus).toBe(0);
    expect(r.server!.licenseServerId).toBe(await simAdmin(c).licenseServerIdFor(r.server!.productId));
    expect(r.server!.contact).toEqual(CONTACT);
  });

  test("a workgroup server is named by its computer name", async () => {
    const c = await newHost("wg");
    await simAdmin(c).config({ domain: "" });
    await install(c);
    expect((await get(c)).server!.serverName).toBe(c.host.split(".")[0]);
  });

  test("while the class is not ready: classReady false, no server (and no error)", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("classNotReadyCalls", 1);
    expect(await get(c)).toEqual({
      roleInstalled: true,
      serviceStatus: "Running",
      classReady: false,
      server: null,
      licenseServersGroup: null,
      calUsage: null,
    });
  });

  test("with the service stopped: classReady false", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).config({ serviceStatus: "Stopped" });
    expect(await get(c)).toMatchObject({ roleInstalled: true, serviceStatus: "Stopped", classReady: false, server: null });
  });

  test("activationStatusUnknown: the status is reported as 2", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("activationStatusUnknown", true);
    expect((await get(c)).server!.activationStatus).toBe(2);
  });

  for (const style of ["return", "exception"]) {
    (style === "exception" ? test.remote : test)(`accessDenied (${style} style): RDS_ACCESS_DENIED, not an empty contact`, async () => {
      const c = await newHost();
      await install(c);
      await simAdmin(c).fault("failureStyle", style);
      await simAdmin(c).fault("accessDenied", true);
      const err = await errorOf(get(c));
      expect(err.code).toBe("RDS_ACCESS_DENIED");
      expect(err.returnValue).toBe(0x80041003);
    });

    test(`providerFailure (${style} style): RDS_WMI_ERROR WBEM_E_PROVIDER_FAILURE`, async () => {
      const c = await newHost();
      await install(c);
      await simAdmin(c).fault("failureStyle", style);
      await simAdmin(c).fault("providerFailure", true);
      const err = await errorOf(get(c));
      expect(err.code).toBe("RDS_WMI_ERROR");
      expect(err.wmiName).toBe("WBEM_E_PROVIDER_FAILURE");
    });
  }
});

describe("set.ps1", () => {
  test("writes all ten contact properties with ONE Set-CimInstance and reports what differed", async () => {
    const c = await newHost();
    await install(c);
    const r = await set(c, CONTACT);
    expect(r.roleChanged).toBe(false);
    // state is "" on both sides, so it is the one property that did not differ
    expect(r.changedProperties.sort()).toEqual(
      Object.values(WMI_NAMES)
        .filter((n) => n !== "State")
        .sort(),
    );
    const sets = (await simAdmin(c).calls()).filter((x) => x.cmdlet === "Set-CimInstance");
    expect(sets).toHaveLength(1);
    expect([...(sets[0].properties ?? [])].sort()).toEqual(Object.values(WMI_NAMES).sort());
    const contact = (await simAdmin(c).host()).licenseServer.contact;
    for (const [field, wmi] of Object.entries(WMI_NAMES)) {
      expect(contact[wmi] ?? "").toBe(CONTACT[field as keyof typeof CONTACT]);
    }
  });

  test("the same contact again writes nothing", async () => {
    const c = await newHost();
    await install(c);
    await set(c, CONTACT);
    const before = (await simAdmin(c).calls()).filter((x) => x.cmdlet === "Set-CimInstance").length;
    expect(await set(c, CONTACT)).toEqual({ changedProperties: [], roleChanged: false });
    expect((await simAdmin(c).calls()).filter((x) => x.cmdlet === "Set-CimInstance")).toHaveLength(before);
  });

  test("a one-field change still writes the whole contact at once, and reports only that field", async () => {
    const c = await newHost();
    await install(c);
    await set(c, CONTACT);
    const r = await set(c, { ...CONTACT, city: "Manchester", email: "" });
    expect(r.changedProperties.sort()).toEqual(["City", "eMail"]);
    const sets = (await simAdmin(c).calls()).filter((x) => x.cmdlet === "Set-CimInstance");
    expect(sets[sets.length - 1].properties).toHaveLength(10);
    expect((await get(c)).server!.contact).toEqual({ ...CONTACT, city: "Manchester", email: "" });
  });

  test.remote("values that look like PowerShell travel as data, byte for byte", async () => {
    const c = await newHost();
    await install(c);
    const tricky = {
      ...CONTACT,
      company: `O'Brien & "Sons" $(Remove-Item C:\\) \`whoami\``,
      address: "Line 1\nLine 2\r\n\ttab",
      city: "Zürich 株式会社 🚀",
      orgUnit: "'; exit 1; '",
    };
    await set(c, tricky);
    expect((await get(c)).server!.contact).toEqual(tricky);
  });

  test("discovery scope: ChangeRole only when the scope differs", async () => {
    const c = await newHost();
    await install(c);
    expect(await set(c, null, 2)).toEqual({ changedProperties: [], roleChanged: true });
    expect((await get(c)).server!.serverRole).toBe(2);
    expect(await set(c, null, 2)).toEqual({ changedProperties: [], roleChanged: false });
    expect(methodCalls(await simAdmin(c).calls()).filter((m) => m === "ChangeRole")).toHaveLength(1);
  });

  test.remote("a domain scope on a workgroup server is refused by WMI: RDS_WMI_ERROR WBEM_E_INVALID_OPERATION", async () => {
    const c = await newHost("wg");
    await simAdmin(c).config({ domain: "" });
    await install(c);
    const err = await errorOf(set(c, null, 2));
    expect(err.code).toBe("RDS_WMI_ERROR");
    expect(err.wmiName).toBe("WBEM_E_INVALID_OPERATION");
  });

  test("accessDenied: RDS_ACCESS_DENIED and nothing written", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("accessDenied", true);
    const err = await errorOf(set(c, CONTACT));
    expect(err.code).toBe("RDS_ACCESS_DENIED");
    await simAdmin(c).clearFaults();
    expect((await get(c)).server!.contact.firstName).toBe("");
  });

  test("providerFailure: RDS_WMI_ERROR WBEM_E_PROVIDER_FAILURE", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("providerFailure", true);
    const err = await errorOf(set(c, CONTACT));
    expect(err.code).toBe("RDS_WMI_ERROR");
    expect(err.wmiName).toBe("WBEM_E_PROVIDER_FAILURE");
  });

  test.remote("class not ready: RDS_CLASS_NOT_READY", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).fault("classNotReadyCalls", 1);
    expect((await errorOf(set(c, CONTACT))).code).toBe("RDS_CLASS_NOT_READY");
  });

  test("the licensing service stopped: RDS_CLASS_NOT_READY naming the service and how to start it; nothing asked, nothing written", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).config({ serviceStatus: "Stopped" });
    const before = (await simAdmin(c).calls()).length;
    const err = await errorOf(set(c, CONTACT, 2));
    expect(err.code).toBe("RDS_CLASS_NOT_READY");
    expect(err.message).toContain("TermServLicensing) is Stopped; the licensing classes answer only while it runs");
    expect(err.message).toContain("Start-Service -Name TermServLicensing");
    const after = (await simAdmin(c).calls()).slice(before);
    expect(after.filter((x) => x.className === "Win32_TSLicenseServer")).toEqual([]);
  });

  test("the contact written is read back (a fresh Get-CimInstance after the one Set-CimInstance)", async () => {
    const c = await newHost();
    await install(c);
    const before = (await simAdmin(c).calls()).length;
    await set(c, CONTACT);
    const lsCalls = (await simAdmin(c).calls())
      .slice(before)
      .filter((x) => x.className === "Win32_TSLicenseServer")
      .map((x) => x.cmdlet);
    expect(lsCalls).toEqual(["Get-CimInstance", "Set-CimInstance", "Get-CimInstance"]);
  });

  const RIGHTS_CASES = [
    { rights: "localAdmin", role: 1, scope: "domain", group: "Domain Admins" },
    { rights: "domainAdmin", role: 2, scope: "forest", group: "Enterprise Admins" },
  ];
  for (const k of RIGHTS_CASES) {
    test(`ChangeRole ${k.role} as ${k.rights}: RDS_ACCESS_DENIED naming ${k.group}; the scope stays`, async () => {
      const c = await newHost();
      await install(c);
      await simAdmin(c).config({ callerRights: k.rights });
      await set(c, null, 0);
      const err = await errorOf(set(c, null, k.role));
      expect(err.code).toBe("RDS_ACCESS_DENIED");
      expect(err.method).toBe("ChangeRole");
      expect(err.message).toContain(`discoveryScope "${k.scope}" needs a member of ${k.group}`);
      expect((await get(c)).server!.serverRole).toBe(0);
    });
  }

  test("ChangeRole 1 as a Domain Admin works; 2 needs an Enterprise Admin (the default account is one)", async () => {
    const c = await newHost();
    await install(c);
    await simAdmin(c).config({ callerRights: "domainAdmin" });
    await set(c, null, 0);
    expect(await set(c, null, 1)).toEqual({ changedProperties: [], roleChanged: true });
    await simAdmin(c).config({ callerRights: "enterpriseAdmin" });
    expect(await set(c, null, 2)).toEqual({ changedProperties: [], roleChanged: true });
    expect((await get(c)).server!.serverRole).toBe(2);
  });
});

describe("set.ps1: a contact write that does not take", () => {
  /*
   * Real: pwsh 7, set.ps1 with LicenseServer.Common.ps1 and RdsCommon.psm1, the emulator for every other
   * call. Stands in: Set-CimInstance, replaced in this session by a write that reports success and
   * changes nothing (a licensing provider that ignores the write; what a real server does with the
   * CIM write is unverified, docs/windows-facts.md). The script is run directly, not through the runner,
   * so the stand-in shadows the emulator's cmdlet in this pwsh only (started and closed by the test).
   */
  test("WRITE_NOT_APPLIED (RDS_SCRIPT_ERROR) naming the properties that did not take, never their values", async () => {
    const session = await PwshSession.start();
    try {
      await checkWriteNotApplied(session);
    } finally {
      await session.close();
    }
  });

  async function checkWriteNotApplied(session: PwshSession): Promise<void> {
    await session.importEmulator(stateDir(), "ignored.contoso.com");
    await session.run("Import-Module -Name $data.common -Force -Global", { common: providerFile("powershell/RdsCommon.psm1") });
    const envelope = Buffer.from(
      JSON.stringify({ operation: "licenseServer.set", host: "ignored.contoso.com", args: { contact: CONTACT, serverRole: null } }),
    ).toString("base64");
    const r = await session.run<{ code: string; message: string; className: string }>(
      `Set-RdsSimHostConfig -Settings @{ roleInstalled = $true } | Out-Null
       function global:Set-CimInstance { param([Parameter(ValueFromPipeline)]$InputObject, $Property, [switch]$PassThru) }
       try {
         & $data.script -Envelope $data.envelope | Out-Null
         [pscustomobject]@{ code = 'none'; message = ''; className = '' }
       } catch {
         $d = Get-RdsScriptErrorDetails $_.Exception
         [pscustomobject]@{ code = $d.code; message = $d.message; className = $d.className }
       } finally {
         Remove-Item -Path function:global:Set-CimInstance
       }`,
      { script: providerFile("resources/licenseServer/set.ps1"), envelope },
    );
    expect(r.code).toBe("WRITE_NOT_APPLIED");
    expect(r.className).toBe("Win32_TSLicenseServer");
    expect(r.message).toContain("reported success, but reading it back shows FirstName, LastName, Company, CountryRegion, eMail, OrgUnit");
    for (const value of [CONTACT.firstName, CONTACT.company, CONTACT.email, CONTACT.address]) expect(r.message).not.toContain(value);
  }
});

describe("activate.ps1: automatic", () => {
  test.remote("ActivateServerAutomatic activates a server whose contact is set", async () => {
    const c = await readyHost();
    expect(await activate(c, "ActivateServerAutomatic")).toEqual({ call: "ActivateServerAutomatic", activationStatus: 0 });
    const view = await simAdmin(c).host();
    expect(view.licenseServer.activated).toBe(true);
    expect(view.licenseServer.activationMethod).toBe("automatic");
  });

  test("an activated server is left alone: no second activation call", async () => {
    const c = await readyHost();
    await activate(c, "ActivateServerAutomatic");
    expect(await activate(c, "ActivateServerAutomatic")).toEqual({ call: "none", activationStatus: 0 });
    expect(await activate(c, "ActivateServer", "X".repeat(35))).toEqual({ call: "none", activationStatus: 0 });
    expect(activationCalls(await simAdmin(c).calls())).toEqual(["ActivateServerAutomatic"]);
  });

  for (const style of ["return", "exception"]) {
    test(`clearinghouseUnreachable (${style} style): RDS_CLEARINGHOUSE_UNREACHABLE naming web and telephone`, async () => {
      const c = await readyHost();
      await simAdmin(c).fault("failureStyle", style);
      await simAdmin(c).fault("clearinghouseUnreachable", true);
      const err = await errorOf(activate(c, "ActivateServerAutomatic"));
      expect(err.code).toBe("RDS_CLEARINGHOUSE_UNREACHABLE");
      expect(err.message).toContain('"web"');
      expect(err.message).toContain('"telephone"');
      expect(err.message).toContain("https://activate.microsoft.com");
      expect(err.message).toContain(await productIdOf(c));
      expect((await simAdmin(c).host()).licenseServer.activated).toBe(false);
    });
  }

  test.remote("without the required contact, WMI refuses: RDS_WMI_ERROR WBEM_E_INVALID_PARAMETER", async () => {
    const c = await newHost();
    await install(c);
    const err = await errorOf(activate(c, "ActivateServerAutomatic"));
    expect(err.code).toBe("RDS_WMI_ERROR");
    expect(err.wmiName).toBe("WBEM_E_INVALID_PARAMETER");
  });

  test("a server activated, then deactivated out of band, is activated again with ActivateServerAutomatic, never Reactivate*", async () => {
    const c = await readyHost();
    await activate(c, "ActivateServerAutomatic");
    await simAdmin(c).invoke("DeactivateServerAutomatic");
    expect((await get(c)).server!.activationStatus).toBe(1);
    expect(await activate(c, "ActivateServerAutomatic")).toEqual({ call: "ActivateServerAutomatic", activationStatus: 0 });
    // The emulator's call log: the admin's deactivation between two ActivateServerAutomatic calls.
    expect(activationCalls(await simAdmin(c).calls())).toEqual([
      "ActivateServerAutomatic",
      "DeactivateServerAutomatic",
      "ActivateServerAutomatic",
    ]);
    expect((await simAdmin(c).host()).licenseServer.reactivations).toBe(0);
  });

  test("after a deactivation, the Clearinghouse unreachable: RDS_CLEARINGHOUSE_UNREACHABLE from ActivateServerAutomatic", async () => {
    const c = await readyHost();
    await activate(c, "ActivateServerAutomatic");
    await simAdmin(c).invoke("DeactivateServerAutomatic");
    await simAdmin(c).fault("clearinghouseUnreachable", true);
    const err = await errorOf(activate(c, "ActivateServerAutomatic"));
    expect(err.code).toBe("RDS_CLEARINGHOUSE_UNREACHABLE");
    expect(err.method).toBe("ActivateServerAutomatic");
  });

  test("Reactivate* is not a call activate.ps1 makes: refused before anything runs", async () => {
    const c = await readyHost();
    for (const call of ["ReactivateServerAutomatic", "ReactivateServer"]) {
      const err = await errorOf(activate(c, call, call === "ReactivateServer" ? "X".repeat(35) : null));
      expect(err.code).toBe("RDS_VALIDATION");
      expect(err.message).toContain("expected one of: ActivateServerAutomatic, ActivateServer");
    }
    expect(activationCalls(await simAdmin(c).calls())).toEqual([]);
  });

  test("the licensing service stopped: RDS_CLASS_NOT_READY naming the service, its status and how to start it; the class is not asked", async () => {
    const c = await readyHost();
    const before = (await simAdmin(c).calls()).length;
    await simAdmin(c).config({ serviceStatus: "Stopped" });
    const err = await errorOf(activate(c, "ActivateServerAutomatic"));
    expect(err.code).toBe("RDS_CLASS_NOT_READY");
    expect(err.message).toContain(
      "the Remote Desktop Licensing service (TermServLicensing) is Stopped; the licensing classes answer only while it runs",
    );
    expect(err.message).toContain("Start-Service -Name TermServLicensing");
    const after = (await simAdmin(c).calls()).slice(before);
    expect(after.filter((x) => x.className === "Win32_TSLicenseServer")).toEqual([]);
  });

  for (const style of ["return", "exception"]) {
    test(`accessDenied (${style} style): RDS_ACCESS_DENIED, not activated`, async () => {
      const c = await readyHost();
      await simAdmin(c).fault("failureStyle", style);
      await simAdmin(c).fault("accessDenied", true);
      expect((await errorOf(activate(c, "ActivateServerAutomatic"))).code).toBe("RDS_ACCESS_DENIED");
      await simAdmin(c).clearFaults();
      expect((await simAdmin(c).host()).licenseServer.activated).toBe(false);
    });

    test(`providerFailure (${style} style): RDS_WMI_ERROR WBEM_E_PROVIDER_FAILURE`, async () => {
      const c = await readyHost();
      await simAdmin(c).fault("failureStyle", style);
      await simAdmin(c).fault("providerFailure", true);
      const err = await errorOf(activate(c, "ActivateServerAutomatic"));
      expect(err.code).toBe("RDS_WMI_ERROR");
      expect(err.wmiName).toBe("WBEM_E_PROVIDER_FAILURE");
    });
  }

  test("class not ready: RDS_CLASS_NOT_READY and no activation call", async () => {
    const c = await readyHost();
    await simAdmin(c).fault("classNotReadyCalls", 1);
    expect((await errorOf(activate(c, "ActivateServerAutomatic"))).code).toBe("RDS_CLASS_NOT_READY");
    expect(activationCalls(await simAdmin(c).calls())).toEqual([]);
  });

  test("an undeterminable activation state (2) is an error and nothing is attempted", async () => {
    const c = await readyHost();
    await simAdmin(c).fault("activationStatusUnknown", true);
    const err = await errorOf(activate(c, "ActivateServerAutomatic"));
    expect(err.code).toBe("RDS_SCRIPT_ERROR");
    expect(err.message).toContain("ACTIVATION_STATUS_UNKNOWN");
    expect(err.message).toContain("was not attempted");
    expect(activationCalls(await simAdmin(c).calls())).toEqual([]);
  });

  test("an unknown call name is refused before anything runs", async () => {
    const c = await readyHost();
    const err = await errorOf(activate(c, "SetServerActivationStatus"));
    expect(err.code).toBe("RDS_VALIDATION");
    expect(activationCalls(await simAdmin(c).calls())).toEqual([]);
  });
});

describe("activate.ps1: web and telephone (license server id from the Clearinghouse)", () => {
  test("ActivateServer with the id issued for the product id activates", async () => {
    const c = await readyHost();
    const id = await simAdmin(c).licenseServerIdFor(await productIdOf(c));
    expect(id).toMatch(/^[A-Z0-9]{35}$/);
    expect(await activate(c, "ActivateServer", id)).toEqual({ call: "ActivateServer", activationStatus: 0 });
    expect((await get(c)).server!.licenseServerId).toBe(id);
  });

  test("ActivateServer works without Internet (clearinghouseUnreachable does not matter)", async () => {
    const c = await readyHost();
    await simAdmin(c).fault("clearinghouseUnreachable", true);
    const id = await simAdmin(c).licenseServerIdFor(await productIdOf(c));
    expect((await activate(c, "ActivateServer", id)).activationStatus).toBe(0);
  });

  for (const style of ["return", "exception"]) {
    test(`a wrong id (${style} style) is RDS_REJECTED, says what to check, and changes nothing`, async () => {
      const c = await readyHost();
      await simAdmin(c).fault("failureStyle", style);
      const other = await simAdmin(c).licenseServerIdFor("00000-00000-00000-AA000");
      const before = await simAdmin(c).host();
      const err = await errorOf(activate(c, "ActivateServer", other));
      expect(err.code).toBe("RDS_REJECTED");
      expect(err.message).toContain(before.licenseServer.productId);
      expect(err.message).toContain("nothing was changed");
      expect(err.message).not.toContain(other); // the id is not echoed
      const after = await simAdmin(c).host();
      expect(after.licenseServer).toEqual(before.licenseServer);
    });
  }

  test("a server activated with its id, then deactivated out of band, is activated again with ActivateServer, never Reactivate*", async () => {
    const c = await readyHost();
    const id = await simAdmin(c).licenseServerIdFor(await productIdOf(c));
    await activate(c, "ActivateServer", id);
    await simAdmin(c).invoke("DeactivateServerAutomatic");
    expect(await activate(c, "ActivateServer", id)).toEqual({ call: "ActivateServer", activationStatus: 0 });
    expect(activationCalls(await simAdmin(c).calls())).toEqual(["ActivateServer", "DeactivateServerAutomatic", "ActivateServer"]);
    expect((await simAdmin(c).host()).licenseServer.reactivations).toBe(0);
  });

  test.remote("a rebuilt server (new product id) rejects the old id: RDS_REJECTED", async () => {
    const c = await readyHost();
    const oldId = await simAdmin(c).licenseServerIdFor(await productIdOf(c));
    await activate(c, "ActivateServer", oldId);
    await simAdmin(c).config({ productId: "11111-22222-33333-BB444" });
    const r = await get(c);
    expect(r.server!.productId).toBe("11111-22222-33333-BB444");
    expect(r.server!.activationStatus).toBe(1);
    const err = await errorOf(activate(c, "ActivateServer", oldId));
    expect(err.code).toBe("RDS_REJECTED");
    expect(err.message).toContain("11111-22222-33333-BB444");
    const newId = await simAdmin(c).licenseServerIdFor("11111-22222-33333-BB444");
    expect((await activate(c, "ActivateServer", newId)).activationStatus).toBe(0);
  });

  test("accessDenied: RDS_ACCESS_DENIED", async () => {
    const c = await readyHost();
    const id = await simAdmin(c).licenseServerIdFor(await productIdOf(c));
    await simAdmin(c).fault("accessDenied", true);
    expect((await errorOf(activate(c, "ActivateServer", id))).code).toBe("RDS_ACCESS_DENIED");
  });
});

describe("deactivate.ps1", () => {
  test.remote("deactivates an activated server with DeactivateServerAutomatic", async () => {
    const c = await readyHost();
    await activate(c, "ActivateServerAutomatic");
    expect(await deactivate(c)).toEqual({ call: "DeactivateServerAutomatic", activationStatus: 1 });
    expect((await simAdmin(c).host()).licenseServer.activated).toBe(false);
  });

  test("nothing to do on a server that is not activated, or has no role", async () => {
    const c = await readyHost();
    expect(await deactivate(c)).toEqual({ call: "none", activationStatus: 1 });
    const bare = await newHost("bare");
    expect(await deactivate(bare)).toEqual({ call: "none", activationStatus: null });
    expect(activationCalls(await simAdmin(c).calls())).toEqual([]);
  });

  for (const style of ["return", "exception"]) {
    (style === "exception" ? test.remote : test)(
      `clearinghouseUnreachable (${style} style): RDS_CLEARINGHOUSE_UNREACHABLE with the ways out; stays activated`,
      async () => {
        const c = await readyHost();
        await activate(c, "ActivateServerAutomatic");
        await simAdmin(c).fault("failureStyle", style);
        await simAdmin(c).fault("clearinghouseUnreachable", true);
        const err = await errorOf(deactivate(c));
        expect(err.code).toBe("RDS_CLEARINGHOUSE_UNREACHABLE");
        expect(err.message).toContain("by telephone");
        expect(err.message).toContain("deactivateOnDelete to false");
        expect((await simAdmin(c).host()).licenseServer.activated).toBe(true);
      },
    );
  }

  test.remote("accessDenied: RDS_ACCESS_DENIED; providerFailure: RDS_WMI_ERROR; class not ready: RDS_CLASS_NOT_READY", async () => {
    const c = await readyHost();
    await activate(c, "ActivateServerAutomatic");
    await simAdmin(c).fault("accessDenied", true);
    expect((await errorOf(deactivate(c))).code).toBe("RDS_ACCESS_DENIED");
    await simAdmin(c).clearFaults();
    await simAdmin(c).fault("providerFailure", true);
    expect((await errorOf(deactivate(c))).wmiName).toBe("WBEM_E_PROVIDER_FAILURE");
    await simAdmin(c).clearFaults();
    await simAdmin(c).fault("classNotReadyCalls", 1);
    expect((await errorOf(deactivate(c))).code).toBe("RDS_CLASS_NOT_READY");
    expect((await simAdmin(c).host()).licenseServer.activated).toBe(true);
  });
});

// group.ps1's every path is in usage.scripts.test.ts; here the two outcomes the remote suites carry over ssh.
describe("group.ps1", () => {
  test.remote("not a member: AddLStoTSLSGroup once, then a member", async () => {
    const c = await readyHost();
    expect(await group(c)).toEqual({ added: true, member: true });
    expect(methodCalls(await simAdmin(c).calls()).filter((m) => m === "AddLStoTSLSGroup")).toHaveLength(1);
  });

  test.remote("an account outside Domain Admins: RDS_ACCESS_DENIED naming the right", async () => {
    const c = await readyHost();
    await simAdmin(c).config({ callerRights: "localAdmin" });
    const err = await errorOf(group(c));
    expect(err.code).toBe("RDS_ACCESS_DENIED");
    expect(err.message).toContain("needs a member of Domain Admins");
  });
});
