# Win32_TSLicenseServer and Active Directory: the domain's "Terminal Server License Servers" group and
# the license server's service connection point (SCP). Registered in Win32_TSLicenseServer.ps1.
#
# Per host (state, absent in older files = false): licenseServer.tslsGroupMember (the computer account is
# in its domain's group), licenseServer.scpRegistered (the SCP exists). Only the host's own domain is
# modelled. Rights (docs/windows-facts.md#license-servers-group): IsLSinTSLSGroup, IsLSRegisteredToSCP,
# RegisterLSToSCP and UnRegisterLSFromSCP need Administrators (every callerRights value); AddLStoTSLSGroup
# and RemoveLSfromTSLSGroup need Domain Admins (callerRights domainAdmin or enterpriseAdmin).

# The groups whose members may change the AD group (Microsoft's pages say Domain Admins).
$script:LsGroupWriters = @('domainAdmin', 'enterpriseAdmin')

function Test-RdsLsGroupMember($S) { $S.licenseServer['tslsGroupMember'] -eq $true }
function Test-RdsLsScpRegistered($S) { $S.licenseServer['scpRegistered'] -eq $true }

# A license server in a workgroup has no domain controller to ask. What Windows answers then is not
# documented: WBEM_E_INVALID_OPERATION is the emulator's choice (as for ChangeRole 1/2 in a workgroup).
function Assert-RdsLsInDomain($S, [string]$Method) {
    if (-not (Get-RdsDomain $S)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION "$Method needs a license server in a domain (this one is in workgroup $($S.config.workgroup))"
    }
}

function Assert-RdsLsGroupWriter($S, [string]$Method) {
    $rights = Get-RdsCallerRights $S
    if ($script:LsGroupWriters -notcontains $rights) {
        Stop-RdsMethod $script:WBEM_E_ACCESS_DENIED "$Method needs a member of Domain Admins (the calling account: $rights)"
    }
}

# True when $Name names the host's own domain: its DNS name or its first label (the NetBIOS-style name),
# case-insensitively; '' means the license server's own domain (Microsoft's page).
function Test-RdsOwnDomain($S, [string]$Name) {
    if ([string]::IsNullOrWhiteSpace($Name)) { return $true }
    $domain = Get-RdsDomain $S
    $short = $domain.Split('.')[0]
    [string]::Equals($Name.Trim(), $domain, [StringComparison]::OrdinalIgnoreCase) -or [string]::Equals($Name.Trim(), $short, [StringComparison]::OrdinalIgnoreCase)
}

function Invoke-LsIsInGroup($S, $In) {
    Assert-RdsLsInDomain $S 'IsLSinTSLSGroup'
    # Another domain's group: the simulated farm has one domain per host, so the server is never in it (emulator's choice).
    @{ IsMember = [bool]((Test-RdsOwnDomain $S ([string]$In.Domain)) -and (Test-RdsLsGroupMember $S)) }
}

function Invoke-LsAddToGroup($S, $In) {
    Assert-RdsLsInDomain $S 'AddLStoTSLSGroup'
    Assert-RdsLsGroupWriter $S 'AddLStoTSLSGroup'
    # Already a member: success, nothing changes (emulator's choice: AD answers an existing member as done).
    $S.licenseServer['tslsGroupMember'] = $true
    @{}
}

function Invoke-LsRemoveFromGroup($S, $In) {
    Assert-RdsLsInDomain $S 'RemoveLSfromTSLSGroup'
    Assert-RdsLsGroupWriter $S 'RemoveLSfromTSLSGroup'
    $S.licenseServer['tslsGroupMember'] = $false
    @{}
}

function Invoke-LsIsRegisteredToScp($S, $In) {
    Assert-RdsLsInDomain $S 'IsLSRegisteredToSCP'
    @{ Registered = [bool](Test-RdsLsScpRegistered $S) }
}

function Invoke-LsRegisterToScp($S, $In) {
    Assert-RdsLsInDomain $S 'RegisterLSToSCP'
    $S.licenseServer['scpRegistered'] = $true
    @{}
}

function Invoke-LsUnregisterFromScp($S, $In) {
    Assert-RdsLsInDomain $S 'UnRegisterLSFromSCP'
    $S.licenseServer['scpRegistered'] = $false
    @{}
}
