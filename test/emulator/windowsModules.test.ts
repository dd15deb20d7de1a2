/**
 * Conformance of the emulator's Windows module surface that public scripts use besides CIM/WMI: the
 * modules by their real names (RemoteDesktop, RemoteDesktopServices), the RDS: drive's license server
 * paths, -ComputerName on the feature, service and restart stand-ins, the RDMS cmdlets' $Error, and an
 * SPLA pack with an 8-digit agreement number. Each test names the Windows behaviour it reproduces and its
 * source (provider/emulator/README.md, "Windows modules by name" and "-ComputerName on the feature,
 * service and restart stand-ins"; docs/windows-facts.md); where Windows' answer is not documented the
 * README marks the emulator's choice.
 *
 * Real: pwsh 7, the emulator module provider/emulator/RdsEmulator.psm1 and its module folders
 * (provider/emulator/modules/RemoteDesktop, RemoteDesktopServices), the real PowerShell providers the
 * stand-ins hand other paths to. Stands in: the emulator stands in for Windows (WMI, ServerManager, the
 * service controller, the RDMS module, the RDS: provider) and for Microsoft's Clearinghouse.
 */
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("modules");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

/** PowerShell: import the RDS: drive for one test and remove it afterwards (the session is shared). */
const WITH_DRIVE = (body: string) =>
  `Import-Module RemoteDesktopServices\ntry {\n${body}\n} finally { Remove-Module RemoteDesktopServices }`;
const CONTACT_VIA_DRIVE =
  "foreach ($f in @(@('FirstName','Ada'), @('LastName','Lovelace'), @('Company','Contoso'), @('CountryRegion','United Kingdom'))) { Set-Item -Path \"RDS:\\LicenseServer\\Configuration\\$($f[0])\" -Value $f[1] }\n";

describe("modules by their real names (RemoteDesktop: the RDMS module; RemoteDesktopServices: the RDS: provider)", () => {
  test("Get-Module -ListAvailable lists both, Import-Module by name loads them, and a DSC resource's Assert-Module passes", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("mods"),
      `function Assert-Module([string]$ModuleName) { if (-not (Get-Module -Name $ModuleName -ListAvailable)) { throw "Please ensure that the PowerShell module '$ModuleName' is installed." } }
       Assert-Module -ModuleName RemoteDesktop
       Assert-Module -ModuleName RemoteDesktopServices
       $listed = @(Get-Module -ListAvailable -Name RemoteDesktop, RemoteDesktopServices | ForEach-Object Name | Sort-Object -Unique)
       Import-Module RemoteDesktop
       $rdms = @(Get-Command -Module RemoteDesktop | ForEach-Object Name | Sort-Object)
       $source = (Get-Command Get-RDLicenseConfiguration).Source
       Remove-Module RemoteDesktop
       [pscustomobject]@{ listed = $listed; rdms = $rdms; source = $source; stillThere = [bool](Get-Command Get-RDLicenseConfiguration -ErrorAction Ignore) }`,
    );
    expect(r).toEqual({
      listed: ["RemoteDesktop", "RemoteDesktopServices"],
      rdms: ["Get-RDLicenseConfiguration", "Set-RDLicenseConfiguration"],
      source: "RemoteDesktop",
      // The operation scripts never import RemoteDesktop: the emulator keeps exporting the RDMS stand-ins.
      stillThere: true,
    });
  });

  test("the RDS: drive exists only once RemoteDesktopServices is imported (Windows: the module registers the provider), and RDS:\\LicenseServer only with the licensing role", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("drive"),
      `$before = Invoke-Captured { Get-Item RDS:\\LicenseServer -ErrorAction Stop }
       ${WITH_DRIVE(`$noRole = Test-Path RDS:\\LicenseServer
       ${PS_ROLE}
       [pscustomobject]@{
         beforeImport = $before.type
         noRole = $noRole
         withRole = Test-Path RDS:\\LicenseServer
         container = Test-Path RDS:\\LicenseServer\\Configuration -PathType Container
         leaf = Test-Path RDS:\\LicenseServer\\ActivationStatus -PathType Leaf
         children = @(Get-ChildItem RDS:\\LicenseServer | ForEach-Object { '{0}:{1}' -f $_.Name, $_.Type })
         fields = @(Get-ChildItem rds:/licenseserver/configuration -Name)
       }`)}`,
    );
    expect(r).toEqual({
      beforeImport: "System.Management.Automation.DriveNotFoundException",
      noRole: false,
      withRole: true,
      container: true,
      leaf: true,
      children: ["Configuration:Container", "ActivationStatus:Integer", "LicenseKeyPacks:Container"],
      fields: ["FirstName", "LastName", "Company", "CountryRegion", "eMail", "OrgUnit", "Address", "City", "State", "PostalCode"],
    });
  });
});

describe("the RDS: license server paths go through the same object model as WMI", () => {
  test("Set-Item Configuration\\<field> writes the Win32_TSLicenseServer property; ActivationStatus 1 -ConnectionMethod AUTO -Reason 5 activates (CurrentValue 1 = activated); 0 deactivates; -Reason 0..4 on an activated server reactivates", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("drivewrite"),
      `${PS_ROLE}${WITH_DRIVE(`${CONTACT_VIA_DRIVE}
       $cim = Get-CimInstance -ClassName Win32_TSLicenseServer
       $s0 = (Get-Item RDS:\\LicenseServer\\ActivationStatus).CurrentValue
       Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 1 -ConnectionMethod AUTO -Reason 5
       $wmi1 = (Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName GetActivationStatus).ActivationStatus
       $s1 = (Get-Item RDS:\\LicenseServer\\ActivationStatus).CurrentValue
       Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 1 -ConnectionMethod AUTO -Reason 2
       $reactivations = (Get-RdsSimHost).licenseServer.reactivations
       Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 0 -ConnectionMethod AUTO
       $s2 = (Get-Item RDS:\\LicenseServer\\ActivationStatus).CurrentValue
       [pscustomobject]@{
         contact = @($cim.FirstName, $cim.LastName, $cim.Company, $cim.CountryRegion)
         readBack = (Get-Item RDS:\\LicenseServer\\Configuration\\Company).CurrentValue
         states = @($s0, $wmi1, $s1, $s2)
         reactivations = $reactivations
         methods = @(Get-RdsSimCallLog | Where-Object { $_.cmdlet -eq 'Set-Item' -and $_.method } | ForEach-Object method)
       }`)}`,
    );
    expect(r).toEqual({
      contact: ["Ada", "Lovelace", "Contoso", "United Kingdom"],
      readBack: "Contoso",
      states: [0, 0, 1, 0],
      reactivations: 1,
      methods: ["ActivateServerAutomatic", "ReactivateServerAutomatic", "DeactivateServerAutomatic"],
    });
  });

  test("key packs: Get-ChildItem RDS:\\LicenseServer\\LicenseKeyPacks\\*\\TotalLicenses gives each pack's count (the built-in pack 4294967295), as the public CAL checks read it", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("drivepacks"),
      `${PS_ROLE}${WITH_DRIVE(`${CONTACT_VIA_DRIVE}
       Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 1 -ConnectionMethod AUTO -Reason 5
       $null = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]0; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]50 }
       [pscustomobject]@{
         packs = @(Get-ChildItem RDS:\\LicenseServer\\LicenseKeyPacks -Name)
         totals = @((Get-ChildItem RDS:\\LicenseServer\\LicenseKeyPacks\\*\\TotalLicenses).CurrentValue)
         issued = (Get-Item RDS:\\LicenseServer\\LicenseKeyPacks\\3\\IssuedLicensesCount).CurrentValue
         model = (Get-Item RDS:\\LicenseServer\\LicenseKeyPacks\\3\\TypeAndModel).CurrentValue
       }`)}`,
    );
    expect(r).toEqual({ packs: ["2", "3"], totals: [4294967295, 50], issued: 0, model: "RDS Per User CAL" });
  });

  test("failures: the method's ReturnValue becomes one error record with its WBEM code (contact missing, Clearinghouse unreachable); unknown and read-only items; -ConnectionMethod other than AUTO", async () => {
    const host = uniqueHost("drivefail");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}${WITH_DRIVE(`$Error.Clear()
       Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 1 -ConnectionMethod AUTO -Reason 5 -ErrorAction SilentlyContinue -ErrorVariable e1
       $errorCount = $Error.Count
       ${CONTACT_VIA_DRIVE}
       Set-RdsSimFault -Fault clearinghouseUnreachable -Value $true | Out-Null
       $e2 = Invoke-Captured { Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 1 -ConnectionMethod AUTO -Reason 5 -ErrorAction Stop }
       Clear-RdsSimFault | Out-Null
       $e3 = Invoke-Captured { Get-Item RDS:\\LicenseServer\\Nope -ErrorAction Stop }
       $e4 = Invoke-Captured { Set-Item -Path RDS:\\LicenseServer\\LicenseKeyPacks -Value 1 -ErrorAction Stop }
       $e5 = Invoke-Captured { Set-Item -Path RDS:\\LicenseServer\\ActivationStatus -Value 1 -ConnectionMethod WEB -ErrorAction Stop }
       [pscustomobject]@{
         missingContact = @((ConvertTo-RdsUnsignedHResult $e1[0].Exception.HResult), $errorCount, $e1.Count)
         unreachable = $e2.hresult
         unknown = $e3.errorId
         readOnly = $e4.errorId
         web = $e5.errorId
         activated = (Get-RdsSimHost).licenseServer.activated
       }`)}`,
    );
    expect(r).toEqual({
      missingContact: [WBEM.INVALID_PARAMETER, 1, 1],
      unreachable: WBEM.NOT_AVAILABLE,
      unknown: "PathNotFound,Get-Item",
      readOnly: "InvalidOperation,Set-Item",
      web: "InvalidArgument,Set-Item",
      activated: false,
    });
  });

  test("every other path goes to the real cmdlet in the caller's scope: Test-Path / Set-Item / Get-Item on variable: see the caller's locals; a missing file is one PathNotFound record; -ConnectionMethod elsewhere is a parameter-binding error", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("passthru"),
      WITH_DRIVE(`function Test-Inner { $local = 5; Set-Item -Path variable:written -Value 7; @((Test-Path variable:local), (Get-Item variable:local).Value, $written) }
       $inner = Test-Inner
       $Error.Clear()
       Get-Item -Path ([System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'rds-no-such-file')) -ErrorAction SilentlyContinue -ErrorVariable missing
       $missingCount = $Error.Count
       $binding = Invoke-Captured { Set-Item -Path variable:x -Value 1 -ConnectionMethod AUTO }
       [pscustomobject]@{
         inner = $inner
         missing = @($missing.Count, $missingCount, $missing[0].CategoryInfo.Category.ToString())
         binding = $binding.type
         tmp = (Get-Item -Path ([System.IO.Path]::GetTempPath())).PSIsContainer
       }`),
    );
    expect(r).toEqual({
      inner: [true, 5, 7],
      missing: [1, 1, "ObjectNotFound"],
      binding: "System.Management.Automation.ParameterBindingException",
      tmp: true,
    });
  });
});

describe("-ComputerName on the feature, service and restart stand-ins (one pwsh drives the simulated farm)", () => {
  test("Get-WindowsFeature / Install-WindowsFeature -ComputerName address the named host (localhost addresses this one); an unknown name is WinRM's error", async () => {
    const here = uniqueHost("feathere");
    const there = uniqueHost("featthere");
    await fx.on(there, "Set-RdsSimHostConfig -Settings @{ osVersion = '2022' } | Out-Null");
    const r = await fx.on<Record<string, unknown>>(
      here,
      `$install = Install-WindowsFeature -Name RDS-Licensing -ComputerName $data.there
       $unknown = Invoke-Captured { Get-WindowsFeature -Name RDS-Licensing -ComputerName 'no-such-host' -ErrorAction Stop }
       [pscustomobject]@{
         exitCode = [string]$install.ExitCode
         there = (Get-WindowsFeature -Name RDS-Licensing -ComputerName $data.there).Installed
         here = (Get-WindowsFeature -Name RDS-Licensing).Installed
         localhost = (Get-WindowsFeature -Name RDS-Licensing -ComputerName localhost).Installed
         unknown = @($unknown.errorId, $unknown.message)
       }`,
      { there },
    );
    expect(r).toEqual({
      exitCode: "Success",
      there: true,
      here: false,
      localhost: false,
      unknown: ["HRESULT 0x80338126,Get-WindowsFeature", expect.stringMatching(/^WinRM cannot complete the operation/)],
    });
  });

  test("Get-Service -ComputerName (Windows PowerShell 5.1) reads the named hosts; an unknown one is 'Cannot open Service Control Manager'", async () => {
    const here = uniqueHost("svchere");
    const there = uniqueHost("svcthere");
    await fx.on(there, "Set-RdsSimHostConfig -Settings @{ roleInstalled = $true } | Out-Null");
    const r = await fx.on<Record<string, unknown>>(
      here,
      `${PS_ROLE}$Error.Clear()
       $rows = @(Get-Service -Name TermServLicensing -ComputerName $data.there, '.' , 'no-such-host' -ErrorAction SilentlyContinue -ErrorVariable e)
       [pscustomobject]@{ statuses = @($rows | ForEach-Object { [string]$_.Status }); error = @($e[0].FullyQualifiedErrorId, $e[0].Exception.Message); count = $Error.Count }`,
      { there },
    );
    expect(r).toEqual({
      statuses: ["Running", "Running"],
      error: [
        "System.InvalidOperationException,Get-Service",
        "Cannot open Service Control Manager on computer 'no-such-host'. This operation might require other privileges.",
      ],
      count: 1,
    });
  });

  test("Restart-Computer -ComputerName restarts the named host, not this one; an unknown name is RestartcomputerFailed (RPC server unavailable)", async () => {
    const here = uniqueHost("rchere");
    const there = uniqueHost("rcthere");
    await fx.on(there, "Set-RdsSimHostConfig -Settings @{ restartSeconds = 0 } | Out-Null");
    const r = await fx.on<Record<string, unknown>>(
      here,
      `Restart-Computer -ComputerName $data.there -Force
       $unknown = Invoke-Captured { Restart-Computer -ComputerName 'no-such-host' -ErrorAction Stop }
       [pscustomobject]@{ there = (Get-RdsSimRestartState -HostName $data.there).restarts; here = (Get-RdsSimRestartState).restarts; unknown = $unknown.errorId; message = $unknown.message }`,
      { there },
    );
    expect(r.there).toBe(1);
    expect(r.here).toBe(0);
    expect(r.unknown).toBe("RestartcomputerFailed,Restart-Computer");
    expect(r.message).toContain("The RPC server is unavailable");
  });
});

describe("the RDMS cmdlets' $Error (item 4 of issue 19)", () => {
  test("a failing Get-/Set-RDLicenseConfiguration leaves exactly one record in $Error and -ErrorVariable, sets $? to false, and -ErrorAction Stop throws that record", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("rdmserr"),
      `$Error.Clear()
       Get-RDLicenseConfiguration -ErrorAction SilentlyContinue -ErrorVariable e1
       $ok1 = $?
       $c1 = $Error.Count
       $Error.Clear()
       Set-RDLicenseConfiguration -Mode PerUser -Force -ErrorAction SilentlyContinue -ErrorVariable e2
       $c2 = $Error.Count
       $Error.Clear()
       $stop = Invoke-Captured { Get-RDLicenseConfiguration -ConnectionBroker localhost -ErrorAction Stop }
       [pscustomobject]@{ counts = @($c1, $e1.Count, $c2, $e2.Count, $Error.Count); ok = $ok1; stop = $stop.errorId; id = $e1[0].FullyQualifiedErrorId }`,
    );
    expect(r).toEqual({
      counts: [1, 1, 1, 1, 1],
      ok: false,
      stop: "DeploymentNotFound,Get-RDLicenseConfiguration",
      id: "DeploymentNotFound,Get-RDLicenseConfiguration",
    });
  });

  test("-ConnectionBroker names a simulated host by any of its names; a name no host has is 'no deployment' and creates no host", async () => {
    const broker = uniqueHost("rdmscb");
    await fx.on(broker, "Set-RdsSimHostConfig -Settings @{ isConnectionBroker = $true } | Out-Null");
    const r = await fx.on<Record<string, unknown>>(
      broker,
      `Set-RDLicenseConfiguration -Mode PerUser -LicenseServer 'ls1.contoso.com' -Force -ConnectionBroker localhost
       $unknown = Invoke-Captured { Get-RDLicenseConfiguration -ConnectionBroker 'no-such-broker' -ErrorAction Stop }
       [pscustomobject]@{ mode = (Get-RDLicenseConfiguration -ConnectionBroker $data.upper).Mode; unknown = $unknown.errorId; created = @(Get-RdsSimHostList | Where-Object hostName -eq 'no-such-broker').Count }`,
      { upper: broker.toUpperCase() },
    );
    expect(r).toEqual({ mode: "PerUser", unknown: "DeploymentNotFound,Get-RDLicenseConfiguration", created: 0 });
  });
});

describe("an image pipeline's SPLA install (issue 19; docs/windows-facts.md: SPLA agreement numbers have 7 or 8 digits)", () => {
  test("InstallAgreementLicenseKeyPack with AgreementType 4 and an 8-digit number succeeds and the pack count checks out", async () => {
    const r = await fx.on<Record<string, unknown>>(
      uniqueHost("spla"),
      `${PS_ROLE}Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = 'A'; LastName = 'B'; Company = 'C'; CountryRegion = 'United Kingdom' }
       $null = Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServerAutomatic
       $i = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]4; sAgreementNumber = '87654321'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]40 }
       $packs = @(Get-CimInstance -ClassName Win32_TSLicenseKeyPack | Where-Object KeyPackId -ne 2)
       [pscustomobject]@{ rv = $i.ReturnValue; count = $packs.Count; total = $packs[0].TotalLicenses; program = (Get-RdsSimHost).licenseServer.keyPacks[1].program }`,
    );
    expect(r).toEqual({ rv: 0, count: 1, total: 40, program: "spla" });
  });
});
