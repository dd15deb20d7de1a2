/**
 * Conformance of the emulator's failure behaviour: unknown methods and parameter names, argument type
 * conversion, both failure styles (return value / COMException), and every fault switch
 * (clearinghouseUnreachable, accessDenied, providerFailure, latencyMs, classNotReadyCalls, groupPolicy,
 * failureStyle).
 *
 * Real: pwsh 7 and the emulator module provider/emulator/RdsEmulator.psm1. Stands in: the emulator stands
 * in for Windows WMI (its infrastructure errors and the RD Licensing provider's return values) and for
 * Microsoft's Clearinghouse (unreachable or not).
 */
import { liveSessionCount } from "../helpers/pwshSession";
import { Captured, EmulatorFixture, MethodResult, PS_ACTIVATED, PS_CONTACT, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("faults");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const LS = (method: string, args = "") =>
  `Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ${method}${args ? ` -Arguments ${args}` : ""}`;
const KP = (method: string, args = "") =>
  `Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName ${method}${args ? ` -Arguments ${args}` : ""}`;
const TS = "$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting\n";
/** HResult of System.ArgumentException: what CimCmdlets throws on the client before a call is sent. */
const E_INVALIDARG = 0x80070057;
const AGREEMENT =
  "@{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }";
const OPEN =
  "@{ sLicenseNumber = '12345678'; sAuthorizationNumber = 'ABCDE12345FGHIJ'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }";

describe("calls WMI would reject before the provider runs (always errors, whatever the failure style)", () => {
  test("unknown methods are WBEM_E_INVALID_METHOD (docs/windows-facts.md#pitfalls, and the methods removed in WS2008 R2)", async () => {
    const host = uniqueHost("nomethod");
    const r = await fx.on<number[]>(
      host,
      `${PS_ROLE}${TS},@(
        (Invoke-Captured { ${LS("SetServerActivationStatus")} }).hresult,
        (Invoke-Captured { ${LS("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = 'x' }")} }).hresult,
        (Invoke-Captured { ${KP("InstallLicenseKeyPackWithId")} }).hresult,
        (Invoke-Captured { ${KP("RemoveLicenses")} }).hresult,
        (Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName CanAccessLicenseServer }).hresult,
        (Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName PingLicenseServer }).hresult,
        (Invoke-Captured { Invoke-CimMethod -ClassName Win32_OperatingSystem -MethodName Reboot }).hresult)`,
    );
    expect(r).toEqual(Array(7).fill(WBEM.INVALID_METHOD));
  });

  test("unknown parameter names: WBEM_E_INVALID_METHOD_PARAMETERS with -ClassName, CimCmdlets' ArgumentException (E_INVALIDARG) with -InputObject; names are case-insensitive", async () => {
    const host = uniqueHost("noparam");
    const r = await fx.on<Array<number | null>>(
      host,
      `${PS_ROLE}${TS},@(
        (Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicenseServer = 'ls1'; Mode = 4 } }).hresult,
        (Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ Servers = [string[]]@('ls1') } }).hresult,
        (Invoke-Captured { ${LS("ActivateServer", "@{ dwLicenseServerId = 'x' }")} }).hresult,
        (Invoke-Captured { ${LS("GetActivationStatus", "@{ Anything = 1 }")} }).hresult,
        (Invoke-Captured { ${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1; Quantity = [uint32]5 }")} }).hresult,
        (Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ licensingtype = [uint32]4 }).ReturnValue)`,
    );
    expect(r).toEqual([E_INVALIDARG, E_INVALIDARG, ...Array(3).fill(WBEM.INVALID_METHOD_PARAMETERS), 0]);
  });

  test("argument values are converted like CIM does: integers and numeric strings for uint32, otherwise a type or range error", async () => {
    const host = uniqueHost("types");
    const r = await fx.on<Array<[string, number | null]>>(
      host,
      `${TS},@(foreach ($case in @(
          @('int', 4), @('long', [long]4), @('uint32', [uint32]4), @('string', '4'), @('double', 4.0),
          @('text', 'four'), @('bool', $true), @('fraction', 4.5), @('negative', -1), @('too big', 4294967296), @('array', @(4)))) {
        $c = Invoke-Captured { Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = $case[1] } }
        ,@($case[0], $(if ($c.ok) { $c.output.ReturnValue } else { $c.hresult })) })`,
    );
    expect(r).toEqual([
      ["int", 0],
      ["long", 0],
      ["uint32", 0],
      ["string", 0],
      ["double", 0],
      ["text", WBEM.TYPE_MISMATCH],
      ["bool", WBEM.TYPE_MISMATCH],
      ["fraction", WBEM.TYPE_MISMATCH],
      ["negative", WBEM.VALUE_OUT_OF_RANGE],
      ["too big", WBEM.VALUE_OUT_OF_RANGE],
      ["array", WBEM.TYPE_MISMATCH],
    ]);
  });

  test("-ClassName arguments keep their own CIM type: numbers for strings, [int] for uint32 and arrays are WBEM_E_TYPE_MISMATCH (no coercion)", async () => {
    const host = uniqueHost("strtypes");
    const r = await fx.on<Array<number | null>>(
      host,
      `${PS_ACTIVATED},@(
        (Invoke-Captured { ${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = 1; sAgreementNumber = 1234567; ProductVersion = 7; ProductType = 1; LicenseCount = 5 }")} }).hresult,
        (Invoke-Captured { ${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]1; sAgreementNumber = 1234567; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }")} }).hresult,
        (Invoke-Captured { ${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]1; sAgreementNumber = @('1234567'); ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }")} }).hresult,
        (${KP("InstallAgreementLicenseKeyPack", AGREEMENT)}).ReturnValue)`,
    );
    expect(r).toEqual([WBEM.TYPE_MISMATCH, WBEM.TYPE_MISMATCH, WBEM.TYPE_MISMATCH, 0]);
  });

  test("an InputObject that is not an emulated CIM instance is refused", async () => {
    const host = uniqueHost("notcim");
    const r = await fx.capture(
      host,
      "Invoke-CimMethod -InputObject ([pscustomobject]@{ ServerName = 'x' }) -MethodName GetGracePeriodDays",
    );
    expect(r).toMatchObject({ ok: false, hresult: WBEM.INVALID_OBJECT_PATH });
  });
});

describe("failure styles (docs/windows-facts.md#failure-style: which one Windows uses is unconfirmed)", () => {
  test("'return' (default): a failing method returns its WBEM code in ReturnValue, out params null", async () => {
    const host = uniqueHost("styleret");
    const r = await fx.on<MethodResult>(host, `${PS_ROLE}${LS("ActivateServerAutomatic")}`);
    expect(r).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
  });

  test("'exception': the same failure is a COMException carrying the HRESULT, and success still returns ReturnValue 0", async () => {
    const host = uniqueHost("styleexc");
    const r = await fx.on<{
      failure: Captured;
      signed: number;
      success: MethodResult;
      silent: unknown;
      errors: number;
      continued: boolean;
    }>(
      host,
      `${PS_ROLE}Set-RdsSimFault -Fault failureStyle -Value exception | Out-Null
       $failure = Invoke-Captured { ${LS("ActivateServerAutomatic")} }
       $signed = try { ${LS("ActivateServerAutomatic")}; 0 } catch { $_.Exception.HResult }
       ${PS_CONTACT}
       $ErrorActionPreference = 'Continue'
       $silent = ${LS("ActivateServer", "@{ sLicenseServerId = 'x' }")} -ErrorAction SilentlyContinue -ErrorVariable ev
       [pscustomobject]@{ failure = $failure; signed = $signed; success = (${LS("ActivateServerAutomatic")}); silent = $silent; errors = $ev.Count; continued = $true }`,
    );
    expect(r.failure).toMatchObject({
      ok: false,
      hresult: WBEM.INVALID_PARAMETER,
      type: "System.Runtime.InteropServices.COMException",
      errorId: "HRESULT 0x80041008,Invoke-CimMethod",
    });
    expect(r.failure.message).toContain("WBEM_E_INVALID_PARAMETER");
    expect(r.signed).toBe(WBEM.INVALID_PARAMETER - 2 ** 32);
    expect(r.success).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
    expect(r.silent).toBeNull();
    expect(r.errors).toBe(1);
    expect(r.continued).toBe(true);
  });

  test("a caller's function-local $ErrorActionPreference = 'Stop' makes emulated errors terminating, like compiled cmdlets", async () => {
    const host = uniqueHost("pref");
    const r = await fx.on<string[]>(
      host,
      `function Test-Stop { $ErrorActionPreference = 'Stop'; try { Get-CimInstance -ClassName Win32_TSLicenseServer; 'not stopped' } catch { 'stopped:' + $_.Exception.GetType().Name } }
       function Test-Continue { $ErrorActionPreference = 'SilentlyContinue'; $x = Get-CimInstance -ClassName Win32_TSLicenseServer; 'continued' }
       ,@((Test-Stop), (Test-Continue))`,
    );
    expect(r).toEqual(["stopped:COMException", "continued"]);
  });
});

describe("fault switches", () => {
  test("clearinghouseUnreachable: online activation, reactivation, deactivation and retail/open/agreement installs get WBEM_E_NOT_AVAILABLE; offline methods still work", async () => {
    const host = uniqueHost("noinet");
    const r = await fx.on<Record<string, number>>(
      host,
      `${PS_ROLE}${PS_CONTACT}Set-RdsSimFault -Fault clearinghouseUnreachable -Value $true | Out-Null
       $pid_ = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $auto = (${LS("ActivateServerAutomatic")}).ReturnValue
       $offline = (${LS("ActivateServer", "@{ sLicenseServerId = (Get-RdsSimClearinghouseLicenseServerId -ProductId $pid_) }")}).ReturnValue
       $kpid = Get-RdsSimClearinghouseKeyPackId -ProductId $pid_ -Program retail -ProductVersion 2022 -CalType perUser -Quantity 5
       [pscustomobject]@{ auto = $auto; offline = $offline
         reactivate = (${LS("ReactivateServerAutomatic", "@{ Reason = [uint32]0 }")}).ReturnValue
         deactivate = (${LS("DeactivateServerAutomatic")}).ReturnValue
         retail = (${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = 'ABCDEFGHIJKLMNOPQRST14257' }")}).ReturnValue
         open = (${KP("InstallOpenLicenseKeyPack", OPEN)}).ReturnValue
         agreement = (${KP("InstallAgreementLicenseKeyPack", AGREEMENT)}).ReturnValue
         offlinePack = (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $kpid }")}).ReturnValue }`,
    );
    expect(r).toEqual({
      auto: WBEM.NOT_AVAILABLE,
      offline: 0,
      reactivate: WBEM.NOT_AVAILABLE,
      deactivate: WBEM.NOT_AVAILABLE,
      retail: WBEM.NOT_AVAILABLE,
      open: WBEM.NOT_AVAILABLE,
      agreement: WBEM.NOT_AVAILABLE,
      offlinePack: 0,
    });
    // The retail code was not used up while the Clearinghouse was unreachable.
    const later = await fx.on<number>(
      host,
      `Clear-RdsSimFault -Fault clearinghouseUnreachable | Out-Null\n(${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = 'ABCDEFGHIJKLMNOPQRST14257' }")}).ReturnValue`,
    );
    expect(later).toBe(0);
  });

  test("accessDenied: license server properties read empty (docs/windows-facts.md#license-server-class), everything else licensing is WBEM_E_ACCESS_DENIED", async () => {
    const host = uniqueHost("denied");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ACTIVATED}Set-RdsSimHostConfig -Settings @{ isConnectionBroker = $true } | Out-Null
       Set-RdsSimGroupPolicy -LicensingMode 2 | Out-Null
       Set-RdsSimFault -Fault accessDenied -Value $true | Out-Null
       $ls = Get-CimInstance -ClassName Win32_TSLicenseServer
       $tsr = Invoke-Captured { Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting }
       [pscustomobject]@{
         lsProps = @($ls.PSObject.Properties | Where-Object Name -ne 'CimSystemProperties' | Where-Object { $null -ne $_.Value }).Count
         lsCount = @($ls).Count
         keyPacks = (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseKeyPack }).hresult
         issued = (Invoke-Captured { Get-CimInstance -ClassName Win32_TSIssuedLicense }).hresult
         setting = $tsr.hresult
         method = (${LS("GetActivationStatus")}).ReturnValue
         install = (${KP("InstallAgreementLicenseKeyPack", AGREEMENT)}).ReturnValue
         setCim = (Invoke-Captured { $ls | Set-CimInstance -Property @{ FirstName = 'x' } }).hresult
         feature = (Invoke-Captured { Install-WindowsFeature -Name RDS-Licensing }).hresult
         service = (Invoke-Captured { Start-Service -Name TermServLicensing }).hresult
         rdms = (Invoke-Captured { Get-RDLicenseConfiguration }).hresult
         os = (Get-CimInstance -ClassName Win32_OperatingSystem).Version
         policy = (Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services').LicensingMode
         getService = [string](Get-Service TermServLicensing).Status }`,
    );
    expect(r).toEqual({
      lsProps: 0,
      lsCount: 1,
      keyPacks: WBEM.ACCESS_DENIED,
      issued: WBEM.ACCESS_DENIED,
      setting: WBEM.ACCESS_DENIED,
      method: WBEM.ACCESS_DENIED,
      install: WBEM.ACCESS_DENIED,
      setCim: WBEM.ACCESS_DENIED,
      feature: WBEM.ACCESS_DENIED,
      service: WBEM.ACCESS_DENIED,
      rdms: WBEM.ACCESS_DENIED,
      os: "10.0.20348",
      policy: 2,
      getService: "Running",
    });
    const back = await fx.on<string>(
      host,
      "Clear-RdsSimFault -Fault accessDenied | Out-Null\n(Get-CimInstance -ClassName Win32_TSLicenseServer).FirstName",
    );
    expect(back).toBe("Ada");
  });

  test("accessDenied in the exception style throws from the method instead", async () => {
    const host = uniqueHost("denied2");
    const r = await fx.capture(
      host,
      `${PS_ROLE}Set-RdsSimFault -Fault accessDenied -Value 1 | Out-Null\nSet-RdsSimFault -Fault failureStyle -Value 'exception' | Out-Null\n${LS("GetActivationStatus")}`,
    );
    expect(r).toMatchObject({ ok: false, hresult: WBEM.ACCESS_DENIED, type: "System.Runtime.InteropServices.COMException" });
  });

  test("providerFailure: every licensing WMI call answers WBEM_E_PROVIDER_FAILURE; Win32_OperatingSystem is unaffected", async () => {
    const host = uniqueHost("provider");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}${TS}Set-RdsSimFault -Fault providerFailure -Value $true | Out-Null
       [pscustomobject]@{
         get = (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseServer }).hresult
         getSetting = (Invoke-Captured { Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting }).hresult
         method = (${LS("GetActivationStatus")}).ReturnValue
         tsMethod = (Invoke-CimMethod -InputObject $ts -MethodName GetGracePeriodDays).ReturnValue
         set = (Invoke-Captured { Set-CimInstance -InputObject $ts -Property @{ LicensingType = 4 } }).hresult
         os = @(Get-CimInstance -ClassName Win32_OperatingSystem).Count }`,
    );
    expect(r).toEqual({
      get: WBEM.PROVIDER_FAILURE,
      getSetting: WBEM.PROVIDER_FAILURE,
      method: WBEM.PROVIDER_FAILURE,
      tsMethod: WBEM.PROVIDER_FAILURE,
      set: WBEM.PROVIDER_FAILURE,
      os: 1,
    });
  });

  test("latencyMs adds that much time to each call", async () => {
    const host = uniqueHost("slow");
    const r = await fx.on<{ slow: number; fast: number }>(
      host,
      `${PS_ROLE}$null = ${LS("GetActivationStatus")}
       Set-RdsSimFault -Fault latencyMs -Value '400' | Out-Null
       $sw = [Diagnostics.Stopwatch]::StartNew(); $null = ${LS("GetActivationStatus")}; $null = Get-CimInstance -ClassName Win32_OperatingSystem; $slow = $sw.ElapsedMilliseconds
       Clear-RdsSimFault -Fault latencyMs | Out-Null
       $sw = [Diagnostics.Stopwatch]::StartNew(); $null = ${LS("GetActivationStatus")}; $null = Get-CimInstance -ClassName Win32_OperatingSystem; $fast = $sw.ElapsedMilliseconds
       [pscustomobject]@{ slow = $slow; fast = $fast }`,
    );
    expect(r.slow).toBeGreaterThanOrEqual(800);
    expect(r.fast).toBeLessThan(r.slow - 700);
  });

  test("classNotReadyCalls: the next N calls on the license server classes fail with WBEM_E_INVALID_CLASS, then the class is there", async () => {
    const host = uniqueHost("notready");
    const r = await fx.on<Array<number | string>>(
      host,
      `Set-RdsSimFault -Fault classNotReadyCalls -Value 3 | Out-Null
       $null = Install-WindowsFeature -Name RDS-Licensing
       ,@(
         (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseServer }).hresult,
         (Get-RdsSimHost).faults.classNotReadyCalls,
         (Invoke-Captured { Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName GetActivationStatus }).hresult,
         @(Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting).Count,
         (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseKeyPack }).hresult,
         (Get-RdsSimHost).faults.classNotReadyCalls,
         (Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName GetActivationStatus).ActivationStatus,
         [string](Get-Service TermServLicensing).Status)`,
    );
    expect(r).toEqual([WBEM.INVALID_CLASS, 2, WBEM.INVALID_CLASS, 1, WBEM.INVALID_CLASS, 0, 1, "Running"]);
  });

  test("Clear-RdsSimFault without -Fault clears every fault and the Group Policy values", async () => {
    const host = uniqueHost("clear");
    const r = await fx.on<{ set: Record<string, unknown>; cleared: Record<string, unknown> }>(
      host,
      `$null = Set-RdsSimFault -Fault accessDenied -Value $true
       $null = Set-RdsSimFault -Fault providerFailure -Value 'yes'
       $null = Set-RdsSimFault -Fault clearinghouseUnreachable -Value 1
       $null = Set-RdsSimFault -Fault activationStatusUnknown -Value 'true'
       $null = Set-RdsSimFault -Fault latencyMs -Value 5
       $null = Set-RdsSimFault -Fault classNotReadyCalls -Value '2'
       $null = Set-RdsSimGroupPolicy -LicensingMode 4 -LicenseServers 'a'
       $set = Set-RdsSimFault -Fault failureStyle -Value 'Exception'
       [pscustomobject]@{ set = $set; cleared = (Clear-RdsSimFault) }`,
    );
    expect(r.set).toEqual({
      clearinghouseUnreachable: true,
      accessDenied: true,
      providerFailure: true,
      latencyMs: 5,
      classNotReadyCalls: 2,
      activationStatusUnknown: true,
      failureStyle: "exception",
      groupPolicy: { LicensingMode: 4, LicenseServers: "a" },
    });
    expect(r.cleared).toEqual({
      clearinghouseUnreachable: false,
      accessDenied: false,
      providerFailure: false,
      latencyMs: 0,
      classNotReadyCalls: 0,
      activationStatusUnknown: false,
      failureStyle: "return",
      groupPolicy: { LicensingMode: null, LicenseServers: null },
    });
  });

  test("Set-RdsSimFault refuses unknown faults and bad values", async () => {
    const host = uniqueHost("badfault");
    const r = await fx.on<boolean[]>(
      host,
      `,@(
        (Invoke-Captured { Set-RdsSimFault -Fault diskFull -Value $true }).ok,
        (Invoke-Captured { Set-RdsSimFault -Fault accessDenied -Value 'maybe' }).ok,
        (Invoke-Captured { Set-RdsSimFault -Fault latencyMs -Value -1 }).ok,
        (Invoke-Captured { Set-RdsSimFault -Fault classNotReadyCalls -Value 'many' }).ok,
        (Invoke-Captured { Set-RdsSimFault -Fault failureStyle -Value 'throw' }).ok,
        (Invoke-Captured { Clear-RdsSimFault -Fault diskFull }).ok,
        (Get-RdsSimHost).faults.accessDenied)`,
    );
    expect(r).toEqual([false, false, false, false, false, false, false]);
  });
});
