<#
.SYNOPSIS
    RdsCalPack read: the key pack with one KeyPackId (Win32_TSLicenseKeyPack), or null; or, for a
    batch of coalesced reads, the key packs with several KeyPackIds in one go.

.DESCRIPTION
    Args: keyPackId → Result: { pack: { keyPackId, keyPackType, productType, productVersion,
    productVersionId, totalLicenses, issuedLicenses, availableLicenses, typeAndModel, description,
    expirationDate, issuedPerDevice } | null }.
    Args: keyPackIds (array; provider/powershell/coalesce.ts batches concurrent reads of one server)
    → Result: { packs: [ pack | null, ... ] }, one entry per id, in the order given (one enumeration
    of the key packs and the issued licenses for the whole batch).
    A row without licenses is read as it is (the resource's own pack, emptied: the provider replaces it).
    Throws CLASS_NOT_READY when
    the licensing service is not running. Changes nothing; works on a server that is not activated.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'CalPack.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
# What the licensing classes answer on a stopped service is undocumented: refuse first, with the cause.
Assert-RdsLicensingService
if ($in.args.ContainsKey('keyPackIds')) {
    $ids = @($in.args.keyPackIds | ForEach-Object { [int64]$_ })
    Write-RdsResult ([ordered]@{ packs = (Get-CalPackByIds -KeyPackIds $ids) })
} else {
    $pack = Get-CalPackById -KeyPackId ([int64]$in.args.keyPackId)
    Write-RdsResult ([ordered]@{ pack = $pack })
}
