# Win32_TerminalServiceSetting: its method table entries and the session host licensing methods.

$ts = 'Win32_TerminalServiceSetting'
Register-RdsMethod $ts (New-RdsMethodSpec 'ChangeMode' $false @(, @('LicensingType', 'uint32')) @() 'Invoke-TsChangeMode')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetSpecifiedLicenseServerList' $false @() @(, @('SpecifiedLSList', 'string[]')) 'Invoke-TsGetList')
Register-RdsMethod $ts (New-RdsMethodSpec 'SetSpecifiedLicenseServerList' $false @(, @('SpecifiedLSList', 'string[]')) @() 'Invoke-TsSetList')
Register-RdsMethod $ts (New-RdsMethodSpec 'AddLSToSpecifiedLicenseServerList' $false @(, @('LicenseServerName', 'string')) @() 'Invoke-TsAddToList')
Register-RdsMethod $ts (New-RdsMethodSpec 'RemoveLSFromSpecifiedLicenseServerList' $false @(, @('LicenseServerName', 'string')) @() 'Invoke-TsRemoveFromList')
Register-RdsMethod $ts (New-RdsMethodSpec 'EmptySpecifiedLicenseServerList' $false @() @() 'Invoke-TsEmptyList')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetGracePeriodDays' $false @() @(, @('DaysLeft', 'uint32')) 'Invoke-TsGetGracePeriodDays')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetDomain' $false @() @(, @('Domain', 'string')) 'Invoke-TsGetDomain')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetTStoLSConnectivityStatus' $false @(, @('ServerName', 'string')) @(, @('TStoLSConnectivityStatus', 'uint32')) 'Invoke-TsGetConnectivityStatus')
foreach ($m in 'SetPrimaryLicenseServer', 'GetRegisteredLicenseServerList', 'FindLicenseServers') {
    Register-RdsMethod $ts (New-RdsMethodSpec $m $false @() @() $null -NotEmulated)
}
Remove-Variable ts, m

function Assert-RdsNotPolicyList($S) {
    if ($null -ne $S.groupPolicy.LicenseServers) {
        Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server list is set by Group Policy (PolicySourceConfiguredLicenseServers = 1)'
    }
}

function Invoke-TsChangeMode($S, $In) {
    if ([int]$In.LicensingType -notin 0, 1, 2, 4) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicensingType must be 0, 1, 2 (Per Device) or 4 (Per User)' }
    if ($null -ne $S.groupPolicy.LicensingMode) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the licensing mode is set by Group Policy (PolicySourceLicensingType = 1)' }
    $S.sessionHost.licensingType = [int]$In.LicensingType
    @{}
}

function Invoke-TsGetList($S, $In) { @{ SpecifiedLSList = [string[]](Get-RdsEffectiveServerList $S) } }

function Invoke-TsSetList($S, $In) {
    Assert-RdsNotPolicyList $S
    $seen = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($name in $In.SpecifiedLSList) {
        if ([string]::IsNullOrWhiteSpace($name)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'SpecifiedLSList must not contain empty names' }
        if ($seen.Add($name)) { $list.Add((ConvertTo-RdsStored $name)) }
    }
    $S.sessionHost.specifiedLSList = $list.ToArray()
    @{}
}

function Invoke-TsAddToList($S, $In) {
    if ([string]::IsNullOrWhiteSpace($In.LicenseServerName)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicenseServerName must not be empty' }
    Assert-RdsNotPolicyList $S
    $current = Get-RdsEffectiveServerList $S
    foreach ($e in $current) { if ([string]::Equals($e, $In.LicenseServerName, [StringComparison]::OrdinalIgnoreCase)) { return @{} } }
    $S.sessionHost.specifiedLSList = @(@($S.sessionHost.specifiedLSList) + (ConvertTo-RdsStored $In.LicenseServerName))
    @{}
}

function Invoke-TsRemoveFromList($S, $In) {
    Assert-RdsNotPolicyList $S
    $kept = [System.Collections.Generic.List[object]]::new()
    $found = $false
    foreach ($e in @($S.sessionHost.specifiedLSList)) {
        if ([string]::Equals((ConvertFrom-RdsStored $e), $In.LicenseServerName, [StringComparison]::OrdinalIgnoreCase)) { $found = $true } else { $kept.Add($e) }
    }
    if (-not $found) { Stop-RdsMethod $script:WBEM_E_NOT_FOUND 'that license server is not in the specified license server list' }
    $S.sessionHost.specifiedLSList = $kept.ToArray()
    @{}
}

function Invoke-TsEmptyList($S, $In) {
    Assert-RdsNotPolicyList $S
    $S.sessionHost.specifiedLSList = @()
    @{}
}

function Invoke-TsGetGracePeriodDays($S, $In) { @{ DaysLeft = (Get-RdsGraceDaysLeft $S) } }

function Invoke-TsGetDomain($S, $In) {
    $d = Get-RdsDomain $S
    @{ Domain = $(if ($d) { $d } else { [string]$S.config.workgroup }) }
}

# ---- GetTStoLSConnectivityStatus: can this session host use that license server? -------------------
# The values are Microsoft's (docs/windows-facts.md#connectivity-status); which farm state gives which
# value is the emulator's choice (README.md, GetTStoLSConnectivityStatus), checked in this order:
# unreachable (6), access denied (8), license server older than the host (4), not activated (7), no CALs
# of the host's licensing mode (10), else valid (11; 1 on a 2008 R2 host, whose method predates 11).
$script:LsNotConnectable = 6
$script:LsConnectableLowerVersion = 4
$script:LsConnectableUnknownValidity = 7
$script:LsConnectableButAccessDenied = 8
$script:LsConnectableFeatureNotSupported = 10
$script:LsConnectableValidLs = 11
$script:LsConnectableValidWs08R2 = 1

# Another host's state, read without its lock: state files are replaced by an atomic rename, so a reader
# sees the old or the new file whole. FileShare.Delete lets that rename happen while the file is open
# (on Windows it would fail otherwise), and taking the peer's lock while this host's is held could
# deadlock two hosts that ask about each other. $null when the file is gone or unreadable.
function Read-RdsPeerState([string]$HostName) {
    $path = (Get-RdsHostBasePath $HostName) + '.json'
    try {
        $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
        $stream = [System.IO.FileStream]::new($path, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $share)
        try { $text = [System.IO.StreamReader]::new($stream, $script:Utf8NoBom).ReadToEnd() }
        finally { $stream.Dispose() }
        ConvertFrom-RdsStateText $text $path
    }
    catch [System.IO.FileNotFoundException], [System.IO.DirectoryNotFoundException], [System.IO.InvalidDataException] { $null }
}

# The CAL ProductType a LicensingType needs (2 Per Device -> 0, 4 Per User -> 1); $null for the modes
# that take no CALs of their own (not configured, remote administration, AAD Per User).
function Get-RdsCalProductTypeFor([uint32]$LicensingType) {
    switch ($LicensingType) { 2 { 0 } 4 { 1 } default { $null } }
}

function Test-RdsHasCalsOfType($LsState, [int]$ProductType) {
    foreach ($p in @($LsState.licenseServer.keyPacks)) {
        if ([int]$p.ProductType -eq $ProductType -and [long]$p.TotalLicenses -gt 0) { return $true }
    }
    $false
}

# The OS versions in release order (the host facts' osVersion values).
function Get-RdsOsRank([string]$OsVersion) { [array]::IndexOf([string[]]@($script:OsTable.Keys), $OsVersion) }

function Get-RdsConnectivityStatus($S, [string]$ServerName) {
    $selfName = Get-RdsHostName $S
    try { $target = Resolve-RdsSimComputerName -ComputerName $ServerName }
    catch {
        if (Test-RdsUnknownHostError $_.Exception) { return $script:LsNotConnectable }
        throw
    }
    $isSelf = Test-RdsHostNameMatch $target $selfName
    $ls = if ($isSelf) { $S } else { Read-RdsPeerState $target }
    if ($null -eq $ls) { return $script:LsNotConnectable }
    if (-not $isSelf -and ((Test-RdsNetworkCut $S $target) -or (Test-RdsNetworkCut $ls $selfName))) { return $script:LsNotConnectable }
    if ((Get-RdsRestartSecondsLeft $ls) -gt 0 -or (Get-RdsServiceStatus $ls) -ne 'Running') { return $script:LsNotConnectable }
    if ($ls.faults.accessDenied) { return $script:LsConnectableButAccessDenied }
    $hostRank = Get-RdsOsRank ([string]$S.config.osVersion)
    if ((Get-RdsOsRank ([string]$ls.config.osVersion)) -lt $hostRank) { return $script:LsConnectableLowerVersion }
    if (-not $ls.licenseServer.activated) { return $script:LsConnectableUnknownValidity }
    $productType = Get-RdsCalProductTypeFor (Get-RdsEffectiveLicensingType $S)
    if ($null -ne $productType -and -not (Test-RdsHasCalsOfType $ls $productType)) { return $script:LsConnectableFeatureNotSupported }
    if ([string]$S.config.osVersion -eq '2008R2') { return $script:LsConnectableValidWs08R2 }
    $script:LsConnectableValidLs
}

function Invoke-TsGetConnectivityStatus($S, $In) {
    if ([string]::IsNullOrWhiteSpace($In.ServerName)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ServerName must not be empty' }
    @{ TStoLSConnectivityStatus = [uint32](Get-RdsConnectivityStatus $S $In.ServerName) }
}
