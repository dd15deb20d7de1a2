<#
.SYNOPSIS
    RdsSessionHostLicensing pre-flight, run on a LICENSE SERVER: the CAL packs a session host's
    licensing relies on, read by KeyPackId (Win32_TSLicenseKeyPack). Changes nothing.

.DESCRIPTION
    Args: keyPackIds (uint32[]). Result: { serverName, packs: [{ keyPackId, productType,
    productVersionId, productVersion, typeAndModel, totalLicenses, issuedLicenses,
    availableLicenses }], missing: [KeyPackIds not on the server] }.
    A leftover row under a KeyPackId (TotalLicenses 0, seen with KeyPackType 7:
    docs/windows-facts.md#key-pack-type) holds no CALs: it is reported missing, never counted.
    Throws CLASS_NOT_READY when the licensing service is not running (Assert-RdsLicensingService).
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'SessionHost.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
# What the licensing classes answer on a stopped service is undocumented: refuse first, with the cause.
Assert-RdsLicensingService
$wanted = [System.Collections.Generic.List[int64]]::new()
foreach ($id in @($in.args.keyPackIds)) { if ($null -ne $id) { $wanted.Add([int64]$id) } }

$cs = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop | Select-Object -First 1
$serverName = [string](Get-RdsProperty $cs 'DNSHostName' (Get-RdsProperty $cs 'Name' $in.host))

$found = [System.Collections.Generic.List[object]]::new()
$seen = [System.Collections.Generic.HashSet[int64]]::new()
foreach ($pack in @(Get-CimInstance -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -ErrorAction Stop)) {
    if ($null -eq $pack) { continue }
    $id = [int64](Get-RdsProperty $pack 'KeyPackId' -1)
    if (-not $wanted.Contains($id) -or $seen.Contains($id)) { continue }
    # A leftover is no pack to license with: left out, so the id lands in `missing`.
    if ([double](Get-RdsProperty $pack 'TotalLicenses' 0) -eq 0) { continue }
    $null = $seen.Add($id)
    $found.Add([ordered]@{
            keyPackId         = $id
            productType       = [int64](Get-RdsProperty $pack 'ProductType' 2)
            productVersionId  = [int64](Get-RdsProperty $pack 'ProductVersionID' 0)
            productVersion    = [string](Get-RdsProperty $pack 'ProductVersion' '')
            typeAndModel      = [string](Get-RdsProperty $pack 'TypeAndModel' '')
            totalLicenses     = [double](Get-RdsProperty $pack 'TotalLicenses' 0)
            issuedLicenses    = [double](Get-RdsProperty $pack 'IssuedLicenses' 0)
            availableLicenses = [double](Get-RdsProperty $pack 'AvailableLicenses' 0)
        })
}
$missing = @($wanted | Where-Object { -not $seen.Contains($_) } | Select-Object -Unique)

Write-RdsResult ([ordered]@{ serverName = $serverName; packs = $found.ToArray(); missing = [int64[]]$missing })
