<#
.SYNOPSIS
    RdsSessionHostLicensing with installRole: restart the session host so that the RD Session Host role
    it just installed takes effect.

.DESCRIPTION
    Args: none. Restart-Computer -Force (logged-on users cannot hold the restart back: installRole is the
    owner's consent). Windows may take the session down before this result is back: the provider treats a
    lost session here as the restart under way, and proves the restart by the new LastBootUpTime (boot.ps1).
    A failure of Restart-Computer itself is the script code RESTART_FAILED: the provider stops there.
    Result: { requested: true }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$null = ConvertFrom-RdsEnvelope $Envelope
try {
    Restart-Computer -Force
} catch {
    # Restart-Computer itself refused (no shutdown privilege, a blocked shutdown...): a failure the provider
    # reports at once, never "the restart under way" (that wait would only end after 20 minutes). A WMI
    # code keeps its own meaning (WBEM_E_ACCESS_DENIED is RDS_ACCESS_DENIED).
    $hresult = Get-RdsExceptionHResult $_.Exception
    if ($null -ne $hresult -and (Test-RdsWbemCode $hresult)) { throw }
    throw (New-RdsScriptError -Code RESTART_FAILED -Message "Restart-Computer failed: $($_.Exception.Message)")
}
Write-RdsResult ([ordered]@{ requested = $true })
