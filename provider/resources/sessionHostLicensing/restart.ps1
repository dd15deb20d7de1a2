<#
.SYNOPSIS
    RdsSessionHostLicensing with installRole: restart the session host so that the RD Session Host role
    it just installed takes effect.

.DESCRIPTION
    Args: none. Restart-Computer -Force (logged-on users cannot hold the restart back: installRole is the
    owner's consent). Windows may take the session down before this result is back: the provider treats a
    lost session here as the restart under way, and proves the restart by the new LastBootUpTime (boot.ps1).
    Result: { requested: true }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$null = ConvertFrom-RdsEnvelope $Envelope
Restart-Computer -Force
Write-RdsResult ([ordered]@{ requested = $true })
