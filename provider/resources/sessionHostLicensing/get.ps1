<#
.SYNOPSIS
    RdsSessionHostLicensing read: the whole live licensing state of a session host, or of a
    deployment through its connection broker. Changes nothing.

.DESCRIPTION
    Args: scope ("sessionHost" | "deployment").
    sessionHost: Win32_TerminalServiceSetting (TerminalServerMode: 1 = the RD Session Host role, 0 = remote
    administration only; LicensingType, PolicySourceLicensingType,
    PolicySourceConfiguredLicenseServers, GetSpecifiedLicenseServerList, GetGracePeriodDays,
    GetTStoLSConnectivityStatus for each license server in effect: Connectivity.Common.ps1) and the
    Group Policy values under HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services.
    deployment: Get-RDLicenseConfiguration on the broker (Mode, LicenseServer).
    Both: Win32_OperatingSystem (Caption, Version, BuildNumber) and Win32_ComputerSystem
    (PartOfDomain, Domain) of the target.
    Result: see getResultSchema in schema.ts.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')
. (Join-Path $PSScriptRoot 'Connectivity.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$scope = [string]$in.args.scope

$os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop | Select-Object -First 1
$cs = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop | Select-Object -First 1
$partOfDomain = Get-RdsProperty $cs 'PartOfDomain'
$domain = Get-RdsProperty $cs 'Domain'
$serverName = [string](Get-RdsProperty $cs 'DNSHostName' (Get-RdsProperty $cs 'Name' $in.host))
if ($partOfDomain -eq $true -and $domain -and $serverName -notmatch '\.') { $serverName = "$serverName.$domain" }

$result = [ordered]@{
    scope                                = $scope
    serverName                           = $serverName
    terminalServerMode                   = $null
    licensingType                        = $null
    rdmsMode                             = $null
    policySourceLicensingType            = $null
    policySourceConfiguredLicenseServers = $null
    licenseServers                       = @()
    policy                               = [ordered]@{ licensingMode = $null; licenseServers = $null }
    gracePeriodDaysLeft                  = $null
    os                                   = [ordered]@{
        caption     = [string](Get-RdsProperty $os 'Caption' '')
        version     = [string](Get-RdsProperty $os 'Version' '')
        buildNumber = [string](Get-RdsProperty $os 'BuildNumber' '')
    }
    partOfDomain                         = if ($null -ne $partOfDomain) { [bool]$partOfDomain } else { $null }
    domain                               = if ($null -ne $domain) { [string]$domain } else { $null }
    connectivity                         = @()
}

if ($scope -eq 'deployment') {
    # Deployment-wide settings through the RD Connection Broker. The cmdlet defaults to
    # the local broker: the script runs on the broker the connection points at.
    $config = Get-RDLicenseConfiguration -ErrorAction Stop
    $mode = Get-RdsProperty $config 'Mode'
    $result.rdmsMode = if ($null -ne $mode) { [string]$mode } else { $null }
    $result.licenseServers = ConvertTo-ShlStringArray (Get-RdsProperty $config 'LicenseServer')
} else {
    $setting = Get-ShlSetting
    $serverMode = Get-RdsProperty $setting 'TerminalServerMode'
    $result.terminalServerMode = if ($null -ne $serverMode) { [int64]$serverMode } else { $null }
    $licensingType = Get-RdsProperty $setting 'LicensingType'
    $result.licensingType = if ($null -ne $licensingType) { [int64]$licensingType } else { $null }
    $sourceMode = Get-RdsProperty $setting 'PolicySourceLicensingType'
    $result.policySourceLicensingType = if ($null -ne $sourceMode) { [int64]$sourceMode } else { $null }
    $sourceList = Get-RdsProperty $setting 'PolicySourceConfiguredLicenseServers'
    $result.policySourceConfiguredLicenseServers = if ($null -ne $sourceList) { [int64]$sourceList } else { $null }

    $list = Invoke-RdsWmiMethod -InputObject $setting -ClassName $script:ShlClass -MethodName GetSpecifiedLicenseServerList
    $result.licenseServers = ConvertTo-ShlStringArray (Get-RdsProperty $list 'SpecifiedLSList')

    $grace = Invoke-RdsWmiMethod -InputObject $setting -ClassName $script:ShlClass -MethodName GetGracePeriodDays
    $days = Get-RdsProperty $grace 'DaysLeft'
    $result.gracePeriodDaysLeft = if ($null -ne $days) { [int64]$days } else { $null }

    $result.policy = Get-ShlPolicy

    # Each license server in effect (the policy list wins over the local one), as this host reaches it.
    $effective = $result.licenseServers
    if ($null -ne $result.policy.licenseServers) { $effective = Split-ShlPolicyServerList $result.policy.licenseServers }
    $result.connectivity = Get-ShlConnectivity -Setting $setting -Servers $effective
}

Write-RdsResult $result
