<#
.SYNOPSIS
    Builds, on the simulator, the farm an administrator set up by hand before this stack existed:
    ls01 activated automatically with two CAL packs, sh01 and sh02 in Per User mode pointed at ls01.

.DESCRIPTION
    Runs the very calls an administrator's script (or RD Licensing Manager) makes on Windows, against
    the WMI emulator of pulumi-rds-licensing: Install-WindowsFeature, Set-CimInstance on
    Win32_TSLicenseServer, ActivateServerAutomatic, InstallAgreementLicenseKeyPack, ChangeMode,
    SetSpecifiedLicenseServerList. Prints the KeyPackIds of the packs it installed (the ones the stack
    adopts; the program's defaults expect 3 and 4, the ids a fresh license server gives its first packs).
    Simulator only: never run it against real Windows (it imports the emulator module).

.EXAMPLE
    pwsh ./simulate-existing-farm.ps1
#>
param(
    # The simulator's state directory: where the provider looks (RDS_SIM_STATE_DIR, else ./.rds-sim).
    [string]$StateDir = $(if ($env:RDS_SIM_STATE_DIR) { $env:RDS_SIM_STATE_DIR } else { Join-Path $PSScriptRoot '.rds-sim' }),
    [string]$Domain = 'contoso.com'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

# The emulator ships in the package (installed example) or sits in the repository (checkout).
$module = @(
    (Join-Path $PSScriptRoot 'node_modules/pulumi-rds-licensing/provider/emulator/RdsEmulator.psm1'),
    (Join-Path $PSScriptRoot '../../provider/emulator/RdsEmulator.psm1')
) | Where-Object { Test-Path $_ } | Select-Object -First 1
if (-not $module) { throw 'RdsEmulator.psm1 not found: run npm install in this folder (or use the repository checkout)' }
Import-Module $module -Global

function Invoke-Checked($Result, [string]$What) {
    if ($Result.ReturnValue -ne 0) { throw "$What returned $($Result.ReturnValue)" }
    $Result
}

$licenseServer = "ls01.$Domain"
Set-RdsEmulatorContext -StateDir $StateDir -HostName $licenseServer
$null = Install-WindowsFeature -Name RDS-Licensing -IncludeManagementTools
Get-CimInstance -ClassName Win32_TSLicenseServer |
    Set-CimInstance -Property @{ FirstName = 'Ada'; LastName = 'Lovelace'; Company = 'Contoso Ltd'; CountryRegion = 'United Kingdom' }
$null = Invoke-Checked (Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServerAutomatic) 'ActivateServerAutomatic'

# Two agreements bought over the years: Select (2019 CALs) and an Enterprise Agreement (2022 CALs).
$packs = [ordered]@{}
foreach ($pack in @(
        @{ Name = 'users-2019'; AgreementType = 0; Number = '1234567'; Version = 6; Count = 20 },
        @{ Name = 'users-2022'; AgreementType = 1; Number = '7654321'; Version = 7; Count = 40 })) {
    $r = Invoke-Checked (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{
            AgreementType = [uint32]$pack.AgreementType; sAgreementNumber = $pack.Number
            ProductVersion = [uint32]$pack.Version; ProductType = [uint32]1; LicenseCount = [uint32]$pack.Count
        }) "InstallAgreementLicenseKeyPack ($($pack.Name))"
    $packs[$pack.Name] = [int]$r.KeyPackId
}

foreach ($name in 'sh01', 'sh02') {
    Set-RdsEmulatorContext -StateDir $StateDir -HostName "$name.$Domain"
    $setting = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
    $null = Invoke-Checked (Invoke-CimMethod -InputObject $setting -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]4 }) 'ChangeMode'
    $null = Invoke-Checked (Invoke-CimMethod -InputObject $setting -MethodName SetSpecifiedLicenseServerList -Arguments @{
            SpecifiedLSList = [string[]]@($licenseServer) }) 'SetSpecifiedLicenseServerList'
}

[ordered]@{ stateDir = (Get-RdsEmulatorContext).StateDir; licenseServer = $licenseServer; keyPackIds = $packs } | ConvertTo-Json
