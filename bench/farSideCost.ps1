<#
.SYNOPSIS
    Where a warm far-side pwsh spends its CPU: .NET JIT, counted in one process.

.DESCRIPTION
    pwsh -NoProfile -File bench/farSideCost.ps1 [-Workload licenseServer|sessionHost] [-Reads 20] [-Batches 6] [-Summary]

    Does in one pwsh what a warm session of the ssh fleet benchmark does on one target: loads
    Bootstrap.ps1 and the WMI emulator, then, against a fresh emulated host, either a license server's
    create scripts (install, wait, get, set, activate, get) or a session host's up and refresh (read,
    set, read, read), then batches of that target's read (licenseServer get.ps1 or sessionHostLicensing
    get.ps1).
    After each step it prints the wall time, the process's CPU time (all threads), and .NET's JIT
    counters (System.Runtime.JitInfo: methods compiled, time spent compiling, every thread); after
    each batch it also sleeps 3 s and prints the CPU time spent meanwhile, with no script running
    (background recompilation of hot methods by tiered compilation).

    Real: pwsh, Bootstrap.ps1, the emulator, the operation scripts. Stands in: Windows (the emulator),
    the ssh channel (absent: the scripts run in this process as Invoke-RdsOperationCore runs them on
    the far side). A measurement, not a test: it asserts nothing. The README ("Over ssh") quotes it.

    -Summary prints no steps, only one JSON line at the end (the process's CPU and JIT totals):
    bench/farSideLoad.ps1 runs copies of this script side by side that way.
#>
param(
    [ValidateSet('licenseServer', 'sessionHost')][string]$Workload = 'licenseServer',
    [int]$Reads = 20,
    [int]$Batches = 6,
    [switch]$Summary
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Split-Path -Parent $PSScriptRoot
$process = [System.Diagnostics.Process]::GetCurrentProcess()
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$last = @{ wall = 0.0; cpu = 0.0 }

function Get-CpuMs { $process.Refresh(); $process.TotalProcessorTime.TotalMilliseconds }

function Write-Step([string]$What) {
    if ($Summary) { return }
    $wall = $clock.Elapsed.TotalMilliseconds
    $cpu = Get-CpuMs
    $methods = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
    $jitMs = [System.Runtime.JitInfo]::GetCompilationTime($false).TotalMilliseconds
    '{0,-34} wall +{1,6:n0} ms  cpu +{2,6:n0} ms  | so far: cpu {3,6:n0} ms, jit {4,6:n0} ms, {5,6:n0} methods jitted' -f $What, ($wall - $last.wall), ($cpu - $last.cpu), $cpu, $jitMs, $methods
    $last.wall = $wall
    $last.cpu = $cpu
}

Write-Step 'pwsh started (before this script)'
. (Join-Path $root 'provider/powershell/Bootstrap.ps1')
$ErrorActionPreference = 'Stop'
Write-Step 'Bootstrap.ps1 (RdsCommon)'
Import-Module -Name (Join-Path $root 'provider/emulator/RdsEmulator.psm1') -Global -Force -DisableNameChecking 3>$null 4>$null 5>$null 6>$null
Write-Step 'emulator import'

$state = Join-Path ([System.IO.Path]::GetTempPath()) ('rds-farside-cost-' + [guid]::NewGuid().ToString('N'))
$null = [System.IO.Directory]::CreateDirectory($state)
# The target's emulated host and its read, by workload.
$target = @{
    licenseServer = @{ host = 'ls01'; read = @{ operation = 'licenseServer.get'; arguments = @{} } }
    sessionHost   = @{ host = 'sh01'; read = @{ operation = 'sessionHostLicensing.read'; arguments = @{ scope = 'sessionHost' } } }
}[$Workload]
$hostName = $target.host
$read = $target.read
function Invoke-Step([string]$Operation, [hashtable]$Arguments) {
    # Operation names as the bench reports them; sessionHostLicensing.read is get.ps1.
    $folder, $leaf = $Operation.Split('.')
    if ($leaf -eq 'read') { $leaf = 'get' }
    $json = ConvertTo-Json -Compress -Depth 10 -InputObject ([ordered]@{ operation = $Operation; host = $hostName; args = $Arguments })
    Set-RdsEmulatorContext -StateDir $state -HostName $hostName
    $document = Invoke-RdsOperationCore -ScriptPath (Join-Path $root "provider/resources/$folder/$leaf.ps1") -Envelope ([Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($json)))
    if ($document -notmatch '^\{"ok":true') { throw "$Operation failed: $document" }
}

try {
    if ($Workload -eq 'licenseServer') {
        $contact = @{ firstName = 'Ada'; lastName = 'Lovelace'; company = 'Contoso'; countryRegion = 'United Kingdom'; eMail = $null; orgUnit = $null; address = $null; city = $null; state = $null; postalCode = $null }
        Invoke-Step licenseServer.install @{ installRole = $true; requireDomain = $false }; Write-Step 'licenseServer.install'
        Invoke-Step licenseServer.wait @{ timeoutSeconds = 300; firstPollMs = 200; maxPollMs = 5000 }; Write-Step 'licenseServer.wait'
        Invoke-Step licenseServer.get @{}; Write-Step 'licenseServer.get'
        Invoke-Step licenseServer.set @{ contact = $contact; serverRole = $null }; Write-Step 'licenseServer.set'
        Invoke-Step licenseServer.activate @{ call = 'ActivateServerAutomatic'; licenseServerId = $null }; Write-Step 'licenseServer.activate'
        Invoke-Step licenseServer.get @{}; Write-Step 'licenseServer.get'
    } else {
        # What the fleet benchmark runs on a session host in its up (read, set, read) and refresh (read).
        Invoke-Step $read.operation $read.arguments; Write-Step $read.operation
        Invoke-Step sessionHostLicensing.set @{ scope = 'sessionHost'; mode = 'perUser'; licenseServers = @('ls01.contoso.com') }; Write-Step 'sessionHostLicensing.set'
        foreach ($again in 1, 2) { Invoke-Step $read.operation $read.arguments; Write-Step $read.operation }
    }
    for ($batch = 1; $batch -le $Batches; $batch++) {
        for ($i = 0; $i -lt $Reads; $i++) { Invoke-Step $read.operation $read.arguments }
        Write-Step "batch $batch`: $Reads x $($read.operation)"
        [System.Threading.Thread]::Sleep(3000)
        Write-Step '  3 s later, nothing running'
    }
} finally {
    [System.IO.Directory]::Delete($state, $true)
}
if ($Summary) {
    ConvertTo-Json -Compress -InputObject ([ordered]@{
            workload = $Workload
            cpuMs    = [math]::Round((Get-CpuMs), 1)
            jitMs    = [math]::Round([System.Runtime.JitInfo]::GetCompilationTime($false).TotalMilliseconds, 1)
            methods  = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
        })
}
