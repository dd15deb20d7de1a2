/**
 * Conformance of the emulated Win32_TerminalServiceSetting.GetTStoLSConnectivityStatus: Microsoft's
 * signature (in ServerName, out uint32 TStoLSConnectivityStatus; docs/windows-facts.md#connectivity-status)
 * and the value each state of the simulated farm gives (the emulator's choices, README.md): an unknown
 * name, no role / a stopped service / a restart / a network cut (6 LS_NOT_CONNECTABLE), the caller not
 * an administrator there (8), a license server older than the host (4), not activated (7), no CALs of the
 * host's mode (10), valid (11; 1 on a 2008 R2 host). Also the network cut fault (Set-/Clear-RdsSimNetworkCut,
 * the networkCut fault of Set-/Clear-RdsSimFault): both ways, restored from either side, shown only while set.
 *
 * Real: pwsh 7 and the emulator module, several simulated hosts in one state directory. Stands in: the
 * emulator stands in for Windows WMI on the session hosts and the license servers, and for the network.
 */
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, PS_ACTIVATED, PS_INSTALL_AGREEMENT, uniqueHost, WBEM, type MethodResult } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("connectivity");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const TS = "$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting\n";
/** PowerShell expression: the status for $name on the current host. */
const STATUS = (name: string) =>
  `(Invoke-CimMethod -InputObject $ts -MethodName GetTStoLSConnectivityStatus -Arguments @{ ServerName = ${name} }).TStoLSConnectivityStatus`;

/** A license server `<prefix><n>.contoso.com`: role, activated, with one pack (pt 1 Per User / 0 Per Device; version pv, default 7 = 2022) unless pt is null. */
async function licenseServer(prefix: string, opts: { os?: string; pt?: number | null; pv?: number } = {}): Promise<string> {
  const ls = `${uniqueHost(prefix)}.contoso.com`;
  const pt = opts.pt === undefined ? 1 : opts.pt;
  await fx.on(
    ls,
    `${opts.os ? `$null = Set-RdsSimHostConfig -Settings @{ osVersion = '${opts.os}' }\n` : ""}${PS_ACTIVATED}` +
      (pt === null ? "" : `$null = ${PS_INSTALL_AGREEMENT}`),
    { pt, pv: opts.pv ?? 7 },
  );
  return ls;
}

/** A session host `<prefix><n>.contoso.com` in mode 4 (Per User) unless `mode` says otherwise. */
async function sessionHost(prefix: string, opts: { os?: string; mode?: number } = {}): Promise<string> {
  const sh = `${uniqueHost(prefix)}.contoso.com`;
  await fx.on(
    sh,
    `${opts.os ? `$null = Set-RdsSimHostConfig -Settings @{ osVersion = '${opts.os}' }\n` : ""}${TS}` +
      (opts.mode === 5
        ? ""
        : `$null = Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]${opts.mode ?? 4} }`),
  );
  return sh;
}

const statusOn = (sh: string, names: string[]) =>
  fx.on<number[]>(sh, `${TS},@(foreach ($n in $data.names) { ${STATUS("$n")} })`, { names });

describe("signature (docs/windows-facts.md#connectivity-status)", () => {
  test("an instance method: in ServerName (string), out TStoLSConnectivityStatus (uint32), ReturnValue 0", async () => {
    const sh = await sessionHost("sig");
    const r = await fx.on<{ result: MethodResult; type: string; onClass: number | undefined }>(
      sh,
      `${TS}$r = Invoke-CimMethod -InputObject $ts -MethodName GetTStoLSConnectivityStatus -Arguments @{ ServerName = 'nowhere.contoso.com' }
       [pscustomobject]@{ result = $r; type = $r.TStoLSConnectivityStatus.GetType().Name
         onClass = (Invoke-Captured { Invoke-CimMethod -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting -MethodName GetTStoLSConnectivityStatus -Arguments @{ ServerName = 'x' } }).hresult }`,
    );
    expect(r.result).toEqual({ ReturnValue: 0, TStoLSConnectivityStatus: 6 });
    expect(r.type).toBe("UInt32");
    expect(r.onClass).toBe(WBEM.INVALID_METHOD);
  });

  test("ServerName missing or empty: WBEM_E_INVALID_PARAMETER; another parameter name: WBEM_E_INVALID_METHOD_PARAMETERS", async () => {
    const sh = await sessionHost("sigbad");
    const r = await fx.on<number[]>(
      sh,
      `${TS},@(
        (Invoke-CimMethod -InputObject $ts -MethodName GetTStoLSConnectivityStatus).ReturnValue,
        (Invoke-CimMethod -InputObject $ts -MethodName GetTStoLSConnectivityStatus -Arguments @{ ServerName = '  ' }).ReturnValue,
        (Invoke-Captured { Invoke-CimMethod -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting -MethodName GetTStoLSConnectivityStatus -Arguments @{ LicenseServerName = 'x' } }).hresult)`,
    );
    expect(r).toEqual([WBEM.INVALID_PARAMETER, WBEM.INVALID_PARAMETER, WBEM.INVALID_METHOD]);
  });
});

describe("the value each state of the farm gives", () => {
  test("valid (11 LS_CONNECTABLE_VALID_LS) by FQDN, short name, any case", async () => {
    const ls = await licenseServer("lsok");
    const sh = await sessionHost("shok");
    const short = ls.split(".")[0]!;
    expect(await statusOn(sh, [ls, short, short.toUpperCase(), ls.toUpperCase()])).toEqual([11, 11, 11, 11]);
  });

  test("a name no simulated host answers to: 6 LS_NOT_CONNECTABLE (ReturnValue 0)", async () => {
    const sh = await sessionHost("shunknown");
    expect(await statusOn(sh, ["ls-nowhere.contoso.com", "ls-nowhere", "10.1.2.3"])).toEqual([6, 6, 6]);
  });

  test("no RDS-Licensing role, or TermServLicensing stopped: 6; started again: valid", async () => {
    const noRole = `${uniqueHost("lsnorole")}.contoso.com`;
    await fx.on(noRole, "$null = Get-RdsSimHost");
    const ls = await licenseServer("lsstop");
    const sh = await sessionHost("shstop");
    expect(await statusOn(sh, [noRole])).toEqual([6]);
    await fx.on(ls, "$null = Set-RdsSimHostConfig -Settings @{ serviceStatus = 'Stopped' }");
    expect(await statusOn(sh, [ls])).toEqual([6]);
    await fx.on(ls, "$null = Set-RdsSimHostConfig -Settings @{ serviceStatus = 'Running' }");
    expect(await statusOn(sh, [ls])).toEqual([11]);
  });

  test("the license server restarting: 6 until it is back", async () => {
    const ls = await licenseServer("lsboot");
    const sh = await sessionHost("shboot");
    await fx.on(ls, "$null = Set-RdsSimHostConfig -Settings @{ restartSeconds = 3600 }\nRestart-Computer -Force");
    expect(await statusOn(sh, [ls])).toEqual([6]);
  });

  test("the caller not an administrator on the license server (its accessDenied fault): 8 LS_CONNECTABLE_BUT_ACCESS_DENIED", async () => {
    const ls = await licenseServer("lsdenied");
    const sh = await sessionHost("shdenied");
    await fx.on(ls, "$null = Set-RdsSimFault -Fault accessDenied -Value $true");
    expect(await statusOn(sh, [ls])).toEqual([8]);
  });

  test("a license server older than the host: 4 LS_CONNECTABLE_LOWER_VERSION; same or newer: valid", async () => {
    const ls2019 = await licenseServer("ls2019", { os: "2019", pv: 6 });
    const ls2025 = await licenseServer("ls2025", { os: "2025" });
    const sh2022 = await sessionHost("sh2022", { os: "2022" });
    const sh2019 = await sessionHost("sh2019", { os: "2019" });
    expect(await statusOn(sh2022, [ls2019, ls2025])).toEqual([4, 11]);
    expect(await statusOn(sh2019, [ls2019, ls2025])).toEqual([11, 11]);
  });

  test("reachable but not activated: 7 LS_CONNECTABLE_UNKNOWN_VALIDITY", async () => {
    const ls = `${uniqueHost("lsnotact")}.contoso.com`;
    await fx.on(ls, "$null = Set-RdsSimHostConfig -Settings @{ roleInstalled = $true }");
    const sh = await sessionHost("shnotact");
    expect(await statusOn(sh, [ls])).toEqual([7]);
  });

  test("no CALs of the host's mode: 10 LS_CONNECTABLE_FEATURE_NOT_SUPPORTED; a mode without CALs of its own is not checked", async () => {
    const perUserOnly = await licenseServer("lsuser", { pt: 1 });
    const none = await licenseServer("lsnone", { pt: null });
    const perDeviceHost = await sessionHost("shdevice", { mode: 2 });
    const perUserHost = await sessionHost("shuser", { mode: 4 });
    const unconfigured = await sessionHost("shnomode", { mode: 5 });
    expect(await statusOn(perDeviceHost, [perUserOnly, none])).toEqual([10, 10]);
    expect(await statusOn(perUserHost, [perUserOnly, none])).toEqual([11, 10]);
    expect(await statusOn(unconfigured, [perUserOnly, none])).toEqual([11, 11]);
    // Group Policy's mode is the one in effect.
    await fx.on(perDeviceHost, "$null = Set-RdsSimGroupPolicy -LicensingMode 4");
    expect(await statusOn(perDeviceHost, [perUserOnly])).toEqual([11]);
  });

  test("a 2008 R2 host, whose method predates value 11, reports a valid 2008 R2 license server as 1 LS_CONNECTABLE_VALID_WS08R2", async () => {
    const ls = `${uniqueHost("ls08")}.contoso.com`;
    await fx.on(ls, `$null = Set-RdsSimHostConfig -Settings @{ osVersion = '2008R2' }\n${PS_ACTIVATED}$null = ${PS_INSTALL_AGREEMENT}`, {
      pv: 2,
      pt: 1,
    });
    const sh = await sessionHost("sh08", { os: "2008R2" });
    expect(await statusOn(sh, [ls])).toEqual([1]);
  });

  test("the host itself as its license server (localhost, its own name) answers from its own state", async () => {
    const both = await licenseServer("lsself");
    const r = await fx.on<number[]>(
      both,
      `${TS}$null = Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]4 }
       ,@(${STATUS("'localhost'")}, ${STATUS("$data.self")}, ${STATUS("'.'")})`,
      { self: both },
    );
    expect(r).toEqual([11, 11, 11]);
  });
});

describe("the network cut fault", () => {
  test("cut from the session host: 6 whichever host asks; restored: valid again", async () => {
    const ls = await licenseServer("lscut");
    const sh = await sessionHost("shcut");
    const other = await sessionHost("shother");
    const view = await fx.on<Record<string, unknown>>(sh, `Set-RdsSimNetworkCut -To '${ls}'`);
    expect(view.networkCuts).toEqual([ls]);
    expect(await statusOn(sh, [ls, ls.split(".")[0]!])).toEqual([6, 6]);
    expect(await statusOn(other, [ls])).toEqual([11]); // only that pair is cut
    // The cut works both ways: the license server cannot reach the session host either.
    await fx.on(sh, `$null = Set-RdsSimHostConfig -Settings @{ roleInstalled = $true }\n${PS_ACTIVATED}$null = ${PS_INSTALL_AGREEMENT}`, {
      pt: 1,
    });
    expect(
      await fx.on<number>(
        ls,
        `${TS}$null = Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]4 }\n${STATUS(`'${sh}'`)}`,
      ),
    ).toBe(6);
    // Restored from the other side (by its short name): both directions answer again.
    const cleared = await fx.on<Record<string, unknown>>(ls, `Clear-RdsSimNetworkCut -From '${ls}' -To '${sh.split(".")[0]}'`);
    expect(cleared.networkCuts).toBeUndefined();
    expect(await statusOn(sh, [ls])).toEqual([11]);
    expect((await fx.on<Record<string, unknown>>(sh, "(Get-RdsSimHost).faults")).networkCuts).toBeUndefined();
  });

  test("the networkCut fault of Set-RdsSimFault: a name cuts, @{ to; cut = $false } restores; Clear-RdsSimFault clears the host's cuts", async () => {
    const ls1 = await licenseServer("lsf1");
    const ls2 = await licenseServer("lsf2");
    const sh = await sessionHost("shf");
    const r = await fx.on<{ one: string[]; two: string[]; after: string[]; cleared: unknown }>(
      sh,
      `$one = (Set-RdsSimFault -Fault networkCut -Value '${ls1}').networkCuts
       $two = (Set-RdsSimFault -Fault networkCut -Value '${ls2}').networkCuts
       $null = Set-RdsSimFault -Fault networkCut -Value '${ls2.toUpperCase()}'
       $after = (Set-RdsSimFault -Fault networkCut -Value @{ to = '${ls1}'; cut = $false }).networkCuts
       [pscustomobject]@{ one = @($one); two = @($two); after = @($after); cleared = (Clear-RdsSimFault -Fault networkCut).PSObject.Properties['networkCuts'] }`,
    );
    expect(r).toEqual({ one: [ls1], two: [ls1, ls2], after: [ls2.toUpperCase()], cleared: null });
    expect(await statusOn(sh, [ls1, ls2])).toEqual([11, 11]);
    await fx.on(sh, `$null = Set-RdsSimNetworkCut -To '${ls1}'\nClear-RdsSimFault | Out-Null`);
    expect(await statusOn(sh, [ls1])).toEqual([11]);
  });

  test("refusals: a cut to itself, an empty name, unknown value keys; a cut never creates the other host", async () => {
    const sh = await sessionHost("shref");
    const ghost = `${uniqueHost("ghost")}.contoso.com`;
    const r = await fx.on<{ oks: boolean[]; exists: boolean }>(
      sh,
      `$oks = @(
         (Invoke-Captured { Set-RdsSimNetworkCut -To '${sh}' }).ok,
         (Invoke-Captured { Set-RdsSimNetworkCut -To '${sh.split(".")[0]}' }).ok,
         (Invoke-Captured { Set-RdsSimFault -Fault networkCut -Value '' }).ok,
         (Invoke-Captured { Set-RdsSimFault -Fault networkCut -Value @{ host = 'x' } }).ok,
         (Invoke-Captured { Set-RdsSimFault -Fault networkCut -Value 5 }).ok,
         (Invoke-Captured { Set-RdsSimNetworkCut -To '${ghost}' }).ok,
         (Invoke-Captured { Clear-RdsSimNetworkCut -To '${ghost}' }).ok)
       [pscustomobject]@{ oks = $oks; exists = @(Get-RdsSimHostList | Where-Object hostName -eq '${ghost}').Count -gt 0 }`,
    );
    expect(r).toEqual({ oks: [false, false, false, false, false, true, true], exists: false });
  });
});
