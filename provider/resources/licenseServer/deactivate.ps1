<#
.SYNOPSIS
    RdsLicenseServer delete (deactivateOnDelete): deactivate the license server with DeactivateServerAutomatic.

.DESCRIPTION
    Args: none. Nothing to do (call 'none') when the role is missing or the server is not activated.
    With the role, the TermServLicensing service is checked first (Assert-RdsLicensingService).
    DeactivateServerAutomatic needs the Clearinghouse (Internet) and the FirstName/LastName contact
    properties, whatever method activated the server. Telephone deactivation (DeactivateServer with a
    confirmation code the operator reads out) is interactive and is not done here (see README.md).
    Errors: CLEARINGHOUSE_UNREACHABLE (WBEM_E_NOT_AVAILABLE), else WMI_ERROR.
    Result: { call, activationStatus }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')

$null = ConvertFrom-RdsEnvelope $Envelope
if (-not (Test-LsRoleInstalled)) {
    Write-RdsResult ([ordered]@{ call = 'none'; activationStatus = $null })
    return
}
Assert-RdsLicensingService
if ($null -eq (Get-LsInstance)) {
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message 'Win32_TSLicenseServer does not answer (is the TermServLicensing service running?), so the server cannot be deactivated')
}
$status = Get-LsActivationStatus
if ($status -eq 2) {
    # Undeterminable: never report "nothing to deactivate" for a server that may well be activated.
    throw (New-RdsScriptError -Code ACTIVATION_STATUS_UNKNOWN -Message (
            'GetActivationStatus reports 2 (the activation state cannot be determined), so DeactivateServerAutomatic was not attempted ' +
            'and the server may still be activated: check the license server in RD Licensing Manager and its event log, then run destroy again'))
}
if ($status -ne 0) {
    Write-RdsResult ([ordered]@{ call = 'none'; activationStatus = $status })
    return
}
try {
    $null = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName DeactivateServerAutomatic
} catch {
    $details = Get-RdsScriptErrorDetails $_.Exception
    if ($null -ne $details -and $details.Contains('returnValue') -and [uint32]$details.returnValue -eq [uint32]'0x80041009') {
        throw (New-RdsScriptError -Code CLEARINGHOUSE_UNREACHABLE -Method DeactivateServerAutomatic -ClassName $script:LsClassName -Message (
                'DeactivateServerAutomatic could not reach the Microsoft Clearinghouse (WBEM_E_NOT_AVAILABLE, 0x80041009); the server stays activated. ' +
                'Deactivation works only automatically (Internet) or by telephone: allow outbound HTTPS (TCP 443) and run destroy again, ' +
                'or deactivate by telephone in RD Licensing Manager (the operator gives you a confirmation code), then run destroy again; ' +
                'or set deactivateOnDelete to false and run pulumi up first to leave the activation in place'))
    }
    throw
}
Write-RdsResult ([ordered]@{ call = 'DeactivateServerAutomatic'; activationStatus = (Get-LsActivationStatus) })
