# Admin functions: clients taking CALs from an installed pack; a leftover pack row as real servers show.

function Add-RdsSimIssuedLicense {
    <# Simulate clients taking CALs from a pack: per-device packs get Win32_TSIssuedLicense rows (status 2,
       active); per-user packs only count (per-user CALs are tracked in AD). Fails if not enough available. #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [Parameter(Mandatory)][long]$KeyPackId,
        [Parameter(Mandatory)][ValidateRange(1, 100000)][int]$Count,
        [string]$Computer
    )
    $h = Resolve-RdsAdminHost $HostName
    Invoke-RdsAdmin $h {
        param($S)
        $pack = $null
        foreach ($p in @($S.licenseServer.keyPacks)) { if ([long]$p.KeyPackId -eq $KeyPackId) { $pack = $p; break } }
        if ($null -eq $pack) { throw [System.ArgumentException]::new("RdsEmulator: host '$h' has no installed key pack $KeyPackId") }
        if ([long]$pack.AvailableLicenses -lt $Count) { throw [System.InvalidOperationException]::new("RdsEmulator: key pack $KeyPackId has only $($pack.AvailableLicenses) available licenses, $Count requested") }
        $pack.IssuedLicenses = [long]$pack.IssuedLicenses + $Count
        $pack.AvailableLicenses = [long]$pack.AvailableLicenses - $Count
        $issued = [System.Collections.Generic.List[object]]::new()
        if ([int]$pack.ProductType -eq 0) {
            $now = [DateTime]::UtcNow
            $new = [System.Collections.Generic.List[object]]::new()
            for ($i = 1; $i -le $Count; $i++) {
                $id = [int]$S.licenseServer.nextLicenseId
                $S.licenseServer.nextLicenseId = $id + 1
                $name = if ($Computer -and $Count -eq 1) { $Computer } elseif ($Computer) { "$Computer-$i" } else { 'CLIENT-{0:D4}' -f $id }
                $row = [ordered]@{
                    LicenseId         = $id
                    KeyPackId         = [int]$pack.KeyPackId
                    sIssuedToUser     = $null
                    sIssuedToComputer = (ConvertTo-RdsStored $name)
                    sHardwareId       = (Get-RdsSha256Hex "rds-sim/hardware-id/$($S.hostName)/$id").Substring(0, 32).ToUpperInvariant()
                    LicenseStatus     = 2
                    IssueDate         = (ConvertTo-RdsDmtf $now)
                    ExpirationDate    = (ConvertTo-RdsDmtf $now.AddDays(52 + ($id % 38)))
                }
                $new.Add($row)
                $issued.Add([pscustomobject][ordered]@{ LicenseId = $id; KeyPackId = [int]$pack.KeyPackId; sIssuedToComputer = $name; LicenseStatus = 2 })
            }
            $S.licenseServer.issuedLicenses = @(@($S.licenseServer.issuedLicenses) + $new.ToArray())
        }
        [pscustomobject][ordered]@{
            hostName          = $h
            KeyPackId         = [int]$pack.KeyPackId
            count             = $Count
            IssuedLicenses    = [long]$pack.IssuedLicenses
            AvailableLicenses = [long]$pack.AvailableLicenses
            licenses          = $issued.ToArray()
        }
    }
}

function Add-RdsSimLeftoverKeyPack {
    <# Plant a leftover Win32_TSLicenseKeyPack row as listings of real license servers show: KeyPackType 7
       (undocumented), TotalLicenses = IssuedLicenses = AvailableLicenses = 0 (docs/windows-facts.md#key-pack-type).
       No install method made it, nothing is logged as a method call; it can be uninstalled like any pack. #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [ValidateSet('2008R2', '2012', '2016', '2019', '2022', '2025')][string]$ProductVersion = '2019',
        [ValidateSet('perUser', 'perDevice')][string]$CalType = 'perUser',
        [ValidateRange(0, 7)][int]$KeyPackType = 7
    )
    $h = Resolve-RdsAdminHost $HostName
    Invoke-RdsAdmin $h {
        param($S)
        # A pack as an install leaves it (Add-RdsKeyPack), with no licenses, no program and no install method.
        $versionId = [int]$script:VersionNameToId[$ProductVersion]
        $productType = $(if ($CalType -eq 'perUser') { 1 } else { 0 })
        $id = (Add-RdsKeyPack $S $KeyPackType $productType $versionId 0 'leftover' $null).KeyPackId
        [pscustomobject][ordered]@{ hostName = $h; KeyPackId = [int]$id; KeyPackType = $KeyPackType; ProductVersionID = $versionId }
    }
}
