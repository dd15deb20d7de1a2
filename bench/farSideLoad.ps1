<#
.SYNOPSIS
    What a far-side pwsh's CPU time becomes when several run at once on these cores: copies of
    farSideCost.ps1 side by side.

.DESCRIPTION
    pwsh -NoProfile -File bench/farSideLoad.ps1 [-Copies 1,2,4,8] [-Workload sessionHost]

    For each count in -Copies (comma-separated), starts that many pwsh at once, each running
    farSideCost.ps1 -Batches 0 -Summary (a session host's up and refresh by default: Bootstrap.ps1, the
    emulator, read, set, read, read), waits for all of them, and prints the CPU time each used (its own count, every thread) and
    JIT time (System.Runtime.JitInfo) against the CPU time of one copy running alone. Each copy has its
    own emulator state, as each target of the fleet benchmark has. The fleet benchmark over ssh starts
    its 8 session hosts' warm sessions within seconds of each other on 2 cores: this separates what
    sharing the cores costs by itself from what the sessions' own work and idle spells cost.

    JitInfo's compilation time adds up the wall-clock time of each compilation, on every thread: it
    exceeds the CPU time when compiling threads wait for a core, so only the CPU time is compared.

    Real: pwsh, Bootstrap.ps1, the emulator, the operation scripts, the machine's scheduler. Stands in:
    Windows (the emulator), the ssh channel (absent). A measurement, not a test: it asserts nothing. The
    README ("Over ssh") quotes it.
#>
param(
    # A string: through -File, "1,8" would reach an [int[]] as the number 18.
    [string]$Copies = '1,2,4,8',
    [ValidateSet('licenseServer', 'sessionHost')][string]$Workload = 'sessionHost'
)
$ErrorActionPreference = 'Stop'
$costScript = Join-Path $PSScriptRoot 'farSideCost.ps1'

# This pwsh, started again: the .NET tool package runs as `dotnet pwsh.dll`, an installed pwsh as itself.
$executable = [Environment]::ProcessPath
$prefix = @()
if ([System.IO.Path]::GetFileNameWithoutExtension($executable) -eq 'dotnet') { $prefix = @([Environment]::GetCommandLineArgs()[0]) }

function Start-Copy {
    $info = [System.Diagnostics.ProcessStartInfo]::new($executable)
    foreach ($argument in @($prefix) + @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $costScript, '-Workload', $Workload, '-Batches', '0', '-Summary')) {
        $info.ArgumentList.Add([string]$argument)
    }
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($info)
}

$alone = $null
foreach ($count in @($Copies.Split(',') | ForEach-Object { [int]$_.Trim() })) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $processes = @(for ($i = 0; $i -lt $count; $i++) { Start-Copy })
    # Read each copy's output to its end (one JSON line), which also waits for it to exit.
    $summaries = @(foreach ($process in $processes) {
            $text = $process.StandardOutput.ReadToEnd()
            $process.WaitForExit()
            if ($process.ExitCode -ne 0) { throw "a copy of farSideCost.ps1 exited with $($process.ExitCode)" }
            $text.Trim().Split("`n")[-1] | ConvertFrom-Json
        })
    $wall = $clock.Elapsed.TotalSeconds
    $cpu = ($summaries | Measure-Object -Property cpuMs -Average).Average / 1000
    $jit = ($summaries | Measure-Object -Property jitMs -Average).Average / 1000
    if ($null -eq $alone) { $alone = $cpu }
    '{0,2} at once: {1,5:n2} s CPU per copy, {2:n2}x the first count''s; JIT time {3,5:n2} s per copy; {4,5:n1} s wall for all' -f $count, $cpu, ($cpu / $alone), $jit, $wall
}
