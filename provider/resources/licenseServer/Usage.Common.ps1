<#
.SYNOPSIS
    CAL usage of the license server: per pack, per device (Win32_TSIssuedLicense) and per user (the per-user
    report, Win32_TSLicenseReport). Dot-sourced by get.ps1; no job of its own. Needs LicenseServer.Common.ps1.

.DESCRIPTION
    Get-LsCalUsage returns
      { packs: [ { keyPackId, calType, productVersion, installed, issued, available } ],
        perDevice: { total, listed: [ { device, keyPackId, expires } ], limit },
        perUser: { installed, issued, reportAvailable, reason } }
    The built-in pack and leftover rows (TotalLicenses 0) are not listed (docs/windows-facts.md#key-pack-type).
    perDevice counts the active licenses (LicenseStatus 2) and lists at most $LsPerDeviceListLimit of them,
    soonest expiry first. perUser.issued comes from a per-user report generated for this read and deleted
    right after it (nothing is left behind); only where the domain allows it: per-user CALs are tracked in
    Active Directory, and "if the license server is not a member of this group, per-user license tracking
    and reporting will not work" (Microsoft's IsLSinTSLSGroup page). Outside the group, issued is what the
    newest report already on the server counted while the server still tracked them (no report is made),
    and reason says so; otherwise issued is $null and reason says why. A failed report read never fails the
    read: reportAvailable is false with the reason.
#>

Set-StrictMode -Version 3.0

$script:LsPerDeviceListLimit = 50
# ProductVersionID -> CAL version (docs/windows-facts.md#product-version-id; 7 and 8 are unverified).
$script:LsCalVersionNames = @{ 2 = '2008R2'; 3 = '2008R2'; 4 = '2012'; 5 = '2016'; 6 = '2019'; 7 = '2022'; 8 = '2025' }
$script:LsIsoFormat = 'yyyy-MM-ddTHH:mm:ssZ'

function ConvertTo-LsIsoDate {
    # A CIM DATETIME (a DateTime from Get-CimInstance, or DMTF text yyyyMMddHHmmss.ffffff+UUU) as ISO 8601 UTC; '' when absent.
    param($Value)
    if ($null -eq $Value) { return '' }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime().ToString($script:LsIsoFormat, [cultureinfo]::InvariantCulture) }
    $text = [string]$Value
    if ($text -match '^(\d{14})\.\d{6}([+-])(\d{3})$') {
        $local = [datetime]::ParseExact($Matches[1], 'yyyyMMddHHmmss', [cultureinfo]::InvariantCulture)
        $offset = [int]$Matches[3]
        if ($Matches[2] -eq '-') { $offset = -$offset }
        return [datetime]::SpecifyKind($local.AddMinutes(-$offset), [System.DateTimeKind]::Utc).ToString($script:LsIsoFormat, [cultureinfo]::InvariantCulture)
    }
    return $text
}

function Test-LsCountedPack {
    # A pack with CALs of a type a session host uses: not the built-in pack (ProductType 3, ProductVersionID
    # 0/1), not a leftover row (TotalLicenses 0), ProductType 0 (per device) or 1 (per user).
    param($Pack)
    $type = Get-RdsProperty $Pack 'ProductType'
    $pvid = Get-RdsProperty $Pack 'ProductVersionID'
    if ($null -eq $type -or ([int64]$type -ne 0 -and [int64]$type -ne 1)) { return $false }
    if ($null -eq $pvid -or [int64]$pvid -lt 2) { return $false }
    return ([double](Get-RdsProperty $Pack 'TotalLicenses' 0) -gt 0)
}

function Get-LsPackUsage {
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($pack in @(Get-CimInstance -Namespace $script:LsNamespace -ClassName Win32_TSLicenseKeyPack -ErrorAction Stop)) {
        if ($null -eq $pack -or -not (Test-LsCountedPack $pack)) { continue }
        $pvid = [int](Get-RdsProperty $pack 'ProductVersionID' 0)
        $version = [string]$pvid
        if ($script:LsCalVersionNames.ContainsKey($pvid)) { $version = $script:LsCalVersionNames[$pvid] }
        $calType = 'perDevice'
        if ([int64](Get-RdsProperty $pack 'ProductType' 0) -eq 1) { $calType = 'perUser' }
        $list.Add([ordered]@{
                keyPackId      = [int64](Get-RdsProperty $pack 'KeyPackId' 0)
                calType        = $calType
                productVersion = $version
                installed      = [int64](Get-RdsProperty $pack 'TotalLicenses' 0)
                issued         = [int64](Get-RdsProperty $pack 'IssuedLicenses' 0)
                available      = [int64](Get-RdsProperty $pack 'AvailableLicenses' 0)
            })
    }
    return , $list.ToArray()
}

function Get-LsPerDeviceUsage {
    # Active per-device licenses (LicenseStatus 2): the count, and the first $LsPerDeviceListLimit by expiry.
    $active = @(foreach ($license in @(Get-CimInstance -Namespace $script:LsNamespace -ClassName Win32_TSIssuedLicense -ErrorAction Stop)) {
            if ($null -eq $license) { continue }
            $status = Get-RdsProperty $license 'LicenseStatus'
            if ($null -eq $status -or [int64]$status -ne 2) { continue }
            [pscustomobject]@{
                device    = [string](Get-RdsProperty $license 'sIssuedToComputer' '')
                keyPackId = [int64](Get-RdsProperty $license 'KeyPackId' 0)
                expires   = ConvertTo-LsIsoDate (Get-RdsProperty $license 'ExpirationDate')
                licenseId = [int64](Get-RdsProperty $license 'LicenseId' 0)
            }
        })
    # ISO 8601 UTC text sorts as time; the license id breaks ties so the list is stable.
    $listed = @($active | Sort-Object -Property expires, licenseId | Select-Object -First $script:LsPerDeviceListLimit |
            ForEach-Object { [ordered]@{ device = $_.device; keyPackId = $_.keyPackId; expires = $_.expires } })
    return [ordered]@{ total = $active.Count; listed = $listed; limit = $script:LsPerDeviceListLimit }
}

function Read-LsPerUserSummary {
    <#
        The "Per User" rows of a report's summary (FetchReportSummaryEntries, Count 0 = every entry from
        StartIndex 0): @{ rows = <how many>; notTracking = <a row says Not Tracking: the server did not track
        per-user CALs when the report was made>; issued = <their IssuedLicenses summed> }.
        ReturnValue LSERVER_I_NO_MORE_DATA (0x4001) means no entries, not a failure.
    #>
    param($Report)
    $summary = Invoke-RdsWmiMethod -InputObject $Report -MethodName FetchReportSummaryEntries -Arguments @{ StartIndex = [uint32]0; Count = [uint32]0 } -AllowReturnValue ([uint32]'0x4001')
    $read = @{ rows = 0; notTracking = $false; issued = [int64]0 }
    foreach ($row in @(Get-RdsProperty $summary 'ReportSummaryEntries' @())) {
        if ($null -eq $row -or [string](Get-RdsProperty $row 'TSCALType' '') -ne 'Per User') { continue }
        $read.rows++
        if ([string](Get-RdsProperty $row 'TSCALAvailability' '') -eq 'Not Tracking') { $read.notTracking = $true }
        $read.issued += [int64](Get-RdsProperty $row 'IssuedLicenses' 0)
    }
    return $read
}

function Get-LsPerUserIssued {
    <#
        Per-user CALs in use, from a per-user report made now (GenerateReportEx) and deleted right after:
        @{ issued = <sum of the "Per User" summary rows>; reason = $null }, or @{ issued = $null; reason = <why> }.
    #>
    $name = [string](Get-RdsProperty (Invoke-RdsWmiMethod -Namespace $script:LsNamespace -ClassName Win32_TSLicenseReport -MethodName GenerateReportEx) 'FileName' '')
    $report = $null
    try {
        $report = @(Get-CimInstance -Namespace $script:LsNamespace -ClassName Win32_TSLicenseReport -ErrorAction Stop | Where-Object { [string](Get-RdsProperty $_ 'FileName' '') -eq $name })[0]
        if ($null -eq $report) { return @{ issued = $null; reason = "the per-user report $name generated for this read is not listed by Win32_TSLicenseReport" } }
        $summary = Read-LsPerUserSummary $report
        if ($summary.notTracking) {
            return @{ issued = $null; reason = 'the per-user report says Not Tracking: the license server does not track per-user CALs (check its membership of the Terminal Server License Servers group)' }
        }
        return @{ issued = $summary.issued; reason = $null }
    } finally {
        # The report was made only for this read: never leave it behind (a failed delete changes nothing else).
        if ($null -ne $report) {
            try { $null = Invoke-RdsWmiMethod -InputObject $report -MethodName DeleteReport } catch { $null = $_ }
        }
    }
}

function Get-LsLastTrackedPerUser {
    <#
        The newest per-user report already on the server (an administrator's, from RD Licensing Manager or
        GenerateReportEx) whose Per User rows were tracked: @{ issued; generated (ISO); fileName }, or $null.
        Reports keep what they counted when they were made, and stay until deleted (Microsoft's
        Win32_TSLicenseReport page). Reads only: it makes and deletes no report.
    #>
    $reports = @(Get-CimInstance -Namespace $script:LsNamespace -ClassName Win32_TSLicenseReport -ErrorAction Stop |
            Sort-Object -Property { Get-RdsProperty $_ 'GenerationDateTime' ([datetime]::MinValue) } -Descending)
    foreach ($report in $reports) {
        # Tracked: Per User rows, none of them Not Tracking.
        $summary = Read-LsPerUserSummary $report
        if ($summary.rows -gt 0 -and -not $summary.notTracking) {
            return @{ issued = $summary.issued; generated = (ConvertTo-LsIsoDate (Get-RdsProperty $report 'GenerationDateTime' $null)); fileName = [string](Get-RdsProperty $report 'FileName' '') }
        }
    }
    return $null
}

function Get-LsCalUsage {
    <# $MakeReport: make a per-user report for the read (and delete it); without it (rds-licensing check, which
       writes nothing), only the reports already on the server are read. #>
    param([System.Collections.IDictionary]$Group, [bool]$MakeReport = $true)
    $packs = Get-LsPackUsage
    $perUserInstalled = [int64]0
    foreach ($p in $packs) { if ($p.calType -eq 'perUser') { $perUserInstalled += $p.installed } }
    $perUser = [ordered]@{ installed = $perUserInstalled; issued = $null; reportAvailable = $false; reason = $null }
    if (-not $Group.domainJoined) {
        $perUser.reason = 'the license server is in a workgroup: per-user CALs are tracked in Active Directory, so there is no per-user report'
    } elseif ($null -eq $Group.member) {
        $perUser.reason = "the license server's membership of the Terminal Server License Servers group could not be read ($($Group.readError)), so the per-user report was not read"
    } elseif (-not $Group.member) {
        $why = 'the license server is not in the Terminal Server License Servers group: per-user CAL tracking and reporting do not work without it (addToLicenseServersGroup adds it)'
        # No new report (it could not count them): the usage the server last tracked, from a report already there.
        $last = $null
        try { $last = Get-LsLastTrackedPerUser } catch { $why += "; the earlier reports could not be read: $($_.Exception.Message)" }
        if ($null -ne $last) {
            $perUser.issued = $last.issued
            $perUser.reportAvailable = $true
            $why += "; in use when last tracked: the report $($last.fileName) of $($last.generated)"
        }
        $perUser.reason = $why
    } elseif (-not $MakeReport) {
        # A reader that writes nothing: the newest report already on the server, and how old it is.
        try {
            $last = Get-LsLastTrackedPerUser
            if ($null -ne $last) {
                $perUser.issued = $last.issued
                $perUser.reportAvailable = $true
                $perUser.reason = "from the newest per-user report on the server, $($last.fileName) of $($last.generated) (this read makes none)"
            } else {
                $perUser.reason = "no per-user report on the server to read (this read makes none): create one in RD Licensing Manager (Create Report), or refresh an RdsLicenseServer, which makes one"
            }
        } catch {
            $perUser.reason = "the per-user reports could not be read: $($_.Exception.Message)"
        }
    } else {
        try {
            $read = Get-LsPerUserIssued
            $perUser.issued = $read.issued
            $perUser.reason = $read.reason
            $perUser.reportAvailable = ($null -ne $read.issued)
        } catch {
            $perUser.reason = "the per-user report could not be read: $($_.Exception.Message)"
        }
    }
    return [ordered]@{ packs = $packs; perDevice = (Get-LsPerDeviceUsage); perUser = $perUser }
}
