<#
.SYNOPSIS
    RdsCalPack delete: UninstallLicenseKeyPackWithId on one pack (docs/windows-facts.md#key-pack-methods).

.DESCRIPTION
    Args: keyPackId, productVersionId, productType (what the pack was when installed: a pack with
    this id but another version or type is someone else's, and is left alone),
    allowRemovingIssuedLicenses.
    Refuses with ISSUED_LICENSES while per-device CALs from the pack are issued (Win32_TSIssuedLicense,
    not revoked), saying how many, unless allowRemovingIssuedLicenses.
    A row without licenses under the id is the resource's own pack, emptied: it is uninstalled too. Throws
    CLASS_NOT_READY when the licensing service is not running.
    Result: { removed, reason: "removed" | "absent" | "replaced" }.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'CalPack.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
# What the licensing classes answer on a stopped service is undocumented: refuse first, with the cause.
Assert-RdsLicensingService
$a = $in.args
$id = [int64]$a.keyPackId
$allow = [bool]$a.allowRemovingIssuedLicenses

$pack = Get-CalPackById -KeyPackId $id
if ($null -eq $pack) {
    Write-RdsResult ([ordered]@{ removed = $false; reason = 'absent' })
    return
}
$sameVersion = -not $a.Contains('productVersionId') -or $null -eq $a.productVersionId -or [int64]$a.productVersionId -eq [int64]$pack.productVersionId
$sameType = -not $a.Contains('productType') -or $null -eq $a.productType -or [int64]$a.productType -eq [int64]$pack.productType
if (-not ($sameVersion -and $sameType)) {
    Write-RdsResult ([ordered]@{ removed = $false; reason = 'replaced' })
    return
}
# Per-device CALs are tracked (Win32_TSIssuedLicense); a Per Device pack's IssuedLicenses counts them too.
$issued = [int64]$pack.issuedPerDevice
if ([int64]$pack.productType -eq 0 -and [int64]$pack.issuedLicenses -gt $issued) { $issued = [int64]$pack.issuedLicenses }
if ($issued -gt 0 -and -not $allow) {
    throw (New-RdsScriptError -Code ISSUED_LICENSES -Message ("key pack {0} still has {1} per-device license{2} issued from it; removing it would take them from the devices that hold them; nothing was removed: set allowRemovingIssuedLicenses: true to remove it anyway" -f $id, $issued, $(if ($issued -eq 1) { '' } else { 's' })))
}
$null = Invoke-RdsWmiMethod -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -MethodName UninstallLicenseKeyPackWithId -Arguments @{ KeyPackId = [uint32]$id }
Write-RdsResult ([ordered]@{ removed = $true; reason = 'removed' })
