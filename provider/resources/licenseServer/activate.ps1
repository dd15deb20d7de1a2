<#
.SYNOPSIS
    RdsLicenseServer: activate a license server that is not activated, with one WMI call.

.DESCRIPTION
    Args: call (ActivateServerAutomatic | ActivateServer), licenseServerId (35 characters, already
    normalised by check; ActivateServer only).
    Checks the TermServLicensing service first (Assert-RdsLicensingService: CLASS_NOT_READY when it is
    not running). Reads GetActivationStatus: an activated server is left alone (call 'none'), so the
    Clearinghouse is never asked twice; an undeterminable state (2) is an error, never a blind
    activation. A not-activated server is activated with Activate*, whatever its history (activated
    before, deactivated, rebuilt): Microsoft documents Reactivate* for an ACTIVATED server only (a new
    license server id, or a reason), and nothing in the resource's inputs asks for that, so this script
    never calls Reactivate* (docs/windows-facts.md#activation-methods). The contact must have been
    committed before (set.ps1).
    Errors: CLEARINGHOUSE_UNREACHABLE (WBEM_E_NOT_AVAILABLE from ActivateServerAutomatic), REJECTED
    (WBEM_E_INVALID_PARAMETER from ActivateServer: the id is not the one the Clearinghouse issued for
    this product id), ACTIVATION_STATUS_UNKNOWN, else WMI_ERROR with the raw code.
    Progress: one line before the activation call ("calling the Microsoft Clearinghouse (...)").
    Result: { call, activationStatus }. Never puts the license server id in a message.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$call = [string]$in.args.call
$allowed = @('ActivateServerAutomatic', 'ActivateServer')
if ($allowed -cnotcontains $call) {
    throw (New-RdsScriptError -Code VALIDATION -Message "unknown activation call '$call' (expected one of: $($allowed -join ', '))")
}
Assert-RdsLicensingService
$instance = Get-LsInstance
if ($null -eq $instance) {
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message 'Win32_TSLicenseServer does not answer: the RDS-Licensing role is missing or its service is not running')
}

$before = Get-LsActivationStatus
if ($before -eq 0) {
    Write-RdsResult ([ordered]@{ call = 'none'; activationStatus = 0 })
    return
}
if ($before -ne 1) {
    throw (New-RdsScriptError -Code ACTIVATION_STATUS_UNKNOWN -Message (
            "GetActivationStatus reports $before (the activation state cannot be determined), so $call was not attempted: " +
            'check the license server in RD Licensing Manager and its event log, then run again'))
}

$productId = [string](Get-RdsProperty $instance 'ProductId' '')

function Invoke-LsActivationCall([string]$Name) {
    # Progress: the one call that can take long. Never the license server id (an argument, not said).
    if ($Name -like '*Automatic') {
        Write-RdsProgress "calling the Microsoft Clearinghouse ($Name)"
    } else {
        Write-RdsProgress "calling $Name with activation.licenseServerId"
    }
    if ($Name -ceq 'ActivateServer') {
        $arguments = @{ sLicenseServerId = [string]$in.args.licenseServerId }
        Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName $Name -Arguments $arguments
    } else {
        Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName $Name
    }
}

function Get-LsReturnValue($ErrorRecord) {
    $details = Get-RdsScriptErrorDetails $ErrorRecord.Exception
    if ($null -ne $details -and $details.Contains('returnValue')) { [uint32]$details.returnValue } else { $null }
}

function Assert-LsActivationError($ErrorRecord, [string]$Name) {
    # Throws the typed error for a failed activation call (or returns, for the caller to rethrow).
    $code = Get-LsReturnValue $ErrorRecord
    if ($code -eq [uint32]'0x80041009' -and $Name -like '*Automatic') {
        throw (New-RdsScriptError -Code CLEARINGHOUSE_UNREACHABLE -Method $Name -ClassName $script:LsClassName -Message (
                "$Name could not reach the Microsoft Clearinghouse (WBEM_E_NOT_AVAILABLE, 0x80041009): " +
                'allow outbound HTTPS (TCP 443) from the license server, or activate without Internet access: ' +
                "set activation.method to ""web"" (https://activate.microsoft.com, from any computer with a browser) or ""telephone"", with product id $productId"))
    }
    if ($code -eq [uint32]'0x80041008' -and $Name -notlike '*Automatic') {
        throw (New-RdsScriptError -Code REJECTED -Method $Name -ClassName $script:LsClassName -Message (
                "the Clearinghouse did not accept activation.licenseServerId for product id $productId ($Name returned WBEM_E_INVALID_PARAMETER, 0x80041008): " +
                'check that you copied all 35 characters and that the id was issued for this product id (a rebuilt server has a new product id and needs a new license server id); nothing was changed'))
    }
}

try {
    $r = Invoke-LsActivationCall $call
} catch {
    Assert-LsActivationError $_ $call
    throw
}
$reported = Get-RdsProperty $r 'ActivationStatus' $null
$after = Get-LsActivationStatus
if ($after -ne 0) {
    throw (New-RdsScriptError -Code WMI_ERROR -Method $call -ClassName $script:LsClassName -ReturnValue ([uint32]'0x80041001') -Message (
            "$call returned success but GetActivationStatus reports $after (the method said $reported)"))
}
Write-RdsResult ([ordered]@{ call = $call; activationStatus = $after })
