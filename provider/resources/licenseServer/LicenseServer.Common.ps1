<#
.SYNOPSIS
    Helpers shared by the RdsLicenseServer operation scripts (dot-sourced; no job of its own).

.DESCRIPTION
    Talks to Windows only through Get-WindowsFeature, Get-Service, Get-CimInstance and, via
    Invoke-RdsWmiMethod (RdsCommon.psm1), Invoke-CimMethod, so the emulator stands in on the
    simulator. Never builds PowerShell source from a value.
#>

Set-StrictMode -Version 3.0

$script:LsClassName = 'Win32_TSLicenseServer'
$script:LsNamespace = 'root/cimv2'
$script:LsFeatureName = 'RDS-Licensing'
$script:LsServiceName = 'TermServLicensing'

# Contact fields (envelope names) -> Win32_TSLicenseServer properties (e-mail is eMail in the MOF).
$script:LsContactProperties = [ordered]@{
    firstName     = 'FirstName'
    lastName      = 'LastName'
    company       = 'Company'
    countryRegion = 'CountryRegion'
    email         = 'eMail'
    orgUnit       = 'OrgUnit'
    address       = 'Address'
    city          = 'City'
    state         = 'State'
    postalCode    = 'PostalCode'
}

# WBEM codes that mean "the licensing class is not there (yet)": invalid class, invalid namespace,
# not found (querying a class whose role is missing gives WBEM_E_INVALID_CLASS; docs/windows-facts.md).
$script:LsNotReadyCodes = @([uint32]'0x80041010', [uint32]'0x8004100E', [uint32]'0x80041002')

function Test-LsRoleInstalled {
    # True when the RDS-Licensing role service is installed.
    $feature = Get-WindowsFeature -Name $script:LsFeatureName
    if ($null -eq $feature) { return $false }
    $installed = Get-RdsProperty $feature 'Installed' $false
    if ($installed -is [bool]) { return $installed }
    return ([string](Get-RdsProperty $feature 'InstallState' '')) -eq 'Installed'
}

function Get-LsInstance {
    <#
        The Win32_TSLicenseServer singleton, or $null when the class does not answer (yet): an error
        carrying WBEM_E_INVALID_CLASS / INVALID_NAMESPACE / NOT_FOUND. Any other error (access denied,
        provider failure) is thrown as is, for the runner to type.
    #>
    try {
        $instance = Get-CimInstance -Namespace $script:LsNamespace -ClassName $script:LsClassName -ErrorAction Stop
    } catch {
        $code = Get-RdsExceptionHResult $_.Exception
        if ($null -ne $code -and $script:LsNotReadyCodes -contains [uint32]$code) { return $null }
        throw
    }
    return @($instance)[0]
}

function Get-LsActivationStatus {
    # GetActivationStatus (static): 0 activated, 1 not activated, 2 unknown (docs/windows-facts.md).
    $r = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName GetActivationStatus
    return [int](Get-RdsProperty $r 'ActivationStatus' 2)
}

function Get-LsContact {
    # The contact properties of an instance, under their envelope names ('' for empty or missing).
    param($Instance)
    $contact = [ordered]@{}
    foreach ($field in $script:LsContactProperties.Keys) {
        $value = Get-RdsProperty $Instance $script:LsContactProperties[$field] ''
        $contact[$field] = if ($null -eq $value) { '' } else { [string]$value }
    }
    return $contact
}

function Assert-LsContactApplied {
    <#
        Reads the singleton again and throws WRITE_NOT_APPLIED when a contact property does not hold the
        value just written (the write reported success but did not take: the write path is unverified on
        a real server, docs/windows-facts.md#license-server-class). Names the properties, never values.
    #>
    param([System.Collections.IDictionary]$Wanted)
    $after = Get-LsContact (Get-LsInstance)
    $notApplied = @(foreach ($field in $Wanted.Keys) {
            if (-not [string]::Equals($after[$field], $Wanted[$field], [System.StringComparison]::Ordinal)) { $script:LsContactProperties[$field] }
        })
    if ($notApplied.Count -gt 0) {
        throw (New-RdsScriptError -Code WRITE_NOT_APPLIED -ClassName $script:LsClassName -Message (
                "Set-CimInstance on $($script:LsClassName) reported success, but reading it back shows $($notApplied -join ', ') still not holding the value written: " +
                'the licensing WMI provider did not apply the contact; check the TermServLicensing service and its event log, set the contact in RD Licensing Manager (Properties) if it persists, then run again'))
    }
}

# The group ChangeRole needs for a discovery scope (docs/windows-facts.md#server-role).
$script:LsRoleRights = @{ 1 = @('domain', 'Domain Admins'); 2 = @('forest', 'Enterprise Admins') }

function Assert-LsChangeRoleAllowed($ErrorRecord, [uint32]$ServerRole) {
    # A ChangeRole refused with WBEM_E_ACCESS_DENIED: throws ACCESS_DENIED naming the group the scope needs.
    $details = Get-RdsScriptErrorDetails $ErrorRecord.Exception
    $code = if ($null -ne $details -and $details.Contains('returnValue')) { [uint32]$details.returnValue } else { Get-RdsExceptionHResult $ErrorRecord.Exception }
    if ($null -eq $code -or [uint32]$code -ne [uint32]'0x80041003' -or -not $script:LsRoleRights.ContainsKey([int]$ServerRole)) { return }
    $scope = $script:LsRoleRights[[int]$ServerRole][0]
    $group = $script:LsRoleRights[[int]$ServerRole][1]
    throw (New-RdsScriptError -Code ACCESS_DENIED -Method ChangeRole -ClassName $script:LsClassName -Message (
            "ChangeRole $ServerRole was refused (WBEM_E_ACCESS_DENIED, 0x80041003): discoveryScope ""$scope"" needs a member of $group; " +
            "the connection's account must be a local administrator on the license server and a member of ${group}: " +
            "add it to $group, or declare a narrower discoveryScope (or none, to leave the scope as it is)"))
}
