<#
.SYNOPSIS
    RdsCalPack pre-install look: refuses on a server that cannot take the pack, else lists its packs.

.DESCRIPTION
    Args: productVersion ("2022"), activationMethod (RdsLicenseServer.activationMethod, for the
    next step of the not-activated error).
    Result: { activationStatus, productId, serverVersion, packs: [ pack... ] } (built-in pack left out).
    Leftover rows (TotalLicenses 0) are left out too. Throws CLASS_NOT_READY (the licensing service is
    not running), NOT_ACTIVATED or VERSION_NOT_ACCEPTED (Assert-CalPackInstallable). Changes nothing.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'CalPack.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
# What the licensing classes answer on a stopped service is undocumented: refuse first, with the cause.
Assert-RdsLicensingService
$a = $in.args
$facts = Assert-CalPackInstallable -ProductVersion ([string]$a.productVersion) -ActivationMethod ([string]$a.activationMethod)
$packs = Get-CalPackList
Write-RdsResult ([ordered]@{
        activationStatus = $facts.activationStatus
        productId        = $facts.productId
        serverVersion    = $facts.serverVersion
        packs            = $packs
    })
