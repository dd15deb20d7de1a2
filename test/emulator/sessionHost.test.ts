/**
 * Conformance of the emulated session host side: Win32_TerminalServiceSetting (licensing mode, license
 * server list, grace period, domain), Win32_ComputerSystem, Group Policy overriding WMI (and the policy
 * key read through Get-ItemProperty), and the deployment settings on a connection broker
 * (Win32_TSDeploymentLicensing, Get-/Set-RDLicenseConfiguration).
 *
 * Real: pwsh 7 and the emulator module provider/emulator/RdsEmulator.psm1 (and, for paths outside the
 * policy key, the real Get-ItemProperty). Stands in: the emulator stands in for Windows WMI, the registry
 * policy key and the RDMS cmdlets of the RemoteDesktop module.
 */
import * as os from "os";
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, MethodResult, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("sh");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const TS = "$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting\n";
const M = (method: string, args = "") => `Invoke-CimMethod -InputObject $ts -MethodName ${method}${args ? ` -Arguments ${args}` : ""}`;
const PS_SETTING = `(Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting | Select-Object ServerName, TerminalServerMode, LicensingType, PolicySourceLicensingType, LicensingName, PolicySourceConfiguredLicenseServers)`;
const POLICY_KEY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services";

describe("Win32_TerminalServiceSetting (docs/windows-facts.md#session-host-class)", () => {
  test("exists on every host (no role needed), only in root\\cimv2\\TerminalServices, not configured at first", async () => {
    const host = uniqueHost("rdsh");
    const r = await fx.on<{
      inst: Record<string, unknown>;
      variants: number[];
      wrongNs: number;
      licenseServers: unknown;
      hasProp: boolean;
    }>(
      host,
      `$i = Get-CimInstance -Namespace 'root\\cimv2\\TerminalServices' -ClassName Win32_TerminalServiceSetting
       [pscustomobject]@{ inst = $i
         variants = @(@(Get-CimInstance -Namespace 'root/cimv2/terminalservices' -ClassName Win32_TerminalServiceSetting).Count, @(Get-CimInstance -Namespace 'ROOT\\CIMV2\\TERMINALSERVICES\\' -ClassName Win32_TerminalServiceSetting).Count)
         wrongNs = (Invoke-Captured { Get-CimInstance -ClassName Win32_TerminalServiceSetting }).hresult
         licenseServers = $i.LicenseServers
         hasProp = $null -ne $i.PSObject.Properties['LicenseServers'] }`,
    );
    expect(r.inst).toEqual({
      ServerName: host.toUpperCase(),
      TerminalServerMode: 1,
      LicensingType: 5,
      PolicySourceLicensingType: 0,
      LicensingName: "Not configured",
      LicensingDescription: "The licensing mode is not configured",
      PolicySourceConfiguredLicenseServers: 0,
      CimSystemProperties: {
        Namespace: "root/cimv2/TerminalServices",
        ServerName: host.toUpperCase(),
        ClassName: "Win32_TerminalServiceSetting",
        Path: null,
      },
    });
    expect(r.variants).toEqual([1, 1]);
    expect(r.wrongNs).toBe(WBEM.INVALID_CLASS);
    expect(r.licenseServers).toBeNull(); // there is no LicenseServers property
    expect(r.hasProp).toBe(false);
  });

  test("the host setting terminalServiceSetting=false makes the class answer no instance (no error); true brings it back", async () => {
    const host = uniqueHost("no-setting");
    const r = await fx.on<number[]>(
      host,
      `$count = { @(Get-CimInstance -Namespace 'root\\cimv2\\TerminalServices' -ClassName Win32_TerminalServiceSetting).Count }
       $null = Set-RdsSimHostConfig -HostName '${host}' -Settings @{ terminalServiceSetting = $false }
       $missing = & $count
       $null = Set-RdsSimHostConfig -HostName '${host}' -Settings @{ terminalServiceSetting = $true }
       @($missing, (& $count))`,
    );
    expect(r).toEqual([0, 1]);
  });

  test("ChangeMode takes 2 (Per Device) and 4 (Per User), also 0 and 1; 3, 5, 6 are refused", async () => {
    const host = uniqueHost("mode");
    const r = await fx.on<Array<{ input: number; rv: number; type: number; name: string }>>(
      host,
      `${TS},@(foreach ($m in 2, 4, 3, 5, 6, 0, 1, 4) {
         $rv = (${M("ChangeMode", "@{ LicensingType = [uint32]$m }")}).ReturnValue
         $now = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
         [pscustomobject]@{ input = $m; rv = $rv; type = $now.LicensingType; name = $now.LicensingName } })`,
    );
    expect(r).toEqual([
      { input: 2, rv: 0, type: 2, name: "Per Device" },
      { input: 4, rv: 0, type: 4, name: "Per User" },
      { input: 3, rv: WBEM.INVALID_PARAMETER, type: 4, name: "Per User" },
      { input: 5, rv: WBEM.INVALID_PARAMETER, type: 4, name: "Per User" },
      { input: 6, rv: WBEM.INVALID_PARAMETER, type: 4, name: "Per User" },
      { input: 0, rv: 0, type: 0, name: "Personal Terminal Server" },
      { input: 1, rv: 0, type: 1, name: "Remote Desktop for Administration" },
      { input: 4, rv: 0, type: 4, name: "Per User" },
    ]);
    expect(await fx.on<MethodResult>(host, `${TS}${M("ChangeMode")}`)).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER });
  });

  test("its methods are instance methods: called on the class they fail with WBEM_E_INVALID_METHOD", async () => {
    const host = uniqueHost("static");
    const r = await fx.capture(
      host,
      "Invoke-CimMethod -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting -MethodName GetGracePeriodDays",
    );
    expect(r).toMatchObject({ ok: false, hresult: WBEM.INVALID_METHOD });
    expect(r.message).toContain("not a static method");
  });

  test("the specified license server list keeps order, stays an array with one entry, and is empty at first", async () => {
    const host = uniqueHost("list");
    const r = await fx.on<Array<MethodResult>>(
      host,
      `${TS},@(
        (${M("GetSpecifiedLicenseServerList")}),
        (${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = [string[]]@('ls2.contoso.com', 'ls1.contoso.com', 'LS2.contoso.com') }")}),
        (${M("GetSpecifiedLicenseServerList")}),
        (${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = [string[]]@('only.contoso.com') }")}),
        (${M("GetSpecifiedLicenseServerList")}),
        (${M("AddLSToSpecifiedLicenseServerList", "@{ LicenseServerName = 'ls3.contoso.com' }")}),
        (${M("AddLSToSpecifiedLicenseServerList", "@{ LicenseServerName = 'ONLY.contoso.com' }")}),
        (${M("GetSpecifiedLicenseServerList")}),
        (${M("RemoveLSFromSpecifiedLicenseServerList", "@{ LicenseServerName = 'Only.Contoso.Com' }")}),
        (${M("RemoveLSFromSpecifiedLicenseServerList", "@{ LicenseServerName = 'missing.contoso.com' }")}),
        (${M("GetSpecifiedLicenseServerList")}),
        (${M("EmptySpecifiedLicenseServerList")}),
        (${M("GetSpecifiedLicenseServerList")}),
        (${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = [string[]]@('a', '') }")}),
        (${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = @() }")}),
        (${M("AddLSToSpecifiedLicenseServerList", "@{ LicenseServerName = '  ' }")}))`,
    );
    expect(r).toEqual([
      { ReturnValue: 0, SpecifiedLSList: [] },
      { ReturnValue: 0 },
      { ReturnValue: 0, SpecifiedLSList: ["ls2.contoso.com", "ls1.contoso.com"] }, // a duplicate (any case) is dropped
      { ReturnValue: 0 },
      { ReturnValue: 0, SpecifiedLSList: ["only.contoso.com"] },
      { ReturnValue: 0 },
      { ReturnValue: 0 }, // already listed: no duplicate
      { ReturnValue: 0, SpecifiedLSList: ["only.contoso.com", "ls3.contoso.com"] },
      { ReturnValue: 0 },
      { ReturnValue: WBEM.NOT_FOUND },
      { ReturnValue: 0, SpecifiedLSList: ["ls3.contoso.com"] },
      { ReturnValue: 0 },
      { ReturnValue: 0, SpecifiedLSList: [] },
      { ReturnValue: WBEM.INVALID_PARAMETER },
      { ReturnValue: 0 },
      { ReturnValue: WBEM.INVALID_PARAMETER },
    ]);
  });

  test("a comma-joined string instead of string[] is a type mismatch (docs/windows-facts.md#pitfalls)", async () => {
    const host = uniqueHost("listtype");
    const r = await fx.capture(
      host,
      `${TS}${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = 'ls1.contoso.com,ls2.contoso.com' }")}`,
    );
    expect(r).toMatchObject({ ok: false, hresult: WBEM.TYPE_MISMATCH, type: "System.Runtime.InteropServices.COMException" });
    const list = await fx.on<string[]>(host, `${TS},(${M("GetSpecifiedLicenseServerList")}).SpecifiedLSList`);
    expect(list).toEqual([]);
  });

  test("server names are data: unusual names round-trip exactly", async () => {
    const host = uniqueHost("listdata");
    const names = ["ls'1\";$(x).contoso.com", "\u05E9\u05E8\u05EA.example", "lone\uD83D.example", "tab\there"];
    const r = await fx.on<string[]>(
      host,
      `${TS}$null = ${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = [string[]]$data.names }")}
       ,(${M("GetSpecifiedLicenseServerList")}).SpecifiedLSList`,
      { names },
    );
    expect(r).toEqual(names);
  });

  test("GetGracePeriodDays counts down from 120 from the host's grace-period start", async () => {
    const host = uniqueHost("grace");
    const at = (iso: string) =>
      `Set-RdsSimHostConfig -Settings @{ gracePeriodStart = '${iso}' } | Out-Null\n(${M("GetGracePeriodDays")}).DaysLeft`;
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000 - 3_600_000).toISOString();
    const r = await fx.on<number[]>(
      host,
      `${TS}$fresh = (${M("GetGracePeriodDays")})
       ,@($fresh.ReturnValue, $fresh.DaysLeft,
         $(Set-RdsSimHostConfig -Settings @{ gracePeriodDaysLeft = 0 } | Out-Null; (${M("GetGracePeriodDays")}).DaysLeft),
         $(Set-RdsSimHostConfig -Settings @{ gracePeriodDaysLeft = '37' } | Out-Null; (${M("GetGracePeriodDays")}).DaysLeft),
         $(${at(daysAgo(10))}),
         $(${at(daysAgo(200))}),
         (Get-RdsSimHost).sessionHost.graceDaysLeft)`,
    );
    expect(r).toEqual([0, 120, 0, 37, 110, 0, 0]);
  });

  test("GetDomain and Win32_ComputerSystem report domain membership, or the workgroup", async () => {
    const member = uniqueHost("dom");
    const fqdn = `${uniqueHost("rdsh")}.fabrikam.com`;
    const wg = uniqueHost("wg");
    const read = `${TS}[pscustomobject]@{ domain = (${M("GetDomain")}).Domain; cs = (Get-CimInstance -ClassName Win32_ComputerSystem | Select-Object Name, DNSHostName, Domain, PartOfDomain, Workgroup) }`;
    expect(await fx.on(member, read)).toEqual({
      domain: "contoso.com",
      cs: { Name: member.toUpperCase(), DNSHostName: member.toLowerCase(), Domain: "contoso.com", PartOfDomain: true, Workgroup: null },
    });
    const shortName = fqdn.split(".")[0];
    expect(await fx.on(fqdn, read)).toEqual({
      domain: "fabrikam.com",
      cs: {
        Name: shortName.toUpperCase(),
        DNSHostName: shortName.toLowerCase(),
        Domain: "fabrikam.com",
        PartOfDomain: true,
        Workgroup: null,
      },
    });
    expect(await fx.on(wg, `Set-RdsSimHostConfig -Settings @{ partOfDomain = $false; workgroup = 'LAB' } | Out-Null\n${read}`)).toEqual({
      domain: "LAB",
      cs: { Name: wg.toUpperCase(), DNSHostName: wg.toLowerCase(), Domain: "LAB", PartOfDomain: false, Workgroup: "LAB" },
    });
  });
});

describe("Group Policy overrides WMI (docs/windows-facts.md#group-policy)", () => {
  test("policy values become the effective mode and list, the sources say 1, and the WMI setters get WBEM_E_INVALID_OPERATION", async () => {
    const host = uniqueHost("gpo");
    const r = await fx.on<{ setting: Record<string, unknown>; list: MethodResult; setters: number[]; view: Record<string, unknown> }>(
      host,
      `${TS}$null = ${M("ChangeMode", "@{ LicensingType = [uint32]2 }")}
       $null = ${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = [string[]]@('wmi.contoso.com') }")}
       Set-RdsSimGroupPolicy -LicensingMode 4 -LicenseServers ' ls1.contoso.com, ls2.contoso.com ,,' | Out-Null
       [pscustomobject]@{ setting = ${PS_SETTING}; list = (${M("GetSpecifiedLicenseServerList")})
         setters = @(
           (${M("ChangeMode", "@{ LicensingType = [uint32]2 }")}).ReturnValue,
           (${M("SetSpecifiedLicenseServerList", "@{ SpecifiedLSList = [string[]]@('x') }")}).ReturnValue,
           (${M("AddLSToSpecifiedLicenseServerList", "@{ LicenseServerName = 'x' }")}).ReturnValue,
           (${M("RemoveLSFromSpecifiedLicenseServerList", "@{ LicenseServerName = 'ls1.contoso.com' }")}).ReturnValue,
           (${M("EmptySpecifiedLicenseServerList")}).ReturnValue)
         view = (Get-RdsSimHost).sessionHost }`,
    );
    expect(r.setting).toEqual({
      ServerName: host.toUpperCase(),
      TerminalServerMode: 1,
      LicensingType: 4,
      PolicySourceLicensingType: 1,
      LicensingName: "Per User",
      PolicySourceConfiguredLicenseServers: 1,
    });
    expect(r.list).toEqual({ ReturnValue: 0, SpecifiedLSList: ["ls1.contoso.com", "ls2.contoso.com"] });
    expect(r.setters).toEqual(Array(5).fill(WBEM.INVALID_OPERATION));
    expect(r.view).toMatchObject({
      licensingType: 2,
      effectiveLicensingType: 4,
      specifiedLicenseServers: ["wmi.contoso.com"],
      effectiveLicenseServers: ["ls1.contoso.com", "ls2.contoso.com"],
    });
  });

  test("each policy value overrides only its own setting; removing it brings the WMI values back", async () => {
    const host = uniqueHost("gpo1");
    const r = await fx.on<Array<Record<string, unknown>>>(
      host,
      `${TS}$null = ${M("ChangeMode", "@{ LicensingType = [uint32]4 }")}
       Set-RdsSimGroupPolicy -LicensingMode 2 | Out-Null
       $a = ${PS_SETTING}
       $add = (${M("AddLSToSpecifiedLicenseServerList", "@{ LicenseServerName = 'ls9.contoso.com' }")}).ReturnValue
       Set-RdsSimGroupPolicy -LicensingMode $null | Out-Null
       $b = ${PS_SETTING}
       Set-RdsSimFault -Fault groupPolicy -Value @{ LicensingMode = 6; LicenseServers = 'gp.contoso.com' } | Out-Null
       $c = ${PS_SETTING}
       Clear-RdsSimFault -Fault groupPolicy | Out-Null
       $d = ${PS_SETTING}
       ,@($a, [pscustomobject]@{ add = $add }, $b, $c, $d, [pscustomobject]@{ list = @((${M("GetSpecifiedLicenseServerList")}).SpecifiedLSList) })`,
    );
    expect(r[0]).toMatchObject({
      LicensingType: 2,
      PolicySourceLicensingType: 1,
      PolicySourceConfiguredLicenseServers: 0,
      LicensingName: "Per Device",
    });
    expect(r[1]).toEqual({ add: 0 });
    expect(r[2]).toMatchObject({ LicensingType: 4, PolicySourceLicensingType: 0, PolicySourceConfiguredLicenseServers: 0 });
    expect(r[3]).toMatchObject({
      LicensingType: 6,
      PolicySourceLicensingType: 1,
      PolicySourceConfiguredLicenseServers: 1,
      LicensingName: "AAD Per User",
    });
    expect(r[4]).toMatchObject({ LicensingType: 4, PolicySourceLicensingType: 0, PolicySourceConfiguredLicenseServers: 0 });
    expect(r[5]).toEqual({ list: ["ls9.contoso.com"] });
  });

  test("Get-ItemProperty reads the policy key like the registry provider (REG_DWORD LicensingMode, REG_SZ LicenseServers)", async () => {
    const host = uniqueHost("reg");
    // A key without any value is absent (every host starts with fDenyTSConnections in it: remove that first).
    await fx.on(host, "Set-RdsSimGroupPolicy -OtherValues @{ fDenyTSConnections = $null } | Out-Null");
    const none = await fx.capture(host, "Get-ItemProperty -Path $data.key", { key: POLICY_KEY });
    expect(none).toMatchObject({
      ok: false,
      type: "System.Management.Automation.ItemNotFoundException",
      errorId: "PathNotFound,Get-ItemProperty",
    });
    expect(await fx.on(host, "Get-ItemProperty -Path $data.key -ErrorAction SilentlyContinue", { key: POLICY_KEY })).toBeNull();
    const r = await fx.on<Record<string, unknown>>(
      host,
      `Set-RdsSimGroupPolicy -LicensingMode 4 -LicenseServers 'ls1.contoso.com,ls2.contoso.com' | Out-Null
       $full = Get-ItemProperty -Path $data.key
       [pscustomobject]@{
         full = ($full | Select-Object LicensingMode, LicenseServers, PSPath, PSChildName)
         modeType = $full.LicensingMode.GetType().Name
         named = @(Get-ItemProperty -Path $data.key -Name LicensingMode | ForEach-Object { @($_.PSObject.Properties.Name) -join ',' })
         variants = @(foreach ($p in $data.variants) { (Get-ItemProperty -Path $p).LicensingMode })
         literal = (Get-ItemProperty -LiteralPath $data.key).LicenseServers
         missingName = (Invoke-Captured { Get-ItemProperty -Path $data.key -Name fDisableTerminalServerTooltip }).type }`,
      {
        key: POLICY_KEY,
        variants: [
          "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services\\",
          "hklm:\\software\\policies\\microsoft\\windows nt\\terminal services",
          "HKLM:SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services",
          "Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services",
          "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services",
        ],
      },
    );
    expect(r.full).toEqual({
      LicensingMode: 4,
      LicenseServers: "ls1.contoso.com,ls2.contoso.com",
      PSPath: "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services",
      PSChildName: "Terminal Services",
    });
    expect(r.modeType).toBe("Int32");
    expect(r.named).toEqual(["LicensingMode,PSPath,PSParentPath,PSChildName,PSDrive,PSProvider"]);
    expect(r.variants).toEqual([4, 4, 4, 4, 4]);
    expect(r.literal).toBe("ls1.contoso.com,ls2.contoso.com");
    expect(r.missingName).toBe("System.Management.Automation.PSArgumentException");
  });

  test("other paths go to the real Get-ItemProperty", async () => {
    const host = uniqueHost("regpass");
    const r = await fx.on<{ child: string; log: number }>(
      host,
      `$before = @(Get-RdsSimCallLog).Count
       $item = Get-ItemProperty -Path $data.dir
       [pscustomobject]@{ child = $item.PSChildName; log = @(Get-RdsSimCallLog).Count - $before }`,
      { dir: os.tmpdir() },
    );
    expect(r.child).toBe(os.tmpdir().split("/").pop());
    expect(r.log).toBe(0);
  });

  test("the admin function refuses policy values Windows would not write", async () => {
    const host = uniqueHost("gpobad");
    const r = await fx.on<boolean[]>(
      host,
      `,@((Invoke-Captured { Set-RdsSimGroupPolicy -LicensingMode 3 }).ok, (Invoke-Captured { Set-RdsSimGroupPolicy -LicenseServers '' }).ok,
          (Invoke-Captured { Set-RdsSimFault -Fault groupPolicy -Value @{ Mode = 4 } }).ok, (Invoke-Captured { Set-RdsSimGroupPolicy -LicensingMode '2' }).ok)`,
    );
    expect(r).toEqual([false, false, false, true]);
  });
});

describe("deployment licensing on a connection broker (docs/windows-facts.md#deployment-licensing)", () => {
  test("a host that is not a broker has no Win32_TSDeploymentLicensing and the RDMS cmdlets fail clearly", async () => {
    const host = uniqueHost("nobroker");
    const r = await fx.on<{ cls: number; get: Record<string, unknown>; set: Record<string, unknown> }>(
      host,
      `[pscustomobject]@{
         cls = (Invoke-Captured { Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TSDeploymentLicensing }).hresult
         get = (Invoke-Captured { Get-RDLicenseConfiguration } | Select-Object ok, message)
         set = (Invoke-Captured { Set-RDLicenseConfiguration -Mode PerUser -Force } | Select-Object ok, message) }`,
    );
    expect(r.cls).toBe(WBEM.INVALID_CLASS);
    expect(r.get.ok).toBe(false);
    expect(r.get.message).toContain("A Remote Desktop Services deployment does not exist on " + host);
    expect(r.set.ok).toBe(false);
    expect(r.set.message).toContain("A Remote Desktop Services deployment does not exist");
  });

  test("on a broker: not configured at first; Set-RDLicenseConfiguration -Force sets mode and servers in all three parameter sets", async () => {
    const host = uniqueHost("broker");
    const r = await fx.on<Array<Record<string, unknown>>>(
      host,
      `Set-RdsSimHostConfig -Settings @{ isConnectionBroker = $true } | Out-Null
       $wmi = { Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TSDeploymentLicensing | Select-Object UseCentralLicensingSettings, LicenseServers, LicensingType }
       $a = Get-RDLicenseConfiguration; $aw = & $wmi
       Set-RDLicenseConfiguration -Mode PerUser -LicenseServer 'ls1.contoso.com', 'ls2.contoso.com' -Force
       $b = Get-RDLicenseConfiguration; $bw = & $wmi
       Set-RDLicenseConfiguration -Mode PerDevice -Force
       $c = Get-RDLicenseConfiguration
       Set-RDLicenseConfiguration -LicenseServer 'ls3.contoso.com' -Force -ConnectionBroker $data.host
       $d = Get-RDLicenseConfiguration -ConnectionBroker $data.host
       Set-RDLicenseConfiguration -Mode NotConfigured -LicenseServer @() -Force
       $e = Get-RDLicenseConfiguration
       ,@($a, $aw, $b, $bw, $c, $d, $e)`,
      { host },
    );
    expect(r).toEqual([
      { Mode: "NotConfigured", LicenseServer: [] },
      { UseCentralLicensingSettings: true, LicenseServers: [], LicensingType: 5 },
      { Mode: "PerUser", LicenseServer: ["ls1.contoso.com", "ls2.contoso.com"] },
      { UseCentralLicensingSettings: true, LicenseServers: ["ls1.contoso.com", "ls2.contoso.com"], LicensingType: 4 },
      { Mode: "PerDevice", LicenseServer: ["ls1.contoso.com", "ls2.contoso.com"] },
      { Mode: "PerDevice", LicenseServer: ["ls3.contoso.com"] },
      { Mode: "NotConfigured", LicenseServer: [] },
    ]);
  });

  test("without -Force, in a non-interactive session, Set-RDLicenseConfiguration fails (it would prompt) and changes nothing", async () => {
    const host = uniqueHost("noforce");
    const r = await fx.on<{ err: Record<string, unknown>; after: Record<string, unknown>; badMode: boolean }>(
      host,
      `Set-RdsSimHostConfig -Settings @{ isConnectionBroker = 'true' } | Out-Null
       [pscustomobject]@{ err = (Invoke-Captured { Set-RDLicenseConfiguration -Mode PerUser } | Select-Object ok, errorId, message)
         after = Get-RDLicenseConfiguration
         badMode = (Invoke-Captured { Set-RDLicenseConfiguration -Mode PerSeat -Force }).ok }`,
    );
    expect(r.err.ok).toBe(false);
    expect(r.err.errorId).toBe("ConfirmationRequired,Set-RDLicenseConfiguration");
    expect(r.err.message).toContain("NonInteractive");
    expect(r.after).toEqual({ Mode: "NotConfigured", LicenseServer: [] });
    expect(r.badMode).toBe(false);
  });

  test("a script on another host can address the broker with -ConnectionBroker", async () => {
    const broker = uniqueHost("cb");
    const rdsh = uniqueHost("rdsh");
    await fx.on(broker, "Set-RdsSimHostConfig -Settings @{ isConnectionBroker = $true } | Out-Null");
    const r = await fx.on<Record<string, unknown>>(
      rdsh,
      `Set-RDLicenseConfiguration -Mode PerDevice -LicenseServer 'ls.contoso.com' -Force -ConnectionBroker $data.broker
       Get-RDLicenseConfiguration -ConnectionBroker $data.broker`,
      { broker },
    );
    expect(r).toEqual({ Mode: "PerDevice", LicenseServer: ["ls.contoso.com"] });
  });

  test("Win32_TSDeploymentLicensing is writable with Set-CimInstance, with the documented values only", async () => {
    const host = uniqueHost("dlwmi");
    const r = await fx.on<{ rd: Record<string, unknown>; wmi: Record<string, unknown>; bad: number[] }>(
      host,
      `Set-RdsSimHostConfig -Settings @{ isConnectionBroker = $true } | Out-Null
       $dl = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TSDeploymentLicensing
       Set-CimInstance -InputObject $dl -Property @{ LicensingType = [uint32]2; LicenseServers = [string[]]@('a.contoso.com'); UseCentralLicensingSettings = $false }
       [pscustomobject]@{ rd = Get-RDLicenseConfiguration
         wmi = (Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TSDeploymentLicensing | Select-Object UseCentralLicensingSettings, LicenseServers, LicensingType)
         bad = @((Invoke-Captured { Set-CimInstance -InputObject $dl -Property @{ LicensingType = [uint32]3 } }).hresult,
                 (Invoke-Captured { Set-CimInstance -InputObject $dl -Property @{ LicenseServers = 'a,b' } }).hresult,
                 (Invoke-Captured { Set-CimInstance -InputObject $dl -Property @{ UseCentralLicensingSettings = 'yes' } }).hresult) }`,
    );
    expect(r.rd).toEqual({ Mode: "PerDevice", LicenseServer: ["a.contoso.com"] });
    expect(r.wmi).toEqual({ UseCentralLicensingSettings: false, LicenseServers: ["a.contoso.com"], LicensingType: 2 });
    expect(r.bad).toEqual([WBEM.INVALID_PARAMETER, WBEM.TYPE_MISMATCH, WBEM.TYPE_MISMATCH]);
  });
});

describe("the RD Session Host role (TerminalServerMode) and the restart that finishes its install", () => {
  const MODE = "(Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting).TerminalServerMode";
  const FEATURE = "Get-WindowsFeature -Name RDS-RD-Server | Select-Object Installed, InstallState";

  test("the host fact sessionHostRole: present by default (1, Application Server), 0 (Remote Administration) without it", async () => {
    const host = uniqueHost("role");
    const r = await fx.on<{ fresh: number; without: number; back: number; feature: Record<string, unknown>; view: boolean }>(
      host,
      `$fresh = ${MODE}
       Set-RdsSimHostConfig -Settings @{ sessionHostRole = $false } | Out-Null
       $without = ${MODE}
       $feature = ${FEATURE}
       $view = (Get-RdsSimHost).sessionHostRole
       Set-RdsSimHostConfig -Settings @{ sessionHostRole = $true } | Out-Null
       [pscustomobject]@{ fresh = $fresh; without = $without; back = ${MODE}; feature = $feature; view = $view }`,
    );
    expect(r).toEqual({ fresh: 1, without: 0, back: 1, feature: { Installed: false, InstallState: "Available" }, view: false });
  });

  test("Install-WindowsFeature RDS-RD-Server is pending (RestartNeeded Yes) until Restart-Computer; the restart keeps the host away for restartSeconds, then it boots anew with the role", async () => {
    const host = uniqueHost("rolei");
    const r = await fx.on<{
      install: Record<string, unknown>;
      pending: Record<string, unknown>;
      modeBefore: number;
      again: Record<string, unknown>;
      away: Record<string, unknown>;
      after: Record<string, unknown>;
      modeAfter: number;
      bootChanged: boolean;
      log: string[];
    }>(
      host,
      `Set-RdsSimHostConfig -Settings @{ sessionHostRole = $false; restartSeconds = 1 } | Out-Null
       $boot0 = (Get-CimInstance Win32_OperatingSystem).LastBootUpTime
       $install = Install-WindowsFeature -Name RDS-RD-Server | Select-Object Success, RestartNeeded, ExitCode
       $pending = ${FEATURE}
       $modeBefore = ${MODE}
       $again = Install-WindowsFeature -Name RDS-RD-Server | Select-Object Success, RestartNeeded, ExitCode
       Restart-Computer -Force
       $away = Get-RdsSimRestartState | Select-Object restarts, @{ n = 'away'; e = { $_.secondsLeft -gt 0 } }
       while ((Get-RdsSimRestartState).secondsLeft -gt 0) { Start-Sleep -Milliseconds 100 }
       [pscustomobject]@{ install = $install; pending = $pending; modeBefore = $modeBefore; again = $again; away = $away
         after = ${FEATURE}; modeAfter = ${MODE}
         bootChanged = ((Get-CimInstance Win32_OperatingSystem).LastBootUpTime -ne $boot0)
         log = @(Get-RdsSimCallLog | Where-Object { $_.cmdlet -in 'Install-WindowsFeature', 'Restart-Computer' } | ForEach-Object { $_.cmdlet }) }`,
    );
    expect(r.install).toEqual({ Success: true, RestartNeeded: "Yes", ExitCode: "SuccessRestartRequired" });
    expect(r.pending).toEqual({ Installed: false, InstallState: "InstallPending" });
    expect(r.modeBefore).toBe(0);
    expect(r.again).toEqual({ Success: true, RestartNeeded: "Yes", ExitCode: "SuccessRestartRequired" });
    expect(r.away).toEqual({ restarts: 1, away: true });
    expect(r.after).toEqual({ Installed: true, InstallState: "Installed" });
    expect(r.modeAfter).toBe(1);
    expect(r.bootChanged).toBe(true);
    expect(r.log).toEqual(["Install-WindowsFeature", "Install-WindowsFeature", "Restart-Computer"]);
  });
});
