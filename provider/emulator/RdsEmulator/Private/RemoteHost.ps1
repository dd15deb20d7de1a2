# Host addressing: which simulated host a -ComputerName / -CimSession names, and running a stand-in's
# work on that host. One pwsh session can then drive the whole simulated farm, as an admin's script
# drives a real one.

# The names Windows treats as "this computer" whatever the computer is called.
$script:LocalComputerAliases = @('.', 'localhost', '127.0.0.1', '::1')

# The short (first-label) form of a host name, lower-case.
function Get-RdsShortHostName([string]$Name) {
    $dot = $Name.IndexOf('.')
    $(if ($dot -gt 0) { $Name.Substring(0, $dot) } else { $Name }).ToLowerInvariant()
}

# True when $Asked names $HostName: the same name (case-insensitive), or one is the short form of the
# other (LS01 addresses ls01.contoso.com and back, as the DNS suffix search does on a domain member).
# Two FQDNs with the same first label but different domains are different hosts.
function Test-RdsHostNameMatch([string]$Asked, [string]$HostName) {
    if ([string]::Equals($Asked, $HostName, [StringComparison]::OrdinalIgnoreCase)) { return $true }
    $askedIsShort = $Asked.IndexOf('.') -lt 0
    $hostIsShort = $HostName.IndexOf('.') -lt 0
    if ($askedIsShort -eq $hostIsShort) { return $false }
    (Get-RdsShortHostName $Asked) -eq (Get-RdsShortHostName $HostName)
}

# The names of the simulated hosts that have a state file, lower-case, sorted. A state file is named by
# the hex of the UTF-8 bytes of the lower-case host name (Get-RdsHostBasePath), so no file is parsed.
function Get-RdsSimulatedHostNames {
    $dir = [System.IO.Path]::Combine((Get-RdsStateDir), 'hosts')
    $names = [System.Collections.Generic.List[string]]::new()
    foreach ($file in [System.IO.Directory]::GetFiles($dir, '*.json')) {
        $hex = [System.IO.Path]::GetFileNameWithoutExtension($file)
        if ($hex -notmatch '^(?:[0-9a-f]{2})+\z') { continue }
        try { $names.Add($script:Utf8NoBom.GetString([Convert]::FromHexString($hex))) } catch { continue }
    }
    $names.Sort([StringComparer]::Ordinal)
    , $names.ToArray()
}

function Resolve-RdsSimComputerName {
    <# The simulated host a -ComputerName addresses. $null, '', '.', localhost, 127.0.0.1, ::1 and the
       current host's own name give the current host; another simulated host's name gives that host (an
       exact name first, then a short name / FQDN of it; among several FQDNs with the same short name the
       first in ordinal order: the emulator's choice). Anything else throws ItemNotFoundException
       "RdsEmulator: no simulated host '<name>'", which each stand-in turns into its real cmdlet's error. #>
    [CmdletBinding()]
    param([AllowNull()][AllowEmptyString()][string]$ComputerName)
    $current = Get-RdsCurrentHost
    $asked = if ($null -eq $ComputerName) { '' } else { $ComputerName.Trim() }
    # A UNC-style "\\name" is how WMI paths spell a computer: accept it here too.
    if ($asked.StartsWith('\\')) { $asked = $asked.Substring(2) }
    if ($asked.Length -eq 0) { return $current }
    foreach ($alias in $script:LocalComputerAliases) {
        if ([string]::Equals($asked, $alias, [StringComparison]::OrdinalIgnoreCase)) { return $current }
    }
    if (Test-RdsHostNameMatch $asked $current) { return $current }
    $known = Get-RdsSimulatedHostNames
    foreach ($name in $known) { if ([string]::Equals($asked, $name, [StringComparison]::OrdinalIgnoreCase)) { return $name } }
    foreach ($name in $known) { if (Test-RdsHostNameMatch $asked $name) { return $name } }
    throw [System.Management.Automation.ItemNotFoundException]::new("RdsEmulator: no simulated host '$asked'")
}

function Use-RdsSimHost {
    <# Runs $Script with the emulator's current host switched to $HostName, and always switches back.
       $Script runs in a child scope of this function and reads its caller's variables through dynamic
       scoping, so the parameters are moved to uh-prefixed locals and removed: a caller's own $HostName or
       $Script stays visible to the block. #>
    param([Parameter(Mandatory)][string]$HostName, [Parameter(Mandatory)][scriptblock]$Script)
    $uhHost = $HostName
    $uhScript = $Script
    Remove-Variable -Name HostName, Script -Scope Local
    $uhPrevious = $script:Context.HostName
    $script:Context.HostName = $uhHost
    try { & $uhScript }
    finally { $script:Context.HostName = $uhPrevious }
}

# True when the exception is the resolver's "no simulated host" (the stand-ins map it to their error).
function Test-RdsUnknownHostError($Exception) {
    $Exception -is [System.Management.Automation.ItemNotFoundException] -and $Exception.Message.StartsWith('RdsEmulator: no simulated host ', [StringComparison]::Ordinal)
}
