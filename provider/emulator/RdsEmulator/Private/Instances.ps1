# The CIM instances each emulated class returns for a host's state.

function New-RdsCimInstance([string]$ClassName, [string]$Namespace, [System.Collections.Specialized.OrderedDictionary]$Properties, [string]$ServerName) {
    $Properties['CimSystemProperties'] = [pscustomobject]@{ Namespace = $Namespace; ServerName = $ServerName; ClassName = $ClassName; Path = $null }
    $o = [pscustomobject]$Properties
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance')
    $o.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$Namespace/$ClassName")
    $o
}

function Get-RdsBuiltInPack {
    [ordered]@{
        KeyPackId = 2; KeyPackType = 6; ProductType = 3; ProductVersionID = 0
        TotalLicenses = [uint32]::MaxValue; IssuedLicenses = 0; AvailableLicenses = [uint32]::MaxValue
        ExpirationDate = $script:BuiltInExpiration; AccessRights = 7
        TypeAndModel = 'Built-in TS Per Device CAL'; Description = 'A02-5.00-EX'
    }
}

function Get-RdsPackView($Pack) {
    $pvid = [int]$Pack.ProductVersionID
    $pt = [int]$Pack.ProductType
    $typeAndModel = if ($Pack.Contains('TypeAndModel')) { $Pack.TypeAndModel } else {
        $prefix = if ($pvid -eq 2) { 'TS or RDS' } else { 'RDS' }
        '{0} Per {1} CAL' -f $prefix, $(if ($pt -eq 1) { 'User' } else { 'Device' })
    }
    $description = if ($Pack.Contains('Description')) { $Pack.Description } else {
        '{0}-{1}-S' -f $(if ($pt -eq 1) { 'C50' } else { 'C40' }), $script:CalVersions[$pvid].Description
    }
    [ordered]@{
        KeyPackId         = [uint32]$Pack.KeyPackId
        Description       = [string]$description
        KeyPackType       = [uint32]$Pack.KeyPackType
        ProductType       = [uint32]$pt
        ProductVersion    = [string]$script:CalVersions[$pvid].String
        ProductVersionID  = [uint32]$pvid
        TotalLicenses     = [uint32]$Pack.TotalLicenses
        IssuedLicenses    = [uint32]$Pack.IssuedLicenses
        AvailableLicenses = [uint32]$Pack.AvailableLicenses
        ExpirationDate    = (ConvertFrom-RdsDmtf $Pack.ExpirationDate)
        AccessRights      = [uint32]$Pack.AccessRights
        TypeAndModel      = [string]$typeAndModel
    }
}

# Instances of classes a Classes/ part adds (class name -> scriptblock param($S, $Class) returning , @(instances)).
$script:InstanceReaders = @{}
function Register-RdsInstanceReader([string]$ClassName, [scriptblock]$Reader) { $script:InstanceReaders[$ClassName] = $Reader }

function Get-RdsInstances($S, [hashtable]$Class) {
    $reader = $script:InstanceReaders[$Class.Name]
    if ($null -ne $reader) { return , (& $reader $S $Class) }
    $server = Get-RdsComputerName $S
    $ns = $Class.Namespace
    switch ($Class.Name) {
        'Win32_TSLicenseServer' {
            $os = Get-RdsOs $S
            $p = [ordered]@{}
            $denied = [bool]$S.faults.accessDenied
            foreach ($f in $script:ContactFields) { $p[$f] = if ($denied) { $null } else { ConvertFrom-RdsStored $S.licenseServer.contact[$f] } }
            if ($denied) {
                foreach ($f in 'ServerRole', 'DatabasePath', 'ProductId', 'Version', 'VersionNumber') { $p[$f] = $null }
            }
            else {
                $p.ServerRole = [uint32]$S.licenseServer.serverRole
                $p.DatabasePath = 'C:\Windows\system32\LServer\'
                $p.ProductId = Get-RdsProductId $S
                $p.Version = $os.Version
                $p.VersionNumber = $os.BuildNumber
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_TSLicenseKeyPack' {
            $list = [System.Collections.Generic.List[object]]::new()
            $list.Add((New-RdsCimInstance $Class.Name $ns (Get-RdsPackView (Get-RdsBuiltInPack)) $server))
            foreach ($pack in @($S.licenseServer.keyPacks)) { $list.Add((New-RdsCimInstance $Class.Name $ns (Get-RdsPackView $pack) $server)) }
            return , $list.ToArray()
        }
        'Win32_TSIssuedLicense' {
            $list = [System.Collections.Generic.List[object]]::new()
            foreach ($l in @($S.licenseServer.issuedLicenses)) {
                $p = [ordered]@{
                    LicenseId         = [uint32]$l.LicenseId
                    KeyPackId         = [uint32]$l.KeyPackId
                    sIssuedToUser     = (ConvertFrom-RdsStored $l.sIssuedToUser)
                    sIssuedToComputer = (ConvertFrom-RdsStored $l.sIssuedToComputer)
                    sHardwareId       = [string]$l.sHardwareId
                    LicenseStatus     = [uint32]$l.LicenseStatus
                    IssueDate         = (ConvertFrom-RdsDmtf $l.IssueDate)
                    ExpirationDate    = (ConvertFrom-RdsDmtf $l.ExpirationDate)
                }
                $list.Add((New-RdsCimInstance $Class.Name $ns $p $server))
            }
            return , $list.ToArray()
        }
        'Win32_TerminalServiceSetting' {
            # The host setting terminalServiceSetting=false: the class answers, with no instance.
            if ($S.config['terminalServiceSetting'] -eq $false) { return , @() }
            $type = Get-RdsEffectiveLicensingType $S
            $names = $script:LicensingNames[[int]$type]
            $p = [ordered]@{
                ServerName                           = $server
                # 1 = Application Server (the RD Session Host role), 0 = Remote Administration (docs/windows-facts.md).
                TerminalServerMode                   = [uint32]$(if (Test-RdsSessionHostRole $S) { 1 } else { 0 })
                LicensingType                        = $type
                PolicySourceLicensingType            = [uint32]$(if ($null -ne $S.groupPolicy.LicensingMode) { 1 } else { 0 })
                LicensingName                        = $(if ($names) { $names[0] } else { $null })
                LicensingDescription                 = $(if ($names) { $names[1] } else { $null })
                PolicySourceConfiguredLicenseServers = [uint32]$(if ($null -ne $S.groupPolicy.LicenseServers) { 1 } else { 0 })
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_TSDeploymentLicensing' {
            $servers = [string[]]@(@($S.deployment.licenseServers) | ForEach-Object { ConvertFrom-RdsStored $_ })
            $p = [ordered]@{
                UseCentralLicensingSettings = [bool]$S.deployment.useCentralLicensingSettings
                LicenseServers              = $servers
                LicensingType               = [uint32]$S.deployment.licensingType
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_OperatingSystem' {
            $os = Get-RdsOs $S
            $p = [ordered]@{ Caption = $os.Caption; Version = $os.Version; BuildNumber = $os.BuildNumber; CSName = $server; LastBootUpTime = (Get-RdsLastBootUpTime $S) }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_ComputerSystem' {
            $domain = Get-RdsDomain $S
            $hn = (Get-RdsComputerName $S).ToLowerInvariant()
            $p = [ordered]@{
                Name         = $server
                DNSHostName  = $hn
                Domain       = $(if ($domain) { $domain } else { [string]$S.config.workgroup })
                PartOfDomain = [bool]$domain
                Workgroup    = $(if ($domain) { $null } else { [string]$S.config.workgroup })
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
    }
}
