<#
.SYNOPSIS
    RdsSessionHostLicensing delete with resetOnDelete: stop pointing the host (or deployment) at the
    license servers.

.DESCRIPTION
    Args: scope ("sessionHost" | "deployment").
    sessionHost: EmptySpecifiedLicenseServerList, unless a Group Policy sets the list (the policy wins;
    it is left alone and reported in `skipped`). The mode is left as it is: ChangeMode takes only
    0, 1, 2 and 4, so "not configured" (5) cannot be set back through WMI.
    deployment: Set-RDLicenseConfiguration -Mode NotConfigured -LicenseServer @() -Force on the broker
    (the RDMS cmdlet documents NotConfigured; whether the real cmdlet takes an empty list is
    UNCONFIRMED, the emulator does).
    Never writes the Group Policy key. Result: { calls: [...], skipped: [reasons] }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$scope = [string]$in.args.scope
$calls = [System.Collections.Generic.List[string]]::new()
$skipped = [System.Collections.Generic.List[string]]::new()

if ($scope -eq 'deployment') {
    Set-RDLicenseConfiguration -Mode NotConfigured -LicenseServer ([string[]]@()) -Force -ErrorAction Stop
    $calls.Add('Set-RDLicenseConfiguration')
} else {
    $policy = Get-ShlPolicy
    $setting = Get-ShlSetting
    $sourceList = Get-RdsProperty $setting 'PolicySourceConfiguredLicenseServers'
    if ($null -ne $policy.licenseServers -or ($null -ne $sourceList -and [int64]$sourceList -eq 1)) {
        $skipped.Add('licenseServers: a Group Policy sets the license server list; it was left alone')
    } else {
        $null = Invoke-RdsWmiMethod -InputObject $setting -ClassName $script:ShlClass -MethodName EmptySpecifiedLicenseServerList
        $calls.Add('EmptySpecifiedLicenseServerList')
    }
    $skipped.Add('mode: ChangeMode cannot set "not configured"; the mode was left as it is')
}

Write-RdsResult ([ordered]@{ calls = $calls.ToArray(); skipped = $skipped.ToArray() })
