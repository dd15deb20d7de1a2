/**
 * Conformance of the emulated license server: the RDS-Licensing role and its service, Win32_TSLicenseServer
 * (properties, activation methods, formats) and the Clearinghouse's license server ids.
 *
 * Real: pwsh 7 and the emulator module provider/emulator/RdsEmulator.psm1, loaded the way operation
 * scripts will see it; for the --caller-rights case, the rds-sim CLI's main() and its pwsh driver. Stands in: the emulator stands in for Windows WMI (Win32_TSLicenseServer, the
 * feature and service cmdlets) and for Microsoft's Clearinghouse. Nothing is mocked.
 */
import { main } from "../../provider/emulator/cli/main";
import { liveSessionCount, PwshSession } from "../helpers/pwshSession";
import { EmulatorFixture, MethodResult, PS_ACTIVATED, PS_CONTACT, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("ls");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const CALL = (method: string, args = "") =>
  `Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ${method}${args ? ` -Arguments ${args}` : ""}`;

describe("when the RDS-Licensing role is not installed", () => {
  test("the feature is Available and the license server classes do not exist (WBEM_E_INVALID_CLASS)", async () => {
    const host = uniqueHost("norole");
    const feature = await fx.on<Record<string, unknown>>(host, "Get-WindowsFeature -Name RDS-Licensing");
    expect(feature).toMatchObject({ Name: "RDS-Licensing", Installed: false, InstallState: "Available" });
    for (const cls of ["Win32_TSLicenseServer", "Win32_TSLicenseKeyPack", "Win32_TSIssuedLicense"]) {
      const r = await fx.capture(host, "Get-CimInstance -ClassName $data.cls", { cls });
      expect(r).toMatchObject({ ok: false, hresult: WBEM.INVALID_CLASS, type: "System.Runtime.InteropServices.COMException" });
      expect(r.errorId).toBe("HRESULT 0x80041010,Get-CimInstance");
    }
    const m = await fx.capture(host, CALL("GetActivationStatus"));
    expect(m).toMatchObject({ ok: false, hresult: WBEM.INVALID_CLASS });
    const k = await fx.capture(
      host,
      "Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName UninstallLicenseKeyPackWithId -Arguments @{ KeyPackId = [uint32]3 }",
    );
    expect(k).toMatchObject({ ok: false, hresult: WBEM.INVALID_CLASS });
  });

  test("errors are non-terminating like CimCmdlets: -ErrorAction SilentlyContinue gives nothing, the script goes on", async () => {
    const host = uniqueHost("norole");
    const r = await fx.on<{ got: unknown; errors: number; hresult: number; after: string }>(
      host,
      `$ErrorActionPreference = 'Continue'
       $got = Get-CimInstance -ClassName Win32_TSLicenseServer -ErrorAction SilentlyContinue -ErrorVariable ev
       [pscustomobject]@{ got = $got; errors = $ev.Count; hresult = (ConvertTo-RdsUnsignedHResult $ev[0].Exception.HResult); after = 'continued' }`,
    );
    expect(r).toEqual({ got: null, errors: 1, hresult: WBEM.INVALID_CLASS, after: "continued" });
  });

  test("the TermServLicensing service does not exist yet", async () => {
    const host = uniqueHost("norole");
    const get = await fx.capture(host, "Get-Service -Name TermServLicensing");
    expect(get).toMatchObject({ ok: false, errorId: "NoServiceFoundForGivenName,Get-Service" });
    expect(get.message).toContain("Cannot find any service with service name 'TermServLicensing'");
    const quiet = await fx.on(host, "Get-Service -Name TermServLicensing -ErrorAction SilentlyContinue");
    expect(quiet).toBeNull();
    const start = await fx.capture(host, "Start-Service -Name TermServLicensing");
    expect(start).toMatchObject({ ok: false, errorId: "NoServiceFoundForGivenName,Start-Service" });
  });

  test("Install-WindowsFeature installs the role, starts the service and makes the class available", async () => {
    const host = uniqueHost("install");
    const r = await fx.on<{
      install: Record<string, unknown>;
      again: Record<string, unknown>;
      features: Array<Record<string, unknown>>;
      status: string;
      statusJson: number;
      ls: number;
    }>(
      host,
      `$install = Install-WindowsFeature -Name RDS-Licensing -IncludeManagementTools
       $again = Install-WindowsFeature -Name RDS-Licensing
       $svc = Get-Service -Name TermServLicensing
       [pscustomobject]@{
         install = $install; again = $again
         features = @(Get-WindowsFeature -Name 'RDS-Licensing*')
         status = [string]$svc.Status; statusJson = $svc.Status
         ls = @(Get-CimInstance -ClassName Win32_TSLicenseServer).Count }`,
    );
    expect(r.install).toMatchObject({ Success: true, RestartNeeded: "No", ExitCode: "Success" });
    expect((r.install.FeatureResult as Array<{ Name: string }>).map((f) => f.Name)).toEqual(["RDS-Licensing", "RDS-Licensing-UI"]);
    expect(r.again).toMatchObject({ Success: true, RestartNeeded: "No", ExitCode: "NoChangeNeeded", FeatureResult: [] });
    expect(r.features.map((f) => [f.Name, f.Installed, f.InstallState])).toEqual([
      ["RDS-Licensing", true, "Installed"],
      ["RDS-Licensing-UI", true, "Installed"],
    ]);
    // Status is the real ServiceControllerStatus enum: [string] gives 'Running', ConvertTo-Json gives 4.
    expect(r.status).toBe("Running");
    expect(r.statusJson).toBe(4);
    expect(r.ls).toBe(1);
  });

  test("-IncludeManagementTools is what installs RDS-Licensing-UI; an unknown feature name is an error", async () => {
    const host = uniqueHost("install");
    // The licensing features only: the host also lists the RD Session Host role (RDS-RD-Server).
    const r = await fx.on<Array<[string, boolean]>>(
      host,
      `$null = Install-WindowsFeature -Name RDS-Licensing
       ,@(Get-WindowsFeature | Where-Object { $_.Name -like "RDS-Licensing*" } | ForEach-Object { ,@($_.Name, $_.Installed) })`,
    );
    expect(r).toEqual([
      ["RDS-Licensing", true],
      ["RDS-Licensing-UI", false],
    ]);
    const bad = await fx.capture(host, "Install-WindowsFeature -Name RDS-Licencing");
    expect(bad).toMatchObject({ ok: false, type: "System.ArgumentException" });
    expect(bad.errorId).toContain("NameDoesNotExist");
    expect(await fx.on(host, "Get-WindowsFeature -Name Does-Not-Exist")).toBeNull();
  });

  test("a stopped TermServLicensing service: the class answers WBEM_E_PROVIDER_FAILURE (emulator's choice) until Start-Service", async () => {
    const host = uniqueHost("svc");
    const r = await fx.on<{ before: string; cls: number; started: string; after: number }>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ serviceStatus = 'Stopped' } | Out-Null
       $before = [string](Get-Service TermServLicensing).Status
       $cls = (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseServer }).hresult
       $started = [string](Get-Service TermServLicensing | Start-Service -PassThru).Status
       [pscustomobject]@{ before = $before; cls = $cls; started = $started; after = @(Get-CimInstance -ClassName Win32_TSLicenseServer).Count }`,
    );
    expect(r).toEqual({ before: "Stopped", cls: WBEM.PROVIDER_FAILURE, started: "Running", after: 1 });
  });
});

describe("Win32_TSLicenseServer properties", () => {
  test("one singleton instance with exactly the documented properties (docs/windows-facts.md#license-server-class) and no ActivationStatus property", async () => {
    const host = uniqueHost("props");
    const r = await fx.on<{
      count: number;
      names: string[];
      activationStatus: unknown;
      hasProp: boolean;
      inst: Record<string, unknown>;
      typeName: string;
    }>(
      host,
      `${PS_ROLE}$all = @(Get-CimInstance -ClassName Win32_TSLicenseServer)
       $i = $all[0]
       [pscustomobject]@{
         count = $all.Count
         names = @($i.PSObject.Properties.Name)
         activationStatus = $i.ActivationStatus
         hasProp = $null -ne $i.PSObject.Properties['ActivationStatus']
         inst = $i
         typeName = $i.PSObject.TypeNames[0] }`,
    );
    expect(r.count).toBe(1);
    expect(r.names).toEqual([
      "FirstName",
      "LastName",
      "Company",
      "CountryRegion",
      "eMail",
      "OrgUnit",
      "Address",
      "City",
      "State",
      "PostalCode",
      "ServerRole",
      "DatabasePath",
      "ProductId",
      "Version",
      "VersionNumber",
      "CimSystemProperties",
    ]);
    expect(r.activationStatus).toBeNull();
    expect(r.hasProp).toBe(false);
    expect(r.typeName).toBe("Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_TSLicenseServer");
    expect(r.inst).toMatchObject({
      FirstName: null,
      LastName: null,
      Company: null,
      CountryRegion: null,
      eMail: null,
      ServerRole: 1,
      DatabasePath: "C:\\Windows\\system32\\LServer\\",
      Version: "10.0.20348",
      VersionNumber: "20348",
      CimSystemProperties: { Namespace: "root/cimv2", ClassName: "Win32_TSLicenseServer", ServerName: host.toUpperCase() },
    });
    expect(r.inst.ProductId).toMatch(/^\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3}$/);
  });

  test("ProductId is derived from the host name: stable across calls and processes, different per host", async () => {
    const a = uniqueHost("pid");
    const b = uniqueHost("pid");
    const read = `${PS_ROLE}(Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId`;
    const a1 = await fx.on<string>(a, read);
    const a2 = await fx.on<string>(a, read);
    const b1 = await fx.on<string>(b, read);
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b1);
    // A second pwsh process with an empty cache derives the same id.
    const other = await PwshSession.start();
    try {
      await other.importEmulator(fx.stateDir, a);
      expect(await other.run<string>("(Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId")).toBe(a1);
    } finally {
      await other.close();
    }
  });

  test.each([
    ["2008R2", "6.1.7601", "7601"],
    ["2012", "6.3.9600", "9600"],
    ["2016", "10.0.14393", "14393"],
    ["2019", "10.0.17763", "17763"],
    ["2022", "10.0.20348", "20348"],
    ["2025", "10.0.26100", "26100"],
  ])("Version and VersionNumber follow the host OS %s", async (osVersion, version, build) => {
    const host = uniqueHost("ver");
    const r = await fx.on<{ v: string; vn: string; os: Record<string, unknown> }>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ osVersion = $data.os } | Out-Null
       $ls = Get-CimInstance -ClassName Win32_TSLicenseServer
       [pscustomobject]@{ v = $ls.Version; vn = $ls.VersionNumber; os = (Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object Caption, Version, BuildNumber) }`,
      { os: osVersion },
    );
    expect(r.v).toBe(version);
    expect(r.vn).toBe(build);
    expect(r.os).toEqual({
      Caption: expect.stringContaining(`Windows Server ${osVersion.replace("R2", " R2").replace("2012", "2012 R2")}`),
      Version: version,
      BuildNumber: build,
    });
  });

  test("the namespace may be written root\\cimv2, root/cimv2 or left out; a wrong one fails like WMI", async () => {
    const host = uniqueHost("ns");
    const r = await fx.on<number[]>(
      host,
      `${PS_ROLE},@(
         @(Get-CimInstance -ClassName Win32_TSLicenseServer).Count,
         @(Get-CimInstance -ClassName Win32_TSLicenseServer -Namespace 'root\\cimv2').Count,
         @(Get-CimInstance -ClassName Win32_TSLicenseServer -Namespace 'root/cimv2').Count,
         @(Get-CimInstance -ClassName win32_tslicenseserver -Namespace 'ROOT\\CIMV2').Count,
         (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseServer -Namespace 'root/cimv2/TerminalServices' }).hresult,
         (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseServer -Namespace 'root/nothere' }).hresult,
         (Invoke-Captured { Invoke-CimMethod -ClassName Win32_TSLicenseServer -Namespace 'root/cimv2/TerminalServices' -MethodName GetActivationStatus }).hresult,
         (Invoke-Captured { Get-CimInstance -ClassName Win32_NoSuchClass }).hresult)`,
    );
    expect(r).toEqual([1, 1, 1, 1, WBEM.INVALID_CLASS, WBEM.INVALID_NAMESPACE, WBEM.INVALID_CLASS, WBEM.INVALID_CLASS]);
  });

  test("Set-CimInstance writes contact properties from the pipeline, from -InputObject, and from a modified local object", async () => {
    const host = uniqueHost("set");
    const r = await fx.on<{ piped: string; passThru: Record<string, unknown>; local: Record<string, unknown>; names: string }>(
      host,
      `${PS_ROLE}Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ firstname = 'Grace'; LastName = 'Hopper' }
       $piped = (Get-CimInstance -ClassName Win32_TSLicenseServer).FirstName
       $ls = Get-CimInstance -ClassName Win32_TSLicenseServer
       $pt = Set-CimInstance -InputObject $ls -Property @{ Company = 'Navy'; eMail = 'g@navy.example'; OrgUnit = 'R&D'; Address = '1 Main'; City = 'Arlington'; State = 'VA'; PostalCode = '22202'; CountryRegion = 'United States' } -PassThru
       $ls2 = Get-CimInstance -ClassName Win32_TSLicenseServer
       $ls2.City = 'Washington'
       Set-CimInstance -InputObject $ls2
       $log = Get-RdsSimCallLog | Where-Object cmdlet -eq 'Set-CimInstance' | Select-Object -Last 1
       [pscustomobject]@{ piped = $piped; passThru = ($pt | Select-Object FirstName, LastName, Company, eMail, OrgUnit, Address, City, State, PostalCode, CountryRegion)
         local = (Get-CimInstance -ClassName Win32_TSLicenseServer | Select-Object City, Company); names = ($log.properties -join ',') }`,
    );
    expect(r.piped).toBe("Grace");
    expect(r.passThru).toEqual({
      FirstName: "Grace",
      LastName: "Hopper",
      Company: "Navy",
      eMail: "g@navy.example",
      OrgUnit: "R&D",
      Address: "1 Main",
      City: "Arlington",
      State: "VA",
      PostalCode: "22202",
      CountryRegion: "United States",
    });
    expect(r.local).toEqual({ City: "Washington", Company: "Navy" });
    // Without -Property only the changed property is written (and logged by name).
    expect(r.names).toBe("City");
  });

  test("Set-CimInstance refuses read-only and unknown properties, and non-string values for string properties", async () => {
    const host = uniqueHost("setbad");
    const r = await fx.on<Record<string, number>>(
      host,
      `${PS_ROLE}$ls = Get-CimInstance -ClassName Win32_TSLicenseServer
       [pscustomobject]@{
         productId = (Invoke-Captured { Set-CimInstance -InputObject $ls -Property @{ ProductId = 'x' } }).hresult
         serverRole = (Invoke-Captured { Set-CimInstance -InputObject $ls -Property @{ ServerRole = [uint32]0 } }).hresult
         activationStatus = (Invoke-Captured { Set-CimInstance -InputObject $ls -Property @{ ActivationStatus = 0 } }).hresult
         array = (Invoke-Captured { Set-CimInstance -InputObject $ls -Property @{ FirstName = @('a','b') } }).hresult
         notCim = (Invoke-Captured { Set-CimInstance -InputObject ([pscustomobject]@{ FirstName = 'x' }) -Property @{ FirstName = 'y' } }).hresult
         unchanged = [int]($null -eq (Get-CimInstance -ClassName Win32_TSLicenseServer).FirstName) }`,
    );
    expect(r).toEqual({
      productId: WBEM.READ_ONLY,
      serverRole: WBEM.READ_ONLY,
      activationStatus: WBEM.NOT_FOUND,
      array: WBEM.TYPE_MISMATCH,
      notCim: WBEM.INVALID_OBJECT_PATH,
      unchanged: 1,
    });
  });

  test("contact values are data: hostile, huge and odd strings come back byte for byte, also from another process", async () => {
    const host = uniqueHost("data");
    const values = {
      FirstName: '"; Remove-Item -Recurse / #',
      LastName: "x".repeat(10_000),
      Company: "nul\u0000in\r\nside\ttab",
      CountryRegion: "\u202Eright-to-left \u05E9\u05DC\u05D5\u05DD \u0627\u0644\u0633\u0644\u0627\u0645",
      eMail: "$(Get-Date) `backtick` ${env:HOME} '@{}' \u{1F600}",
      OrgUnit: "lone \uD800 high and \uDC00 low",
      Address: "\u0000\u0001rds-u16:looks like the storage marker",
      City: "2020-01-01T00:00:00",
      State: "",
      PostalCode: " ",
    };
    const set = `${PS_ROLE}$p = @{}; foreach ($k in $data.values.Keys) { $p[$k] = $data.values[$k] }
      Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property $p
      Get-CimInstance -ClassName Win32_TSLicenseServer | Select-Object FirstName, LastName, Company, CountryRegion, eMail, OrgUnit, Address, City, State, PostalCode`;
    const same = await fx.on<Record<string, string>>(host, set, { values });
    expect(same).toEqual(values);
    const other = await PwshSession.start();
    try {
      await other.importEmulator(fx.stateDir, host);
      const fresh = await other.run<Record<string, string>>(
        "Get-CimInstance -ClassName Win32_TSLicenseServer | Select-Object FirstName, LastName, Company, CountryRegion, eMail, OrgUnit, Address, City, State, PostalCode",
      );
      expect(fresh).toEqual(values);
      const admin = await other.run<Record<string, string>>("(Get-RdsSimHost).licenseServer.contact");
      expect(admin).toEqual(values);
    } finally {
      await other.close();
    }
    // And the values really are stored as data, not evaluated: nothing was removed, nothing expanded.
    expect(same.eMail.startsWith("$(Get-Date)")).toBe(true);
  });
});

describe("activation (docs/windows-facts.md#activation-methods, #activation-paths)", () => {
  test("a fresh server is not activated: status 1, and GetLicenseServerId has no id to give", async () => {
    const host = uniqueHost("act");
    const r = await fx.on<{ status: MethodResult; id: MethodResult }>(
      host,
      `${PS_ROLE}[pscustomobject]@{ status = (${CALL("GetActivationStatus")}); id = (${CALL("GetLicenseServerId")}) }`,
    );
    expect(r.status).toEqual({ ReturnValue: 0, ActivationStatus: 1 });
    expect(r.id).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, sLicenseServerId: null });
  });

  test("ActivateServerAutomatic needs FirstName, LastName, Company and CountryRegion set first", async () => {
    const host = uniqueHost("act");
    const r = await fx.on<Array<MethodResult>>(
      host,
      `${PS_ROLE}$a = ${CALL("ActivateServerAutomatic")}
       Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = 'Ada'; LastName = 'Lovelace'; Company = 'Contoso'; CountryRegion = '   ' }
       $b = ${CALL("ActivateServerAutomatic")}
       Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ CountryRegion = 'United Kingdom' }
       $c = ${CALL("ActivateServerAutomatic")}
       $d = ${CALL("ActivateServerAutomatic")}
       ,@($a, $b, $c, $d, (${CALL("GetActivationStatus")}))`,
    );
    expect(r[0]).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r[1]).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r[2]).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
    expect(r[3]).toEqual({ ReturnValue: 0, ActivationStatus: 0 }); // already activated: adopted, not an error
    expect(r[4]).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
  });

  test("the license server id after activation is the Clearinghouse's deterministic 35-character id for the product id", async () => {
    const host = uniqueHost("act");
    const r = await fx.on<{ id: string; expected: string; again: string; host: Record<string, unknown> }>(
      host,
      `${PS_ACTIVATED}$pid_ = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       [pscustomobject]@{ id = (${CALL("GetLicenseServerId")}).sLicenseServerId
         expected = Get-RdsSimClearinghouseLicenseServerId -ProductId $pid_
         again = Get-RdsSimClearinghouseLicenseServerId -ProductId $pid_
         host = (Get-RdsSimHost).licenseServer | Select-Object activated, activationMethod, activationStatus }`,
    );
    expect(r.id).toMatch(/^[A-Z0-9]{35}$/);
    expect(r.id).toBe(r.expected);
    expect(r.again).toBe(r.expected);
    expect(r.host).toEqual({ activated: true, activationMethod: "automatic", activationStatus: 0 });
  });

  test("ActivateServer (web/telephone) takes the Clearinghouse id, without contact data or Internet", async () => {
    const host = uniqueHost("offline");
    const r = await fx.on<{ result: MethodResult; lower: MethodResult; status: number; method: string }>(
      host,
      `${PS_ROLE}Set-RdsSimFault -Fault clearinghouseUnreachable -Value $true | Out-Null
       $id = Get-RdsSimClearinghouseLicenseServerId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $result = ${CALL("ActivateServer", "@{ sLicenseServerId = $id }")}
       $lower = ${CALL("ActivateServer", "@{ sLicenseServerId = $id.ToLowerInvariant() }")}
       [pscustomobject]@{ result = $result; lower = $lower; status = (${CALL("GetActivationStatus")}).ActivationStatus; method = (Get-RdsSimHost).licenseServer.activationMethod }`,
    );
    expect(r.result).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
    expect(r.lower).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
    expect(r.status).toBe(0);
    expect(r.method).toBe("licenseServerId");
  });

  test("ActivateServer checks the 35-character format (WMI itself takes no hyphens) and that the Clearinghouse issued it", async () => {
    const host = uniqueHost("format");
    const good = await fx.on<string>(
      host,
      `${PS_ROLE}Get-RdsSimClearinghouseLicenseServerId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId`,
    );
    const grouped = good.match(/.{5}/g)!.join("-");
    const candidates = [
      good.slice(0, 34), // 34 characters
      good + "A", // 36 characters
      grouped, // the 7x5 display form with hyphens
      good.slice(0, 17) + " " + good.slice(18), // a space
      good.slice(0, 34) + "\u0663", // a non-ASCII (Arabic-Indic) digit
      good.slice(0, 34) + "_", // punctuation
      good + "\n", // trailing newline
      "",
      await fx.on<string>(host, "Get-RdsSimClearinghouseLicenseServerId -ProductId '00000-00000-00000-AA000'"), // another server's id
    ];
    const r = await fx.on<MethodResult[]>(
      host,
      `,@(foreach ($c in $data.candidates) { ${CALL("ActivateServer", "@{ sLicenseServerId = $c }")} })
      `,
      { candidates },
    );
    expect(r).toHaveLength(candidates.length);
    for (const one of r) expect(one).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(await fx.on<number>(host, `(${CALL("GetActivationStatus")}).ActivationStatus`)).toBe(1);
    const missing = await fx.on<MethodResult>(host, CALL("ActivateServer"));
    expect(missing).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
  });

  test("DeactivateServer takes the telephone confirmation code; the id is gone afterwards", async () => {
    const host = uniqueHost("deact");
    const r = await fx.on<{
      notActive: MethodResult;
      wrong: MethodResult;
      bad: MethodResult;
      ok: MethodResult;
      status: number;
      id: MethodResult;
    }>(
      host,
      `${PS_ROLE}$pid_ = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $code = Get-RdsSimClearinghouseConfirmationCode -ProductId $pid_
       $notActive = ${CALL("DeactivateServer", "@{ sConfirmCode = $code }")}
       $null = ${CALL("ActivateServer", "@{ sLicenseServerId = (Get-RdsSimClearinghouseLicenseServerId -ProductId $pid_) }")}
       $wrong = ${CALL("DeactivateServer", "@{ sConfirmCode = (Get-RdsSimClearinghouseConfirmationCode -ProductId 'other') }")}
       $bad = ${CALL("DeactivateServer", "@{ sConfirmCode = 'ABC-DEF' }")}
       $ok = ${CALL("DeactivateServer", "@{ sConfirmCode = $code }")}
       [pscustomobject]@{ notActive = $notActive; wrong = $wrong; bad = $bad; ok = $ok
         status = (${CALL("GetActivationStatus")}).ActivationStatus; id = (${CALL("GetLicenseServerId")}) }`,
    );
    expect(r.notActive).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, ActivationStatus: null });
    expect(r.wrong).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r.bad).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r.ok).toEqual({ ReturnValue: 0, ActivationStatus: 1 });
    expect(r.status).toBe(1);
    expect(r.id).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, sLicenseServerId: null });
  });

  test("DeactivateServerAutomatic needs only FirstName and LastName, and the Clearinghouse", async () => {
    const host = uniqueHost("deauto");
    const r = await fx.on<MethodResult[]>(
      host,
      `${PS_ROLE}$pid_ = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $notActive = ${CALL("DeactivateServerAutomatic")}
       $null = ${CALL("ActivateServer", "@{ sLicenseServerId = (Get-RdsSimClearinghouseLicenseServerId -ProductId $pid_) }")}
       $noName = ${CALL("DeactivateServerAutomatic")}
       Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = 'Ada'; LastName = 'Lovelace' }
       Set-RdsSimFault -Fault clearinghouseUnreachable -Value $true | Out-Null
       $offline = ${CALL("DeactivateServerAutomatic")}
       Clear-RdsSimFault -Fault clearinghouseUnreachable | Out-Null
       $ok = ${CALL("DeactivateServerAutomatic")}
       ,@($notActive, $noName, $offline, $ok, (${CALL("GetActivationStatus")}))`,
    );
    expect(r[0]).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, ActivationStatus: null });
    expect(r[1]).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r[2]).toEqual({ ReturnValue: WBEM.NOT_AVAILABLE, ActivationStatus: null });
    expect(r[3]).toEqual({ ReturnValue: 0, ActivationStatus: 1 });
    expect(r[4]).toEqual({ ReturnValue: 0, ActivationStatus: 1 });
  });

  test("ReactivateServer is for an activated server (documented): refused never activated and deactivated (emulator's choice), then the Clearinghouse id", async () => {
    const host = uniqueHost("react");
    const r = await fx.on<MethodResult[]>(
      host,
      `${PS_ROLE}$id = Get-RdsSimClearinghouseLicenseServerId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $never = ${CALL("ReactivateServer", "@{ sNewLicenseServerId = $id }")}
       $null = ${CALL("ActivateServer", "@{ sLicenseServerId = $id }")}
       $code = Get-RdsSimClearinghouseConfirmationCode -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $null = ${CALL("DeactivateServer", "@{ sConfirmCode = $code }")}
       $deactivated = ${CALL("ReactivateServer", "@{ sNewLicenseServerId = $id }")}
       $again = ${CALL("ActivateServer", "@{ sLicenseServerId = $id }")}
       $hyphen = ${CALL("ReactivateServer", "@{ sNewLicenseServerId = ($id.Substring(0, 5) + '-' + $id.Substring(5, 29)) }")}
       $wrong = ${CALL("ReactivateServer", "@{ sNewLicenseServerId = (Get-RdsSimClearinghouseLicenseServerId -ProductId 'x') }")}
       $ok = ${CALL("ReactivateServer", "@{ sNewLicenseServerId = $id }")}
       ,@($never, $deactivated, $again, $hyphen, $wrong, $ok, (${CALL("GetActivationStatus")}), [pscustomobject]@{ ReturnValue = 0; reactivations = (Get-RdsSimHost).licenseServer.reactivations })`,
    );
    expect(r[0]).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, ActivationStatus: null });
    expect(r[1]).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, ActivationStatus: null });
    expect(r[2]).toEqual({ ReturnValue: 0, ActivationStatus: 0 }); // a deactivated server activates with ActivateServer
    expect(r[3]).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r[4]).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r[5]).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
    expect(r[6]).toEqual({ ReturnValue: 0, ActivationStatus: 0 });
    expect(r[7]).toEqual({ ReturnValue: 0, reactivations: 1 });
  });

  test("Activate* on a server that is not activated works whatever its history: activated, deactivated, activated again", async () => {
    const host = uniqueHost("reactivate-free");
    const r = await fx.on<MethodResult[]>(
      host,
      `${PS_ROLE}${PS_CONTACT}$first = ${CALL("ActivateServerAutomatic")}
       $null = ${CALL("DeactivateServerAutomatic")}
       $auto = ${CALL("ActivateServerAutomatic")}
       $null = ${CALL("DeactivateServerAutomatic")}
       $id = Get-RdsSimClearinghouseLicenseServerId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $byId = ${CALL("ActivateServer", "@{ sLicenseServerId = $id }")}
       ,@($first, $auto, $byId, [pscustomobject]@{ ReturnValue = 0; reactivations = (Get-RdsSimHost).licenseServer.reactivations })`,
    );
    expect(r).toEqual([
      { ReturnValue: 0, ActivationStatus: 0 },
      { ReturnValue: 0, ActivationStatus: 0 },
      { ReturnValue: 0, ActivationStatus: 0 },
      { ReturnValue: 0, reactivations: 0 },
    ]);
  });

  test("ReactivateServerAutomatic takes Reason 0..4 (docs/windows-facts.md#reactivation-reason) and needs FirstName, LastName and the Clearinghouse", async () => {
    const host = uniqueHost("reauto");
    const never = await fx.on<MethodResult>(host, `${PS_ROLE}${PS_CONTACT}${CALL("ReactivateServerAutomatic", "@{ Reason = [uint32]0 }")}`);
    expect(never).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, ActivationStatus: null });
    const deactivated = await fx.on<MethodResult>(
      host,
      `$null = ${CALL("ActivateServerAutomatic")}
       $null = ${CALL("DeactivateServerAutomatic")}
       ${CALL("ReactivateServerAutomatic", "@{ Reason = [uint32]0 }")}`,
    );
    expect(deactivated).toEqual({ ReturnValue: WBEM.INVALID_OPERATION, ActivationStatus: null });
    const r = await fx.on<{ reasons: MethodResult[]; five: MethodResult; missing: MethodResult; last: number; count: number }>(
      host,
      `$null = ${CALL("ActivateServerAutomatic")}
       $reasons = foreach ($reason in 0..4) { ${CALL("ReactivateServerAutomatic", "@{ Reason = [uint32]$reason }")} }
       [pscustomobject]@{ reasons = @($reasons)
         five = ${CALL("ReactivateServerAutomatic", "@{ Reason = [uint32]5 }")}
         missing = ${CALL("ReactivateServerAutomatic")}
         last = (Get-RdsSimHost).licenseServer.lastReactivationReason
         count = (Get-RdsSimHost).licenseServer.reactivations }`,
    );
    expect(r.reasons).toEqual(Array(5).fill({ ReturnValue: 0, ActivationStatus: 0 }));
    expect(r.five).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r.missing).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null });
    expect(r.last).toBe(4);
    expect(r.count).toBe(5);
    const r2 = await fx.on<MethodResult[]>(
      host,
      `Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ LastName = '' }
       $noName = ${CALL("ReactivateServerAutomatic", "@{ Reason = [uint32]1 }")}
       Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ LastName = 'Lovelace' }
       Set-RdsSimFault -Fault clearinghouseUnreachable -Value 'true' | Out-Null
       $offline = ${CALL("ReactivateServerAutomatic", "@{ Reason = [uint32]1 }")}
       Clear-RdsSimFault | Out-Null
       ,@($noName, $offline)`,
    );
    expect(r2).toEqual([
      { ReturnValue: WBEM.INVALID_PARAMETER, ActivationStatus: null },
      { ReturnValue: WBEM.NOT_AVAILABLE, ActivationStatus: null },
    ]);
  });

  test("ChangeRole sets ServerRole 0/1/2 (docs/windows-facts.md#server-role); a workgroup server can only use 0", async () => {
    const host = uniqueHost("role");
    const r = await fx.on<Array<[number, number]>>(
      host,
      `${PS_ROLE},@(foreach ($role in 0, 2, 1, 3) {
         $res = ${CALL("ChangeRole", "@{ ServerRole = [uint32]$role }")}
         ,@($res.ReturnValue, (Get-CimInstance -ClassName Win32_TSLicenseServer).ServerRole) })`,
    );
    expect(r).toEqual([
      [0, 0],
      [0, 2],
      [0, 1],
      [WBEM.INVALID_PARAMETER, 1],
    ]);
    const wg = uniqueHost("role");
    const w = await fx.on<number[]>(
      wg,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ domain = $null } | Out-Null
       ,@((${CALL("ChangeRole", "@{ ServerRole = [uint32]1 }")}).ReturnValue, (${CALL("ChangeRole", "@{ ServerRole = [uint32]0 }")}).ReturnValue, (Get-CimInstance -ClassName Win32_TSLicenseServer).ServerRole)`,
    );
    expect(w).toEqual([WBEM.INVALID_OPERATION, 0, 0]);
  });

  test("ChangeRole needs the rights documented (docs/windows-facts.md#server-role): 1 Domain Admins, 2 Enterprise Admins (host fact callerRights)", async () => {
    const host = uniqueHost("rights");
    const r = await fx.on<Record<string, number[]>>(
      host,
      `${PS_ROLE}$tries = [ordered]@{}
       foreach ($rights in 'localAdmin', 'domainAdmin', 'enterpriseAdmin') {
         Set-RdsSimHostConfig -Settings @{ callerRights = $rights } | Out-Null
         $tries[$rights] = @(foreach ($role in 2, 1, 0) {
           (${CALL("ChangeRole", "@{ ServerRole = [uint32]$role }")}).ReturnValue
           (Get-CimInstance -ClassName Win32_TSLicenseServer).ServerRole })
       }
       [pscustomobject]$tries`,
    );
    // Each pair: ChangeRole's answer, then ServerRole after it (1 at first; a refusal changes nothing).
    expect(r).toEqual({
      localAdmin: [WBEM.ACCESS_DENIED, 1, WBEM.ACCESS_DENIED, 1, 0, 0],
      domainAdmin: [WBEM.ACCESS_DENIED, 0, 0, 1, 0, 0],
      enterpriseAdmin: [0, 2, 0, 1, 0, 0],
    });
    // The default account (no fact set) is an Enterprise Admin; setting it back removes the stored fact.
    const view = await fx.on<{ config: Record<string, unknown> }>(
      host,
      "Set-RdsSimHostConfig -Settings @{ callerRights = 'enterpriseAdmin' }",
    );
    expect(view.config.callerRights).toBeUndefined();
    const bad = await fx.capture(host, "Set-RdsSimHostConfig -Settings @{ callerRights = 'root' }");
    expect(bad).toMatchObject({ ok: false, type: "System.ArgumentException" });
  });

  test("rds-sim host set --caller-rights sets the fact (the CLI's main and its real pwsh driver); a bad value is a usage error", async () => {
    const host = uniqueHost("cli-rights");
    let out = "";
    const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (out += t), cwd: fx.stateDir, env: {} };
    expect(await main(["--state-dir", fx.stateDir, "host", "set", host, "--caller-rights", "domain-admin"], io)).toBe(0);
    expect(out).toBe(`${host}: calling account domain-admin\n`);
    const view = await fx.on<{ config: Record<string, unknown> }>(host, "Get-RdsSimHost");
    expect(view.config.callerRights).toBe("domainAdmin");
    out = "";
    expect(await main(["--state-dir", fx.stateDir, "host", "set", host, "--caller-rights", "root"], io)).not.toBe(0);
    expect(out).toContain("--caller-rights");
  });

  test("activation status 2 (unknown) is reported while the activationStatusUnknown fault is on", async () => {
    const host = uniqueHost("unknown");
    const r = await fx.on<number[]>(
      host,
      `${PS_ACTIVATED}Set-RdsSimFault -Fault activationStatusUnknown -Value $true | Out-Null
       $a = (${CALL("GetActivationStatus")}).ActivationStatus
       Clear-RdsSimFault -Fault activationStatusUnknown | Out-Null
       ,@($a, (${CALL("GetActivationStatus")}).ActivationStatus)`,
    );
    expect(r).toEqual([2, 0]);
  });

  test("a rebuilt server (new product id) is no longer activated and needs the id for its new product id", async () => {
    const host = uniqueHost("rebuild");
    const r = await fx.on<{ before: string; after: string; status: number; oldId: number; newId: number }>(
      host,
      `${PS_ACTIVATED}$before = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $oldId = Get-RdsSimClearinghouseLicenseServerId -ProductId $before
       Set-RdsSimHostConfig -Settings @{ productId = '00490-92005-99454-AT527' } | Out-Null
       $after = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       [pscustomobject]@{ before = $before; after = $after; status = (${CALL("GetActivationStatus")}).ActivationStatus
         oldId = (${CALL("ActivateServer", "@{ sLicenseServerId = $oldId }")}).ReturnValue
         newId = (${CALL("ActivateServer", "@{ sLicenseServerId = (Get-RdsSimClearinghouseLicenseServerId -ProductId $after) }")}).ReturnValue }`,
    );
    expect(r.before).not.toBe(r.after);
    expect(r.after).toBe("00490-92005-99454-AT527");
    expect(r.status).toBe(1);
    expect(r.oldId).toBe(WBEM.INVALID_PARAMETER);
    expect(r.newId).toBe(0);
  });

  test("static methods also work through the instance; real methods the emulator does not model answer WBEM_E_NOT_SUPPORTED", async () => {
    const host = uniqueHost("misc");
    const r = await fx.on<number[]>(
      host,
      `${PS_ROLE}$ls = Get-CimInstance -ClassName Win32_TSLicenseServer
       ,@((Invoke-CimMethod -InputObject $ls -MethodName GetActivationStatus).ActivationStatus,
          (${CALL("CreateTSCGroup")}).ReturnValue,
          (${CALL("IsTSCGroupPresent")}).ReturnValue,
          (${CALL("IsLSPublished")}).ReturnValue)`,
    );
    expect(r).toEqual([1, WBEM.NOT_SUPPORTED, WBEM.NOT_SUPPORTED, WBEM.NOT_SUPPORTED]);
  });
});
