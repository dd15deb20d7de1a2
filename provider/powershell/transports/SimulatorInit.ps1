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
#>
param([Parameter(Mandatory)][string]$Envelope)

$in = ConvertFrom-RdsEnvelope $Envelope
$stateDir = [string]$in.args.stateDir
$null = [System.IO.Directory]::CreateDirectory($stateDir)
$shared = [bool]$in.args['shared']
if ($shared) {
    $null = Set-RdsEmulatorContext -StateDir $stateDir
    $selectAndRun = {
        param($ScriptPath, $Envelope)
        $operation = ConvertFrom-RdsEnvelope $Envelope
        $null = Set-RdsEmulatorContext -StateDir $stateDir -HostName ([string]$operation.host)
        & $ScriptPath -Envelope $Envelope
    }.GetNewClosure()
    Set-RdsOperationInvoker -ExceptDirectory $PSScriptRoot $selectAndRun
} else {
    $null = Set-RdsEmulatorContext -StateDir $stateDir -HostName ([string]$in.host)
}
Write-RdsResult ([ordered]@{ host = $in.host; stateDir = $stateDir; shared = $shared })
