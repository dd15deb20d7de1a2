<#
.SYNOPSIS
    RdsLicenseServer read: the whole live state of the license server. Changes nothing.

.DESCRIPTION
    Args: perUserReport, optional: 'make' (the default: a per-user report is made for the read and deleted)
    or 'existing' (only the reports already on the server are read: rds-licensing check writes nothing). Result:
      { roleInstalled, serviceStatus, classReady,
        server: { serverName, productId, version, activationStatus (0/1/2), licenseServerId ('' unless
                  activated), serverRole (0/1/2 or null), contact: { firstName, ... postalCode } } | null,
        licenseServersGroup: { domainJoined, domain, member, scpRegistered, readError } | null,
        calUsage: { packs, perDevice, perUser } | null }
    server is null when the role is missing, the TermServLicensing service is not Running (the class is
    then not queried: what a query answers on a stopped service is undocumented) or the class does not
    answer (yet). A read reports, never fails, on a stopped service: converging starts it (wait.ps1).
    licenseServersGroup and calUsage (null whenever server is null) are described in
    Directory.Common.ps1 and Usage.Common.ps1: a refused or unsupported read of them is a
    null fact with its reason, never a failed read. Reading the per-user usage generates a per-user report
    and deletes it at once (the only way Windows gives per-user CAL counts).
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')
. (Join-Path $PSScriptRoot 'Directory.Common.ps1')
. (Join-Path $PSScriptRoot 'Usage.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
# perUserReport 'existing' (rds-licensing check): read only the per-user reports already there, make none.
$makeReport = $true
if ($in.args.ContainsKey('perUserReport')) {
    $mode = [string]$in.args['perUserReport']
    if ($mode -ne 'make' -and $mode -ne 'existing') { throw (New-RdsScriptError -Code VALIDATION -Message "perUserReport must be 'make' or 'existing', got '$mode'") }
    $makeReport = $mode -eq 'make'
}

$roleInstalled = Test-LsRoleInstalled
$serviceStatus = Get-RdsLicensingServiceStatus
$server = $null
$group = $null
$usage = $null
if ($roleInstalled -and $serviceStatus -eq 'Running') {
    $instance = Get-LsInstance
    if ($null -ne $instance) {
        $status = Get-LsActivationStatus
        $licenseServerId = ''
        if ($status -eq 0) {
            # GetLicenseServerId answers only while activated (docs/windows-facts.md).
            $r = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName GetLicenseServerId
            $licenseServerId = [string](Get-RdsProperty $r 'sLicenseServerId' '')
        }
        $computer = @(Get-CimInstance -ClassName Win32_ComputerSystem)[0]
        $name = [string](Get-RdsProperty $computer 'DNSHostName' '')
        if (-not $name) { $name = [string](Get-RdsProperty $computer 'Name' '') }
        $domain = [string](Get-RdsProperty $computer 'Domain' '')
        if ([bool](Get-RdsProperty $computer 'PartOfDomain' $false) -and $domain -and $name -notlike '*.*') { $name = "$name.$domain" }
        $role = Get-RdsProperty $instance 'ServerRole' $null
        $server = [ordered]@{
            serverName       = $name
            productId        = [string](Get-RdsProperty $instance 'ProductId' '')
            version          = [string](Get-RdsProperty $instance 'Version' '')
            activationStatus = $status
            licenseServerId  = $licenseServerId
            serverRole       = if ($null -eq $role) { $null } else { [int]$role }
            contact          = Get-LsContact $instance
        }
        $joined = [bool](Get-RdsProperty $computer 'PartOfDomain' $false)
        $domainName = $null
        if ($joined) { $domainName = $domain }
        $group = Get-LsLicenseServersGroup ([ordered]@{ domainJoined = $joined; domain = $domainName })
        $usage = Get-LsCalUsage $group $makeReport
    }
}
Write-RdsResult ([ordered]@{
        roleInstalled       = $roleInstalled
        serviceStatus       = $serviceStatus
        classReady          = ($null -ne $server)
        server              = $server
        licenseServersGroup = $group
        calUsage            = $usage
    })
