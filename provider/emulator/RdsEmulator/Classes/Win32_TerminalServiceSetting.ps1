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
foreach ($m in 'SetPrimaryLicenseServer', 'GetRegisteredLicenseServerList', 'FindLicenseServers', 'GetTStoLSConnectivityStatus') {
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
