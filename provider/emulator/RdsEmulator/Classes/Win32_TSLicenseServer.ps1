# Win32_TSLicenseServer: its method table entries and the activation methods.

$ls = 'Win32_TSLicenseServer'
Register-RdsMethod $ls (New-RdsMethodSpec 'ActivateServer' $true @(, @('sLicenseServerId', 'string')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsActivateServer')
Register-RdsMethod $ls (New-RdsMethodSpec 'ActivateServerAutomatic' $true @() @(, @('ActivationStatus', 'uint32')) 'Invoke-LsActivateServerAutomatic')
Register-RdsMethod $ls (New-RdsMethodSpec 'DeactivateServer' $true @(, @('sConfirmCode', 'string')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsDeactivateServer')
Register-RdsMethod $ls (New-RdsMethodSpec 'DeactivateServerAutomatic' $true @() @(, @('ActivationStatus', 'uint32')) 'Invoke-LsDeactivateServerAutomatic')
Register-RdsMethod $ls (New-RdsMethodSpec 'ReactivateServer' $true @(, @('sNewLicenseServerId', 'string')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsReactivateServer')
Register-RdsMethod $ls (New-RdsMethodSpec 'ReactivateServerAutomatic' $true @(, @('Reason', 'uint32')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsReactivateServerAutomatic')
Register-RdsMethod $ls (New-RdsMethodSpec 'GetActivationStatus' $true @() @(, @('ActivationStatus', 'uint32')) 'Invoke-LsGetActivationStatus')
Register-RdsMethod $ls (New-RdsMethodSpec 'GetLicenseServerId' $true @() @(, @('sLicenseServerId', 'string')) 'Invoke-LsGetLicenseServerId')
Register-RdsMethod $ls (New-RdsMethodSpec 'ChangeRole' $true @(, @('ServerRole', 'uint32')) @() 'Invoke-LsChangeRole')
# The AD "Terminal Server License Servers" group and the service connection point: Invoke-Ls* in
# Win32_TSLicenseServer.Directory.ps1 (signatures from Microsoft's method pages, docs/windows-facts.md#license-servers-group).
Register-RdsMethod $ls (New-RdsMethodSpec 'IsLSinTSLSGroup' $true @(, @('Domain', 'string')) @(, @('IsMember', 'boolean')) 'Invoke-LsIsInGroup')
Register-RdsMethod $ls (New-RdsMethodSpec 'AddLStoTSLSGroup' $true @() @() 'Invoke-LsAddToGroup')
Register-RdsMethod $ls (New-RdsMethodSpec 'RemoveLSfromTSLSGroup' $true @() @() 'Invoke-LsRemoveFromGroup')
Register-RdsMethod $ls (New-RdsMethodSpec 'IsLSRegisteredToSCP' $true @() @(, @('Registered', 'boolean')) 'Invoke-LsIsRegisteredToScp')
Register-RdsMethod $ls (New-RdsMethodSpec 'RegisterLSToSCP' $true @() @() 'Invoke-LsRegisterToScp')
Register-RdsMethod $ls (New-RdsMethodSpec 'UnRegisterLSFromSCP' $true @() @() 'Invoke-LsUnregisterFromScp')
foreach ($m in 'IsLSPublished', 'PublishLS', 'UnpublishLS', 'IsLSonDC', 'IsLSSecGrpGPEnabled', 'IsLSPreventUpgradeGPEnabled', 'IsSecureAccessAllowed', 'IsTSinTSCGroup', 'CreateTSCGroup', 'RemoveTSCGroup', 'IsTSCGroupPresent') {
    Register-RdsMethod $ls (New-RdsMethodSpec $m $true @() @() $null -NotEmulated)
}
Remove-Variable ls, m

$script:Alnum35 = '^[A-Za-z0-9]{35}\z'

function Get-RdsExpectedLicenseServerId([string]$ProductId) { Get-RdsAlnumId "rds-sim/license-server-id/v1/$ProductId" 35 }
function Get-RdsExpectedConfirmCode([string]$ProductId) { Get-RdsAlnumId "rds-sim/deactivation-confirmation-code/v1/$ProductId" 35 }

function Assert-RdsClearinghouseReachable($S, [string]$What) {
    if ($S.faults.clearinghouseUnreachable) {
        Stop-RdsMethod $script:WBEM_E_NOT_AVAILABLE "$What could not reach the Microsoft Clearinghouse (outbound TCP 443 blocked or no Internet access)"
    }
}

function Assert-RdsContact($S, [string[]]$Fields, [string]$What) {
    $missing = @($Fields | Where-Object { [string]::IsNullOrWhiteSpace((ConvertFrom-RdsStored $S.licenseServer.contact[$_])) })
    if ($missing.Count -gt 0) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "$What requires the contact properties $($missing -join ', ') to be set (Set-CimInstance) first"
    }
}

function Assert-RdsLicenseServerId([string]$Id, [string]$Param, $S) {
    if (-not (Test-RdsFormat $Id $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "$Param must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces"
    }
    $productId = Get-RdsProductId $S
    if (-not [string]::Equals($Id, (Get-RdsExpectedLicenseServerId $productId), [StringComparison]::OrdinalIgnoreCase)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "the Clearinghouse did not issue this license server ID for product ID $productId"
    }
}

function Set-RdsActivated($S, [string]$Method) {
    $ls = $S.licenseServer
    $ls.activated = $true
    $ls.everActivated = $true
    $ls.licenseServerId = Get-RdsExpectedLicenseServerId (Get-RdsProductId $S)
    $ls.activationMethod = $Method
    $ls.activatedAt = Get-RdsNowIso
}

function Set-RdsDeactivated($S) {
    $ls = $S.licenseServer
    $ls.activated = $false
    $ls.licenseServerId = $null
    $ls.activationMethod = $null
    $ls.activatedAt = $null
}

function Invoke-LsActivateServer($S, $In) {
    Assert-RdsLicenseServerId $In.sLicenseServerId 'sLicenseServerId' $S
    if (-not $S.licenseServer.activated) { Set-RdsActivated $S 'licenseServerId' }
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsActivateServerAutomatic($S, $In) {
    Assert-RdsContact $S @('FirstName', 'LastName', 'Company', 'CountryRegion') 'ActivateServerAutomatic'
    Assert-RdsClearinghouseReachable $S 'ActivateServerAutomatic'
    if (-not $S.licenseServer.activated) { Set-RdsActivated $S 'automatic' }
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsDeactivateServer($S, $In) {
    if (-not (Test-RdsFormat $In.sConfirmCode $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sConfirmCode must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server is not activated' }
    $productId = Get-RdsProductId $S
    if (-not [string]::Equals($In.sConfirmCode, (Get-RdsExpectedConfirmCode $productId), [StringComparison]::OrdinalIgnoreCase)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "the Clearinghouse did not issue this confirmation code for product ID $productId"
    }
    Set-RdsDeactivated $S
    @{ ActivationStatus = [uint32]1 }
}

function Invoke-LsDeactivateServerAutomatic($S, $In) {
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server is not activated' }
    Assert-RdsContact $S @('FirstName', 'LastName') 'DeactivateServerAutomatic'
    Assert-RdsClearinghouseReachable $S 'DeactivateServerAutomatic'
    Set-RdsDeactivated $S
    @{ ActivationStatus = [uint32]1 }
}

# Microsoft documents Reactivate* for an activated server (a new license server id, or a reason); a server
# that is not activated is activated with Activate*, whatever its history. What Windows answers a
# Reactivate* on a not-activated server is undocumented: WBEM_E_INVALID_OPERATION is the emulator's choice.
function Assert-RdsActivatedForReactivation($S, [string]$Instead) {
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION "the license server is not activated: use $Instead (Reactivate* is for an activated server)" }
}

function Invoke-LsReactivateServer($S, $In) {
    if (-not (Test-RdsFormat $In.sNewLicenseServerId $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sNewLicenseServerId must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    Assert-RdsActivatedForReactivation $S 'ActivateServer'
    Assert-RdsLicenseServerId $In.sNewLicenseServerId 'sNewLicenseServerId' $S
    Set-RdsActivated $S 'licenseServerId'
    $S.licenseServer.reactivations = [int]$S.licenseServer.reactivations + 1
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsReactivateServerAutomatic($S, $In) {
    if ($In.Reason -gt 4) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'Reason must be 0..4 (redeployed, certificate corrupt, private key compromised, activation key expired, upgraded)' }
    Assert-RdsActivatedForReactivation $S 'ActivateServerAutomatic'
    Assert-RdsContact $S @('FirstName', 'LastName') 'ReactivateServerAutomatic'
    Assert-RdsClearinghouseReachable $S 'ReactivateServerAutomatic'
    Set-RdsActivated $S 'automatic'
    $S.licenseServer.reactivations = [int]$S.licenseServer.reactivations + 1
    $S.licenseServer.lastReactivationReason = [int]$In.Reason
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsGetActivationStatus($S, $In) {
    if ($S.faults.activationStatusUnknown) { return @{ ActivationStatus = [uint32]2 } }
    @{ ActivationStatus = [uint32](Get-RdsActivationStatus $S) }
}

function Invoke-LsGetLicenseServerId($S, $In) {
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server is not activated, so it has no license server ID' }
    @{ sLicenseServerId = [string]$S.licenseServer.licenseServerId }
}

# The group ChangeRole needs for a scope (docs/windows-facts.md#server-role), and the rights of the
# calling account (host fact callerRights) that hold it.
$script:ChangeRoleRights = @{ 1 = @('Domain Admins', @('domainAdmin', 'enterpriseAdmin')); 2 = @('Enterprise Admins', @('enterpriseAdmin')) }

function Invoke-LsChangeRole($S, $In) {
    if ($In.ServerRole -gt 2) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ServerRole must be 0 (workgroup), 1 (domain) or 2 (forest)' }
    if ($In.ServerRole -gt 0 -and -not (Get-RdsDomain $S)) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'a license server in a workgroup can only use the workgroup discovery scope (0)' }
    if ($In.ServerRole -gt 0) {
        $need = $script:ChangeRoleRights[[int]$In.ServerRole]
        $rights = Get-RdsCallerRights $S
        if ($need[1] -notcontains $rights) {
            Stop-RdsMethod $script:WBEM_E_ACCESS_DENIED "ChangeRole $($In.ServerRole) needs a member of $($need[0]) (the calling account: $rights)"
        }
    }
    $S.licenseServer.serverRole = [int]$In.ServerRole
    @{}
}
