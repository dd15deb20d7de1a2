<#
.SYNOPSIS
    RdsLicenseServer: ensure the RDS-Licensing role service is installed.

.DESCRIPTION
    Args: installRole (bool). When the role is missing and installRole is true, runs
    Install-WindowsFeature RDS-Licensing -IncludeManagementTools; when it is missing and installRole
    is false, fails with CLASS_NOT_READY. Does not wait for the service or the WMI class (wait.ps1).
    Progress: one line when the install starts (nothing when the role is already there).
    Result: { installedNow, restartNeeded }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$installRole = [bool]$in.args.installRole

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
