# Admin functions: clients taking CALs from an installed pack; a leftover pack row as real servers show.

function Add-RdsSimIssuedLicense {
    <# Simulate clients taking CALs from a pack: per-device packs get Win32_TSIssuedLicense rows (status 2,
       active) and fail if not enough are available. Per-user packs record one user per CAL for the per-user
       report (Win32_TSLicenseReport; on Windows per-user CALs are tracked in AD, not in Win32_TSIssuedLicense)
       and are NOT limited by what is installed: Windows does not enforce per-user CALs, so usage can exceed
       them (over-allocation). The pack's IssuedLicenses/AvailableLicenses stop at TotalLicenses/0 (uint32
       counters; emulator's choice); the report counts every user. -User names the user (USER-1, USER-2...
       when -Count > 1; default USER-0001...); -Computer names the device (per-device packs). #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [Parameter(Mandatory)][long]$KeyPackId,
        [Parameter(Mandatory)][ValidateRange(1, 100000)][int]$Count,
        [string]$Computer,
        [string]$User
    )
    $h = Resolve-RdsAdminHost $HostName
    Invoke-RdsAdmin $h {
        param($S)
        $pack = $null
        foreach ($p in @($S.licenseServer.keyPacks)) { if ([long]$p.KeyPackId -eq $KeyPackId) { $pack = $p; break } }
        if ($null -eq $pack) { throw [System.ArgumentException]::new("RdsEmulator: host '$h' has no installed key pack $KeyPackId") }
        $perUser = [int]$pack.ProductType -eq 1
        if (-not $perUser -and [long]$pack.AvailableLicenses -lt $Count) { throw [System.InvalidOperationException]::new("RdsEmulator: key pack $KeyPackId has only $($pack.AvailableLicenses) available licenses, $Count requested") }
        $counted = [Math]::Min([long]$Count, [long]$pack.AvailableLicenses)
        $pack.IssuedLicenses = [long]$pack.IssuedLicenses + $counted
        $pack.AvailableLicenses = [long]$pack.AvailableLicenses - $counted
        $users = $(if ($perUser) { Add-RdsPerUserIssues $S $pack $Count $User } else { @() })
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
            users             = @($users)
        }
    }
}

function Add-RdsPerUserIssues($S, $Pack, [int]$Count, [string]$User) {
    # One record per user for the per-user report (Win32_TSLicenseReport.ps1); the names of the users.
    if ($null -eq $S.licenseServer['perUserIssues']) { $S.licenseServer['perUserIssues'] = @() }
    $now = [DateTime]::UtcNow
    $new = [System.Collections.Generic.List[object]]::new()
    $first = @($S.licenseServer['perUserIssues']).Count + 1
    for ($i = 1; $i -le $Count; $i++) {
        $n = $first + $i - 1
        $name = if ($User -and $Count -eq 1) { $User } elseif ($User) { "$User-$i" } else { 'USER-{0:D4}' -f $n }
        $new.Add([ordered]@{
                User             = (ConvertTo-RdsStored $name)
                KeyPackId        = [int]$Pack.KeyPackId
                ProductVersionID = [int]$Pack.ProductVersionID
                IssueDate        = (ConvertTo-RdsDmtf $now)
                ExpirationDate   = (ConvertTo-RdsDmtf $now.AddDays(52 + ($n % 38)))
            })
    }
    $S.licenseServer['perUserIssues'] = @(@($S.licenseServer['perUserIssues']) + $new.ToArray())
    , @($new | ForEach-Object { ConvertFrom-RdsStored $_.User })
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
