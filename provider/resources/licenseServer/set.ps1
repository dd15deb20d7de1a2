<#
.SYNOPSIS
    RdsLicenseServer: set the contact properties and the discovery scope.

.DESCRIPTION
    Args: contact ({ firstName, ... postalCode } or null: leave the contact alone), serverRole (0/1/2
    or null: leave the scope alone). Checks the TermServLicensing service first
    (Assert-RdsLicensingService). The contact is written with ONE Set-CimInstance on the singleton, all
    ten properties at once (ActivateServerAutomatic reads what was committed: docs/windows-facts.md),
    then read back with a fresh Get-CimInstance: a property that does not hold the written value is
    the error WRITE_NOT_APPLIED (RDS_SCRIPT_ERROR), naming the properties (never their values).
    ChangeRole runs only when the live ServerRole differs. ChangeRole 1 (domain) needs a member of
    Domain Admins, 2 (forest) a member of Enterprise Admins: WBEM_E_ACCESS_DENIED from it becomes
    ACCESS_DENIED naming the missing group.
    Result: { changedProperties: [WMI names that differed], roleChanged }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
Assert-RdsLicensingService
$instance = Get-LsInstance
if ($null -eq $instance) {
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message 'Win32_TSLicenseServer does not answer: the RDS-Licensing role is missing or its service is not running')
}

$changed = [System.Collections.Generic.List[string]]::new()
$contact = $in.args.contact
if ($null -ne $contact) {
    $live = Get-LsContact $instance
    $wanted = [ordered]@{}
    $properties = @{}
    foreach ($field in $script:LsContactProperties.Keys) {
        $value = if ($contact.Contains($field) -and $null -ne $contact[$field]) { [string]$contact[$field] } else { '' }
        $wanted[$field] = $value
        $properties[$script:LsContactProperties[$field]] = $value
        if (-not [string]::Equals($live[$field], $value, [System.StringComparison]::Ordinal)) { $changed.Add($script:LsContactProperties[$field]) }
    }
    if ($changed.Count -gt 0) {
        $null = Set-CimInstance -InputObject $instance -Property $properties
        Assert-LsContactApplied $wanted
    }
}

$roleChanged = $false
if ($null -ne $in.args.serverRole) {
    $want = [uint32]$in.args.serverRole
    $have = Get-RdsProperty $instance 'ServerRole' $null
    if ($null -eq $have -or [uint32]$have -ne $want) {
        try {
            $null = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName ChangeRole -Arguments @{ ServerRole = $want }
        } catch {
            Assert-LsChangeRoleAllowed $_ $want
            throw
        }
        $roleChanged = $true
    }
}
Write-RdsResult ([ordered]@{ changedProperties = @($changed); roleChanged = $roleChanged })
