<#
.SYNOPSIS
    RdsSessionHostLicensing with installRole: is the session host back from its restart, with the role?
    Changes nothing.

.DESCRIPTION
    Args: none. Result: { lastBootUpTime (Win32_OperatingSystem, ISO 8601 UTC), terminalServerMode
    (Win32_TerminalServiceSetting; 1 = the RD Session Host role) }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$null = ConvertFrom-RdsEnvelope $Envelope
$setting = Get-ShlSetting
$mode = Get-RdsProperty $setting 'TerminalServerMode'
Write-RdsResult ([ordered]@{
        lastBootUpTime     = Get-ShlLastBootUpTime
        terminalServerMode = if ($null -ne $mode) { [int64]$mode } else { $null }
    })
