/**
 * Conformance tests for the legacy WMI dialect (Windows PowerShell 5.1's Get-WmiObject, Invoke-WmiMethod,
 * Set-WmiInstance, the [wmi]/[wmiclass] casts and the WMI adapter's methods). Real: pwsh and the emulator
 * module. The emulator stands in for Windows WMI and System.Management; every test names the Windows
 * behaviour it reproduces and its source (provider/emulator/ADMIN-SCRIPTS.md, "Legacy WMI dialect").
 */
import { execFileSync } from "child_process";
import { pwshExecutable } from "../helpers/pwshSession";
import path from "path";
import { EmulatorFixture, PS_ROLE, WBEM, uniqueHost } from "./emulatorKit";

jest.setTimeout(120_000);

let fx: EmulatorFixture;
beforeAll(async () => {
  fx = await EmulatorFixture.start("wmi");
});
afterAll(async () => {
  await fx.close();
});

const TS = "Get-WmiObject -Namespace root/cimv2/TerminalServices -Class Win32_TerminalServiceSetting";

describe("legacy WMI dialect (one object model with CIM)", () => {
  test("Get-WmiObject + property assignment + Put() writes the contact; CIM sees it; [wmiclass] static methods activate (public scripts, reference 11.2)", async () => {
    const host = uniqueHost("wmils");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}$ls = Get-WmiObject Win32_TSLicenseServer
       $ls.FirstName = 'Ada'; $ls.LastName = 'Lovelace'; $ls.Company = 'Contoso'; $ls.CountryRegion = 'United Kingdom'
       $put = $ls.Put()
       $cls = [wmiclass]"\\\\$($data.h)\\root\\cimv2:Win32_TSLicenseServer"
       $act = $cls.ActivateServerAutomatic()
       [pscustomobject]@{
         cimFirst = (Get-CimInstance -ClassName Win32_TSLicenseServer).FirstName
         relPath = $put.RelativePath
         path = $ls.__PATH
         act = $act.ReturnValue
         status = ([wmiclass]'root\\cimv2:Win32_TSLicenseServer').GetActivationStatus().ActivationStatus
         cimStatus = (Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName GetActivationStatus).ActivationStatus
         idLength = $cls.GetLicenseServerID().sLicenseServerId.Length
         noStaticOnInstance = $null -eq $ls.PSObject.Methods['ActivateServerAutomatic']
         log = @(Get-RdsSimCallLog | Where-Object { $_.PSObject.Properties['dialect'] } | ForEach-Object { $_.cmdlet + ':' + $_.method })
       }`,
      { h: host },
    );
    expect(r).toMatchObject({
      cimFirst: "Ada",
      relPath: "Win32_TSLicenseServer=@",
      path: `\\\\${host.toUpperCase()}\\root\\cimv2:Win32_TSLicenseServer=@`,
      act: 0,
      status: 0,
      cimStatus: 0,
      idLength: 35,
      noStaticOnInstance: true,
    });
    expect(r.log).toEqual(expect.arrayContaining(["ManagementObject.Put:", "ManagementObject.InvokeMethod:ActivateServerAutomatic"]));
  });

  test("instance methods on Win32_TerminalServiceSetting with the adapter's conversions: ChangeMode('4'), SetSpecifiedLicenseServerList('RDS01') (ManagementObjectAdapter)", async () => {
    const host = uniqueHost("wmits");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$ts = ${TS}
       [pscustomobject]@{
         mode = $ts.ChangeMode('4').ReturnValue
         set = $ts.SetSpecifiedLicenseServerList('RDS01').ReturnValue
         list = @($ts.GetSpecifiedLicenseServerList().SpecifiedLSList)
         days = $ts.GetGracePeriodDays().DaysLeft
         cimMode = (Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting).LicensingType
         cimList = @((Invoke-CimMethod -InputObject (Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting) -MethodName GetSpecifiedLicenseServerList).SpecifiedLSList)
         viaPath = ([wmi]"\\\\.\\root\\cimv2\\TerminalServices:Win32_TerminalServiceSetting=@").LicensingType
       }`,
    );
    expect(r).toEqual({ mode: 0, set: 0, list: ["RDS01"], days: 120, cimMode: 4, cimList: ["RDS01"], viaPath: 4 });
  });

  test("a method's nonzero ReturnValue is returned with no error record and $? true; an out-of-range argument is the adapter's MethodException", async () => {
    const host = uniqueHost("wmirv");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$ts = ${TS}
       $Error.Clear()
       $rv = $ts.ChangeMode(3).ReturnValue
       $ok = $?
       $errs = $Error.Count
       $conv = try { $ts.ChangeMode(-1); 'no error' } catch { $_.Exception.GetType().Name }
       [pscustomobject]@{ rv = $rv; ok = $ok; errs = $errs; conv = $conv }`,
    );
    expect(r).toEqual({ rv: WBEM.INVALID_PARAMETER, ok: true, errs: 0, conv: "MethodInvocationException" });
  });

  test("Invoke-WmiMethod -ArgumentList is positional in GetMethodParameters() order, alphabetical (reference 11.2; DSC issue #64); DATETIME values are DMTF strings", async () => {
    const host = uniqueHost("wmiinv");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}$cls = [wmiclass]'Win32_TSLicenseServer'
       Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = 'A'; LastName = 'B'; Company = 'C'; CountryRegion = 'United Kingdom' }
       $null = Invoke-WmiMethod -Class Win32_TSLicenseServer -Name ActivateServerAutomatic
       # AgreementType, LicenseCount, ProductType, ProductVersion, sAgreementNumber (SPLA, 8 digits)
       $res = Invoke-WmiMethod -Class Win32_TSLicenseKeyPack -Name InstallAgreementLicenseKeyPack -ArgumentList 4, 25, 1, 7, '12345678'
       $pack = Get-WmiObject -Class Win32_TSLicenseKeyPack -Filter "KeyPackId = $($res.KeyPackId)"
       [pscustomobject]@{
         rv = $res.ReturnValue
         total = $pack.TotalLicenses
         type = $pack.ProductType
         expiration = $pack.ExpirationDate
         cimTotal = (Get-CimInstance -ClassName Win32_TSLicenseKeyPack | Where-Object KeyPackId -eq $res.KeyPackId).TotalLicenses
         query = @(Get-WmiObject -Query 'SELECT * FROM Win32_TSLicenseKeyPack WHERE KeyPackType = 2').Count
       }`,
    );
    expect(r).toMatchObject({ rv: 0, total: 25, type: 1, cimTotal: 25, query: 1 });
    expect(r.expiration).toMatch(/^\d{14}\.\d{6}[+-]\d{3}$/);
  });

  test("Set-WmiInstance writes through the same state; Get-WmiObject -List lists the classes the host serves now", async () => {
    const host = uniqueHost("wmiset");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$before = @(Get-WmiObject -List -Namespace root\\cimv2 | ForEach-Object { $_.__CLASS })
       ${PS_ROLE}$after = @(Get-WmiObject -List -Namespace root\\cimv2 -Class 'Win32_TSLicense*' | ForEach-Object { $_.__CLASS })
       $set = Get-WmiObject Win32_TSLicenseServer | Set-WmiInstance -Arguments @{ Company = 'Fabrikam' }
       [pscustomobject]@{ before = $before.Contains('Win32_TSLicenseServer'); after = $after.Contains('Win32_TSLicenseServer'); set = $set.Company; cim = (Get-CimInstance Win32_TSLicenseServer).Company }`,
    );
    expect(r).toEqual({ before: false, after: true, set: "Fabrikam", cim: "Fabrikam" });
  });

  test("infrastructure errors are ManagementException records: Get-WmiObject on an unknown class (GetWmiObjectCommand source)", async () => {
    const host = uniqueHost("wmierr");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$Error.Clear()
       $out = Get-WmiObject -Class Win32_Nope -ErrorAction SilentlyContinue -ErrorVariable ev
       [pscustomobject]@{ n = $Error.Count; ev = $ev.Count; id = $Error[0].FullyQualifiedErrorId; type = $Error[0].Exception.GetType().FullName; msg = $Error[0].Exception.Message; cat = [string]$Error[0].CategoryInfo.Category; same = [object]::ReferenceEquals($ev[0], $Error[0]) }`,
    );
    expect(r).toEqual({
      n: 1,
      ev: 1,
      id: "GetWMIManagementException,Get-WmiObject",
      type: "System.Management.ManagementException",
      msg: 'Invalid class "Win32_Nope"',
      cat: "InvalidType",
      same: true,
    });
  });
});

describe("legacy WMI dialect: paths, objects and failures", () => {
  test("Invoke-WmiMethod -Path (instance and class paths) and -InputObject; [wmi] with a key; Get() re-reads (System.Management paths)", async () => {
    const host = uniqueHost("wmipath");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}$ts = Get-WmiObject -Namespace root\\cimv2\\TerminalServices -Class Win32_TerminalServiceSetting
       $byPath = Invoke-WmiMethod -Path $ts.__PATH -Name ChangeMode -ArgumentList 2
       $byObject = Invoke-WmiMethod -InputObject $ts -Name GetGracePeriodDays
       $status = Invoke-WmiMethod -Path 'root\\cimv2:Win32_TSLicenseServer' -Name GetActivationStatus
       $modeBefore = $ts.LicensingType
       $ts.Get()
       $pack = [wmi]'root\\cimv2:Win32_TSLicenseKeyPack.KeyPackId=2'
       $Error.Clear()
       $missing = Invoke-WmiMethod -Path 'root\\cimv2:Win32_TSLicenseKeyPack.KeyPackId=99' -Name ConvertLicenses -ErrorAction SilentlyContinue
       [pscustomobject]@{
         byPath = $byPath.ReturnValue; days = $byObject.DaysLeft; status = $status.ActivationStatus
         modeBefore = $modeBefore; modeAfterGet = $ts.LicensingType
         pack = $pack.KeyPackId; packRel = $pack.__RELPATH
         missingId = $Error[0].FullyQualifiedErrorId; missingMsg = $Error[0].Exception.Message; missingCount = $Error.Count
       }`,
    );
    expect(r).toEqual({
      byPath: 0,
      days: 120,
      status: 1,
      modeBefore: 5,
      modeAfterGet: 2,
      pack: 2,
      packRel: "Win32_TSLicenseKeyPack.KeyPackId=2",
      missingId: "InvokeWMIManagementException,Invoke-WmiMethod",
      missingMsg: "Not found ",
      missingCount: 1,
    });
  });

  test("a class the host does not serve: the [wmiclass] cast fails with the ManagementException; Invoke-WmiMethod writes InvokeWMIManagementException (InvokeWMIMethodCommand source)", async () => {
    const host = uniqueHost("wmirole");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$cast = try { $null = [wmiclass]'Win32_TSLicenseServer'; 'no error' } catch { $e = $_.Exception; while ($null -ne $e.InnerException) { $e = $e.InnerException }; $e.GetType().FullName + ': ' + $e.Message }
       $Error.Clear()
       $out = Invoke-WmiMethod -Class Win32_TSLicenseServer -Name GetActivationStatus -ErrorAction SilentlyContinue
       [pscustomobject]@{ cast = $cast; id = $Error[0].FullyQualifiedErrorId; cat = [string]$Error[0].CategoryInfo.Category; n = $Error.Count; target = $Error[0].TargetObject }`,
    );
    expect(r).toEqual({
      cast: "System.Management.ManagementException: Invalid class ",
      id: "InvokeWMIManagementException,Invoke-WmiMethod",
      cat: "InvalidOperation",
      n: 1,
      target: null,
    });
  });

  test("the [wmi] / [wmiclass] accelerators exist only while the emulator is loaded (own pwsh process)", () => {
    const psm1 = path.join(__dirname, "..", "..", "provider", "emulator", "RdsEmulator.psm1");
    // The accelerator table itself (PowerShell caches names it has resolved, so "-as [type]" could still answer).
    const has = "[psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get.ContainsKey('wmiclass')";
    const script = [
      `$before = ${has}`,
      `Import-Module '${psm1.replace(/'/g, "''")}'`,
      "$loaded = ([psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get['wmiclass']).Name",
      "Remove-Module RdsEmulator",
      `$after = ${has}`,
      '"$before|$loaded|$after"',
    ].join("; ");
    const out = execFileSync(pwshExecutable(), ["-NoProfile", "-NonInteractive", "-Command", script], { encoding: "utf8" });
    expect(out.trim()).toBe("False|RdsSimWmiClass|False");
  });
});
