/**
 * The emulator is as strict as Windows about how Invoke-CimMethod sends arguments, and its Terminal Services
 * policy key holds values unrelated to licensing.
 *
 * Arguments (provider/emulator/RdsEmulator/Private/CimArguments.ps1): with -ClassName, CimCmdlets has no
 * method declaration, so each value is sent with the CIM type of its .NET type (PowerShell repository,
 * CimInvokeCimMethod.CreateParametersCollection -> CimMethodParameter.Create(name, value, flags) -> MMI
 * CimConverter); the emulated WMI refuses any type but the declared one (no string or [int] -> uint32
 * coercion). A value with no CIM type, and with -InputObject an undeclared parameter name, fail on the client
 * with an ArgumentException before anything is sent (never logged on the host).
 *
 * Real: pwsh 7, the emulator module, and for the policy key the session host scripts' own reader
 * (provider/resources/sessionHostLicensing/SessionHost.Common.ps1 Get-ShlPolicy, with RdsCommon.psm1).
 * Stands in: the emulator stands in for Windows WMI, CimCmdlets and the registry.
 */
import path from "path";
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, PS_ACTIVATED, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

/** HResult of System.ArgumentException: what CimCmdlets throws on the client before a call is sent. */
const E_INVALIDARG = 0x80070057;
const POLICY_KEY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services";
const REPO = path.join(__dirname, "..", "..");

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("strict");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

/** pwsh: run each $case[1] as the argument, give [label, ReturnValue when the call returned, else the HResult]. */
const CASES = (call: string) => `@(foreach ($case in $cases) {
    $c = Invoke-Captured { ${call} }
    ,@($case[0], $(if ($c.ok) { $c.output.ReturnValue } else { $c.hresult })) })`;

describe("Invoke-CimMethod -ClassName sends each value with its own CIM type (no coercion)", () => {
  test("a uint32 parameter takes only [uint32]: [int], [long], [uint16], [byte], decimal strings, doubles, booleans and arrays are WBEM_E_TYPE_MISMATCH", async () => {
    const host = uniqueHost("u32");
    const r = await fx.on<{ results: Array<[string, number]>; logged: number }>(
      host,
      `${PS_ROLE}$cases = @(
         @('uint32', [uint32]99), @('int', 99), @('long', [long]99), @('uint16', [uint16]99), @('byte', [byte]99),
         @('decimal string', '99'), @('double', 99.0), @('bool', $true), @('uint32[]', [uint32[]]@(99)), @('object[]', @([uint32]99)),
         @('hashtable', @{ v = 99 }), @('empty array', @()), @('mixed array', @('a', 1)))
       $results = ${CASES("Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName UninstallLicenseKeyPackWithId -Arguments @{ KeyPackId = $case[1] }")}
       [pscustomobject]@{ results = $results; logged = @(Get-RdsSimCallLog | Where-Object { $_.method -eq 'UninstallLicenseKeyPackWithId' }).Count }`,
    );
    expect(r.results).toEqual([
      ["uint32", WBEM.NOT_FOUND],
      ["int", WBEM.TYPE_MISMATCH],
      ["long", WBEM.TYPE_MISMATCH],
      ["uint16", WBEM.TYPE_MISMATCH],
      ["byte", WBEM.TYPE_MISMATCH],
      ["decimal string", WBEM.TYPE_MISMATCH],
      ["double", WBEM.TYPE_MISMATCH],
      ["bool", WBEM.TYPE_MISMATCH],
      ["uint32[]", WBEM.TYPE_MISMATCH],
      ["object[]", WBEM.TYPE_MISMATCH],
      // CimConverter finds no CIM type for these: CimCmdlets throws before sending.
      ["hashtable", E_INVALIDARG],
      ["empty array", E_INVALIDARG],
      ["mixed array", E_INVALIDARG],
    ]);
    // The ten calls that were sent reached the host (and its log); the three client-side refusals did not.
    expect(r.logged).toBe(10);
  });

  test("a string parameter takes only strings: numbers, a [char] and arrays are WBEM_E_TYPE_MISMATCH; $null is a missing argument", async () => {
    const host = uniqueHost("str");
    const r = await fx.on<Array<[string, number]>>(
      host,
      `${PS_ROLE}$cases = @(@('string', ('A' * 35)), @('int', 12345), @('char', [char]'A'), @('string[]', [string[]]@('A' * 35)), @('null', $null))
       ${CASES("Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServer -Arguments @{ sLicenseServerId = $case[1] }")}`,
    );
    expect(r).toEqual([
      ["string", WBEM.INVALID_PARAMETER], // the right type: the Clearinghouse check runs (and rejects the id)
      ["int", WBEM.TYPE_MISMATCH],
      ["char", WBEM.TYPE_MISMATCH],
      ["string[]", WBEM.TYPE_MISMATCH],
      ["null", WBEM.INVALID_PARAMETER],
    ]);
  });

  test("the type mismatch is an infrastructure error in both failure styles and names the cast to use", async () => {
    const host = uniqueHost("mismatchmsg");
    const r = await fx.on<Array<{ ok: boolean; hresult: number; message: string }>>(
      host,
      `${PS_ACTIVATED}$call = { Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ChangeRole -Arguments @{ ServerRole = 1 } -ErrorAction Stop }
       $returnStyle = Invoke-Captured $call
       Set-RdsSimFault -Fault failureStyle -Value exception | Out-Null
       @(($returnStyle, (Invoke-Captured $call)) | Select-Object ok, hresult, message)`,
    );
    const refusal = { ok: false, hresult: WBEM.TYPE_MISMATCH, message: expect.stringContaining("but sint32 was sent") };
    expect(r).toEqual([refusal, refusal]);
    expect(r[0].message).toContain("[uint32]");
  });
});

describe("unknown parameter names fail the way CimCmdlets fails", () => {
  test("-InputObject: an ArgumentException on the client ('Can not find Parameter ...'), terminating, never sent", async () => {
    const host = uniqueHost("argex");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
       $before = @(Get-RdsSimCallLog).Count
       $quiet = Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ Servers = [string[]]@('ls1') } -ErrorAction SilentlyContinue; 'went on' }
       [pscustomobject]@{
         quiet = ($quiet | Select-Object ok, hresult, type, message, errorId)
         sent = @(Get-RdsSimCallLog).Count - $before
         undeclaredMethod = (Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName PingLicenseServer -Arguments @{ x = 'y' } -ErrorAction Stop }).hresult
         caseInsensitive = (Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LICENSINGTYPE = [uint32]4 }).ReturnValue
         declaredTypeConverted = (Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = '2' }).ReturnValue }`,
    );
    expect(r.quiet).toEqual({
      ok: false,
      hresult: E_INVALIDARG,
      type: "System.ArgumentException",
      message: "Can not find Parameter 'Servers' in method 'SetSpecifiedLicenseServerList' of class 'Win32_TerminalServiceSetting'.",
      errorId: "System.ArgumentException,Invoke-CimMethod",
    });
    expect(r.sent).toBe(0);
    // A method the class does not declare has no declaration to check names against: WMI answers.
    expect(r.undeclaredMethod).toBe(WBEM.INVALID_METHOD);
    expect(r.caseInsensitive).toBe(0);
    // With -InputObject CimCmdlets converts to the declared type (System.Convert), so '2' reaches ChangeMode as 2.
    expect(r.declaredTypeConverted).toBe(0);
  });

  test("-ClassName: the call is sent and WMI answers WBEM_E_INVALID_METHOD_PARAMETERS as a non-terminating error record", async () => {
    const host = uniqueHost("badname");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}$out = Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ChangeRole -Arguments @{ Role = [uint32]1 } -ErrorAction SilentlyContinue -ErrorVariable failed
       [pscustomobject]@{
         out = $out; errors = $failed.Count; hresult = (ConvertTo-RdsUnsignedHResult $failed[0].Exception.HResult)
         errorId = $failed[0].FullyQualifiedErrorId
         logged = @(Get-RdsSimCallLog | Where-Object { $_.method -eq 'ChangeRole' } | ForEach-Object { $_.result }) }`,
    );
    expect(r).toEqual({
      out: null,
      errors: 1,
      hresult: WBEM.INVALID_METHOD_PARAMETERS,
      errorId: "HRESULT 0x8004102F,Invoke-CimMethod",
      logged: [WBEM.INVALID_METHOD_PARAMETERS],
    });
  });
});

describe("the Terminal Services policy key holds values unrelated to licensing", () => {
  /** pwsh: the session host scripts' own policy reader, loaded as the scripts load it. */
  const SHL = `Import-Module (Join-Path $data.repo 'provider/powershell/RdsCommon.psm1') -Force
    . (Join-Path $data.repo 'provider/resources/sessionHostLicensing/SessionHost.Common.ps1')
    `;

  test("a fresh host's key exists with fDenyTSConnections (REG_DWORD) and no licensing value; Get-ShlPolicy reads no policy", async () => {
    const host = uniqueHost("keyfresh");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${SHL}$key = Get-ItemProperty -Path $data.key
       [pscustomobject]@{
         names = @($key.PSObject.Properties.Name)
         deny = $key.fDenyTSConnections; denyType = $key.fDenyTSConnections.GetType().Name
         policy = Get-ShlPolicy }`,
      { key: POLICY_KEY, repo: REPO },
    );
    expect(r.names).toEqual(["fDenyTSConnections", "PSPath", "PSParentPath", "PSChildName", "PSDrive", "PSProvider"]);
    expect(r.deny).toBe(0);
    expect(r.denyType).toBe("Int32");
    expect(r.policy).toEqual({ licensingMode: null, licenseServers: null });
  });

  test("setting the licensing values adds them to the key; clearing them leaves the key and its other values", async () => {
    const host = uniqueHost("keyclear");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${SHL}Set-RdsSimGroupPolicy -LicensingMode 4 -LicenseServers 'ls1.contoso.com' -OtherValues ([ordered]@{ fSingleSessionPerUser = 1; MaxIdleTime = '900000' }) | Out-Null
       $set = Get-ItemProperty -Path $data.key | Select-Object fDenyTSConnections, fSingleSessionPerUser, MaxIdleTime, LicensingMode, LicenseServers
       $setPolicy = Get-ShlPolicy
       Set-RdsSimGroupPolicy -LicensingMode $null -LicenseServers $null | Out-Null
       $cleared = Get-ItemProperty -Path $data.key
       Clear-RdsSimFault | Out-Null
       [pscustomobject]@{
         set = $set; setPolicy = $setPolicy
         clearedNames = @($cleared.PSObject.Properties.Name | Where-Object { $_ -notlike 'PS*' })
         clearedPolicy = Get-ShlPolicy
         afterClearFaults = @((Get-ItemProperty -Path $data.key).PSObject.Properties.Name | Where-Object { $_ -notlike 'PS*' })
         maxIdleType = $cleared.MaxIdleTime.GetType().Name }`,
      { key: POLICY_KEY, repo: REPO },
    );
    expect(r.set).toEqual({
      fDenyTSConnections: 0,
      fSingleSessionPerUser: 1,
      MaxIdleTime: "900000",
      LicensingMode: 4,
      LicenseServers: "ls1.contoso.com",
    });
    expect(r.setPolicy).toEqual({ licensingMode: 4, licenseServers: "ls1.contoso.com" });
    expect(r.clearedNames).toEqual(["fDenyTSConnections", "fSingleSessionPerUser", "MaxIdleTime"]);
    expect(r.clearedPolicy).toEqual({ licensingMode: null, licenseServers: null });
    // The other values are host facts, not faults: clearing every fault and the licensing policy keeps them.
    expect(r.afterClearFaults).toEqual(["fDenyTSConnections", "fSingleSessionPerUser", "MaxIdleTime"]);
    expect(r.maxIdleType).toBe("String");
  });

  test("with every value removed the key is gone (PathNotFound) and the scripts still read no policy; -OtherValues refuses the licensing names", async () => {
    const host = uniqueHost("keygone");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${SHL}Set-RdsSimGroupPolicy -OtherValues @{ fDenyTSConnections = $null } | Out-Null
       [pscustomobject]@{
         gone = (Invoke-Captured { Get-ItemProperty -Path $data.key -ErrorAction Stop }).errorId
         policy = Get-ShlPolicy
         refused = (Invoke-Captured { Set-RdsSimGroupPolicy -OtherValues @{ LicensingMode = 4 } }).type
         badValue = (Invoke-Captured { Set-RdsSimGroupPolicy -OtherValues @{ fDenyTSConnections = $true } }).type }`,
      { key: POLICY_KEY, repo: REPO },
    );
    expect(r).toEqual({
      gone: "PathNotFound,Get-ItemProperty",
      policy: { licensingMode: null, licenseServers: null },
      refused: "System.ArgumentException",
      badValue: "System.ArgumentException",
    });
  });
});
