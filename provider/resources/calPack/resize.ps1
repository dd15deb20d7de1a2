<#
.SYNOPSIS
    RdsCalPack shrink: RemoveLicensesWithIdCount on one pack (docs/windows-facts.md#key-pack-methods).

.DESCRIPTION
    Args: keyPackId, quantity (the total wanted), allowRemovingIssuedLicenses.
    Removes TotalLicenses - quantity CALs. Refuses with ISSUED_LICENSES when that is more than the
    pack's available CALs (it would take back issued ones) unless allowRemovingIssuedLicenses; with
    NOT_FOUND when the pack is gone; with VALIDATION when quantity is more than the pack holds (the
    API cannot add CALs to a pack: that is a replacement).
    A row without licenses under the id has nothing to shrink (VALIDATION, as any quantity above what
    the pack holds: the provider replaces it). Throws
    CLASS_NOT_READY when the licensing service is not running.
    Result: { removed, pack }.
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
$quantity = [int64]$a.quantity
$allow = [bool]$a.allowRemovingIssuedLicenses

$pack = Get-CalPackById -KeyPackId $id
if ($null -eq $pack) {
    throw (New-RdsScriptError -Code NOT_FOUND -Message "key pack $id is not on the license server (removed outside Pulumi?): run pulumi refresh, then pulumi up to install it again")
}
$total = [int64]$pack.totalLicenses
if ($quantity -gt $total) {
    throw (New-RdsScriptError -Code VALIDATION -Message "key pack $id holds $total CALs and cannot grow to $quantity in place (RemoveLicensesWithIdCount only removes): the pack must be replaced")
}
$remove = $total - $quantity
if ($remove -eq 0) {
    Write-RdsResult ([ordered]@{ removed = 0; pack = $pack })
    return
}
$available = [int64]$pack.availableLicenses
if ($remove -gt $available -and -not $allow) {
    $issued = $total - $available
    throw (New-RdsScriptError -Code ISSUED_LICENSES -Message ("shrinking key pack {0} from {1} to {2} CALs would remove {3}, but only {4} are available ({5} are issued); set allowRemovingIssuedLicenses: true to remove issued ones, or keep quantity at {6} or more" -f $id, $total, $quantity, $remove, $available, $issued, ($total - $available)))
}
$null = Invoke-RdsWmiMethod -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -MethodName RemoveLicensesWithIdCount -Arguments @{
    KeyPackId    = [uint32]$id
    LicenseCount = [uint32]$remove
}
$after = Get-CalPackById -KeyPackId $id
if ($null -eq $after) {
    throw (New-RdsScriptError -Code NOT_FOUND -Message "key pack $id disappeared after RemoveLicensesWithIdCount removed $remove CALs")
}
Write-RdsResult ([ordered]@{ removed = $remove; pack = $after })
