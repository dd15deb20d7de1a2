# Cmdlet stand-ins: Get-WindowsFeature, Install-WindowsFeature (RDS-Licensing and its tools; RDS-RD-Server,
# the RD Session Host role, whose install takes effect at the next restart: Restart.ps1).

$script:Features = [ordered]@{
    'RDS-Licensing'    = @{ DisplayName = 'Remote Desktop Licensing'; FeatureType = 'Role Service'; Path = 'Remote Desktop Services\Remote Desktop Licensing' }
    'RDS-Licensing-UI' = @{ DisplayName = 'Remote Desktop Licensing Tools'; FeatureType = 'Feature'; Path = 'Remote Server Administration Tools\Role Administration Tools\Remote Desktop Services Tools\Remote Desktop Licensing Tools' }
    'RDS-RD-Server'    = @{ DisplayName = 'Remote Desktop Session Host'; FeatureType = 'Role Service'; Path = 'Remote Desktop Services\Remote Desktop Session Host' }
}

# The RD Session Host role is the host fact sessionHostRole (HostFacts.ps1), not a features entry.
$script:SessionHostFeature = 'RDS-RD-Server'

function New-RdsFeatureObject($S, [string]$Name) {
    $pending = $false
    if ($Name -eq $script:SessionHostFeature) {
        $installed = Test-RdsSessionHostRole $S
        $pending = Test-RdsSessionHostRolePending $S
    } else { $installed = [bool]$S.features[$Name] }
    $f = $script:Features[$Name]
    $state = 'Available'
    if ($installed) { $state = 'Installed' } elseif ($pending) { $state = 'InstallPending' }
    $o = [pscustomobject][ordered]@{
        Name         = $Name
        DisplayName  = $f.DisplayName
        Installed    = $installed
        InstallState = $state
        FeatureType  = $f.FeatureType
        Path         = $f.Path
    }
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Windows.ServerManager.Commands.Feature')
    $o
}

# -ComputerName on the ServerManager stand-ins: the host it names (C1's resolver, Private/RemoteHost.ps1).
# ServerManager reaches another computer through WinRM, so an unknown name gets WinRM's "cannot complete
# the operation" CimException, as the CIM stand-ins give it (Private/CimTargets.ps1); the record's id and
# category are the emulator's choice (README.md, "-ComputerName on the feature, service and restart stand-ins").
function Resolve-RdsFeatureTarget($Cmdlet, [string]$ComputerName) {
    $r = $script:Isolated.InvokeReturnAsIs({ Resolve-RdsSimComputerName $ComputerName })
    if ($r.ok) { return $r.value }
    if (-not (Test-RdsUnknownHostError $r.err.Exception)) { throw $r.err }
    Write-RdsCimUnreachableError $Cmdlet $ComputerName
    $null
}

function Get-WindowsFeature {
    <# Emulated for RDS-Licensing, RDS-Licensing-UI and RDS-RD-Server, on this host or -ComputerName's. Unknown
       names return nothing, like the real cmdlet. RDS-RD-Server installed but not yet restarted: Installed false, InstallState InstallPending. #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string[]]$Name, [Alias('Cn')][string]$ComputerName, [pscredential]$Credential)
    . $script:CallerPreference
    $names = if ($Name) { $Name } else { @($script:Features.Keys) }
    $targetHost = Resolve-RdsFeatureTarget $PSCmdlet $ComputerName
    if ($null -eq $targetHost) { return }
    $r = $script:Isolated.InvokeReturnAsIs({
            Invoke-RdsSimpleCall 'Get-WindowsFeature' $null -ScHost $targetHost -ScAction {
                param($S)
                $list = [System.Collections.Generic.List[object]]::new()
                foreach ($n in $script:Features.Keys) {
                    foreach ($pattern in $names) { if ($n -like $pattern) { $list.Add((New-RdsFeatureObject $S $n)); break } }
                }
                , $list.ToArray()
            }
        })
    if ($r.ok) { foreach ($o in $r.value) { $o } }
    else { Write-RdsSimError $PSCmdlet $r.err 'Get-WindowsFeature' $Name }
}

function Install-WindowsFeature {
    <# Emulated: Install-WindowsFeature -Name RDS-Licensing [-IncludeManagementTools] [-IncludeAllSubFeature]
       [-ComputerName <host>] (-Credential is accepted and not checked).
       Installing the role starts TermServLicensing and makes the license server classes available.
       A host with the fact roleInstallSeconds (Set-RdsSimHostConfig) takes that long to return from an
       install of the role (the role is installed from the start of the call; the host is not locked
       meanwhile), so a long install can be shown.
       -Name RDS-RD-Server on a host without the RD Session Host role: the install is pending until the next
       Restart-Computer (Success, RestartNeeded Yes, ExitCode SuccessRestartRequired, as Windows answers a
       role that needs a restart); -Restart is accepted and does not restart (the caller restarts). #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string[]]$Name,
        [switch]$IncludeManagementTools,
        [switch]$IncludeAllSubFeature,
        [switch]$Restart,
        [Alias('Cn')][string]$ComputerName,
        [pscredential]$Credential
    )
    . $script:CallerPreference
    # Seconds this call takes when it installs the role (the host's roleInstallSeconds), set by the action.
    $installDelay = @{ Seconds = 0 }
    foreach ($n in $Name) {
        if (-not $script:Features.Contains($n)) {
            $ex = [System.ArgumentException]::new("ArgumentNotValid: The role, role service, or feature name is not valid: '$n'. The name was not found.")
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'NameDoesNotExist', 'InvalidArgument', $n))
            return
        }
    }
    $targetHost = Resolve-RdsFeatureTarget $PSCmdlet $ComputerName
    if ($null -eq $targetHost) { return }
    $r = $script:Isolated.InvokeReturnAsIs({
            Invoke-RdsSimpleCall 'Install-WindowsFeature' $null -ScHost $targetHost -ScAction {
                param($S)
                if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Install-WindowsFeature requires elevation (the caller is not a local administrator)' -Infra) }
                $want = [System.Collections.Generic.List[string]]::new()
                foreach ($n in $Name) { foreach ($k in $script:Features.Keys) { if ($k -eq $n) { $want.Add($k) } } }
                if ($IncludeManagementTools -and $want.Contains('RDS-Licensing') -and -not $want.Contains('RDS-Licensing-UI')) { $want.Add('RDS-Licensing-UI') }
                $changed = [System.Collections.Generic.List[object]]::new()
                if ($want.Contains('RDS-Licensing') -and -not $S.features['RDS-Licensing']) { $installDelay.Seconds = Get-RdsRoleInstallSeconds $S }
                foreach ($n in $want) {
                    if ($n -eq $script:SessionHostFeature) { continue }
                    if (-not $S.features[$n]) {
                        $S.features[$n] = $true
                        $changed.Add([pscustomobject][ordered]@{ Name = $n; DisplayName = $script:Features[$n].DisplayName; Success = $true; RestartNeeded = $false })
                    }
                }
                if ($want.Contains('RDS-Licensing') -and $S.features['RDS-Licensing']) { $S.service = 'Running' }
                $restartNeeded = $false
                if ($want.Contains($script:SessionHostFeature) -and -not (Test-RdsSessionHostRole $S)) {
                    $restartNeeded = $true
                    if (-not (Test-RdsSessionHostRolePending $S)) {
                        $S.config['sessionHostRolePending'] = $true
                        $changed.Add([pscustomobject][ordered]@{ Name = $script:SessionHostFeature; DisplayName = $script:Features[$script:SessionHostFeature].DisplayName; Success = $true; RestartNeeded = $true })
                    }
                }
                $exitCode = 'NoChangeNeeded'
                if ($restartNeeded) { $exitCode = 'SuccessRestartRequired' } elseif ($changed.Count -gt 0) { $exitCode = 'Success' }
                [pscustomobject][ordered]@{
                    Success       = $true
                    RestartNeeded = $(if ($restartNeeded) { 'Yes' } else { 'No' })
                    ExitCode      = $exitCode
                    FeatureResult = $changed.ToArray()
                }
            }
        })
    if ($installDelay.Seconds -gt 0) { Start-Sleep -Seconds $installDelay.Seconds }
    if ($r.ok) { $r.value }
    else { Write-RdsSimError $PSCmdlet $r.err 'Install-WindowsFeature' $Name }
}
