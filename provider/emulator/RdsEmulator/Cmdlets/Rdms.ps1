# Cmdlet stand-ins: Get-RDLicenseConfiguration, Set-RDLicenseConfiguration (RD Management Service).

$script:ModeNames = @{ 2 = 'PerDevice'; 4 = 'PerUser'; 5 = 'NotConfigured' }
$script:ModeValues = @{ PerDevice = 2; PerUser = 4; NotConfigured = 5 }

# The RDMS stand-ins the emulated RemoteDesktop module exports (Cmdlets/Modules.ps1). RdsEmulator exports
# them too, so the operation scripts, which never import RemoteDesktop, keep finding them.
$script:RdmsCommands = [ordered]@{
    'Get-RDLicenseConfiguration' = 'Get-RDLicenseConfiguration'
    'Set-RDLicenseConfiguration' = 'Set-RDLicenseConfiguration'
}

# One record per failure, written as a compiled cmdlet writes it (Write-RdsCmdletError, CmdletPlumbing.ps1);
# the $script:Isolated wrapper keeps the emulator's internal throws out of $Error. The ids are the
# emulator's choice (README.md).
function Write-RdsRdmsError($Cmdlet, [string]$Message, [string]$CmdletName, [string]$Category = 'InvalidOperation') {
    Write-RdsCmdletError $Cmdlet ([System.InvalidOperationException]::new($Message)) 'DeploymentNotFound' ([System.Management.Automation.ErrorCategory]$Category) $null
}

function Assert-RdsBroker($S, [string]$Broker) {
    if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE 'the RD Management Service failed' -Infra) }
    if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied (the caller is not an administrator of the RD Connection Broker)' -Infra) }
    if (-not $S.config.isConnectionBroker) {
        throw [System.InvalidOperationException]::new("A Remote Desktop Services deployment does not exist on $Broker. This operation can be performed after creating a deployment. (The emulated host is not an RD Connection Broker: set isConnectionBroker.)")
    }
}

# The host -ConnectionBroker names (C1's resolver: localhost, the host's short name or FQDN, another
# simulated host). A name no simulated host has is answered like a host without a deployment (the
# emulator's choice), without creating a state for it.
function Resolve-RdsBroker([string]$ConnectionBroker) {
    try { Resolve-RdsSimComputerName $ConnectionBroker }
    catch {
        if (-not (Test-RdsUnknownHostError $_.Exception)) { throw }
        throw [System.InvalidOperationException]::new("A Remote Desktop Services deployment does not exist on $ConnectionBroker. This operation can be performed after creating a deployment. (No simulated host has this name.)")
    }
}

function Write-RdsRdmsFailure($Cmdlet, [System.Management.Automation.ErrorRecord]$Record, [string]$CmdletName) {
    $ex = $Record.Exception
    if (Test-RdsSimException $ex) { Write-RdsSimError $Cmdlet $Record $CmdletName $null }
    elseif ($ex -is [System.InvalidOperationException]) { Write-RdsRdmsError $Cmdlet $ex.Message $CmdletName }
    elseif ($ex -is [System.ArgumentException]) { Write-RdsCmdletError $Cmdlet $ex 'InvalidArgument' ([System.Management.Automation.ErrorCategory]::InvalidArgument) $null }
    else { throw $Record }
}

function Get-RDLicenseConfiguration {
    <# Emulated RDMS cmdlet: Get-RDLicenseConfiguration [-ConnectionBroker <host>] (default: the current host). #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$ConnectionBroker)
    . $script:CallerPreference
    $r = $script:Isolated.InvokeReturnAsIs({
            $broker = Resolve-RdsBroker $ConnectionBroker
            Invoke-RdsSimpleCall 'Get-RDLicenseConfiguration' 'Win32_TSDeploymentLicensing' -ScHost $broker -ScAction {
                param($S)
                Assert-RdsBroker $S $broker
                $o = [pscustomobject][ordered]@{
                    Mode          = $script:ModeNames[[int]$S.deployment.licensingType]
                    LicenseServer = [string[]]@(@($S.deployment.licenseServers) | ForEach-Object { ConvertFrom-RdsStored $_ })
                }
                $o.PSObject.TypeNames.Insert(0, 'Microsoft.RemoteDesktopServices.Management.LicensingSetting')
                $o
            }
        })
    if ($r.ok) { $r.value }
    else { Write-RdsRdmsFailure $PSCmdlet $r.err 'Get-RDLicenseConfiguration' }
}

function Test-RdsNonInteractive {
    if ([Console]::IsInputRedirected) { return $true }
    foreach ($a in [Environment]::GetCommandLineArgs()) { if ($a -match '^-noni') { return $true } }
    $false
}

function Set-RDLicenseConfiguration {
    <# Emulated RDMS cmdlet: -Mode <PerUser|PerDevice|NotConfigured> [-LicenseServer <string[]>] | -LicenseServer;
       [-Force] [-ConnectionBroker <host>]. Without -Force it asks for confirmation, which fails in a
       non-interactive session. #>
    [CmdletBinding(DefaultParameterSetName = 'ModePS')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'ModePS')]
        [Parameter(Mandatory, ParameterSetName = 'BothPS')]
        [ValidateSet('PerUser', 'PerDevice', 'NotConfigured')][string]$Mode,
        [Parameter(Mandatory, ParameterSetName = 'BothPS')]
        [Parameter(Mandatory, ParameterSetName = 'LicenseServerPS')]
        [AllowEmptyCollection()][string[]]$LicenseServer,
        [switch]$Force,
        [string]$ConnectionBroker
    )
    . $script:CallerPreference
    $hasMode = $PSBoundParameters.ContainsKey('Mode')
    $hasServers = $PSBoundParameters.ContainsKey('LicenseServer')
    if (-not $Force) {
        if (Test-RdsNonInteractive) {
            $ex = [System.Management.Automation.PSInvalidOperationException]::new('Set-RDLicenseConfiguration asks for confirmation before it changes the deployment licensing settings, and PowerShell is in NonInteractive mode. Read and Prompt functionality is not available. Pass -Force.')
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'ConfirmationRequired', 'InvalidOperation', $null))
            return
        }
        if (-not $PSCmdlet.ShouldContinue('Set the licensing configuration of the RDS deployment?', 'Set-RDLicenseConfiguration')) { return }
    }
    $r = $script:Isolated.InvokeReturnAsIs({
            $broker = Resolve-RdsBroker $ConnectionBroker
            if ($hasServers) {
                foreach ($n in $LicenseServer) { if ([string]::IsNullOrWhiteSpace($n)) { throw [System.ArgumentException]::new('LicenseServer must not contain empty names') } }
            }
            Invoke-RdsSimpleCall 'Set-RDLicenseConfiguration' 'Win32_TSDeploymentLicensing' -ScHost $broker -ScAction {
                param($S)
                Assert-RdsBroker $S $broker
                $S.deployment.useCentralLicensingSettings = $true
                if ($hasMode) { $S.deployment.licensingType = $script:ModeValues[$Mode] }
                if ($hasServers) { $S.deployment.licenseServers = @($LicenseServer | ForEach-Object { ConvertTo-RdsStored $_ }) }
            }
        })
    if (-not $r.ok) { Write-RdsRdmsFailure $PSCmdlet $r.err 'Set-RDLicenseConfiguration' }
}
