# Part of RdsRemoting.psm1 (dot-sourced by it, in the module's scope: $script: is the module's).
# Far-side script blocks: constant text sent with Invoke-Command (the subsystem channel) or run by
# ExecSide.ps1's functions (the exec channel, which sends this file's text too); every value is an argument.

# Creates the per-user folders, checks that run markers can be written, removes day-old markers.
# Runs on Windows PowerShell 5.1 (the default WinRM endpoint) and pwsh 7.2+. An older PowerShell
# only reports its version: the local side refuses it (Assert-RdsRemoteVersion) before anything changes.
$script:PrepareBlock = {
    $ErrorActionPreference = 'Stop'
    if ($PSVersionTable.PSVersion -lt [version]'5.1') {
        return @{ psVersion = $PSVersionTable.PSVersion.ToString(); edition = 'Desktop' }
    }
    if ($PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows) {
        # Scripts shipped here carry no mark of the web; Bypass for this process only covers a
        # Restricted default (a Group Policy that enforces a policy still wins, with its own error).
        try { Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force } catch { $null = $_ }
    }
    $root = [Environment]::GetFolderPath([Environment+SpecialFolder]::LocalApplicationData)
    if ([string]::IsNullOrEmpty($root)) { $root = [System.IO.Path]::GetTempPath() }
    $base = [System.IO.Path]::Combine($root, 'pulumi-rds-licensing')
    $scripts = [System.IO.Path]::Combine($base, 'scripts')
    $runs = [System.IO.Path]::Combine($base, 'runs')
    foreach ($dir in @($base, $scripts, $runs)) {
        if (-not [System.IO.Directory]::Exists($dir)) {
            if ($IsLinux -or $IsMacOS) {
                $null = [System.IO.Directory]::CreateDirectory($dir, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
            } else {
                $null = [System.IO.Directory]::CreateDirectory($dir)
            }
        }
    }
    $probe = [System.IO.Path]::Combine($runs, 'probe-' + [guid]::NewGuid().ToString('N'))
    [System.IO.File]::WriteAllText($probe, '')
    [System.IO.File]::Delete($probe)
    $cutoff = [DateTime]::UtcNow.AddDays(-1)
    foreach ($old in [System.IO.Directory]::GetFiles($runs)) {
        try { if ([System.IO.File]::GetLastWriteTimeUtc($old) -lt $cutoff) { [System.IO.File]::Delete($old) } } catch { $null = $_ }
    }
    $global:RdsRemoteScriptsDir = $scripts
    # RuntimeInformation is .NET Framework 4.7.1+; a stock Server 2016 has 4.6.2.
    $runtimeInformation = 'System.Runtime.InteropServices.RuntimeInformation' -as [type]
    $osDescription = if ($null -ne $runtimeInformation) { $runtimeInformation::OSDescription } else { [Environment]::OSVersion.VersionString }
    $global:RdsRemoteRunsDir = $runs
    [ordered]@{
        pid       = $PID
        psVersion = $PSVersionTable.PSVersion.ToString()
        edition   = [string]$PSVersionTable.PSEdition
        os        = $osDescription
        user      = [Environment]::UserName
        computer  = [Environment]::MachineName
        scripts   = $scripts
    }
}

# Writes one script folder (files as base64, keyed by their path relative to the folder, `/`
# between subfolders) to scripts/<hash> atomically; returns its path.
$script:InstallBlock = {
    param([string]$Hash, [hashtable]$Files)
    $ErrorActionPreference = 'Stop'
    if ($Hash -notmatch '^[0-9a-f]{16,64}$') { throw [System.ArgumentException]::new('bad bundle hash') }
    $dir = [System.IO.Path]::Combine($global:RdsRemoteScriptsDir, $Hash)
    if ([System.IO.File]::Exists([System.IO.Path]::Combine($dir, '.complete'))) { return $dir }
    $tmp = $dir + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    $null = [System.IO.Directory]::CreateDirectory($tmp)
    try {
        $sha = [System.Security.Cryptography.SHA256]::Create()
        # Ordinal order, as both senders hash (Shipping.ps1 Get-RdsScriptBundle, pool/scriptBundle.ts).
        [string[]]$names = @($Files.Keys)
        [Array]::Sort($names, [StringComparer]::Ordinal)
        foreach ($name in $names) {
            $segments = ([string]$name).Split('/')
            foreach ($segment in $segments) {
                if ($segment -match '[\\:\x00-\x1f]' -or $segment -eq '' -or $segment -eq '.' -or $segment -eq '..') { throw [System.ArgumentException]::new('bad script file name') }
            }
            $bytes = [Convert]::FromBase64String([string]$Files[$name])
            $target = [System.IO.Path]::Combine([string[]](@($tmp) + $segments))
            $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($target))
            [System.IO.File]::WriteAllBytes($target, $bytes)
            $nameBytes = [System.Text.Encoding]::UTF8.GetBytes([string]$name + [char]0)
            $null = $sha.TransformBlock($nameBytes, 0, $nameBytes.Length, $null, 0)
            $length = [BitConverter]::GetBytes([uint64]$bytes.Length)
            $null = $sha.TransformBlock($length, 0, 8, $null, 0)
            $null = $sha.TransformBlock($bytes, 0, $bytes.Length, $null, 0)
        }
        $null = $sha.TransformFinalBlock([byte[]]::new(0), 0, 0)
        $got = ([BitConverter]::ToString($sha.Hash) -replace '-', '').ToLowerInvariant()
        if (-not $got.StartsWith($Hash)) { throw [System.IO.InvalidDataException]::new('the shipped scripts do not match their hash') }
        [System.IO.File]::WriteAllText([System.IO.Path]::Combine($tmp, '.complete'), $Hash)
        try {
            [System.IO.Directory]::Move($tmp, $dir)
        } catch {
            # Another session shipped the same version meanwhile.
            if (-not [System.IO.File]::Exists([System.IO.Path]::Combine($dir, '.complete'))) { throw }
        }
    } finally {
        if ([System.IO.Directory]::Exists($tmp)) { [System.IO.Directory]::Delete($tmp, $true) }
    }
    return $dir
}

# Loads Bootstrap.ps1 (which imports RdsCommon.psm1) and, in a lab, the emulator.
$script:LoadBlock = {
    param([string]$BootstrapPath, [string]$EmulatorPath, [string]$LabStateDir)
    $global:ErrorActionPreference = 'Stop'
    $global:ProgressPreference = 'SilentlyContinue'
    . $BootstrapPath
    $global:ErrorActionPreference = 'Stop'
    $global:RdsLabStateDir = $null
    if (-not [string]::IsNullOrEmpty($EmulatorPath)) {
        Import-Module -Name $EmulatorPath -Global -Force -DisableNameChecking 3>$null 4>$null 5>$null 6>$null
        $null = [System.IO.Directory]::CreateDirectory($LabStateDir)
        $global:RdsLabStateDir = $LabStateDir
    }
    $true
}

# Runs one operation: run marker, (lab: select the emulated host), Invoke-RdsOperationCore. The marker
# says "this run started" and stays after the run ends (a run cut off from us may still finish on its
# own); the local side names the previous run, whose answer it received, for removal here.
$script:RunBlock = {
    # ProgressToStderr: the exec channel, whose far side is the warm session (progress lines on stderr,
    # as Invoke-RdsOperation writes them); the subsystem channel carries information records instead.
    param([string]$Dir, [string]$Leaf, [string]$Envelope, [string]$RunId, [string]$AnsweredRunId, [bool]$ProgressToStderr = $false)
    if ($AnsweredRunId) { try { [System.IO.File]::Delete([System.IO.Path]::Combine($global:RdsRemoteRunsDir, $AnsweredRunId)) } catch { $null = $_ } }
    try {
        [System.IO.File]::WriteAllText([System.IO.Path]::Combine($global:RdsRemoteRunsDir, $RunId), '')
    } catch {
        return (ConvertTo-RdsDocumentJson ([ordered]@{ ok = $false; error = [ordered]@{ code = 'REMOTE_SETUP_FAILED'; message = "the run marker could not be written on the target: $($_.Exception.Message)" } }))
    }
    if ($null -ne $global:RdsLabStateDir) {
        try {
            $labHost = [string](ConvertFrom-RdsEnvelope $Envelope).host
            Set-RdsEmulatorContext -StateDir $global:RdsLabStateDir -HostName $labHost
        } catch {
            return (ConvertTo-RdsDocumentJson (ConvertTo-RdsErrorDocument $_))
        }
    }
    Invoke-RdsOperationCore -ScriptPath ([System.IO.Path]::Combine($Dir, $Leaf)) -Envelope $Envelope -ProgressToStderr:$ProgressToStderr
}

# After a reconnect: did the run that was in flight when the connection dropped ever start? (Its
# marker is removed once read: the question is answered.)
$script:PendingBlock = {
    param([string]$RunId)
    $marker = [System.IO.Path]::Combine($global:RdsRemoteRunsDir, $RunId)
    $started = [System.IO.File]::Exists($marker)
    if ($started) { try { [System.IO.File]::Delete($marker) } catch { $null = $_ } }
    $started
}
