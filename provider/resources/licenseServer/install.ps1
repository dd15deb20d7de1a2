<#
.SYNOPSIS
    RdsLicenseServer: ensure the RDS-Licensing role service is installed.

.DESCRIPTION
    Args: installRole (bool), requireDomain (bool: addToLicenseServersGroup is declared). With
    requireDomain, a server in a workgroup is refused first with VALIDATION, before anything is written
    (the Terminal Server License Servers group is a domain group). When the role is missing and installRole is true, runs
    Install-WindowsFeature RDS-Licensing -IncludeManagementTools; when it is missing and installRole
    is false, fails with CLASS_NOT_READY. Does not wait for the service or the WMI class (wait.ps1).
    Progress: one line when the install starts (nothing when the role is already there).
    Result: { installedNow, restartNeeded }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')
. (Join-Path $PSScriptRoot 'Directory.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$installRole = [bool]$in.args.installRole
# requireDomain is optional (callers from before addToLicenseServersGroup do not send it).
$requireDomain = $in.args.Contains('requireDomain') -and [bool]$in.args['requireDomain']
if ($requireDomain -and -not (Get-LsDomainFacts).domainJoined) {
    throw (New-RdsScriptError -Code VALIDATION -Message (
            'addToLicenseServersGroup is true but the license server is in a workgroup: the Terminal Server License Servers ' +
            'group is a domain group; join the server to a domain, or remove addToLicenseServersGroup'))
}

if (Test-LsRoleInstalled) {
    Write-RdsResult ([ordered]@{ installedNow = $false; restartNeeded = $false })
    return
}
if (-not $installRole) {
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message (
            'the RDS-Licensing role is not installed and installRole is false: ' +
            'install it (Install-WindowsFeature RDS-Licensing -IncludeManagementTools) or set installRole to true'))
}

# Progress (the provider prints `<host>: installing the RDS-Licensing role: <this>`, then ticks until done).
Write-RdsProgress 'started (Install-WindowsFeature RDS-Licensing -IncludeManagementTools; this can take several minutes)'
$outcome = Install-WindowsFeature -Name $script:LsFeatureName -IncludeManagementTools
$success = Get-RdsProperty $outcome 'Success' $true
if (-not [bool]$success) {
    $exitCode = [string](Get-RdsProperty $outcome 'ExitCode' 'unknown')
    throw (New-RdsScriptError -Code SCRIPT_ERROR -Message "Install-WindowsFeature RDS-Licensing did not succeed (exit code $exitCode)")
}
if (-not (Test-LsRoleInstalled)) {
    throw (New-RdsScriptError -Code SCRIPT_ERROR -Message 'Install-WindowsFeature RDS-Licensing reported success but the role is still not installed')
}
$restart = [string](Get-RdsProperty $outcome 'RestartNeeded' 'No')
Write-RdsResult ([ordered]@{ installedNow = $true; restartNeeded = ($restart -eq 'Yes') })
