<#
.SYNOPSIS
    RdsSessionHostLicensing set: changes the licensing mode and/or the license server list, only the
    parts the provider found different (it reads first, decides, then calls this).

.DESCRIPTION
    Args: scope ("sessionHost" | "deployment"); mode ("perUser" | "perDevice" | $null = leave);
    licenseServers (string[] | $null = leave), order kept.
    sessionHost: Win32_TerminalServiceSetting.ChangeMode with LicensingType [uint32] 2 (Per Device)
    or 4 (Per User), then SetSpecifiedLicenseServerList with a real [string[]] (see docs/windows-facts.md).
    Mode first, then the list: a host is pointed at the license server last.
    deployment: one Set-RDLicenseConfiguration call on the broker, always with -Force (a prompt would
    block a non-interactive session).
    Never writes the Group Policy key. Result: { calls: [names of the calls made, in order] }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$scope = [string]$in.args.scope
$mode = $in.args['mode']
$servers = $in.args['licenseServers']
$calls = [System.Collections.Generic.List[string]]::new()

if ($null -ne $mode -and @('perUser', 'perDevice') -notcontains $mode) {
    throw (New-RdsScriptError -Code VALIDATION -Message "mode must be perUser or perDevice, got '$mode'")
}

if ($scope -eq 'deployment') {
    $parameters = @{ Force = $true; ErrorAction = 'Stop' }
    if ($null -ne $mode) { $parameters.Mode = if ($mode -eq 'perUser') { 'PerUser' } else { 'PerDevice' } }
    if ($null -ne $servers) { $parameters.LicenseServer = [string[]]@($servers) }
    if ($parameters.ContainsKey('Mode') -or $parameters.ContainsKey('LicenseServer')) {
        Set-RDLicenseConfiguration @parameters
        $calls.Add('Set-RDLicenseConfiguration')
    }
} else {
    $setting = Get-ShlSetting
    if ($null -ne $mode) {
        $type = if ($mode -eq 'perUser') { [uint32]4 } else { [uint32]2 }
        $null = Invoke-RdsWmiMethod -InputObject $setting -ClassName $script:ShlClass -MethodName ChangeMode `
            -Arguments @{ LicensingType = [uint32]$type }
        $calls.Add('ChangeMode')
    }
    if ($null -ne $servers) {
        [string[]]$list = @($servers | ForEach-Object { [string]$_ })
        $null = Invoke-RdsWmiMethod -InputObject $setting -ClassName $script:ShlClass -MethodName SetSpecifiedLicenseServerList `
            -Arguments @{ SpecifiedLSList = [string[]]$list }
        $calls.Add('SetSpecifiedLicenseServerList')
    }
}

Write-RdsResult ([ordered]@{ calls = $calls.ToArray() })
