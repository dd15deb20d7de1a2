/**
 * Conformance tests for -ComputerName / -CimSession on the CIM stand-ins and the WMI dialect: one pwsh
 * drives several simulated hosts, as an admin's script drives a real farm. Real: pwsh and the emulator
 * module (its host resolver, state files and call logs). The emulator stands in for WinRM / DCOM and the
 * remote hosts. Sources: provider/emulator/README.md, "-ComputerName".
 */
import { EmulatorFixture, PS_ROLE, uniqueHost } from "./emulatorKit";

jest.setTimeout(120_000);

let fx: EmulatorFixture;
beforeAll(async () => {
  fx = await EmulatorFixture.start("cn");
});
afterAll(async () => {
  await fx.close();
});

describe("-ComputerName and -CimSession", () => {
  test("the resolver: ., localhost, 127.0.0.1, ::1, the own name (short or FQDN) give the current host; another host's name (short or FQDN) gives that host", async () => {
    const me = `${uniqueHost("me")}.contoso.com`;
    const other = `${uniqueHost("oth")}.contoso.com`;
    const short = other.split(".")[0];
    const r = await fx.on<string[]>(
      me,
      `Set-RdsEmulatorContext -StateDir $data.__dir -HostName $data.other; $null = Get-CimInstance Win32_OperatingSystem
       Set-RdsEmulatorContext -StateDir $data.__dir -HostName $data.me
       & (Get-Module RdsEmulator) { param($names) foreach ($n in $names) { Resolve-RdsSimComputerName $n } } @($null, '', '.', 'LOCALHOST', '127.0.0.1', '::1', $data.meShort, $data.me, $data.short, $data.other.ToUpper())`,
      { me, other, short, meShort: me.split(".")[0] },
    );
    expect(r).toEqual([me, me, me, me, me, me, me, me, other, other]);
  });

  test("Use-RdsSimHost runs a block on another host and always switches back (also when the block throws)", async () => {
    const me = uniqueHost("useme");
    const other = uniqueHost("useoth");
    const r = await fx.on<string[]>(
      me,
      `& (Get-Module RdsEmulator) {
         param($other)
         $inside = Use-RdsSimHost $other { Get-RdsCurrentHost }
         try { Use-RdsSimHost $other { throw 'boom' } } catch { }
         @($inside, (Get-RdsCurrentHost))
       } $data.other`,
      { other },
    );
    expect(r).toEqual([other, me]);
  });

  test("Get-CimInstance / Invoke-CimMethod -ComputerName reach another simulated host; -InputObject goes back to the instance's host; PSComputerName is set", async () => {
    const a = uniqueHost("cna");
    const b = uniqueHost("cnb");
    const r = await fx.on<Record<string, unknown>>(
      b,
      `${PS_ROLE}Set-RdsEmulatorContext -StateDir $data.__dir -HostName $data.a
       $tsB = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting -ComputerName $data.b
       $null = Invoke-CimMethod -InputObject $tsB -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]2 }
       $both = Get-CimInstance -ClassName Win32_OperatingSystem -ComputerName $data.a, $data.b
       [pscustomobject]@{
         bMode = (Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting -ComputerName $data.b).LicensingType
         aMode = (Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting).LicensingType
         names = @($both | ForEach-Object { $_.CSName })
         psc = @($both | ForEach-Object { $_.PSComputerName })
         packsOnB = @(Get-CimInstance Win32_TSLicenseKeyPack -ComputerName $data.b -ErrorAction Stop).Count
       }`,
      { a, b },
    );
    expect(r).toEqual({ bMode: 2, aMode: 5, names: [a.toUpperCase(), b.toUpperCase()], psc: [a, b], packsOnB: 1 });
  });

  test("New-CimSession / -CimSession / Remove-CimSession; Get-WmiObject -ComputerName; both dialects see the same remote state", async () => {
    const a = uniqueHost("sesa");
    const b = uniqueHost("sesb");
    const r = await fx.on<Record<string, unknown>>(
      b,
      `$null = Get-CimInstance -ClassName Win32_OperatingSystem # b exists (a simulated host is one with a state file)
       Set-RdsEmulatorContext -StateDir $data.__dir -HostName $data.a
       $s = New-CimSession -ComputerName $data.b
       $ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting -CimSession $s
       $null = Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ SpecifiedLSList = [string[]]@('ls1', 'ls2') }
       $wmi = Get-WmiObject -Namespace root\\cimv2\\TerminalServices -Class Win32_TerminalServiceSetting -ComputerName $data.b
       $open = @(Get-CimSession).Count
       Remove-CimSession -CimSession $s
       [pscustomobject]@{ server = $wmi.__SERVER; list = @($wmi.GetSpecifiedLicenseServerList().SpecifiedLSList); open = $open; after = @(Get-CimSession).Count; psc = $ts.PSComputerName }`,
      { a, b },
    );
    expect(r).toEqual({ server: b.toUpperCase(), list: ["ls1", "ls2"], open: 1, after: 0, psc: b });
  });

  test("an unknown computer: CIM writes the WinRM CimException record, WMI the RPC-unavailable COMException record; one record each, -ErrorAction Stop throws it", async () => {
    const host = uniqueHost("cnx");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$Error.Clear()
       $x = Get-CimInstance -ClassName Win32_OperatingSystem -ComputerName nosuchhost -ErrorAction SilentlyContinue
       $cim = $Error[0]; $cimCount = $Error.Count
       $Error.Clear()
       $y = Get-WmiObject -Class Win32_OperatingSystem -ComputerName nosuchhost -ErrorAction SilentlyContinue
       $wmi = $Error[0]; $wmiCount = $Error.Count
       $stop = try { Get-CimInstance -ClassName Win32_OperatingSystem -ComputerName nosuchhost -ErrorAction Stop; 'no' } catch { $_.FullyQualifiedErrorId }
       $session = @(New-CimSession -ComputerName nosuchhost -ErrorAction SilentlyContinue).Count
       [pscustomobject]@{
         cimCount = $cimCount; cimId = $cim.FullyQualifiedErrorId; cimType = $cim.Exception.GetType().FullName; cimCat = [string]$cim.CategoryInfo.Category; cimTarget = $cim.TargetObject
         cimMsg = $cim.Exception.Message.StartsWith('WinRM cannot complete the operation.')
         wmiCount = $wmiCount; wmiId = $wmi.FullyQualifiedErrorId; wmiMsg = $wmi.Exception.Message; wmiHr = $wmi.Exception.HResult
         stop = $stop; session = $session
       }`,
    );
    expect(r).toEqual({
      cimCount: 1,
      cimId: "HRESULT 0x80338126,Get-CimInstance",
      cimType: "Microsoft.Management.Infrastructure.CimException",
      cimCat: "ConnectionError",
      cimTarget: "nosuchhost",
      cimMsg: true,
      wmiCount: 1,
      wmiId: "GetWMICOMException,Get-WmiObject",
      wmiMsg: "The RPC server is unavailable. (Exception from HRESULT: 0x800706BA)",
      wmiHr: -2147023174,
      stop: "HRESULT 0x80338126,Get-CimInstance",
      session: 0,
    });
  });
});
