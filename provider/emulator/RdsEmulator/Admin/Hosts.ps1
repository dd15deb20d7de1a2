# Admin functions (tests and the rds-sim CLI; never used by operation scripts): read and configure hosts.

function Resolve-RdsAdminHost([string]$HostName) {
    if ($HostName) { Assert-RdsHostName $HostName; return $HostName }
    Get-RdsCurrentHost
}

function Invoke-RdsAdmin([string]$AdHost, [scriptblock]$AdAction) {
    Invoke-RdsHostTransaction -TxHost $AdHost -TxCall $null -TxAction $AdAction
}

function ConvertTo-RdsHostView($S, [string]$StatePath) {
    $packs = @(@(Get-RdsBuiltInPack) + @($S.licenseServer.keyPacks)) | ForEach-Object {
        $v = Get-RdsPackView $_
        $v.ExpirationDate = $v.ExpirationDate.ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture)
        $v.program = if ($_.Contains('program')) { $_.program } else { 'builtIn' }
        $v.installMethod = if ($_.Contains('installMethod')) { $_.installMethod } else { $null }
        $v.installedAt = if ($_.Contains('installedAt')) { $_.installedAt } else { $null }
        [pscustomobject]$v
    }
    $issued = @($S.licenseServer.issuedLicenses) | ForEach-Object {
        [pscustomobject][ordered]@{
            LicenseId = [int]$_.LicenseId; KeyPackId = [int]$_.KeyPackId
            sIssuedToUser = (ConvertFrom-RdsStored $_.sIssuedToUser); sIssuedToComputer = (ConvertFrom-RdsStored $_.sIssuedToComputer)
            sHardwareId = [string]$_.sHardwareId; LicenseStatus = [int]$_.LicenseStatus
            IssueDate = (ConvertFrom-RdsDmtf $_.IssueDate).ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture)
            ExpirationDate = (ConvertFrom-RdsDmtf $_.ExpirationDate).ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture)
        }
    }
    $contact = [ordered]@{}
    foreach ($f in $script:ContactFields) { $contact[$f] = ConvertFrom-RdsStored $S.licenseServer.contact[$f] }
    $os = Get-RdsOs $S
    $domain = Get-RdsDomain $S
    $config = [ordered]@{
        osVersion          = [string]$S.config.osVersion
        domain             = $domain
        workgroup          = $(if ($domain) { $null } else { [string]$S.config.workgroup })
        partOfDomain       = [bool]$domain
        isConnectionBroker = [bool]$S.config.isConnectionBroker
        productId          = (ConvertFrom-RdsStored $S.config.productId)
        gracePeriodStart   = [string]$S.config.gracePeriodStart
    }
    # Shown only when set: a host without it installs the role at once (and older views stay as they were).
    if ($S.config.Contains('roleInstallSeconds')) { $config.roleInstallSeconds = [int]$S.config['roleInstallSeconds'] }
    if ($S.config.Contains('restartSeconds')) { $config.restartSeconds = [int]$S.config['restartSeconds'] }
    if ($S.config.Contains('callerRights')) { $config.callerRights = [string]$S.config['callerRights'] }
    [pscustomobject][ordered]@{
        hostName      = (Get-RdsHostName $S)
        computerName  = (Get-RdsComputerName $S)
        stateFile     = $StatePath
        createdAt     = $S.createdAt
        config        = [pscustomobject]$config
        os            = [pscustomobject][ordered]@{ caption = $os.Caption; version = $os.Version; buildNumber = $os.BuildNumber }
        roleInstalled = (Test-RdsRoleInstalled $S)
        features      = [pscustomobject][ordered]@{ 'RDS-Licensing' = [bool]$S.features['RDS-Licensing']; 'RDS-Licensing-UI' = [bool]$S.features['RDS-Licensing-UI'] }
        # The RD Session Host role (TerminalServerMode), a pending install of it, and the restarts.
        sessionHostRole        = (Test-RdsSessionHostRole $S)
        sessionHostRolePending = (Test-RdsSessionHostRolePending $S)
        restart                = [pscustomobject][ordered]@{
            restarts       = $(if ($null -ne $S['boot']) { [int]$S['boot']['restarts'] } else { 0 })
            secondsLeft    = (Get-RdsRestartSecondsLeft $S)
            lastBootUpTime = (Get-RdsLastBootUpTime $S).ToString('o', [CultureInfo]::InvariantCulture)
        }
        serviceStatus = (Get-RdsServiceStatus $S)
        faults        = [pscustomobject](Get-RdsFaultSwitches $S)
        groupPolicy   = (Get-RdsGroupPolicyView $S)
        licenseServer = [pscustomobject][ordered]@{
            productId              = (Get-RdsProductId $S)
            activationStatus       = (Get-RdsActivationStatus $S)
            activated              = [bool]$S.licenseServer.activated
            licenseServerId        = $S.licenseServer.licenseServerId
            activationMethod       = $S.licenseServer.activationMethod
            activatedAt            = $S.licenseServer.activatedAt
            reactivations          = [int]$S.licenseServer.reactivations
            lastReactivationReason = $S.licenseServer.lastReactivationReason
            serverRole             = [int]$S.licenseServer.serverRole
            contact                = [pscustomobject]$contact
            licenseServersGroup    = ($S.licenseServer['tslsGroupMember'] -eq $true)
            scpRegistered          = ($S.licenseServer['scpRegistered'] -eq $true)
            perUserIssues          = @(@($S.licenseServer['perUserIssues']) | Where-Object { $null -ne $_ } | ForEach-Object { [pscustomobject][ordered]@{ User = (ConvertFrom-RdsStored $_.User); KeyPackId = [int]$_.KeyPackId; ProductVersionID = [int]$_.ProductVersionID } })
            reports                = @(@($S.licenseServer['reports']) | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_.FileName })
            keyPacks               = @($packs)
            issuedLicenses         = @($issued)
        }
        sessionHost   = [pscustomobject][ordered]@{
            licensingType                        = [int]$S.sessionHost.licensingType
            effectiveLicensingType               = [int](Get-RdsEffectiveLicensingType $S)
            policySourceLicensingType            = $(if ($null -ne $S.groupPolicy.LicensingMode) { 1 } else { 0 })
            specifiedLicenseServers              = [string[]]@(@($S.sessionHost.specifiedLSList) | ForEach-Object { ConvertFrom-RdsStored $_ })
            effectiveLicenseServers              = [string[]](Get-RdsEffectiveServerList $S)
            policySourceConfiguredLicenseServers = $(if ($null -ne $S.groupPolicy.LicenseServers) { 1 } else { 0 })
            graceDaysLeft                        = [int](Get-RdsGraceDaysLeft $S)
        }
        deployment    = [pscustomobject][ordered]@{
            useCentralLicensingSettings = [bool]$S.deployment.useCentralLicensingSettings
            licenseServers              = [string[]]@(@($S.deployment.licenseServers) | ForEach-Object { ConvertFrom-RdsStored $_ })
            licensingType               = [int]$S.deployment.licensingType
            mode                        = $script:ModeNames[[int]$S.deployment.licensingType]
        }
    }
}

function Get-RdsSimHost {
    <# The whole emulated state of one host (created with defaults on first use), as a plain object. #>
    [CmdletBinding()]
    param([string]$HostName)
    $h = Resolve-RdsAdminHost $HostName
    $path = (Get-RdsHostBasePath $h) + '.json'
    Invoke-RdsAdmin $h { param($S) ConvertTo-RdsHostView $S $path }
}

function Get-RdsSimHostList {
    <# One summary row per host that has a state file. #>
    [CmdletBinding()] param()
    $dir = [System.IO.Path]::Combine((Get-RdsStateDir), 'hosts')
    $rows = foreach ($file in [System.IO.Directory]::GetFiles($dir, '*.json')) {
        # Under the host's lock: on Windows an open reader would make the writer's rename fail.
        $lock = Enter-RdsLock ($file.Substring(0, $file.Length - 5) + '.lock')
        try { $text = Read-RdsJsonFile $file }
        finally { $lock.Dispose() }
        if ($null -eq $text) { continue }
        try { $S = ConvertFrom-RdsStateText $text $file }
        catch {
            # A corrupt file is listed (and left alone), not skipped silently.
            [pscustomobject][ordered]@{ hostName = $null; osVersion = $null; partOfDomain = $null; roleInstalled = $null; isConnectionBroker = $null; activated = $null; productId = $null; keyPacks = $null; licensingType = $null; stateFile = $file; error = $_.Exception.Message }
            continue
        }
        [pscustomobject][ordered]@{
            hostName           = (Get-RdsHostName $S)
            osVersion          = [string]$S.config.osVersion
            partOfDomain       = [bool](Get-RdsDomain $S)
            roleInstalled      = (Test-RdsRoleInstalled $S)
            isConnectionBroker = [bool]$S.config.isConnectionBroker
            activated          = [bool]$S.licenseServer.activated
            productId          = (Get-RdsProductId $S)
            keyPacks           = @($S.licenseServer.keyPacks).Count
            licensingType      = [int](Get-RdsEffectiveLicensingType $S)
            stateFile          = $file
            error              = $null
        }
    }
    $rows | Sort-Object hostName
}

$script:HostSettings = @('osVersion', 'domain', 'workgroup', 'partOfDomain', 'isConnectionBroker', 'productId', 'roleInstalled', 'serviceStatus', 'gracePeriodStart', 'gracePeriodDaysLeft', 'terminalServiceSetting', 'roleInstallSeconds', 'sessionHostRole', 'restartSeconds', 'callerRights', 'licenseServersGroup', 'scpRegistered')

function Set-RdsSimHostConfig {
    <# Host facts. Settings (all optional): osVersion 2008R2|2012|2016|2019|2022|2025; domain <fqdn> ('' or
       $null = workgroup); workgroup <name>; partOfDomain <bool>; isConnectionBroker <bool>; productId <string>
       ($null = derived from the host name; a different value models a rebuilt server and clears the
       activation); roleInstalled <bool>; serviceStatus Running|Stopped; gracePeriodStart <ISO date>;
       gracePeriodDaysLeft 0..120; terminalServiceSetting <bool> (false: Win32_TerminalServiceSetting answers
       no instance, a host whose Terminal Services WMI provider is missing; not observed on a real server);
       roleInstallSeconds 0..3600 (how long Install-WindowsFeature takes to install the role; 0 = at once);
       sessionHostRole <bool> (the RD Session Host role, RDS-RD-Server: TerminalServerMode 1, else 0; default
       present; setting it clears a pending install); restartSeconds 0..3600 (how long Restart-Computer keeps
       the host unreachable; default $env:RDS_SIM_RESTART_SECONDS, else 2); callerRights
       enterpriseAdmin|domainAdmin|localAdmin (the groups of the calling account: ChangeRole 1 needs Domain
       Admins, 2 Enterprise Admins; default enterpriseAdmin, a member of both); licenseServersGroup <bool> (the
       license server is in its domain's Terminal Server License Servers group; default false, as a server is
       until someone adds it); scpRegistered <bool> (its service connection point exists; default false). #>
    [CmdletBinding()]
    param([string]$HostName, [Parameter(Mandatory)][System.Collections.IDictionary]$Settings)
    $h = Resolve-RdsAdminHost $HostName
    # Validate names and values before touching state.
    $clean = [ordered]@{}
    foreach ($key in $Settings.Keys) {
        $name = $script:HostSettings | Where-Object { $_ -eq [string]$key } | Select-Object -First 1
        if (-not $name) { throw [System.ArgumentException]::new("RdsEmulator: unknown host setting '$key' (known: $($script:HostSettings -join ', '))") }
        $value = $Settings[$key]
        $clean[$name] = switch ($name) {
            'osVersion' {
                $v = [string]$value
                $match = $script:OsTable.Keys | Where-Object { $_ -eq $v } | Select-Object -First 1
                if (-not $match) { throw [System.ArgumentException]::new("RdsEmulator: osVersion must be one of $($script:OsTable.Keys -join ', ')") }
                $match
            }
            'domain' { if ([string]::IsNullOrWhiteSpace([string]$value)) { $null } else { [string]$value } }
            'workgroup' { if ([string]::IsNullOrWhiteSpace([string]$value)) { throw [System.ArgumentException]::new('RdsEmulator: workgroup must not be empty') } else { [string]$value } }
            'partOfDomain' { ConvertTo-RdsBool $value $name }
            'isConnectionBroker' { ConvertTo-RdsBool $value $name }
            'roleInstalled' { ConvertTo-RdsBool $value $name }
            'productId' { if ($null -eq $value -or [string]::IsNullOrWhiteSpace([string]$value)) { $null } else { [string]$value } }
            'serviceStatus' {
                $v = [string]$value
                if ($v -notin 'Running', 'Stopped') { throw [System.ArgumentException]::new('RdsEmulator: serviceStatus must be Running or Stopped') }
                $(if ($v -eq 'Running') { 'Running' } else { 'Stopped' })
            }
            'gracePeriodStart' {
                $dt = if ($value -is [DateTime]) { $value.ToUniversalTime() } else {
                    $parsed = [DateTime]::MinValue
                    if (-not [DateTime]::TryParse([string]$value, [CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind, [ref]$parsed)) { throw [System.ArgumentException]::new('RdsEmulator: gracePeriodStart must be an ISO 8601 date') }
                    $parsed.ToUniversalTime()
                }
                $dt.ToString('o', [CultureInfo]::InvariantCulture)
            }
            'gracePeriodDaysLeft' { ConvertTo-RdsInt $value $name 0 $script:GracePeriodDays }
            'terminalServiceSetting' { ConvertTo-RdsBool $value $name }
            'roleInstallSeconds' { ConvertTo-RdsInt $value $name 0 3600 }
            'sessionHostRole' { ConvertTo-RdsBool $value $name }
            'restartSeconds' { ConvertTo-RdsInt $value $name 0 3600 }
            'licenseServersGroup' { ConvertTo-RdsBool $value $name }
            'scpRegistered' { ConvertTo-RdsBool $value $name }
            'callerRights' {
                $v = [string]$value
                $match = @('enterpriseAdmin', 'domainAdmin', 'localAdmin') | Where-Object { $_ -eq $v } | Select-Object -First 1
                if (-not $match) { throw [System.ArgumentException]::new('RdsEmulator: callerRights must be enterpriseAdmin, domainAdmin or localAdmin') }
                $match
            }
        }
    }
    if ($clean.Contains('serviceStatus') -and $clean.Contains('roleInstalled') -and -not $clean.roleInstalled) {
        throw [System.ArgumentException]::new('RdsEmulator: serviceStatus needs the role installed')
    }
    $path = (Get-RdsHostBasePath $h) + '.json'
    Invoke-RdsAdmin $h {
        param($S)
        # Checked before anything changes: a workgroup host has no domain group and no SCP to be in.
        $joins = $clean.Contains('domain') -and $null -ne $clean.domain
        $leaves = ($clean.Contains('domain') -and $null -eq $clean.domain) -or ($clean.Contains('partOfDomain') -and -not $clean.partOfDomain)
        foreach ($ad in 'licenseServersGroup', 'scpRegistered') {
            if ($clean[$ad] -eq $true -and ($leaves -or (-not $joins -and -not (Get-RdsDomain $S) -and -not $clean['partOfDomain']))) {
                throw [System.ArgumentException]::new("RdsEmulator: $ad needs a host in a domain ('$h' is in a workgroup)")
            }
        }
        foreach ($name in $clean.Keys) {
            $value = $clean[$name]
            switch ($name) {
                'osVersion' { $S.config.osVersion = $value }
                'domain' { $S.config.domain = ConvertTo-RdsStored $value }
                'workgroup' { $S.config.workgroup = $value }
                'partOfDomain' {
                    if (-not $value) { $S.config.domain = $null }
                    elseif (-not (Get-RdsDomain $S)) { $S.config.domain = 'contoso.com' }
                }
                'isConnectionBroker' { $S.config.isConnectionBroker = $value }
                'productId' {
                    $old = Get-RdsProductId $S
                    $S.config.productId = ConvertTo-RdsStored $value
                    if ((Get-RdsProductId $S) -cne $old) { Set-RdsDeactivated $S; $S.licenseServer.everActivated = $false }
                }
                'roleInstalled' {
                    $S.features['RDS-Licensing'] = $value
                    $S.service = if ($value) { 'Running' } else { $null }
                }
                'serviceStatus' {
                    if (-not (Test-RdsRoleInstalled $S)) { throw [System.ArgumentException]::new('RdsEmulator: serviceStatus needs the RDS-Licensing role installed') }
                    $S.service = $value
                }
                'gracePeriodStart' { $S.config.gracePeriodStart = $value }
                'gracePeriodDaysLeft' {
                    $S.config.gracePeriodStart = [DateTime]::UtcNow.AddDays( - ($script:GracePeriodDays - $value)).ToString('o', [CultureInfo]::InvariantCulture)
                }
                # Stored only while missing: a host without the setting has its instance (older state files too).
                'terminalServiceSetting' { if ($value) { $S.config.Remove('terminalServiceSetting') } else { $S.config['terminalServiceSetting'] = $false } }
                # Stored only while set, for the same reason.
                'roleInstallSeconds' { if ($value -eq 0) { $S.config.Remove('roleInstallSeconds') } else { $S.config['roleInstallSeconds'] = [int]$value } }
                # Stored only while absent (older state files keep the role); a fact set by hand ends a pending install.
                'sessionHostRole' {
                    $S.config.Remove('sessionHostRolePending')
                    if ($value) { $S.config.Remove('sessionHostRole') } else { $S.config['sessionHostRole'] = $false }
                }
                # Stored only while set (the default comes from the environment).
                'restartSeconds' { $S.config['restartSeconds'] = [int]$value }
                # The license server's computer account in its domain's Terminal Server License Servers group, and
                # its service connection point (Classes/Win32_TSLicenseServer.Directory.ps1; default: neither).
                'licenseServersGroup' { $S.licenseServer['tslsGroupMember'] = $value }
                'scpRegistered' { $S.licenseServer['scpRegistered'] = $value }
                # Stored only while not the default, so older state files keep the admin account they had.
                'callerRights' { if ($value -eq 'enterpriseAdmin') { $S.config.Remove('callerRights') } else { $S.config['callerRights'] = $value } }
            }
        }
        ConvertTo-RdsHostView $S $path
    }
}
