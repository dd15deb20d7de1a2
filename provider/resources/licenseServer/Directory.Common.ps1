<#
.SYNOPSIS
    The license server and Active Directory: its domain's "Terminal Server License Servers" group and its
    service connection point (dot-sourced by get.ps1 and group.ps1; no job of its own).

.DESCRIPTION
    IsLSinTSLSGroup (Domain '' = the server's own domain), IsLSRegisteredToSCP and AddLStoTSLSGroup of
    Win32_TSLicenseServer (docs/windows-facts.md#license-servers-group). Reads never fail the caller: a
    refused or failed read is $null with the reason. Needs LicenseServer.Common.ps1 first.
#>

Set-StrictMode -Version 3.0

function Get-LsDomainFacts {
    # { domainJoined, domain }: the computer's domain (Win32_ComputerSystem), $null in a workgroup.
    $computer = @(Get-CimInstance -ClassName Win32_ComputerSystem)[0]
    $joined = [bool](Get-RdsProperty $computer 'PartOfDomain' $false)
    $domain = $null
    if ($joined) { $domain = [string](Get-RdsProperty $computer 'Domain' '') }
    return [ordered]@{ domainJoined = $joined; domain = $domain }
}

function Invoke-LsDirectoryRead {
    # One Win32_TSLicenseServer read method: @{ value = <out parameter>; error = $null } or @{ value = $null; error = <why> }.
    param([string]$MethodName, [string]$OutName, [System.Collections.IDictionary]$Arguments)
    try {
        $r = Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName $script:LsClassName -MethodName $MethodName -Arguments $Arguments
        return @{ value = [bool](Get-RdsProperty $r $OutName $false); error = $null }
    } catch {
        return @{ value = $null; error = "$MethodName could not be read: $($_.Exception.Message)" }
    }
}

function Get-LsLicenseServersGroup {
    <#
        { domainJoined, domain, member, scpRegistered, readError }. member/scpRegistered are $null when the
        server is in a workgroup (no domain group: neither method is called) or the read failed; readError
        then says why ($null otherwise).
    #>
    param([System.Collections.IDictionary]$DomainFacts)
    $facts = [ordered]@{ domainJoined = $DomainFacts.domainJoined; domain = $DomainFacts.domain; member = $null; scpRegistered = $null; readError = $null }
    if (-not $DomainFacts.domainJoined) {
        $facts.readError = 'the license server is in a workgroup: there is no domain Terminal Server License Servers group or service connection point'
        return $facts
    }
    $member = Invoke-LsDirectoryRead -MethodName IsLSinTSLSGroup -OutName IsMember -Arguments @{ Domain = '' }
    $scp = Invoke-LsDirectoryRead -MethodName IsLSRegisteredToSCP -OutName Registered
    $facts.member = $member.value
    $facts.scpRegistered = $scp.value
    $errors = @(@($member.error, $scp.error) | Where-Object { $null -ne $_ })
    if ($errors.Count -gt 0) { $facts.readError = $errors -join '; ' }
    return $facts
}

function Assert-LsGroupAddAllowed {
    # An AddLStoTSLSGroup refused with WBEM_E_ACCESS_DENIED: throws ACCESS_DENIED naming the right it needs.
    param($ErrorRecord)
    $details = Get-RdsScriptErrorDetails $ErrorRecord.Exception
    $code = $null
    if ($null -ne $details -and $details.Contains('returnValue')) { $code = [uint32]$details.returnValue } else { $code = Get-RdsExceptionHResult $ErrorRecord.Exception }
    if ($null -eq $code -or [uint32]$code -ne [uint32]'0x80041003') { return }
    throw (New-RdsScriptError -Code ACCESS_DENIED -Method AddLStoTSLSGroup -ClassName $script:LsClassName -Message (
            'AddLStoTSLSGroup was refused (WBEM_E_ACCESS_DENIED, 0x80041003): adding the license server to the domain''s ' +
            'Terminal Server License Servers group needs a member of Domain Admins; the connection''s account is not one: ' +
            'run with an account in Domain Admins, have a domain administrator add the server''s computer account to the group ' +
            '(RD Licensing Manager, Review Configuration, Add to Group), or remove addToLicenseServersGroup'))
}
