<#
.SYNOPSIS
    RdsSessionHostLicensing with installRole: install the RD Session Host role (RDS-RD-Server) on a
    session host that does not have it. The role takes effect at the next restart (restart.ps1).

.DESCRIPTION
    Args: none. Reads Win32_TerminalServiceSetting.TerminalServerMode (1 = the role is there: nothing to
    do) and Get-WindowsFeature RDS-RD-Server (InstallPending: installed, waiting for a restart), then runs
    Install-WindowsFeature -Name RDS-RD-Server only when the role is neither there nor pending.
    Progress: one line when the install starts.
    Result: { installedNow, restartNeeded, lastBootUpTime (ISO 8601, UTC: the boot the restart must end) }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$null = ConvertFrom-RdsEnvelope $Envelope
$lastBoot = Get-ShlLastBootUpTime

if (Test-ShlSessionHostRole) {
    Write-RdsResult ([ordered]@{ installedNow = $false; restartNeeded = $false; lastBootUpTime = $lastBoot })
    return
}
$feature = Get-WindowsFeature -Name $script:ShlRoleFeature | Select-Object -First 1
if ($null -ne $feature -and [string](Get-RdsProperty $feature 'InstallState' '') -eq 'InstallPending') {
    Write-RdsResult ([ordered]@{ installedNow = $false; restartNeeded = $true; lastBootUpTime = $lastBoot })
    return
}

Write-RdsProgress 'started (Install-WindowsFeature RDS-RD-Server; Windows finishes it at a restart)'
$outcome = Install-WindowsFeature -Name $script:ShlRoleFeature
if (-not [bool](Get-RdsProperty $outcome 'Success' $true)) {
    $exitCode = [string](Get-RdsProperty $outcome 'ExitCode' 'unknown')
    throw (New-RdsScriptError -Code SCRIPT_ERROR -Message "Install-WindowsFeature RDS-RD-Server did not succeed (exit code $exitCode)")
}
$restart = [string](Get-RdsProperty $outcome 'RestartNeeded' 'No')
Write-RdsResult ([ordered]@{ installedNow = $true; restartNeeded = ($restart -eq 'Yes'); lastBootUpTime = $lastBoot })
