#Requires -Version 7.2
<#
.SYNOPSIS
    The pwsh half of `rds-sim run` (cli/commands/run.ts): runs a user's own script on a simulated host.

.DESCRIPTION
    Started as

        pwsh -NoLogo -NoProfile -NonInteractive -File run-host.ps1 -ModulePath <RdsEmulator.psm1>
             -StateDir <dir> -HostName <host> -ScriptPath <script.ps1> [-Fresh] [-ArgsBase64 <base64 JSON string[]>]

    It loads the emulator, selects the host (after resetting it with -Fresh), takes a snapshot of every
    simulated host's licensing state and call-log length, runs the script UNCHANGED with its arguments,
    takes the snapshot again, and prints one marked JSON line:

        @@rds-sim@@{"ok":true,"result":{ exitCode, errors[], output[], before{}, after{}, calls[] }}

    The script runs as it would under `pwsh -File`: in its own scope, `exit N` ends only the script, an
    uncaught terminating error ends it with exit code 1; its output and errors are collected (not
    printed) and come back in the document. Every value reaches PowerShell as a parameter value, never as
    script text. $env:COMPUTERNAME is the selected host's name while the script runs (the script "is on" it).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$StateDir,
    [Parameter(Mandatory)][string]$HostName,
    [Parameter(Mandatory)][string]$ScriptPath,
    [switch]$Fresh,
    [string]$ArgsBase64
)

$ProgressPreference = 'SilentlyContinue'

function Write-RdsSimRunDocument([System.Collections.IDictionary]$Document) {
    $json = ConvertTo-Json -InputObject $Document -Depth 16 -Compress -EscapeHandling EscapeNonAscii -WarningAction SilentlyContinue
    [Console]::Out.Write("`n" + '@@rds-sim@@' + $json + "`n")
    [Console]::Out.Flush()
}

# What `rds-sim run` compares: the licensing state of a host (never the license server ID: it may be secret).
function Get-RdsSimRunHostSummary([string]$Name) {
    $h = Get-RdsSimHost -HostName $Name
    $ls = $h.licenseServer
    [ordered]@{
        roleInstalled          = $h.roleInstalled
        serviceStatus          = $h.serviceStatus
        activated              = $ls.activated
        activationMethod       = $ls.activationMethod
        reactivations          = $ls.reactivations
        contact                = $ls.contact
        packs                  = @($ls.keyPacks | Where-Object { $_.program -ne 'builtIn' } | ForEach-Object {
                [ordered]@{ KeyPackId = $_.KeyPackId; TypeAndModel = $_.TypeAndModel; ProductVersion = $_.ProductVersion; program = $_.program; TotalLicenses = $_.TotalLicenses; IssuedLicenses = $_.IssuedLicenses }
            })
        licensingType          = $h.sessionHost.licensingType
        effectiveLicensingType = $h.sessionHost.effectiveLicensingType
        licenseServers         = @($h.sessionHost.specifiedLicenseServers)
        effectiveLicenseServers = @($h.sessionHost.effectiveLicenseServers)
        isConnectionBroker     = $h.config.isConnectionBroker
        deploymentMode         = $h.deployment.mode
        deploymentLicenseServers = @($h.deployment.licenseServers)
        sessionHostRole        = $h.sessionHostRole
        sessionHostRolePending = $h.sessionHostRolePending
        restarts               = $h.restart.restarts
    }
}

function Get-RdsSimRunSnapshot {
    $hosts = [ordered]@{}
    foreach ($row in @(Get-RdsSimHostList)) {
        if ($null -eq $row.hostName) { continue }
        $hosts[$row.hostName] = @{ state = (Get-RdsSimRunHostSummary $row.hostName); calls = @(Get-RdsSimCallLog -HostName $row.hostName).Count }
    }
    $hosts
}

# `pwsh -File script.ps1 -Name v -Switch pos` binding: "-Name" tokens are parameter names (a switch of
# the script takes no value), "-Name:v" carries its value, everything else is positional.
function ConvertTo-RdsSimRunArguments([string[]]$Tokens, [string]$Path) {
    $named = @{}
    $positional = [System.Collections.Generic.List[object]]::new()
    $parameters = @{}
    try { $parameters = (Get-Command -Name $Path -ErrorAction Stop).Parameters } catch { $parameters = @{} }
    for ($i = 0; $i -lt $Tokens.Count; $i++) {
        $t = $Tokens[$i]
        if ($t -match '^-([A-Za-z_][\w-]*)(:(.*))?$') {
            $name = $Matches[1]
            if ($null -ne $Matches[2]) { $named[$name] = $Matches[3]; continue }
            $isSwitch = $parameters.ContainsKey($name) -and $parameters[$name].SwitchParameter
            if ($isSwitch -or $i + 1 -ge $Tokens.Count -or $Tokens[$i + 1] -match '^-[A-Za-z_]') { $named[$name] = $true; continue }
            $named[$name] = $Tokens[++$i]
            continue
        }
        $positional.Add($t)
    }
    @{ Named = $named; Positional = $positional.ToArray() }
}

function ConvertTo-RdsSimRunText($Record) {
    switch ($Record) {
        { $_ -is [System.Management.Automation.ErrorRecord] } { return @{ stream = 'error'; text = [string]$_.Exception.Message } }
        { $_ -is [System.Management.Automation.WarningRecord] } { return @{ stream = 'warning'; text = [string]$_.Message } }
        { $_ -is [System.Management.Automation.VerboseRecord] } { return @{ stream = 'verbose'; text = [string]$_.Message } }
        { $_ -is [System.Management.Automation.DebugRecord] } { return @{ stream = 'debug'; text = [string]$_.Message } }
        { $_ -is [System.Management.Automation.InformationRecord] } { return @{ stream = 'information'; text = [string]$_.MessageData } }
    }
    @{ stream = 'output'; text = (($Record | Out-String -Width 160).TrimEnd()) }
}

# Everything this script keeps while the user's script runs is in $__rdsSimRun (and the two splats): the
# user's script runs in a child scope of this one and would see any other variable of ours.
$__rdsSimRun = @{ ModulePath = $ModulePath; StateDir = $StateDir; HostName = $HostName; ScriptPath = $ScriptPath; Fresh = [bool]$Fresh; ArgsBase64 = $ArgsBase64 }
Remove-Variable -Name ModulePath, StateDir, HostName, ScriptPath, Fresh, ArgsBase64 -Scope Script
try {
    Import-Module -Name $__rdsSimRun.ModulePath -Global -Force -DisableNameChecking
    Set-RdsEmulatorContext -StateDir $__rdsSimRun.StateDir -HostName $__rdsSimRun.HostName
    if ($__rdsSimRun.Fresh) { Reset-RdsSim -HostName $__rdsSimRun.HostName }
    $__rdsSimRun.Before = Get-RdsSimRunSnapshot
    # The selected host exists from here on (created with defaults if it had no state).
    if (-not $__rdsSimRun.Before.Contains($__rdsSimRun.HostName)) {
        $__rdsSimRun.Before[$__rdsSimRun.HostName] = @{ state = (Get-RdsSimRunHostSummary $__rdsSimRun.HostName); calls = 0 }
    }
    $__rdsSimRun.Tokens = @()
    if ($__rdsSimRun.ArgsBase64) { $__rdsSimRun.Tokens = @(ConvertFrom-Json -InputObject ([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($__rdsSimRun.ArgsBase64)))) }
    $__rdsSimArguments = ConvertTo-RdsSimRunArguments ([string[]]$__rdsSimRun.Tokens) $__rdsSimRun.ScriptPath
    $__rdsSimNamed = $__rdsSimArguments.Named
    $__rdsSimPositional = $__rdsSimArguments.Positional
    Remove-Variable -Name __rdsSimArguments
} catch {
    Write-RdsSimRunDocument ([ordered]@{ ok = $false; error = @{ message = [string]$_.Exception.Message; type = $_.Exception.GetType().FullName } })
    exit 0
}

$env:COMPUTERNAME = $__rdsSimRun.HostName
$__rdsSimRun.Records = [System.Collections.Generic.List[object]]::new()
$__rdsSimRun.ExitCode = 0
$__rdsSimRun.Terminated = $false
$global:LASTEXITCODE = 0
try {
    & $__rdsSimRun.ScriptPath @__rdsSimNamed @__rdsSimPositional *>&1 | ForEach-Object { $__rdsSimRun.Records.Add((ConvertTo-RdsSimRunText $_)) }
    $__rdsSimRun.ExitCode = [int]$global:LASTEXITCODE
} catch {
    $__rdsSimRun.Terminated = $true
    $__rdsSimRun.Records.Add(@{ stream = 'error'; text = [string]$_.Exception.Message })
    $__rdsSimRun.ExitCode = 1
}

try {
    $before = $__rdsSimRun.Before
    $after = Get-RdsSimRunSnapshot
    $calls = [System.Collections.Generic.List[object]]::new()
    foreach ($name in $after.Keys) {
        $skip = if ($before.Contains($name)) { [int]$before[$name].calls } else { 0 }
        foreach ($row in @(Get-RdsSimCallLog -HostName $name | Select-Object -Skip $skip)) {
            $row | Add-Member -NotePropertyName host -NotePropertyValue $name -Force
            $calls.Add($row)
        }
    }
    $sorted = @($calls | Sort-Object -Property at, seq)
    $hostsDoc = [ordered]@{}
    foreach ($name in $after.Keys) {
        $was = if ($before.Contains($name)) { $before[$name].state } else { $null }
        $hostsDoc[$name] = [ordered]@{ before = $was; after = $after[$name].state }
    }
    $records = $__rdsSimRun.Records
    Write-RdsSimRunDocument ([ordered]@{ ok = $true; result = [ordered]@{
                host       = $__rdsSimRun.HostName
                fresh      = $__rdsSimRun.Fresh
                exitCode   = $__rdsSimRun.ExitCode
                terminated = $__rdsSimRun.Terminated
                errors     = @($records | Where-Object { $_.stream -eq 'error' } | ForEach-Object { $_.text })
                output     = @($records)
                hosts      = $hostsDoc
                calls      = $sorted
            }
        })
} catch {
    Write-RdsSimRunDocument ([ordered]@{ ok = $false; error = @{ message = [string]$_.Exception.Message; type = $_.Exception.GetType().FullName } })
}
exit 0
