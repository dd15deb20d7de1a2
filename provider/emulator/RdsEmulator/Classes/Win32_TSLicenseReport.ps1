# Win32_TSLicenseReport: the license usage reports of a license server (docs/windows-facts.md#license-report).
#
# GenerateReportEx (static) snapshots the server's usage into a report (state: licenseServer.reports);
# Get-CimInstance lists the reports; the instance methods FetchReportSummaryEntries and FetchReportEntries
# read one, DeleteReport removes it. Per-user usage comes from the users Add-RdsSimIssuedLicense recorded
# (licenseServer.perUserIssues). Microsoft: "If the license server is not a member of this group, per-user
# license tracking and reporting will not work" (IsLSinTSLSGroup page): a report made while the server is
# not in a domain or not in the group has its per-user summary rows "Not Tracking", IssuedLicenses 0, and
# no per-user entries (emulator's choice of how "not work" shows).

$script:LsReportClass = 'Win32_TSLicenseReport'
$script:Classes['win32_tslicensereport'] = @{ Name = $script:LsReportClass; Namespace = 'root/cimv2'; Kind = 'LicenseServer' }
$script:AllProperties[$script:LsReportClass] = @('FileName', 'LicenseUsageCount', 'InstalledLicenses', 'GenerationDateTime', 'ScopeType', 'ScopeValue', 'Version')
$script:Methods[$script:LsReportClass] = @{}
$rp = $script:LsReportClass
Register-RdsMethod $rp (New-RdsMethodSpec 'GenerateReportEx' $true @() @(, @('FileName', 'string')) 'Invoke-LsReportGenerate')
Register-RdsMethod $rp (New-RdsMethodSpec 'FetchReportSummaryEntries' $false @(@('StartIndex', 'uint32'), @('Count', 'uint32')) @(@('Count', 'uint32'), @('ReportSummaryEntries', 'instance[]')) 'Invoke-LsReportFetchSummary')
Register-RdsMethod $rp (New-RdsMethodSpec 'FetchReportEntries' $false @(@('StartIndex', 'uint32'), @('Count', 'uint32')) @(@('Count', 'uint32'), @('ReportEntries', 'instance[]')) 'Invoke-LsReportFetchEntries')
Register-RdsMethod $rp (New-RdsMethodSpec 'DeleteReport' $false @() @() 'Invoke-LsReportDelete')
# GenerateReport is documented as not supported since Windows Server 2012 (WBEM_E_NOT_SUPPORTED, as -NotEmulated answers).
foreach ($m in 'GenerateReport', 'FetchReportPerDeviceEntries', 'FetchReportFailedPerUserEntries', 'FetchReportFailedPerUserSummaryEntries') {
    Register-RdsMethod $rp (New-RdsMethodSpec $m ($m -eq 'GenerateReport') @() @() $null -NotEmulated)
}
Remove-Variable rp, m

Register-RdsInstanceReader $script:LsReportClass { param($S) , (Get-RdsReportInstances $S) }

function Get-RdsReportInstances($S) {
    $server = Get-RdsComputerName $S
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($r in @($S.licenseServer['reports'])) {
        if ($null -eq $r) { continue }
        $p = [ordered]@{
            FileName           = [string]$r.FileName
            # Documented as not supported (DEPRECATED) since Windows Server 2012: always $null here.
            LicenseUsageCount  = $null
            InstalledLicenses  = $null
            GenerationDateTime = (ConvertFrom-RdsDmtf $r.GenerationDateTime)
            ScopeType          = $null
            ScopeValue         = $null
            Version            = [uint32]$r.Version
        }
        $list.Add((New-RdsCimInstance $script:LsReportClass 'root/cimv2' $p $server))
    }
    , $list.ToArray()
}

function Test-RdsPerUserTracking($S) { [bool](Get-RdsDomain $S) -and (Test-RdsLsGroupMember $S) }

function Get-RdsCalTypeName([int]$ProductVersionId, [bool]$PerUser) {
    $prefix = if ($ProductVersionId -eq 2) { 'TS or RDS' } else { 'RDS' }
    '{0} Per {1} CAL' -f $prefix, $(if ($PerUser) { 'User' } else { 'Device' })
}

function New-RdsReportSummary($S, [bool]$Tracking) {
    # One row per CAL type and version: installed (packs with licenses) and issued.
    $rows = [ordered]@{}
    $row = {
        param([int]$Pvid, [bool]$PerUser)
        $key = "$([int]$PerUser)/$Pvid"
        if (-not $rows.Contains($key)) { $rows[$key] = [ordered]@{ ProductVersionID = $Pvid; PerUser = $PerUser; InstalledLicenses = 0L; IssuedLicenses = 0L } }
        $rows[$key]
    }
    foreach ($pack in @($S.licenseServer.keyPacks)) {
        if ($null -eq $pack -or [long]$pack.TotalLicenses -eq 0 -or [int]$pack.ProductType -gt 1) { continue }
        $r = & $row ([int]$pack.ProductVersionID) ([int]$pack.ProductType -eq 1)
        $r.InstalledLicenses += [long]$pack.TotalLicenses
    }
    $packVersion = @{}
    foreach ($pack in @($S.licenseServer.keyPacks)) { if ($null -ne $pack) { $packVersion[[int]$pack.KeyPackId] = [int]$pack.ProductVersionID } }
    foreach ($l in @($S.licenseServer.issuedLicenses)) {
        if ($null -eq $l -or [int]$l.LicenseStatus -ne 2 -or -not $packVersion.ContainsKey([int]$l.KeyPackId)) { continue }
        $r = & $row $packVersion[[int]$l.KeyPackId] $false
        $r.IssuedLicenses += 1
    }
    if ($Tracking) {
        foreach ($u in @($S.licenseServer['perUserIssues'])) {
            if ($null -eq $u) { continue }
            $r = & $row ([int]$u.ProductVersionID) $true
            $r.IssuedLicenses += 1
        }
    }
    , @(foreach ($r in $rows.Values) {
            $availability = if ($r.PerUser -and -not $Tracking) { 'Not Tracking' } elseif ($r.IssuedLicenses -lt $r.InstalledLicenses) { 'Available' } else { 'None' }
            [ordered]@{
                ProductVersion    = [string]$script:CalVersions[$r.ProductVersionID].String
                ProductVersionID  = $r.ProductVersionID
                TSCALType         = $(if ($r.PerUser) { 'Per User' } else { 'Per Device' })
                InstalledLicenses = $r.InstalledLicenses
                IssuedLicenses    = $r.IssuedLicenses
                TSCALAvailability = $availability
            }
        })
}

function Invoke-LsReportGenerate($S, $In) {
    $tracking = Test-RdsPerUserTracking $S
    if ($null -eq $S.licenseServer['reports']) { $S.licenseServer['reports'] = @() }
    $n = [int]$S.licenseServer['nextReportId'] + 1
    $S.licenseServer['nextReportId'] = $n
    $now = [DateTime]::UtcNow
    # The report's file name: its format on Windows is not documented (emulator's choice).
    $name = 'RDSLicenseReport-{0}-{1:D4}.xml' -f $now.ToString('yyyyMMdd-HHmmss', [CultureInfo]::InvariantCulture), $n
    $entries = @(if ($tracking) {
            foreach ($u in @($S.licenseServer['perUserIssues'])) {
                if ($null -eq $u) { continue }
                [ordered]@{ User = $u.User; ExpirationDate = $u.ExpirationDate; ProductVersionID = [int]$u.ProductVersionID }
            }
        })
    $report = [ordered]@{
        FileName           = $name
        GenerationDateTime = (ConvertTo-RdsDmtf $now)
        Version            = 2
        summary            = (New-RdsReportSummary $S $tracking)
        entries            = $entries
    }
    $S.licenseServer['reports'] = @(@($S.licenseServer['reports']) + $report)
    @{ FileName = $name }
}

# The report an instance method was called on (Invoke-CimMethod -InputObject, or a WMI object's method).
function Get-RdsCalledReport($S) {
    $name = [string](Get-RdsOptionalProperty (Get-RdsCalledInstance) 'FileName')
    foreach ($r in @($S.licenseServer['reports'])) { if ($null -ne $r -and [string]$r.FileName -ceq $name) { return $r } }
    Stop-RdsMethod $script:WBEM_E_NOT_FOUND "no license report named '$name' on this license server (deleted?)"
}

function Get-RdsOptionalProperty($Object, [string]$Name) {
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($null -eq $p) { return $null }
    $p.Value
}

# Entries [StartIndex, StartIndex + Count) (Count 0: all the rest), as Microsoft documents the Fetch* methods.
# Microsoft documents ReturnValue LSERVER_I_NO_MORE_DATA (0x4001) for "no more entries"; the emulator's
# dispatcher answers a non-zero ReturnValue only for a failure, so past the last entry it answers an empty
# page with ReturnValue 0 (emulator's choice; scripts accept both).
function Select-RdsReportPage([object[]]$All, $In, [string]$ClassName, [string]$OutName, [string]$ServerName) {
    $start = [Math]::Min([int]$In.StartIndex, $All.Count)
    $take = if ([int]$In.Count -eq 0) { $All.Count - $start } else { [Math]::Min([int]$In.Count, $All.Count - $start) }
    $page = [object[]]@(for ($i = $start; $i -lt $start + $take; $i++) {
            New-RdsCimInstance $ClassName 'root/cimv2' $All[$i] $ServerName
        })
    @{ Count = [uint32]$page.Count; $OutName = $page }
}

function Invoke-LsReportFetchSummary($S, $In) {
    $report = Get-RdsCalledReport $S
    $all = [object[]]@(foreach ($r in @($report.summary)) {
            [ordered]@{
                ProductVersion = [string]$r.ProductVersion; ProductVersionID = [uint32]$r.ProductVersionID; TSCALType = [string]$r.TSCALType
                InstalledLicenses = [uint32]$r.InstalledLicenses; IssuedLicenses = [uint32]$r.IssuedLicenses; TSCALAvailability = [string]$r.TSCALAvailability
            }
        })
    Select-RdsReportPage $all $In 'Win32_TSLicenseReportSummaryEntry' 'ReportSummaryEntries' (Get-RdsComputerName $S)
}

function Invoke-LsReportFetchEntries($S, $In) {
    $report = Get-RdsCalledReport $S
    $all = [object[]]@(foreach ($e in @($report.entries)) {
            if ($null -eq $e) { continue }
            [ordered]@{
                User = (ConvertFrom-RdsStored $e.User); ExpirationDate = (ConvertFrom-RdsDmtf $e.ExpirationDate)
                CALType = (Get-RdsCalTypeName ([int]$e.ProductVersionID) $true)
                ProductVersion = [string]$script:CalVersions[[int]$e.ProductVersionID].String; ProductVersionID = [uint32]$e.ProductVersionID
            }
        })
    Select-RdsReportPage $all $In 'Win32_TSLicenseReportEntry' 'ReportEntries' (Get-RdsComputerName $S)
}

function Invoke-LsReportDelete($S, $In) {
    $report = Get-RdsCalledReport $S
    $S.licenseServer['reports'] = @(@($S.licenseServer['reports']) | Where-Object { $null -ne $_ -and -not [object]::ReferenceEquals($_, $report) })
    @{}
}
