# Admin functions: faults and Group Policy values of a host.

$script:FaultNames = @('clearinghouseUnreachable', 'accessDenied', 'providerFailure', 'latencyMs', 'classNotReadyCalls', 'activationStatusUnknown', 'failureStyle', 'groupPolicy', 'networkCut')

# The fault switches of a host, typed (the host view and the fault view both show them). networkCuts is
# shown only while the host has a cut, so views of hosts without one stay as they were.
function Get-RdsFaultSwitches($S) {
    $view = [ordered]@{
        clearinghouseUnreachable = [bool]$S.faults.clearinghouseUnreachable
        accessDenied             = [bool]$S.faults.accessDenied
        providerFailure          = [bool]$S.faults.providerFailure
        latencyMs                = [int]$S.faults.latencyMs
        classNotReadyCalls       = [int]$S.faults.classNotReadyCalls
        activationStatusUnknown  = [bool]$S.faults.activationStatusUnknown
        failureStyle             = [string]$S.faults.failureStyle
    }
    $cuts = Get-RdsNetworkCuts $S
    if ($cuts.Length -gt 0) { $view.networkCuts = $cuts }
    $view
}

# ---- Network cuts: "these two hosts cannot reach each other" ---------------------------------------
# A cut is stored on the host it was set on (state key networkCuts, the other hosts' names; absent while
# empty) and works both ways: GetTStoLSConnectivityStatus looks at both hosts' lists.

function Get-RdsNetworkCuts($S) {
    $list = [System.Collections.Generic.List[string]]::new()
    if ($S.Contains('networkCuts')) { foreach ($e in @($S['networkCuts'])) { $list.Add((ConvertFrom-RdsStored $e)) } }
    , $list.ToArray()
}

# True when $S has a cut to $OtherHost (the same name, or its short name / FQDN).
function Test-RdsNetworkCut($S, [string]$OtherHost) {
    foreach ($name in (Get-RdsNetworkCuts $S)) { if (Test-RdsHostNameMatch $name $OtherHost) { return $true } }
    $false
}

function Set-RdsNetworkCutEntry($S, [string]$To, [bool]$Cut) {
    $kept = [System.Collections.Generic.List[object]]::new()
    foreach ($name in (Get-RdsNetworkCuts $S)) { if (-not (Test-RdsHostNameMatch $name $To)) { $kept.Add((ConvertTo-RdsStored $name)) } }
    if ($Cut) { $kept.Add((ConvertTo-RdsStored $To)) }
    if ($kept.Count -gt 0) { $S['networkCuts'] = $kept.ToArray() } else { $S.Remove('networkCuts') }
}

# The networkCut fault's value: a host name (cut), or @{ to = <host>; cut = <bool, default true> }.
function ConvertTo-RdsNetworkCutValue([object]$Value, [string]$From) {
    $to = $null; $cut = $true
    $v = if ($null -ne $Value) { $Value.PSObject.BaseObject } else { $null }
    if ($v -is [string]) { $to = $v }
    elseif ($v -is [System.Collections.IDictionary]) {
        foreach ($k in $v.Keys) {
            if ([string]$k -eq 'to') { $to = [string]$v[$k] }
            elseif ([string]$k -eq 'cut') { $cut = ConvertTo-RdsBool $v[$k] 'cut' }
            else { throw [System.ArgumentException]::new("RdsEmulator: unknown networkCut value '$k' (to, cut)") }
        }
    }
    else { throw [System.ArgumentException]::new('RdsEmulator: the networkCut fault takes a host name or @{ to = <host>; cut = $true|$false }') }
    Assert-RdsHostName $to
    if (Test-RdsHostNameMatch $to $From) { throw [System.ArgumentException]::new('RdsEmulator: a network cut is between two hosts; a host always reaches itself') }
    @{ to = $to.Trim(); cut = $cut }
}

# A restored link is restored both ways: the cut may have been set on the other host. Its state is
# written only when it exists (a cut must not create a host); -To may name it by its short name or FQDN.
function Clear-RdsPeerNetworkCut([string]$Peer, [string]$From) {
    foreach ($name in (Get-RdsSimulatedHostNames)) {
        if (-not (Test-RdsHostNameMatch $Peer $name) -or (Test-RdsHostNameMatch $name $From)) { continue }
        Invoke-RdsAdmin $name { param($S) if (Test-RdsNetworkCut $S $From) { Set-RdsNetworkCutEntry $S $From $false } }
    }
}

function Set-RdsSimNetworkCut {
    <# Cut the network between two hosts (-From defaults to the current host): each GetTStoLSConnectivityStatus
       between them answers LS_NOT_CONNECTABLE (6), whichever host asks. Stored on -From. Returns -From's
       fault view (its networkCuts). #>
    [CmdletBinding()]
    param([string]$From, [Parameter(Mandatory)][string]$To)
    Set-RdsSimFault -HostName $From -Fault networkCut -Value @{ to = $To; cut = $true }
}

function Clear-RdsSimNetworkCut {
    <# Restore the network between -From and -To (the cut is removed on both hosts, whichever it was set
       on); without -To, every cut set on -From. Returns -From's fault view. #>
    [CmdletBinding()]
    param([string]$From, [string]$To)
    if ($To) { return Set-RdsSimFault -HostName $From -Fault networkCut -Value @{ to = $To; cut = $false } }
    Clear-RdsSimFault -HostName $From -Fault networkCut
}

# The Group Policy licensing values of a host.
function Get-RdsGroupPolicyView($S) {
    [pscustomobject][ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers) }
}

function Get-RdsFaultView($S) {
    $view = Get-RdsFaultSwitches $S
    $view.groupPolicy = Get-RdsGroupPolicyView $S
    [pscustomobject]$view
}

function ConvertTo-RdsPolicyValues([object]$LicensingMode, [object]$LicenseServers, [bool]$HasMode, [bool]$HasServers) {
    $r = @{}
    if ($HasMode) {
        if ($null -eq $LicensingMode) { $r.LicensingMode = $null }
        else {
            $m = ConvertTo-RdsInt $LicensingMode 'LicensingMode' 0 4294967295
            if ($m -notin 2, 4, 6) { throw [System.ArgumentException]::new('RdsEmulator: the LicensingMode policy value must be 2 (Per Device), 4 (Per User) or 6 (AAD Per User)') }
            $r.LicensingMode = [int]$m
        }
    }
    if ($HasServers) {
        if ($null -eq $LicenseServers) { $r.LicenseServers = $null }
        else {
            $v = $LicenseServers.PSObject.BaseObject
            $s = if ($v -is [string]) { $v } elseif ($v -is [System.Collections.IEnumerable]) { (@($v) | ForEach-Object { [string]$_ }) -join ',' } else { [string]$v }
            if ([string]::IsNullOrWhiteSpace($s)) { throw [System.ArgumentException]::new('RdsEmulator: the LicenseServers policy value must name at least one server (clear it instead)') }
            $r.LicenseServers = $s
        }
    }
    $r
}

function Set-RdsSimFault {
    <# Switch a fault on a host. Fault names: clearinghouseUnreachable, accessDenied, providerFailure,
       activationStatusUnknown (bool); latencyMs, classNotReadyCalls (int >= 0); failureStyle
       (return|exception); groupPolicy (@{ LicensingMode = 2|4|6; LicenseServers = 'a,b' }); networkCut
       (a host name: cut the network to it; @{ to = <host>; cut = $false } restores it). #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [Parameter(Mandatory)][string]$Fault,
        [Parameter(Mandatory)][AllowNull()][object]$Value
    )
    $h = Resolve-RdsAdminHost $HostName
    $name = $script:FaultNames | Where-Object { $_ -eq $Fault } | Select-Object -First 1
    if (-not $name) { throw [System.ArgumentException]::new("RdsEmulator: unknown fault '$Fault' (known: $($script:FaultNames -join ', '))") }
    $v = switch ($name) {
        { $_ -in 'clearinghouseUnreachable', 'accessDenied', 'providerFailure', 'activationStatusUnknown' } { ConvertTo-RdsBool $Value $name }
        'latencyMs' { [int](ConvertTo-RdsInt $Value $name 0 600000) }
        'classNotReadyCalls' { [int](ConvertTo-RdsInt $Value $name 0 1000000) }
        'failureStyle' {
            $s = [string]$Value
            if ($s -notin 'return', 'exception') { throw [System.ArgumentException]::new("RdsEmulator: failureStyle must be 'return' or 'exception'") }
            $s.ToLowerInvariant()
        }
        'groupPolicy' {
            $d = $Value
            if ($d -isnot [System.Collections.IDictionary]) {
                if ($null -ne $d -and $d -isnot [string]) { $tmp = @{}; foreach ($p in $d.PSObject.Properties) { $tmp[$p.Name] = $p.Value }; $d = $tmp }
                else { throw [System.ArgumentException]::new('RdsEmulator: the groupPolicy fault takes @{ LicensingMode = ...; LicenseServers = ... }') }
            }
            $hasMode = $false; $hasServers = $false; $mode = $null; $servers = $null
            foreach ($k in $d.Keys) {
                if ([string]$k -eq 'LicensingMode') { $hasMode = $true; $mode = $d[$k] }
                elseif ([string]$k -eq 'LicenseServers') { $hasServers = $true; $servers = $d[$k] }
                else { throw [System.ArgumentException]::new("RdsEmulator: unknown policy value '$k' (LicensingMode, LicenseServers)") }
            }
            ConvertTo-RdsPolicyValues $mode $servers $hasMode $hasServers
        }
        'networkCut' { ConvertTo-RdsNetworkCutValue $Value $h }
    }
    if ($name -eq 'networkCut' -and -not $v.cut) { Clear-RdsPeerNetworkCut $v.to $h }
    Invoke-RdsAdmin $h {
        param($S)
        if ($name -eq 'networkCut') { Set-RdsNetworkCutEntry $S $v.to $v.cut }
        elseif ($name -eq 'groupPolicy') {
            if ($v.ContainsKey('LicensingMode')) { $S.groupPolicy.LicensingMode = $v.LicensingMode }
            if ($v.ContainsKey('LicenseServers')) { $S.groupPolicy.LicenseServers = ConvertTo-RdsStored $v.LicenseServers }
        }
        else { $S.faults[$name] = $v }
        Get-RdsFaultView $S
    }
}

function Clear-RdsSimFault {
    <# Clear one fault (or all of them, Group Policy values included) on a host. networkCut clears the cuts
       set on this host (a cut set on the other host stays: Clear-RdsSimNetworkCut -To removes both). #>
    [CmdletBinding()]
    param([string]$HostName, [string]$Fault)
    $h = Resolve-RdsAdminHost $HostName
    $name = $null
    if ($Fault) {
        $name = $script:FaultNames | Where-Object { $_ -eq $Fault } | Select-Object -First 1
        if (-not $name) { throw [System.ArgumentException]::new("RdsEmulator: unknown fault '$Fault' (known: $($script:FaultNames -join ', '))") }
    }
    Invoke-RdsAdmin $h {
        param($S)
        $defaults = New-RdsFaults
        if (-not $name) {
            $S.faults = $defaults
            $S.groupPolicy = [ordered]@{ LicensingMode = $null; LicenseServers = $null }
            $S.Remove('networkCuts')
        }
        elseif ($name -eq 'groupPolicy') { $S.groupPolicy = [ordered]@{ LicensingMode = $null; LicenseServers = $null } }
        elseif ($name -eq 'networkCut') { $S.Remove('networkCuts') }
        else { $S.faults[$name] = $defaults[$name] }
        Get-RdsFaultView $S
    }
}

# The unrelated values of the policy key to write: name -> Int32 (REG_DWORD), string (REG_SZ) or $null (remove).
function ConvertTo-RdsPolicyOtherValues([System.Collections.IDictionary]$OtherValues) {
    $r = [ordered]@{}
    foreach ($key in $OtherValues.Keys) {
        $name = [string]$key
        if ($name -in 'LicensingMode', 'LicenseServers' -or [string]::IsNullOrWhiteSpace($name)) {
            throw [System.ArgumentException]::new("RdsEmulator: -OtherValues takes the policy key's other values; '$name' is not one (use -LicensingMode / -LicenseServers)")
        }
        $value = $OtherValues[$key]
        if ($null -eq $value) { $r[$name] = $null; continue }
        $v = $value.PSObject.BaseObject
        if ($v -is [string]) { $r[$name] = $v }
        elseif ($v -isnot [bool] -and (Test-RdsIntegral $v)) { $r[$name] = [int](ConvertTo-RdsInt $v $name 0 2147483647) }
        else { throw [System.ArgumentException]::new("RdsEmulator: policy value '$name' must be an integer (REG_DWORD), a string (REG_SZ) or `$null") }
    }
    $r
}

function Set-RdsSimGroupPolicy {
    <# Write the Group Policy licensing values of a host (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal
       Services): -LicensingMode 2|4|6 (REG_DWORD) and -LicenseServers 'ls1,ls2' (REG_SZ, comma-separated).
       Pass $null to remove a value. Policy overrides what WMI set (docs/windows-facts.md).
       -OtherValues @{ name = int|string|$null } writes the key's values unrelated to licensing
       (default fDenyTSConnections = 0); removing all of them and the licensing values removes the key. #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [AllowNull()][object]$LicensingMode,
        [AllowNull()][object]$LicenseServers,
        [System.Collections.IDictionary]$OtherValues
    )
    $h = Resolve-RdsAdminHost $HostName
    $v = ConvertTo-RdsPolicyValues $LicensingMode $LicenseServers $PSBoundParameters.ContainsKey('LicensingMode') $PSBoundParameters.ContainsKey('LicenseServers')
    $other = if ($null -ne $OtherValues) { ConvertTo-RdsPolicyOtherValues $OtherValues } else { $null }
    Invoke-RdsAdmin $h {
        param($S)
        if ($v.ContainsKey('LicensingMode')) { $S.groupPolicy.LicensingMode = $v.LicensingMode }
        if ($v.ContainsKey('LicenseServers')) { $S.groupPolicy.LicenseServers = ConvertTo-RdsStored $v.LicenseServers }
        if ($null -ne $other) {
            $stored = [ordered]@{}
            $current = Get-RdsPolicyKeyOtherValues $S
            foreach ($name in $current.Keys) { $stored[$name] = $current[$name] }
            foreach ($name in $other.Keys) {
                $existing = @($stored.Keys | Where-Object { $_ -eq $name })
                foreach ($e in $existing) { $stored.Remove($e) }
                if ($null -ne $other[$name]) { $stored[$name] = $other[$name] }
            }
            $S.policyKeyOtherValues = [ordered]@{}
            foreach ($name in $stored.Keys) { $S.policyKeyOtherValues[$name] = if ($stored[$name] -is [string]) { ConvertTo-RdsStored $stored[$name] } else { $stored[$name] } }
        }
        [pscustomobject][ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers) }
    }
}
