<#
.SYNOPSIS
    Binds a fresh simulator pwsh: to one host (Set-RdsEmulatorContext -StateDir -HostName), or, for a
    shared worker (args.shared), to the state directory with each operation selecting its own host.
.DESCRIPTION
    Run once per warm pwsh by the pool, through Invoke-RdsOperation like any operation: the host
    name (envelope `host`) and the state directory (`args.stateDir`) are user data and arrive in the
    envelope, never as source text.

    A shared worker serves many simulated hosts of one state directory (the pool's simulatorWorkers).
    Its operation invoker reads the host from each operation's envelope, selects it, then runs the
    script in this pwsh: the emulator keeps nothing else per host in memory (every host is a file),
    so an operation sees exactly what it would in a pwsh of its own.

    A simulated host that is restarting (Restart-Computer, the emulator's restartSeconds) answers as an
    unreachable Windows host does: the connect of a pwsh of its own fails with HOST_UNREACHABLE, and so
    does every operation meant for it until it is back. A pwsh of its own that was bound before the
    restart is closed by it (CONNECTION_LOST): as on Windows, only a new session reaches the host again.
#>
param([Parameter(Mandatory)][string]$Envelope)

$in = ConvertFrom-RdsEnvelope $Envelope
$stateDir = [string]$in.args.stateDir
$null = [System.IO.Directory]::CreateDirectory($stateDir)
$shared = [bool]$in.args['shared']

# The restart state of a host, or an error document's exception when it cannot be reached now.
$assertReachable = {
    param([string]$HostName)
    $state = Get-RdsSimRestartState -HostName $HostName
    if ([int]$state.secondsLeft -gt 0) {
        throw (New-RdsScriptError -Code HOST_UNREACHABLE -Message (
                "$HostName does not answer: it is restarting (simulated; back in about $($state.secondsLeft) s)"))
    }
    $state
}

if ($shared) {
    $null = Set-RdsEmulatorContext -StateDir $stateDir
    $selectAndRun = {
        param($ScriptPath, $Envelope)
        $operation = ConvertFrom-RdsEnvelope $Envelope
        $null = Set-RdsEmulatorContext -StateDir $stateDir -HostName ([string]$operation.host)
        $null = & $assertReachable ([string]$operation.host)
        & $ScriptPath -Envelope $Envelope
    }.GetNewClosure()
    Set-RdsOperationInvoker -ExceptDirectory $PSScriptRoot $selectAndRun
} else {
    $hostName = [string]$in.host
    $null = Set-RdsEmulatorContext -StateDir $stateDir -HostName $hostName
    # The host's restart count when this session was opened (a host with no state file yet: 0).
    $boundAtRestart = [int](& $assertReachable $hostName).restarts
    $checkAndRun = {
        param($ScriptPath, $Envelope)
        $now = & $assertReachable $hostName
        if ([int]$now.restarts -ne $boundAtRestart) {
            throw (New-RdsScriptError -Code CONNECTION_LOST -Message (
                    "the session to $hostName was closed by the host's restart: open a new session"))
        }
        & $ScriptPath -Envelope $Envelope
    }.GetNewClosure()
    Set-RdsOperationInvoker -ExceptDirectory $PSScriptRoot $checkAndRun
}
Write-RdsResult ([ordered]@{ host = $in.host; stateDir = $stateDir; shared = $shared })
