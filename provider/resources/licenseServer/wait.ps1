<#
.SYNOPSIS
    RdsLicenseServer: wait, bounded, until the licensing service runs and Win32_TSLicenseServer answers.

.DESCRIPTION
    Args: timeoutSeconds, firstPollMs, maxPollMs. Polls (interval doubling from firstPollMs up to
    maxPollMs): starts TermServLicensing when it is stopped, then queries the class. A class that
    is not there yet (WBEM_E_INVALID_CLASS and kin) is retried; any other error (access denied,
    provider failure) fails at once. After timeoutSeconds: CLASS_NOT_READY.
    Needs the role installed (install.ps1 first). Result: { attempts, waitedMs, serviceStarted }.
    Progress: a line for each attempt that finds the service or the class not ready, with its number
    (the first five, then when the service status changes or 30 s after the last line); none when
    the first attempt finds everything ready.
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'LicenseServer.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$timeoutSeconds = [double]$in.args.timeoutSeconds
$poll = [int]$in.args.firstPollMs
$maxPoll = [int]$in.args.maxPollMs
if ($poll -lt 1) { $poll = 1 }
if ($maxPoll -lt $poll) { $maxPoll = $poll }

if (-not (Test-LsRoleInstalled)) {
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message 'the RDS-Licensing role is not installed: Win32_TSLicenseServer cannot answer')
}

$clock = [System.Diagnostics.Stopwatch]::StartNew()
$attempts = 0
$serviceStarted = $false
$serviceStatus = ''
# Progress: the first attempts, a change of the service status, and otherwise one line per 30 s.
$toldStatus = $null
$toldAtMs = 0
while ($true) {
    $attempts++
    $serviceStatus = Get-RdsLicensingServiceStatus
    if ($serviceStatus -eq 'Stopped') {
        Write-RdsProgress "waiting for the licensing service: attempt ${attempts}: TermServLicensing is stopped, starting it"
        $toldStatus = 'Stopped'
        $toldAtMs = $clock.Elapsed.TotalMilliseconds
        Start-Service -Name $script:LsServiceName
        $serviceStarted = $true
        $serviceStatus = Get-RdsLicensingServiceStatus
    }
    if ($serviceStatus -eq 'Running' -and $null -ne (Get-LsInstance)) { break }

    $shownStatus = if ($serviceStatus) { $serviceStatus } else { 'not found' }
    $sinceToldMs = $clock.Elapsed.TotalMilliseconds - $toldAtMs
    if ($attempts -le 5 -or $shownStatus -ne $toldStatus -or $sinceToldMs -ge 30000) {
        $what = if ($serviceStatus -eq 'Running') { 'running, Win32_TSLicenseServer not answering yet' } else { $shownStatus }
        Write-RdsProgress "waiting for the licensing service: attempt $attempts (TermServLicensing: $what)"
        $toldStatus = $shownStatus
        $toldAtMs = $clock.Elapsed.TotalMilliseconds
    }

    $remainingMs = ($timeoutSeconds * 1000) - $clock.Elapsed.TotalMilliseconds
    if ($remainingMs -le 0) {
        $shown = if ($serviceStatus) { $serviceStatus } else { 'not found' }
        throw (New-RdsScriptError -Code CLASS_NOT_READY -Message (
                "Win32_TSLicenseServer did not answer within $timeoutSeconds s ($attempts attempts; TermServLicensing service: $shown): " +
                'check the Remote Desktop Licensing service and the event log, then run again'))
    }
    Start-Sleep -Milliseconds ([int][Math]::Max(1, [Math]::Min($poll, $remainingMs)))
    $poll = [Math]::Min($poll * 2, $maxPoll)
}
Write-RdsResult ([ordered]@{ attempts = $attempts; waitedMs = [Math]::Round($clock.Elapsed.TotalMilliseconds); serviceStarted = $serviceStarted })
