<#
.SYNOPSIS
    RdsCalPack read: the key pack with one KeyPackId (Win32_TSLicenseKeyPack), or null.

.DESCRIPTION
    Args: keyPackId. Result: { pack: { keyPackId, keyPackType, productType, productVersion,
    productVersionId, totalLicenses, issuedLicenses, availableLicenses, typeAndModel, description,
    expirationDate, issuedPerDevice } | null }. Changes nothing; works on a server that is not
    activated.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'CalPack.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$pack = Get-CalPackById -KeyPackId ([int64]$in.args.keyPackId)
Write-RdsResult ([ordered]@{ pack = $pack })
