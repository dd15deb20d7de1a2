/**
 * Conformance of the emulated license server with Active Directory and its usage reports: the
 * Win32_TSLicenseServer methods of the "Terminal Server License Servers" group and of the service
 * connection point, Win32_TSLicenseReport (GenerateReportEx, the Fetch* instance methods, DeleteReport),
 * per-user CALs recorded by Add-RdsSimIssuedLicense (over-allocation allowed for per-user packs only), and
 * `rds-sim ls-group`.
 *
 * Sources (docs/windows-facts.md#license-servers-group, #license-report): Microsoft's method pages
 * IsLSinTSLSGroup ([in] string Domain, [out] boolean IsMember; '' = the server's own domain; Administrators),
 * AddLStoTSLSGroup / RemoveLSfromTSLSGroup (no parameters; Domain Admins), IsLSRegisteredToSCP ([out] boolean
 * Registered), RegisterLSToSCP / UnRegisterLSFromSCP (no parameters; Administrators), GenerateReportEx (static,
 * [out] string FileName), FetchReportSummaryEntries / FetchReportEntries (instance; [in] StartIndex, [in,out]
 * Count, 0 = all), the Win32_TSLicenseReport, -ReportSummaryEntry and -ReportEntry class pages, and "if the
 * license server is not a member of this group, per-user license tracking and reporting will not work".
 * What a workgroup server answers, the error codes, and how "not work" shows are the emulator's choices.
 *
 * Real: pwsh 7 and the emulator module; for `rds-sim ls-group`, the CLI's main() and its real pwsh driver.
 * Stands in: the emulator stands in for Windows WMI and Active Directory. Nothing is mocked.
 */
import { main } from "../../provider/emulator/cli/main";
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, MethodResult, PS_ACTIVATED, PS_INSTALL_AGREEMENT, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("lsdir");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const LS = (method: string, args = "") =>
  `Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ${method}${args ? ` -Arguments ${args}` : ""}`;
const IN_GROUP = (domain = "''") => `(${LS("IsLSinTSLSGroup", `@{ Domain = ${domain} }`)}).IsMember`;

describe("the Terminal Server License Servers group (IsLSinTSLSGroup, AddLStoTSLSGroup, RemoveLSfromTSLSGroup)", () => {
  test("IsLSinTSLSGroup answers IsMember for the server's own domain ('' or its name, case-insensitively); another domain: false", async () => {
    const host = uniqueHost("grp");
    const r = await fx.on<unknown[]>(
      host,
      `${PS_ROLE},@(${IN_GROUP()},
         (${LS("AddLStoTSLSGroup")}).ReturnValue,
         ${IN_GROUP()}, ${IN_GROUP("'CONTOSO.COM'")}, ${IN_GROUP("'contoso'")}, ${IN_GROUP("'fabrikam.com'")})`,
    );
    expect(r).toEqual([false, 0, true, true, true, false]);
  });

  test("the out parameters are those of Microsoft's pages: IsMember, Registered; Add/Remove/Register have none", async () => {
    const host = uniqueHost("grp");
    const r = await fx.on<Record<string, MethodResult>>(
      host,
      `${PS_ROLE}[pscustomobject]@{ is = ${LS("IsLSinTSLSGroup", "@{ Domain = '' }")}; add = ${LS("AddLStoTSLSGroup")}
         scp = ${LS("IsLSRegisteredToSCP")}; reg = ${LS("RegisterLSToSCP")}; remove = ${LS("RemoveLSfromTSLSGroup")} }`,
    );
    expect(r).toEqual({
      is: { ReturnValue: 0, IsMember: false },
      add: { ReturnValue: 0 },
      scp: { ReturnValue: 0, Registered: false },
      reg: { ReturnValue: 0 },
      remove: { ReturnValue: 0 },
    });
  });

  test("Add and Remove need Domain Admins (documented): a local administrator gets WBEM_E_ACCESS_DENIED and nothing changes; IsLSinTSLSGroup needs only Administrators", async () => {
    const host = uniqueHost("rights");
    const r = await fx.on<Record<string, unknown[]>>(
      host,
      `${PS_ROLE}$tries = [ordered]@{}
       foreach ($rights in 'localAdmin', 'domainAdmin', 'enterpriseAdmin') {
         Set-RdsSimHostConfig -Settings @{ callerRights = $rights; licenseServersGroup = $false } | Out-Null
         $tries[$rights] = @((${LS("AddLStoTSLSGroup")}).ReturnValue, ${IN_GROUP()})
       }
       Set-RdsSimHostConfig -Settings @{ callerRights = 'localAdmin'; licenseServersGroup = $true } | Out-Null
       $tries['removeAsLocal'] = @((${LS("RemoveLSfromTSLSGroup")}).ReturnValue, ${IN_GROUP()})
       [pscustomobject]$tries`,
    );
    expect(r).toEqual({
      localAdmin: [WBEM.ACCESS_DENIED, false],
      domainAdmin: [0, true],
      enterpriseAdmin: [0, true],
      removeAsLocal: [WBEM.ACCESS_DENIED, true],
    });
  });

  test("adding a member again succeeds and changes nothing; removing takes it out (the drift an administrator makes)", async () => {
    const host = uniqueHost("grp");
    const r = await fx.on<unknown[]>(
      host,
      `${PS_ROLE},@((${LS("AddLStoTSLSGroup")}).ReturnValue, (${LS("AddLStoTSLSGroup")}).ReturnValue, ${IN_GROUP()},
         (${LS("RemoveLSfromTSLSGroup")}).ReturnValue, ${IN_GROUP()}, (Get-RdsSimHost).licenseServer.licenseServersGroup)`,
    );
    expect(r).toEqual([0, 0, true, 0, false, false]);
  });

  test("a workgroup server: every group and SCP method answers WBEM_E_INVALID_OPERATION (emulator's choice); the fact cannot be set", async () => {
    const host = uniqueHost("wg");
    const r = await fx.on<number[]>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ domain = $null } | Out-Null
       ,@((${LS("IsLSinTSLSGroup", "@{ Domain = '' }")}).ReturnValue, (${LS("AddLStoTSLSGroup")}).ReturnValue,
          (${LS("RemoveLSfromTSLSGroup")}).ReturnValue, (${LS("IsLSRegisteredToSCP")}).ReturnValue,
          (${LS("RegisterLSToSCP")}).ReturnValue, (${LS("UnRegisterLSFromSCP")}).ReturnValue)`,
    );
    expect(r).toEqual(Array(6).fill(WBEM.INVALID_OPERATION));
    const refused = await fx.capture(host, "Set-RdsSimHostConfig -Settings @{ licenseServersGroup = $true }");
    expect(refused).toMatchObject({ ok: false, type: "System.ArgumentException" });
    expect(refused.message).toContain("needs a host in a domain");
  });

  test("Domain is a required string (the MOF declares it); the methods are static and also work through the instance", async () => {
    const host = uniqueHost("grp");
    const r = await fx.on<number[]>(
      host,
      `${PS_ROLE}$ls = Get-CimInstance -ClassName Win32_TSLicenseServer
       ,@((${LS("IsLSinTSLSGroup")}).ReturnValue, (Invoke-CimMethod -InputObject $ls -MethodName AddLStoTSLSGroup).ReturnValue,
          (Invoke-CimMethod -InputObject $ls -MethodName IsLSinTSLSGroup -Arguments @{ Domain = '' }).IsMember)`,
    );
    expect(r).toEqual([WBEM.INVALID_PARAMETER, 0, true]);
  });
});

describe("the service connection point (IsLSRegisteredToSCP, RegisterLSToSCP, UnRegisterLSFromSCP)", () => {
  test("register, read, unregister; Administrators is enough (documented)", async () => {
    const host = uniqueHost("scp");
    const r = await fx.on<unknown[]>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ callerRights = 'localAdmin' } | Out-Null
       ,@((${LS("IsLSRegisteredToSCP")}).Registered, (${LS("RegisterLSToSCP")}).ReturnValue, (${LS("IsLSRegisteredToSCP")}).Registered,
          (${LS("UnRegisterLSFromSCP")}).ReturnValue, (${LS("IsLSRegisteredToSCP")}).Registered)`,
    );
    expect(r).toEqual([false, 0, true, 0, false]);
  });
});

/** PowerShell: $id = an agreement pack ($data.pt, $data.lc, $data.pv as in PS_INSTALL_AGREEMENT). */
const PACK = `$id = (${PS_INSTALL_AGREEMENT}).KeyPackId\n`;
/** PowerShell: generate a report, then $rep = its instance. */
const REPORT = `$name = (Invoke-CimMethod -ClassName Win32_TSLicenseReport -MethodName GenerateReportEx).FileName
$rep = Get-CimInstance -ClassName Win32_TSLicenseReport | Where-Object FileName -eq $name\n`;
const FETCH = (method: string, start = 0, count = 0) =>
  `(Invoke-CimMethod -InputObject $rep -MethodName ${method} -Arguments @{ StartIndex = [uint32]${start}; Count = [uint32]${count} })`;

describe("Win32_TSLicenseReport (per-user usage reports)", () => {
  test("GenerateReportEx (static) gives the FileName of a new report instance with the documented properties; DeleteReport removes it", async () => {
    const host = uniqueHost("rep");
    const r = await fx.on<{ props: string[]; version: number; same: boolean; count: number; deleted: number; after: number }>(
      host,
      `${PS_ACTIVATED}${REPORT}[pscustomobject]@{
         props = @($rep.PSObject.Properties.Name | Where-Object { $_ -ne 'CimSystemProperties' })
         version = $rep.Version; same = ($rep.FileName -eq $name)
         count = @(Get-CimInstance -ClassName Win32_TSLicenseReport).Count
         deleted = (Invoke-CimMethod -InputObject $rep -MethodName DeleteReport).ReturnValue
         after = @(Get-CimInstance -ClassName Win32_TSLicenseReport).Count }`,
    );
    expect(r.props).toEqual([
      "FileName",
      "LicenseUsageCount",
      "InstalledLicenses",
      "GenerationDateTime",
      "ScopeType",
      "ScopeValue",
      "Version",
    ]);
    expect(r).toMatchObject({ version: 2, same: true, count: 1, deleted: 0, after: 0 });
  });

  test("in the group: the summary has a row per CAL type and version (installed, issued, availability), the entries one per user", async () => {
    const host = uniqueHost("rep");
    const r = await fx.on<{ summary: MethodResult; entries: MethodResult }>(
      host,
      `${PS_ACTIVATED}Set-RdsSimHostConfig -Settings @{ licenseServersGroup = $true } | Out-Null
       ${PACK}$null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 2 -User 'ada'
       $device = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]0; LicenseCount = [uint32]4 }).KeyPackId
       $null = Add-RdsSimIssuedLicense -KeyPackId $device -Count 4
       ${REPORT}[pscustomobject]@{
         summary = ${FETCH("FetchReportSummaryEntries")} | Select-Object ReturnValue, Count, @{ n = 'rows'; e = { @($_.ReportSummaryEntries | Select-Object ProductVersion, ProductVersionID, TSCALType, InstalledLicenses, IssuedLicenses, TSCALAvailability) } }
         entries = ${FETCH("FetchReportEntries")} | Select-Object ReturnValue, Count, @{ n = 'rows'; e = { @($_.ReportEntries | Select-Object User, CALType, ProductVersion, ProductVersionID) } } }`,
      { pt: 1, lc: 10, pv: 6 },
    );
    expect(r.summary).toEqual({
      ReturnValue: 0,
      Count: 2,
      rows: [
        {
          ProductVersion: "Windows Server 2019",
          ProductVersionID: 6,
          TSCALType: "Per User",
          InstalledLicenses: 10,
          IssuedLicenses: 2,
          TSCALAvailability: "Available",
        },
        {
          ProductVersion: "Windows Server 2022",
          ProductVersionID: 7,
          TSCALType: "Per Device",
          InstalledLicenses: 4,
          IssuedLicenses: 4,
          TSCALAvailability: "None",
        },
      ],
    });
    expect(r.entries).toEqual({
      ReturnValue: 0,
      Count: 2,
      rows: [
        { User: "ada-1", CALType: "RDS Per User CAL", ProductVersion: "Windows Server 2019", ProductVersionID: 6 },
        { User: "ada-2", CALType: "RDS Per User CAL", ProductVersion: "Windows Server 2019", ProductVersionID: 6 },
      ],
    });
  });

  test("the report through the legacy WMI dialect: [wmiclass] GenerateReportEx, the instance's Fetch* and DeleteReport act on that report (one object model with CIM)", async () => {
    const host = uniqueHost("repwmi");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ACTIVATED}Set-RdsSimHostConfig -Settings @{ licenseServersGroup = $true } | Out-Null
       ${PACK}$null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 3 -User 'ada'
       $first = ([wmiclass]'root\\cimv2:Win32_TSLicenseReport').GenerateReportEx().FileName
       $name = ([wmiclass]'root\\cimv2:Win32_TSLicenseReport').GenerateReportEx().FileName
       $rep = Get-WmiObject -Class Win32_TSLicenseReport | Where-Object FileName -eq $name
       $summary = $rep.FetchReportSummaryEntries(0, 0)
       $entries = Invoke-WmiMethod -InputObject $rep -Name FetchReportEntries -ArgumentList 0, 0
       $deleted = $rep.DeleteReport().ReturnValue
       [pscustomobject]@{
         summary = $summary.ReturnValue; perUserIssued = @($summary.ReportSummaryEntries | Where-Object TSCALType -eq 'Per User')[0].IssuedLicenses
         entries = $entries.ReturnValue; users = @($entries.ReportEntries | ForEach-Object User)
         deleted = $deleted; left = @(Get-CimInstance -ClassName Win32_TSLicenseReport | ForEach-Object FileName)
         first = $first }`,
      { pt: 1, lc: 10, pv: 6 },
    );
    expect(r).toMatchObject({ summary: 0, perUserIssued: 3, entries: 0, users: ["ada-1", "ada-2", "ada-3"], deleted: 0 });
    // DeleteReport removed the report it was called on, not another one.
    expect(r.left).toEqual([r.first]);
  });

  test("outside the group, per-user tracking and reporting do not work (Microsoft): the per-user row says Not Tracking, no entries", async () => {
    const host = uniqueHost("rep");
    const r = await fx.on<{ row: Record<string, unknown>; entries: number }>(
      host,
      `${PS_ACTIVATED}${PACK}$null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 3
       ${REPORT}[pscustomobject]@{ row = (${FETCH("FetchReportSummaryEntries")}).ReportSummaryEntries[0] | Select-Object TSCALType, InstalledLicenses, IssuedLicenses, TSCALAvailability
         entries = (${FETCH("FetchReportEntries")}).Count }`,
      { pt: 1, lc: 10 },
    );
    expect(r).toEqual({
      row: { TSCALType: "Per User", InstalledLicenses: 10, IssuedLicenses: 0, TSCALAvailability: "Not Tracking" },
      entries: 0,
    });
  });

  test("paging: StartIndex and Count select entries, Count 0 is all the rest; past the end an empty page (emulator's choice)", async () => {
    const host = uniqueHost("rep");
    const r = await fx.on<unknown[]>(
      host,
      `${PS_ACTIVATED}Set-RdsSimHostConfig -Settings @{ licenseServersGroup = $true } | Out-Null
       ${PACK}$null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 5 -User 'u'
       ${REPORT},@(@(${FETCH("FetchReportEntries", 1, 2)}.ReportEntries.User), ${FETCH("FetchReportEntries", 3, 0)}.Count, ${FETCH("FetchReportEntries", 9, 0)}.Count)`,
      { pt: 1, lc: 10 },
    );
    expect(r).toEqual([["u-2", "u-3"], 2, 0]);
  });

  test("a deleted report: its instance methods answer WBEM_E_NOT_FOUND (emulator's choice); GenerateReport is not supported since WS2012 (documented)", async () => {
    const host = uniqueHost("rep");
    const r = await fx.on<number[]>(
      host,
      `${PS_ACTIVATED}${REPORT}$null = Invoke-CimMethod -InputObject $rep -MethodName DeleteReport
       ,@(${FETCH("FetchReportSummaryEntries")}.ReturnValue, (Invoke-CimMethod -InputObject $rep -MethodName DeleteReport).ReturnValue,
          (Invoke-CimMethod -ClassName Win32_TSLicenseReport -MethodName GenerateReport).ReturnValue)`,
    );
    expect(r).toEqual([WBEM.NOT_FOUND, WBEM.NOT_FOUND, WBEM.NOT_SUPPORTED]);
  });
});

describe("Add-RdsSimIssuedLicense for per-user packs", () => {
  test("per-user CALs are not enforced (Windows): more users than installed is allowed; the pack's counters stop at its total", async () => {
    const host = uniqueHost("over");
    const r = await fx.on<{ added: Record<string, unknown>; pack: Record<string, number>; users: number }>(
      host,
      `${PS_ACTIVATED}${PACK}$added = Add-RdsSimIssuedLicense -KeyPackId $id -Count 7 -User 'clerk'
       [pscustomobject]@{ added = $added | Select-Object count, IssuedLicenses, AvailableLicenses, users
         pack = Get-CimInstance -ClassName Win32_TSLicenseKeyPack | Where-Object KeyPackId -eq $id | Select-Object TotalLicenses, IssuedLicenses, AvailableLicenses
         users = @((Get-RdsSimHost).licenseServer.perUserIssues).Count }`,
      { pt: 1, lc: 5 },
    );
    expect(r.added).toEqual({
      count: 7,
      IssuedLicenses: 5,
      AvailableLicenses: 0,
      users: ["clerk-1", "clerk-2", "clerk-3", "clerk-4", "clerk-5", "clerk-6", "clerk-7"],
    });
    expect(r.pack).toEqual({ TotalLicenses: 5, IssuedLicenses: 5, AvailableLicenses: 0 });
    expect(r.users).toBe(7);
  });

  test("per-device packs stay limited by what is available", async () => {
    const host = uniqueHost("over");
    const r = await fx.capture(host, `${PS_ACTIVATED}${PACK}Add-RdsSimIssuedLicense -KeyPackId $id -Count 6`, { pt: 0, lc: 5 });
    expect(r).toMatchObject({ ok: false });
    expect(r.message).toContain("only 5 available");
  });
});

describe("rds-sim ls-group", () => {
  test("--in / --out and --scp / --no-scp set the facts the methods read (the CLI's main and its real pwsh driver); a workgroup host is refused", async () => {
    const host = uniqueHost("cli-grp");
    let out = "";
    const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (out += t), cwd: fx.stateDir, env: {} };
    const run = (...args: string[]) => main(["--state-dir", fx.stateDir, ...args], io);
    expect(await run("ls-group", host, "--in", "--scp")).toBe(0);
    expect(out).toBe(`${host}: in the Terminal Server License Servers group, service connection point registered\n`);
    expect(await fx.on<unknown[]>(host, `${PS_ROLE},@(${IN_GROUP()}, (${LS("IsLSRegisteredToSCP")}).Registered)`)).toEqual([true, true]);
    out = "";
    expect(await run("ls-group", host, "--out")).toBe(0);
    expect(await fx.on<boolean>(host, IN_GROUP())).toBe(false);
    out = "";
    expect(await run("ls-group", host, "--in", "--out")).not.toBe(0);
    expect(out).toContain("contradict");
    out = "";
    expect(await run("ls-group", host)).not.toBe(0);
    expect(out).toContain("nothing to set");
    expect(await run("host", "set", host, "--workgroup")).toBe(0);
    out = "";
    expect(await run("ls-group", host, "--in")).not.toBe(0);
    expect(out).toContain("needs a host in a domain");
  });
});
