/**
 * The simulated farm of the `rds-licensing check` tests: one license server and N session hosts, built
 * as an administrator would have built it by hand (never through Pulumi), and the problems the tests
 * plant in it. Not a test file.
 *
 * Real: pwsh 7 and the WMI emulator (provider/emulator/RdsEmulator.psm1): the farm is set up with the
 * emulator's admin functions (host facts, Group Policy, network cuts, issued CALs) and its WMI classes
 * (contact, ActivateServerAutomatic, InstallAgreementLicenseKeyPack, ChangeMode,
 * SetSpecifiedLicenseServerList), in one warm pwsh of the test's own (test/helpers/pwshSession.ts).
 * Stands in: Windows (the emulator) and the administrator.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PwshSession } from "../helpers/pwshSession";

export const DOMAIN = "contoso.com";
export const LS = `ls01.${DOMAIN}`;
/** Per User CALs installed (one 2022 agreement pack) and in use in the healthy farm. */
export const INSTALLED_CALS = 60;
export const USERS = 50;

export function hostNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `sh${String(i + 1).padStart(2, "0")}.${DOMAIN}`);
}

/** The problems the Must-show test plants, one host each where a host is concerned. */
export interface Planted {
  wrongMode: string;
  networkCut: string;
  groupPolicy: string;
  /** Per User CALs in use after the over-allocation. */
  usersOver: number;
}

/** PowerShell run in the farm's pwsh: every statement reads its values from $data, never from the text. */
const BUILD = String.raw`
Set-RdsSimHostConfig -HostName $data.ls -Settings @{ domain = $data.domain; osVersion = '2022'; roleInstalled = $true } | Out-Null
Set-RdsEmulatorContext -StateDir $data.dir -HostName $data.ls
Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = 'Ada'; LastName = 'Lovelace'; Company = 'Contoso'; CountryRegion = 'United Kingdom' }
$null = Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServerAutomatic
$pack = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]$data.installed }
Set-RdsSimHostConfig -HostName $data.ls -Settings @{ licenseServersGroup = $true; scpRegistered = $true } | Out-Null
$null = Add-RdsSimIssuedLicense -HostName $data.ls -KeyPackId $pack.KeyPackId -Count $data.users
foreach ($h in $data.hosts) {
  Set-RdsSimHostConfig -HostName $h -Settings @{ domain = $data.domain; osVersion = '2022' } | Out-Null
  Set-RdsEmulatorContext -StateDir $data.dir -HostName $h
  $ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
  $null = Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]4 }
  $null = Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ SpecifiedLSList = [string[]]@($data.ls) }
}
[int64]$pack.KeyPackId
`;

// The over-allocation happens while the server still tracks per-user CALs, and the administrator's usage
// report (RD Licensing Manager's "Create Report", GenerateReportEx) records it; then the server leaves the
// AD group, after which Windows tracks and reports no per-user usage: check counts it from that report.
const PLANT = String.raw`
$null = Add-RdsSimIssuedLicense -HostName $data.ls -KeyPackId $data.keyPackId -Count $data.extraUsers -User 'LATE'
Set-RdsEmulatorContext -StateDir $data.dir -HostName $data.ls
$null = Invoke-CimMethod -ClassName Win32_TSLicenseReport -MethodName GenerateReportEx
Set-RdsSimHostConfig -HostName $data.ls -Settings @{ licenseServersGroup = $false } | Out-Null
$null = Set-RdsSimNetworkCut -From $data.networkCut -To $data.ls
$null = Set-RdsSimGroupPolicy -HostName $data.groupPolicy -LicensingMode 2
Set-RdsEmulatorContext -StateDir $data.dir -HostName $data.wrongMode
$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
$null = Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]2 }
`;

/** What every host looks like to the emulator's admin view (to prove a check changed nothing). */
const SNAPSHOT = String.raw`
$out = [ordered]@{}
foreach ($h in $data.hosts) { $out[$h] = Get-RdsSimHost -HostName $h | ConvertTo-Json -Depth 20 -Compress }
$out
`;

const CALL_LOG = String.raw`
$out = [ordered]@{}
foreach ($h in $data.hosts) { $out[$h] = @(Get-RdsSimCallLog -HostName $h | ForEach-Object { [ordered]@{ cmdlet = [string]$_.cmdlet; className = [string]$_.className; method = [string]$_.method } }) }
$out
`;

export interface CallRow {
  cmdlet: string;
  className: string;
  method: string;
}

/** A farm in its own state directory, driven from one warm pwsh. */
export class Farm {
  keyPackId = 0;
  private constructor(
    readonly session: PwshSession,
    readonly stateDir: string,
    readonly hosts: string[],
  ) {}

  static async build(count: number): Promise<Farm> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-check-farm-"));
    const session = await PwshSession.start();
    await session.importEmulator(stateDir, LS);
    const farm = new Farm(session, stateDir, hostNames(count));
    farm.keyPackId = await session.run<number>(
      BUILD,
      {
        dir: stateDir,
        ls: LS,
        domain: DOMAIN,
        hosts: farm.hosts,
        installed: INSTALLED_CALS,
        users: USERS,
      },
      600_000,
    );
    return farm;
  }

  /** The five problems: license server out of the AD group, Per User over-allocation, a network cut, a policy, a wrong mode. */
  async plant(p: Planted): Promise<void> {
    await this.session.run(PLANT, {
      dir: this.stateDir,
      ls: LS,
      keyPackId: this.keyPackId,
      extraUsers: p.usersOver - USERS,
      networkCut: p.networkCut,
      groupPolicy: p.groupPolicy,
      wrongMode: p.wrongMode,
    });
  }

  /** The administrator's part of the fix: the firewall (network cut) and the Group Policy. */
  async fixNetworkAndPolicy(p: Planted): Promise<void> {
    await this.session.run(
      "$null = Clear-RdsSimNetworkCut -From $data.networkCut -To $data.ls\n$null = Set-RdsSimGroupPolicy -HostName $data.groupPolicy -LicensingMode $null",
      { ls: LS, networkCut: p.networkCut, groupPolicy: p.groupPolicy },
    );
  }

  /** Switches a fault on a host (Set-RdsSimFault), or off with `value` undefined (Clear-RdsSimFault). */
  async fault(host: string, fault: string, value?: unknown): Promise<void> {
    await this.session.run(
      value === undefined
        ? "$null = Clear-RdsSimFault -HostName $data.host -Fault $data.fault"
        : "$null = Set-RdsSimFault -HostName $data.host -Fault $data.fault -Value $data.value",
      { host, fault, value: value ?? null },
    );
  }

  /** Every host's admin view, as JSON text per host. */
  snapshot(): Promise<Record<string, string>> {
    return this.session.run(SNAPSHOT, { hosts: [LS, ...this.hosts] }, 300_000);
  }

  /** Every host's emulated call log (cmdlet, class, method; never argument values). */
  callLogs(): Promise<Record<string, CallRow[]>> {
    return this.session.run(CALL_LOG, { hosts: [LS, ...this.hosts] }, 300_000);
  }

  async close(): Promise<void> {
    await this.session.close();
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}
