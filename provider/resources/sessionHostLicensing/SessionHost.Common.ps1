<#
.SYNOPSIS
    Helpers shared by the RdsSessionHostLicensing operation scripts (dot-sourced; no job of its own).

.DESCRIPTION
    Talks to Windows only through Get-CimInstance, Get-ItemProperty (the Group Policy key) and, via
    Invoke-RdsWmiMethod (RdsCommon.psm1), Invoke-CimMethod (and, with installRole, Get/Install-WindowsFeature
    and Restart-Computer), so the emulator stands in on the simulator. Never writes the policy key.
#>

Set-StrictMode -Version 3.0

# The Group Policy key of the Remote Desktop Services licensing policies (docs/windows-facts.md).
$script:ShlPolicyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$script:ShlNamespace = 'root/cimv2/TerminalServices'
$script:ShlClass = 'Win32_TerminalServiceSetting'
# The Windows feature of the RD Session Host role (Install-WindowsFeature RDS-RD-Server).
$script:ShlRoleFeature = 'RDS-RD-Server'

function Get-ShlSetting {
    # The host's one Win32_TerminalServiceSetting instance (methods are called on the instance).
    $setting = Get-CimInstance -Namespace $script:ShlNamespace -ClassName $script:ShlClass -ErrorAction Stop | Select-Object -First 1
    if ($null -eq $setting) {
        throw (New-RdsScriptError -Code NOT_FOUND -ClassName $script:ShlClass -Message 'Win32_TerminalServiceSetting returned no instance')
    }
    return $setting
}

function Get-ShlPolicy {
    # The Group Policy licensing values: @{ licensingMode = <int or $null>; licenseServers = <string or $null> }.
    # A missing key or value means "not set by policy".
    $values = $null
    try {
        $values = Get-ItemProperty -Path $script:ShlPolicyKey -ErrorAction SilentlyContinue
    } catch [System.Management.Automation.ItemNotFoundException] {
        $values = $null
    }
    $mode = Get-RdsProperty $values 'LicensingMode'
    $servers = Get-RdsProperty $values 'LicenseServers'
    return [ordered]@{
        licensingMode  = if ($null -ne $mode) { [int64]$mode } else { $null }
        licenseServers = if ($null -ne $servers) { [string]$servers } else { $null }
    }
}

function ConvertTo-ShlStringArray {
    # A WMI string[] out parameter (or $null) as a plain string array, order kept.
    param($Value)
    $list = [System.Collections.Generic.List[string]]::new()
    foreach ($item in @($Value)) {
        if ($null -eq $item) { continue }
        $list.Add([string]$item)
    }
    return , $list.ToArray()
}

function Test-ShlSessionHostRole {
    # True when Win32_TerminalServiceSetting.TerminalServerMode is 1 (Application Server: the RD Session
    # Host role); 0 is Remote Administration (docs/windows-facts.md).
    $mode = Get-RdsProperty (Get-ShlSetting) 'TerminalServerMode'
    return ($null -ne $mode -and [int64]$mode -eq 1)
}

function Get-ShlLastBootUpTime {
    # Win32_OperatingSystem.LastBootUpTime as ISO 8601 UTC text: a restart is proven by a new value.
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop | Select-Object -First 1
    $boot = Get-RdsProperty $os 'LastBootUpTime'
    if ($null -eq $boot) { return $null }
    return ([DateTime]$boot).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
}
