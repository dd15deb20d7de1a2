# Cmdlet stand-in: Restart-Computer (this host), and the restart state the simulator transport asks.
#
# A restart finishes what waits for it (an RDS-RD-Server install: the RD Session Host role) and keeps the
# host unreachable for its restartSeconds (Get-RdsRestartSeconds): the simulator transport
# (provider/powershell/transports/SimulatorInit.ps1) refuses to connect to it, or to run an operation on
# it, until then, as an unreachable Windows host would; a session bound before the restart is closed by it.
#
# Loaded and exported from Features.ps1's end: the restart belongs to the role install, and the root
# module's part list is shared.

function Restart-Computer {
    <# Emulated: Restart-Computer [[-ComputerName] <string[]>] [-Force] on this host or the simulated hosts named
       (-Credential accepted, not checked; -Wait/-For are not emulated). -Force is accepted and not required (on Windows it
       forces logged-on users off; the emulated host has none). Returns at once, as Windows does before the
       shutdown takes the session down; from then on the host is unreachable for its restartSeconds. #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][Alias('CN', '__SERVER', 'Server', 'IPAddress')][string[]]$ComputerName, [switch]$Force, [pscredential]$Credential)
    . $script:CallerPreference
    if ($null -eq $ComputerName -or $ComputerName.Count -eq 0) { $ComputerName = @('.') }
    foreach ($c in $ComputerName) {
        $resolved = $script:Isolated.InvokeReturnAsIs({ Resolve-RdsSimComputerName $c })
        if (-not $resolved.ok) {
            if (-not (Test-RdsUnknownHostError $resolved.err.Exception)) { throw $resolved.err }
            # Windows PowerShell 5.1 restarts a remote computer through WMI (DCOM): an unknown one is RPC_S_SERVER_UNAVAILABLE.
            $ex = [System.InvalidOperationException]::new("Failed to restart the computer $c with the following error message: The RPC server is unavailable. (Exception from HRESULT: 0x800706BA).")
            Write-RdsCmdletError $PSCmdlet $ex 'RestartcomputerFailed' ([System.Management.Automation.ErrorCategory]::OperationStopped) $c
            continue
        }
        Restart-RdsSimHostNamed $PSCmdlet $resolved.value
    }
}

function Restart-RdsSimHostNamed($Cmdlet, [string]$TargetHost) {
    $r = $script:Isolated.InvokeReturnAsIs({
            Invoke-RdsSimpleCall 'Restart-Computer' $null -ScHost $TargetHost -ScAction {
                param($S)
                if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Restart-Computer requires the shutdown privilege (the caller is not a local administrator)' -Infra) }
                Invoke-RdsSimRestart $S
            }
        })
    if (-not $r.ok) { Write-RdsSimError $Cmdlet $r.err 'Restart-Computer' $null }
}

function Invoke-RdsSimRestart($S) {
    # The restart itself: pending role installs take effect; the host answers again after restartSeconds,
    # and its LastBootUpTime is that moment (so a caller can tell a finished restart from a host that has
    # not gone down yet).
    if (Test-RdsSessionHostRolePending $S) {
        $S.config.Remove('sessionHostRolePending')
        $S.config.Remove('sessionHostRole')
    }
    $back = [DateTime]::UtcNow.AddSeconds((Get-RdsRestartSeconds $S)).ToString('o', [CultureInfo]::InvariantCulture)
    $restarts = 0
    if ($null -ne $S['boot']) { $restarts = [int]$S['boot']['restarts'] }
    $S['boot'] = [ordered]@{ lastBootUpTime = $back; downUntil = $back; restarts = $restarts + 1 }
}

function Get-RdsSimRestartState {
    <# Whether a host answers: { secondsLeft (0 = it answers), lastBootUpTime (ISO), restarts }. Reads
       only: a host with no state file has never restarted. #>
    [CmdletBinding()]
    param([string]$HostName)
    $h = Resolve-RdsAdminHost $HostName
    if (-not [System.IO.File]::Exists((Get-RdsHostBasePath $h) + '.json')) {
        return [pscustomobject][ordered]@{ secondsLeft = 0; lastBootUpTime = $null; restarts = 0 }
    }
    Invoke-RdsAdmin $h {
        param($S)
        $restarts = 0
        if ($null -ne $S['boot']) { $restarts = [int]$S['boot']['restarts'] }
        [pscustomobject][ordered]@{
            secondsLeft    = (Get-RdsRestartSecondsLeft $S)
            lastBootUpTime = (Get-RdsLastBootUpTime $S).ToString('o', [CultureInfo]::InvariantCulture)
            restarts       = $restarts
        }
    }
}
