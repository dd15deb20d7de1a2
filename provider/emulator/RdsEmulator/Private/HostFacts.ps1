# Facts derived from a host's state (computer name, domain, product ID, effective licensing settings).

function Get-RdsHostName($S) { ConvertFrom-RdsStored $S.hostName }

function Get-RdsComputerName($S) {
    $h = Get-RdsHostName $S
    $dot = $h.IndexOf('.')
    $(if ($dot -gt 0) { $h.Substring(0, $dot) } else { $h }).ToUpperInvariant()
}

function Get-RdsDomain($S) {
    $d = ConvertFrom-RdsStored $S.config.domain
    if ([string]::IsNullOrEmpty($d)) { $null } else { $d }
}

function Get-RdsOs($S) { $script:OsTable[[string]$S.config.osVersion] }

$script:ProductIdCache = [System.Collections.Generic.Dictionary[string, string]]::new([StringComparer]::Ordinal)

function Get-RdsProductId($S) {
    if ($null -ne $S.config.productId) { return ConvertFrom-RdsStored $S.config.productId }
    $key = (Get-RdsHostName $S).ToLowerInvariant()
    $cached = $null
    if ($script:ProductIdCache.TryGetValue($key, [ref]$cached)) { return $cached }
    $script:ProductIdCache[$key] = Get-RdsDerivedProductId $key
    $script:ProductIdCache[$key]
}

function Get-RdsDerivedProductId([string]$LowerHostName) {
    # Format ddddd-ddddd-ddddd-LLddd (like 00490-92005-99454-AT527), from SHA-256 of the host name.
    $h = [System.Security.Cryptography.SHA256]::HashData($script:Utf8NoBom.GetBytes('rds-sim/product-id/v1/' + $LowerHostName))
    $sb = [System.Text.StringBuilder]::new(23)
    for ($i = 0; $i -lt 15; $i++) {
        if ($i -gt 0 -and $i % 5 -eq 0) { [void]$sb.Append('-') }
        [void]$sb.Append([char](48 + $h[$i] % 10))
    }
    [void]$sb.Append('-').Append($script:Alphabet36[$h[15] % 26]).Append($script:Alphabet36[$h[16] % 26])
    for ($i = 17; $i -lt 20; $i++) { [void]$sb.Append([char](48 + $h[$i] % 10)) }
    $sb.ToString()
}

function Test-RdsRoleInstalled($S) { [bool]$S.features['RDS-Licensing'] }

function Get-RdsActivationStatus($S) { if ($S.licenseServer.activated) { 0 } else { 1 } }

function Get-RdsEffectiveLicensingType($S) {
    if ($null -ne $S.groupPolicy.LicensingMode) { return [uint32]$S.groupPolicy.LicensingMode }
    [uint32]$S.sessionHost.licensingType
}

function Get-RdsPolicyServerList($S) {
    $raw = ConvertFrom-RdsStored $S.groupPolicy.LicenseServers
    $list = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $raw.Split(',')) { $t = $p.Trim(); if ($t.Length -gt 0) { $list.Add($t) } }
    , $list.ToArray()
}

function Get-RdsEffectiveServerList($S) {
    if ($null -ne $S.groupPolicy.LicenseServers) { return , (Get-RdsPolicyServerList $S) }
    $list = [string[]]::new(@($S.sessionHost.specifiedLSList).Count)
    $i = 0
    foreach ($e in @($S.sessionHost.specifiedLSList)) { $list[$i++] = ConvertFrom-RdsStored $e }
    , $list
}

function Get-RdsGraceDaysLeft($S) {
    $start = ConvertFrom-RdsIso $S.config.gracePeriodStart
    $elapsed = [Math]::Floor(([DateTime]::UtcNow - $start).TotalDays)
    [uint32][Math]::Max(0, [Math]::Min($script:GracePeriodDays, $script:GracePeriodDays - $elapsed))
}

function Get-RdsServiceStatus($S) {
    if (-not (Test-RdsRoleInstalled $S) -or $null -eq $S.service) { return $null }
    [string]$S.service
}

# The rights of the account the simulated scripts run as (host fact callerRights): enterpriseAdmin
# (a member of Enterprise Admins and Domain Admins: the default, stored only while something else is set),
# domainAdmin (Domain Admins only) or localAdmin (local Administrators only). ChangeRole 1/2 read it.
function Get-RdsCallerRights($S) {
    $r = $S.config['callerRights']
    if ($r) { return [string]$r }
    'enterpriseAdmin'
}

function Get-RdsRoleInstallSeconds($S) {
    # How long an install of the role takes on this host: the host fact roleInstallSeconds, else the
    # simulator-wide default $env:RDS_SIM_ROLE_INSTALL_SECONDS (the demo sets it so its progress lines
    # show a role install that takes a while, as on Windows), else 0.
    if ($S.config.Contains('roleInstallSeconds')) { return [int]$S.config['roleInstallSeconds'] }
    $default = 0
    if ([int]::TryParse([string]$env:RDS_SIM_ROLE_INSTALL_SECONDS, [ref]$default) -and $default -ge 0 -and $default -le 3600) { return $default }
    0
}

# ---- The RD Session Host role and restarts --------------------------------------------------------

function Test-RdsSessionHostRole($S) {
    # The RD Session Host role (RDS-RD-Server): present unless the host fact sessionHostRole is false
    # (stored only while false, so older state files keep the role).
    $S.config['sessionHostRole'] -ne $false
}

function Test-RdsSessionHostRolePending($S) {
    # Install-WindowsFeature RDS-RD-Server ran; the role takes effect at the next restart, as on Windows.
    $S.config['sessionHostRolePending'] -eq $true
}

function Get-RdsRestartSeconds($S) {
    # How long a restart keeps the host unreachable: the host fact restartSeconds, else the simulator-wide
    # default $env:RDS_SIM_RESTART_SECONDS, else 2 (long enough to be seen, short enough for tests).
    if ($S.config.Contains('restartSeconds')) { return [int]$S.config['restartSeconds'] }
    $default = 0
    if ([int]::TryParse([string]$env:RDS_SIM_RESTART_SECONDS, [ref]$default) -and $default -ge 0 -and $default -le 3600) { return $default }
    2
}

function Get-RdsLastBootUpTime($S) {
    # When the host last started: its last restart's end, else when its state was created.
    $boot = $S['boot']
    if ($null -ne $boot -and $boot['lastBootUpTime']) { return ConvertFrom-RdsIso $boot['lastBootUpTime'] }
    ConvertFrom-RdsIso $S.createdAt
}

function Get-RdsRestartSecondsLeft($S) {
    # Seconds until a restarting host answers again (0: it answers now).
    $boot = $S['boot']
    if ($null -eq $boot -or -not $boot['downUntil']) { return 0 }
    $left = ((ConvertFrom-RdsIso $boot['downUntil']) - [DateTime]::UtcNow).TotalSeconds
    [Math]::Max(0, [int][Math]::Ceiling($left))
}
