<#
.SYNOPSIS
    RdsSessionHostLicensing: can this session host use its license servers? (Dot-sourced by get.ps1.)

.DESCRIPTION
    One Win32_TerminalServiceSetting.GetTStoLSConnectivityStatus(ServerName) call per effective license
    server, its TStoLSConnectivityStatus value named and explained with Microsoft's table
    (docs/windows-facts.md#connectivity-status). A call that fails does not fail the read: the entry
    says status 0 (LS_CONNECTABLE_UNKNOWN) and why. Read-only.
#>

Set-StrictMode -Version 3.0

# TStoLSConnectivityStatus: value -> name and meaning, as Microsoft's method page documents them.
$script:ShlConnectivityStatus = @{
    0  = @('LS_CONNECTABLE_UNKNOWN', 'The connectivity status cannot be determined.')
    1  = @('LS_CONNECTABLE_VALID_WS08R2', 'Remote Desktop Services can connect to the Windows Server 2008 R2 license server.')
    2  = @('LS_CONNECTABLE_VALID_WS08', 'Remote Desktop Services can connect to the Windows Server 2008 license server.')
    3  = @('LS_CONNECTABLE_BETA_RTM_MISMATCH', 'Remote Desktop Services can connect to the license server, but one of the servers runs a beta version of the operating system.')
    4  = @('LS_CONNECTABLE_LOWER_VERSION', 'Remote Desktop Services can connect to the license server, but the license server and this session host are incompatible (the license server is older).')
    5  = @('LS_CONNECTABLE_NOT_IN_TSCGROUP', 'The license server restricts its CALs to a security group by Group Policy, and this session host is not in it.')
    6  = @('LS_NOT_CONNECTABLE', 'Remote Desktop Services cannot connect to the license server.')
    7  = @('LS_CONNECTABLE_UNKNOWN_VALIDITY', 'The license server can be reached, but the validity of the connection cannot be determined.')
    8  = @('LS_CONNECTABLE_BUT_ACCESS_DENIED', 'Remote Desktop Services can connect to the license server, but the account has no administrator rights on it.')
    9  = @('LS_CONNECTABLE_VALID_WS08R2_VDI', 'Remote Desktop Services can connect to the Windows Server 2008 R2 license server with VDI support.')
    10 = @('LS_CONNECTABLE_FEATURE_NOT_SUPPORTED', 'The license server can be reached, but the feature is not supported.')
    11 = @('LS_CONNECTABLE_VALID_LS', 'The license server is valid.')
}
# The values that mean "this host can get CALs from that server".
$script:ShlConnectivityValid = @(1, 2, 9, 11)

function ConvertTo-ShlConnectivityEntry {
    # One connectivity entry: the server, the status value, its name and meaning, and whether it is usable.
    param([string]$LicenseServer, [int64]$Status, [string]$Why)
    # Range first: a value beyond [int] (it is a uint32) must not fail the cast.
    $known = ($Status -ge 0 -and $Status -le 11) -and $script:ShlConnectivityStatus.ContainsKey([int]$Status)
    $name = "unknown($Status)"
    $meaning = 'A value Microsoft does not document.'
    if ($known) {
        $name = $script:ShlConnectivityStatus[[int]$Status][0]
        $meaning = $script:ShlConnectivityStatus[[int]$Status][1]
    }
    if ($Why) { $meaning = "$meaning ($Why)" }
    return [ordered]@{
        licenseServer = $LicenseServer
        status        = $Status
        name          = $name
        meaning       = $meaning
        ok            = ($script:ShlConnectivityValid -contains $Status)
    }
}

function Split-ShlPolicyServerList {
    # The Group Policy LicenseServers value (one REG_SZ, comma- or semicolon-separated), order kept.
    param([string]$Value)
    $list = [System.Collections.Generic.List[string]]::new()
    foreach ($part in ($Value -split '[,;]')) {
        $name = $part.Trim()
        if ($name.Length -gt 0) { $list.Add($name) }
    }
    return , $list.ToArray()
}

function Get-ShlConnectivity {
    # One entry per license server in $Servers (the effective list, in order).
    param($Setting, [string[]]$Servers)
    $entries = [System.Collections.Generic.List[object]]::new()
    foreach ($server in @($Servers)) {
        if ([string]::IsNullOrWhiteSpace($server)) { continue }
        try {
            $r = Invoke-RdsWmiMethod -InputObject $Setting -ClassName $script:ShlClass -MethodName GetTStoLSConnectivityStatus `
                -Arguments @{ ServerName = [string]$server }
            $value = Get-RdsProperty $r 'TStoLSConnectivityStatus'
            if ($null -eq $value) {
                $entries.Add((ConvertTo-ShlConnectivityEntry -LicenseServer $server -Status 0 -Why 'GetTStoLSConnectivityStatus returned no status'))
            } else {
                $entries.Add((ConvertTo-ShlConnectivityEntry -LicenseServer $server -Status ([int64]$value) -Why ''))
            }
        } catch {
            $entries.Add((ConvertTo-ShlConnectivityEntry -LicenseServer $server -Status 0 -Why ("GetTStoLSConnectivityStatus failed: {0}" -f $_.Exception.Message)))
        }
    }
    return , $entries.ToArray()
}
