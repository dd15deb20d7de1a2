<#
.SYNOPSIS
    The connect operation of the remote transports (ssh, winrm): opens (or reopens) the warm pwsh's one
    persistent PSSession and installs the operation invoker (transports/RdsRemoting.psm1).
.DESCRIPTION
    Run by the pool through Invoke-RdsOperation like any operation: the settings, secrets included,
    arrive in the envelope (`args.settings`, with every default resolved by the TypeScript transport),
    never as source text. Retries and their log lines are the pool's (transient failures only).
    Result: what Connect-RdsRemoteSession reports (sessions opened by this pwsh, the remote process id
    and PowerShell version, whether a run that was in flight when the connection dropped had started,
    and the New-PSSession call as text without secrets).
#>
param([Parameter(Mandatory)][string]$Envelope)

$in = ConvertFrom-RdsEnvelope $Envelope
$info = Connect-RdsRemoteSession -Settings $in.args.settings -ProviderDir ([string]$in.args.providerDir) -WorkRoot ([string]$in.args.workDir)
Write-RdsResult $info
