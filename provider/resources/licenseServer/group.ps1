<#
.SYNOPSIS
    RdsLicenseServer: put the license server in its domain's "Terminal Server License Servers" group.

.DESCRIPTION
    Args: none. Reads IsLSinTSLSGroup (Domain '' = the server's own domain) and calls AddLStoTSLSGroup
    only when the server is not a member (converges: a member makes no call). AddLStoTSLSGroup needs a
    member of Domain Admins: WBEM_E_ACCESS_DENIED becomes ACCESS_DENIED naming the right. A server in a
    workgroup is refused with VALIDATION before any call (the provider refuses it earlier, at install).
    Never removes the server from the group. Result: { added, member }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')
. (Join-Path $PSScriptRoot 'Directory.Common.ps1')

$null = ConvertFrom-RdsEnvelope $Envelope
Assert-RdsLicensingService
$domain = Get-LsDomainFacts
if (-not $domain.domainJoined) {
    throw (New-RdsScriptError -Code VALIDATION -Message (
            'addToLicenseServersGroup is true but the license server is in a workgroup: the Terminal Server License Servers ' +
            'group is a domain group; join the server to a domain, or remove addToLicenseServersGroup'))
}
$r = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName IsLSinTSLSGroup -Arguments @{ Domain = '' }
if ([bool](Get-RdsProperty $r 'IsMember' $false)) {
    Write-RdsResult ([ordered]@{ added = $false; member = $true })
    return
}
try {
    $null = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName AddLStoTSLSGroup
} catch {
    Assert-LsGroupAddAllowed $_
    throw
}
$after = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName IsLSinTSLSGroup -Arguments @{ Domain = '' }
$member = [bool](Get-RdsProperty $after 'IsMember' $false)
if (-not $member) {
    throw (New-RdsScriptError -Code WRITE_NOT_APPLIED -Method AddLStoTSLSGroup -ClassName $script:LsClassName -Message (
            'AddLStoTSLSGroup reported success, but IsLSinTSLSGroup still says the license server is not in the Terminal Server ' +
            'License Servers group: Active Directory replication may lag; check the group on a domain controller, then run again'))
}
Write-RdsResult ([ordered]@{ added = $true; member = $member })
