# Win32_TSLicenseKeyPack: its method table entries (and Win32_TSIssuedLicense's) and the CAL pack methods.

$kp = 'Win32_TSLicenseKeyPack'
$versionTypeCount = @(@('ProductVersion', 'uint32'), @('ProductType', 'uint32'), @('LicenseCount', 'uint32'))
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallRetailPurchaseLicenseKeyPack' $true @(, @('sLicenseCode', 'string')) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallRetail')
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallOpenLicenseKeyPack' $true (@(@('sLicenseNumber', 'string'), @('sAuthorizationNumber', 'string')) + $versionTypeCount) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallOpen')
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallAgreementLicenseKeyPack' $true (@(@('AgreementType', 'uint32'), @('sAgreementNumber', 'string')) + $versionTypeCount) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallAgreement')
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallLicenseKeyPack' $true @(, @('sLicenseKeyPackId', 'string')) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallOffline')
Register-RdsMethod $kp (New-RdsMethodSpec 'UninstallLicenseKeyPackWithId' $true @(, @('KeyPackId', 'uint32')) @() 'Invoke-KpUninstallWithId')
Register-RdsMethod $kp (New-RdsMethodSpec 'RemoveLicensesWithIdCount' $true @(@('KeyPackId', 'uint32'), @('LicenseCount', 'uint32')) @() 'Invoke-KpRemoveLicensesWithIdCount')
foreach ($m in 'ImportAgreementLicenseKeyPack', 'ImportOpenPurchaseLicenseKeyPack', 'ImportRetailPurchaseLicenseKeyPack', 'ImportLicenseKeyPackOffline', 'ReinstallAgreementLicenseKeyPack', 'ReinstallOpenPurchaseLicenseKeyPack', 'ReinstallRetailPurchaseLicenseKeyPack', 'ReinstallLicenseKeyPackOffline', 'UninstallLicenseKeyPack', 'ConvertLicenses') {
    Register-RdsMethod $kp (New-RdsMethodSpec $m $true @() @() $null -NotEmulated)
}
Register-RdsMethod 'Win32_TSIssuedLicense' (New-RdsMethodSpec 'Revoke' $false @() @() $null -NotEmulated)
Remove-Variable kp, m, versionTypeCount

function Assert-RdsActivatedForInstall($S) {
    if (-not $S.licenseServer.activated) {
        Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION "the license server must be activated before you can install RDS CALs onto it (product ID $(Get-RdsProductId $S))"
    }
}

function Assert-RdsVersionTypeCount($In) {
    if ([int]$In.ProductVersion -notin $script:CalVersionInputs) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ProductVersion must be 2 (2008/2008 R2), 4 (2012), 5 (2016), 6 (2019), 7 (2022) or 8 (2025)'
    }
    if ($In.ProductType -gt 1) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ProductType must be 0 (Per Device) or 1 (Per User)' }
    if ($In.LicenseCount -lt 1) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicenseCount must be at least 1' }
}

function Assert-RdsServerAcceptsVersion($S, [int]$VersionId) {
    $os = Get-RdsOs $S
    if ($VersionId -gt $os.MaxCalVersionId) {
        Stop-RdsMethod $script:WBEM_E_NOT_SUPPORTED "a Windows Server $($S.config.osVersion) license server cannot install $($script:CalVersions[$VersionId].String) CALs (the license server must be the same version as the CALs or newer)"
    }
}

function Add-RdsKeyPack($S, [int]$KeyPackType, [int]$ProductType, [int]$VersionId, [long]$Count, [string]$Program, [string]$Method) {
    $ls = $S.licenseServer
    $id = [int]$ls.nextKeyPackId
    $ls.nextKeyPackId = $id + 1
    $pack = [ordered]@{
        KeyPackId         = $id
        KeyPackType       = $KeyPackType
        ProductType       = $ProductType
        ProductVersionID  = $VersionId
        TotalLicenses     = $Count
        IssuedLicenses    = 0
        AvailableLicenses = $Count
        ExpirationDate    = $script:PurchasedExpiration
        AccessRights      = 7
        program           = $Program
        installMethod     = $Method
        installedAt       = (Get-RdsNowIso)
    }
    $ls.keyPacks = @(@($ls.keyPacks) + $pack)
    @{ KeyPackId = [uint32]$id }
}

# The retail-code rule (documented in provider/emulator/README.md): characters are read as base-36
# digits (0-9, A-Z).
#   [20] CAL type: even = Per Device, odd = Per User.
#   [21] version: value mod 6 -> 2008R2, 2012, 2016, 2019, 2022, 2025.
#   [22][23] quantity: (v22 mod 10) * 10 + (v23 mod 10), 0 meaning 100.
function Get-RdsRetailCodeTerms([string]$Code) {
    $c = $Code.ToUpperInvariant()
    $v = { param($i) $script:Base36Digits.IndexOf($c[$i]) }
    $versionIds = @(2, 4, 5, 6, 7, 8)
    $qty = ((& $v 22) % 10) * 10 + ((& $v 23) % 10)
    @{
        ProductType = [int]((& $v 20) % 2)
        VersionId   = [int]$versionIds[(& $v 21) % 6]
        Count       = $(if ($qty -eq 0) { 100 } else { $qty })
    }
}

function Invoke-KpInstallRetail($S, $In) {
    $code = $In.sLicenseCode
    if (-not (Test-RdsFormat $code '^[A-Za-z0-9]{25}\z')) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sLicenseCode must be 25 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    Assert-RdsActivatedForInstall $S
    $terms = Get-RdsRetailCodeTerms $code
    Assert-RdsServerAcceptsVersion $S $terms.VersionId
    Assert-RdsClearinghouseReachable $S 'InstallRetailPurchaseLicenseKeyPack'
    $hash = Get-RdsSha256Hex ('rds-sim/retail-code/v1/' + $code.ToUpperInvariant())
    $hostName = $S.hostName
    $null = Invoke-RdsClearinghouseTransaction {
        param($ch)
        if ($ch.retailCodes.Contains($hash)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'the Clearinghouse rejected this license code: it was already used' }
        $ch.retailCodes[$hash] = [ordered]@{ host = $hostName; at = (Get-RdsNowIso) }
    }
    Add-RdsKeyPack $S 1 $terms.ProductType $terms.VersionId $terms.Count 'retail' 'InstallRetailPurchaseLicenseKeyPack'
}

function Invoke-KpInstallOpen($S, $In) {
    if (-not (Test-RdsFormat $In.sLicenseNumber '^[0-9]{8}\z')) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sLicenseNumber must be 8 digits without hyphens or spaces'
    }
    if (-not (Test-RdsFormat $In.sAuthorizationNumber '^[A-Za-z0-9]{15}\z')) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sAuthorizationNumber must be 15 alphanumeric characters without hyphens or spaces'
    }
    Assert-RdsVersionTypeCount $In
    Assert-RdsActivatedForInstall $S
    Assert-RdsServerAcceptsVersion $S ([int]$In.ProductVersion)
    Assert-RdsClearinghouseReachable $S 'InstallOpenLicenseKeyPack'
    Add-RdsKeyPack $S 5 ([int]$In.ProductType) ([int]$In.ProductVersion) ([long]$In.LicenseCount) 'openLicense' 'InstallOpenLicenseKeyPack'
}

function Invoke-KpInstallAgreement($S, $In) {
    if ($In.AgreementType -gt 5) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'AgreementType must be 0..5 (Select, Enterprise Agreement, Campus, School, SPLA, other)' }
    $format = $script:AgreementNumberFormats[[int]$In.AgreementType]
    if (-not (Test-RdsFormat $In.sAgreementNumber $format.Pattern)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "sAgreementNumber must be $($format.What) without hyphens or spaces"
    }
    Assert-RdsVersionTypeCount $In
    Assert-RdsActivatedForInstall $S
    Assert-RdsServerAcceptsVersion $S ([int]$In.ProductVersion)
    Assert-RdsClearinghouseReachable $S 'InstallAgreementLicenseKeyPack'
    Add-RdsKeyPack $S 2 ([int]$In.ProductType) ([int]$In.ProductVersion) ([long]$In.LicenseCount) $script:AgreementTypeToProgram[[int]$In.AgreementType] 'InstallAgreementLicenseKeyPack'
}

function Invoke-KpInstallOffline($S, $In) {
    $id = $In.sLicenseKeyPackId
    if (-not (Test-RdsFormat $id $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sLicenseKeyPackId must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    Assert-RdsActivatedForInstall $S
    $productId = Get-RdsProductId $S
    $key = $id.ToUpperInvariant()
    $hostName = $S.hostName
    $record = Invoke-RdsClearinghouseTransaction {
        param($ch)
        $r = if ($ch.keyPackIds.Contains($key)) { $ch.keyPackIds[$key] } else { $null }
        if ($null -eq $r -or (ConvertFrom-RdsStored $r.productId) -cne $productId) {
            Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "the Clearinghouse did not issue this license key pack ID for product ID $productId"
        }
        if ($null -ne $r.usedBy) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'this license key pack ID was already used' }
        Assert-RdsServerAcceptsVersion $S ([int]$r.productVersionId)
        $r.usedBy = $hostName
        $r.usedAt = Get-RdsNowIso
        $r
    }
    $program = [string]$record.program
    $productType = if ($record.calType -eq 'perUser') { 1 } else { 0 }
    Add-RdsKeyPack $S $script:Programs[$program].KeyPackType $productType ([int]$record.productVersionId) ([long]$record.quantity) $program 'InstallLicenseKeyPack'
}

function Find-RdsPack($S, [uint32]$KeyPackId) {
    if ($KeyPackId -eq 2) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the built-in key pack (KeyPackId 2) cannot be changed' }
    foreach ($p in @($S.licenseServer.keyPacks)) { if ([uint32]$p.KeyPackId -eq $KeyPackId) { return $p } }
    Stop-RdsMethod $script:WBEM_E_NOT_FOUND "no key pack with KeyPackId $KeyPackId"
}

function Invoke-KpUninstallWithId($S, $In) {
    $pack = Find-RdsPack $S $In.KeyPackId
    $id = [int]$pack.KeyPackId
    $S.licenseServer.keyPacks = @(@($S.licenseServer.keyPacks) | Where-Object { [int]$_.KeyPackId -ne $id })
    $S.licenseServer.issuedLicenses = @(@($S.licenseServer.issuedLicenses) | Where-Object { [int]$_.KeyPackId -ne $id })
    @{}
}

function Invoke-KpRemoveLicensesWithIdCount($S, $In) {
    $pack = Find-RdsPack $S $In.KeyPackId
    if ($In.LicenseCount -lt 1) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicenseCount must be at least 1' }
    if ([long]$In.LicenseCount -gt [long]$pack.AvailableLicenses) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "LicenseCount is larger than the $($pack.AvailableLicenses) available (not issued) licenses of key pack $($pack.KeyPackId)"
    }
    $pack.TotalLicenses = [long]$pack.TotalLicenses - [long]$In.LicenseCount
    $pack.AvailableLicenses = [long]$pack.AvailableLicenses - [long]$In.LicenseCount
    @{}
}
