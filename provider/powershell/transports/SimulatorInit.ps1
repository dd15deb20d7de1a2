<#
.SYNOPSIS
    Binds a fresh simulator pwsh to its host: Set-RdsEmulatorContext -StateDir -HostName.
.DESCRIPTION
    Run once per warm pwsh by the pool, through Invoke-RdsOperation like any operation: the host
    name (envelope `host`) and the state directory (`args.stateDir`) are user data and arrive in the
    envelope, never as source text.
#>
param([Parameter(Mandatory)][string]$Envelope)

$in = ConvertFrom-RdsEnvelope $Envelope
$stateDir = [string]$in.args.stateDir
$null = [System.IO.Directory]::CreateDirectory($stateDir)
$null = Set-RdsEmulatorContext -StateDir $stateDir -HostName ([string]$in.host)
Write-RdsResult ([ordered]@{ host = $in.host; stateDir = $stateDir })
