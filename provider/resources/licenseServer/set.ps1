<#
.SYNOPSIS
    RdsLicenseServer: set the contact properties and the discovery scope.

.DESCRIPTION
    Args: contact ({ firstName, ... postalCode } or null: leave the contact alone), serverRole (0/1/2
    or null: leave the scope alone). The contact is written with ONE Set-CimInstance on the singleton,
    all ten properties at once (ActivateServerAutomatic reads what was committed: docs/windows-facts.md#pitfalls).
    ChangeRole runs only when the live ServerRole differs.
    Result: { changedProperties: [WMI names that differed], roleChanged }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$instance = Get-LsInstance
if ($null -eq $instance) {
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message 'Win32_TSLicenseServer does not answer: the RDS-Licensing role is missing or its service is not running')
}

$changed = [System.Collections.Generic.List[string]]::new()
$contact = $in.args.contact
if ($null -ne $contact) {
    $live = Get-LsContact $instance
    $properties = @{}
    foreach ($field in $script:LsContactProperties.Keys) {
        $value = if ($contact.Contains($field) -and $null -ne $contact[$field]) { [string]$contact[$field] } else { '' }
        $properties[$script:LsContactProperties[$field]] = $value
        if (-not [string]::Equals($live[$field], $value, [System.StringComparison]::Ordinal)) { $changed.Add($script:LsContactProperties[$field]) }
    }
    if ($changed.Count -gt 0) {
        $null = Set-CimInstance -InputObject $instance -Property $properties
    }
}

$roleChanged = $false
if ($null -ne $in.args.serverRole) {
    $want = [uint32]$in.args.serverRole
    $have = Get-RdsProperty $instance 'ServerRole' $null
    if ($null -eq $have -or [uint32]$have -ne $want) {
        $null = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName ChangeRole -Arguments @{ ServerRole = $want }
        $roleChanged = $true
    }
}
Write-RdsResult ([ordered]@{ changedProperties = @($changed); roleChanged = $roleChanged })
