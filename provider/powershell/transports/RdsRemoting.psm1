#Requires -Version 7.2
<#
.SYNOPSIS
    The local side of the remote transports (ssh, winrm): one persistent PSSession per warm pwsh, the
    operation scripts shipped to the target, and the invoker that runs each operation there.

.DESCRIPTION
    Imported into the warm pwsh by the transport's preamble. The connect operation
    (RemoteConnect.ps1, run by the pool with retries) calls Connect-RdsRemoteSession with the
    connection's settings from its envelope; nothing here ever builds PowerShell source from a value:
    values reach New-PSSession by splatting and the far side through -ArgumentList.

    Connect (Connect-RdsRemoteSession):
      1. ssh: Get-RdsSshSessionParameters writes what ssh needs into a private 0700 directory (a
         pinned known_hosts file, a copy of an inline private key, the askpass helper) and sets the
         askpass variables in this process's environment (the password or passphrase only there, only
         while New-PSSession starts ssh); winrm: Get-RdsWinRmSessionParameters builds the
         PSCredential and the session options. Then New-PSSession. The directory is removed and the
         environment restored right after, whatever happened. Failures are CONNECT_FAILED script
         errors whose message is the exception's; ssh's own reason is on stderr, which the TypeScript
         side reads to classify the failure (transports/remote.ts).
      2. The far side is prepared (Initialize-RdsRemoteSide): a per-user folder for scripts
         (LocalApplicationData/pulumi-rds-licensing/scripts, one folder per content hash) and one for
         run markers; Bootstrap.ps1 and RdsCommon.psm1 are shipped there and Bootstrap.ps1 is
         dot-sourced (it imports RdsCommon.psm1); in a lab (settings.lab) the emulator module is shipped
         and imported too.
      3. Set-RdsOperationInvoker installs Invoke-RdsRemoteOperation.

    Each operation (Invoke-RdsRemoteOperation):
      - the script's folder (its .ps1/.psm1 files: operation scripts dot-source companions from
        $PSScriptRoot) is shipped once per content hash and cached per session;
      - Invoke-Command -Session runs the far side's Invoke-RdsOperationCore with the shipped script's
        path and the base64 envelope as arguments, after writing a run marker; the document comes back
        as a string (New-RdsScriptError codes intact) and is handed to Bootstrap.ps1 as one Rds.Document;
      - a session found closed or broken before anything was sent gives SESSION_LOST; a transport
        failure while the operation was in flight gives CONNECTION_LOST_PENDING and remembers the
        run id. The pool then reconnects (the connect operation again) and re-runs the operation only
        if the reconnect finds no marker for that run id on the target (the script never started).
#>

Set-StrictMode -Version 3.0

$script:Session = $null
$script:Opens = 0
$script:RemoteInfo = $null
# Local folder -> @{ Hash; RemoteDir } of what this session already shipped.
$script:Published = @{}
# Local folder -> @{ Signature; Hash; Files } (file contents as base64), recomputed when a file changes.
$script:Bundles = @{}
$script:PendingRunId = $null
# The last run whose answer came back: its marker is removed by the next run.
$script:AnsweredRunId = ''
$script:PinnedHostAlias = 'rds-pinned-host'

# ---------------------------------------------------------------------------------------------
# Far-side script blocks: constant text sent with Invoke-Command; every value is an argument.

# Creates the per-user folders, checks that run markers can be written, removes day-old markers.
$script:PrepareBlock = {
    $ErrorActionPreference = 'Stop'
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
    $global:RdsRemoteRunsDir = $runs
    [ordered]@{
        pid       = $PID
        psVersion = $PSVersionTable.PSVersion.ToString()
        edition   = [string]$PSVersionTable.PSEdition
        os        = [System.Runtime.InteropServices.RuntimeInformation]::OSDescription
        user      = [Environment]::UserName
        computer  = [Environment]::MachineName
        scripts   = $scripts
    }
}

# Writes one script folder (files as base64) to scripts/<hash> atomically; returns its path.
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
        foreach ($name in @($Files.Keys | Sort-Object -Culture ([cultureinfo]::InvariantCulture) -CaseSensitive)) {
            if ($name -match '[\\/:\x00-\x1f]' -or $name -eq '.' -or $name -eq '..') { throw [System.ArgumentException]::new('bad script file name') }
            $bytes = [Convert]::FromBase64String([string]$Files[$name])
            [System.IO.File]::WriteAllBytes([System.IO.Path]::Combine($tmp, $name), $bytes)
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
    param([string]$Dir, [string]$Leaf, [string]$Envelope, [string]$RunId, [string]$AnsweredRunId)
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
    Invoke-RdsOperationCore -ScriptPath ([System.IO.Path]::Combine($Dir, $Leaf)) -Envelope $Envelope
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

# ---------------------------------------------------------------------------------------------
# Helpers

function Get-RdsExceptionText {
    <# The messages of an exception and the ones it wraps, distinct, on one line. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory, Position = 0)] $Exception)
    $parts = [System.Collections.Generic.List[string]]::new()
    $current = $Exception
    $depth = 0
    while ($null -ne $current -and $depth -lt 10) {
        $depth++
        $text = ([string]$current.Message -replace '\s+', ' ').Trim()
        if ($text -and -not $parts.Contains($text)) { $parts.Add($text) }
        $current = $current.InnerException
    }
    return ($parts -join ' / ')
}

function New-RdsPrivateDirectory {
    <# A new temp directory only this user can read (0700 on Unix; the user's own temp on Windows). #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    return [System.IO.Directory]::CreateTempSubdirectory('rds-remote-').FullName
}

function Write-RdsPrivateFile {
    <# Writes text to a new file readable by this user only (0600 on Unix). #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Path, [Parameter(Mandatory)][AllowEmptyString()][string]$Text, [switch]$Executable)
    $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
    try {
        if ($IsLinux -or $IsMacOS) {
            $mode = if ($Executable) { [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute' } else { [System.IO.UnixFileMode]'UserRead, UserWrite' }
            [System.IO.File]::SetUnixFileMode($stream.SafeFileHandle, $mode)
        }
        $bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($Text)
        $stream.Write($bytes, 0, $bytes.Length)
    } finally {
        $stream.Dispose()
    }
}

function ConvertTo-RdsSshOptionValue {
    <# An ssh_config value: double-quoted when it holds spaces (paths), refused when it holds quotes or control characters. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory, Position = 0)][string]$Value)
    if ($Value -match '["\x00-\x1f]') { throw [System.ArgumentException]::new('an ssh option value must not contain double quotes or control characters') }
    if ($Value -match '\s') { return '"' + $Value + '"' }
    return $Value
}

function Get-RdsSshSessionParameters {
    <#
    .SYNOPSIS
        New-PSSession parameters (SSH) for the connect settings, plus the environment variables to set
        while it runs. Writes the pinned known_hosts file, an inline private key and the askpass helper
        into WorkDir (a private directory the caller removes).
    .OUTPUTS
        @{ Parameters = <splat for New-PSSession>; Environment = @{ name = value }; Secret = <name of
        the variable that holds a secret, or $null> }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][System.Collections.IDictionary]$Settings,
        [Parameter(Mandatory)][string]$WorkDir
    )
    $timeoutSeconds = [int]$Settings.connectTimeoutSeconds
    $options = @{
        StrictHostKeyChecking = 'yes'
        UpdateHostKeys        = 'no'
        CheckHostIP           = 'no'
        ConnectTimeout        = [string]$timeoutSeconds
        ServerAliveInterval   = '15'
        ServerAliveCountMax   = '4'
    }
    $parameters = @{
        HostName          = [string]$Settings.address
        UserName          = [string]$Settings.user
        Port              = [int]$Settings.port
        Subsystem         = [string]$Settings.subsystem
        ConnectingTimeout = ($timeoutSeconds + 5) * 1000
        ErrorAction       = 'Stop'
    }
    $environment = [ordered]@{}
    $secret = $null

    $hostKeys = @($Settings.hostKeys | Where-Object { $null -ne $_ })
    if ($hostKeys.Count -gt 0) {
        # Pinned keys: a private known_hosts file that lists only them, under a fixed alias (so the
        # line does not depend on the address or port), used as both user and global file.
        $knownHosts = [System.IO.Path]::Combine($WorkDir, 'known_hosts')
        $lines = foreach ($key in $hostKeys) {
            $text = ([string]$key).Trim()
            if ($text -match '[\r\n]') { throw [System.ArgumentException]::new('a host key must be one line') }
            $script:PinnedHostAlias + ' ' + $text
        }
        Write-RdsPrivateFile -Path $knownHosts -Text (($lines -join "`n") + "`n")
        $options.UserKnownHostsFile = ConvertTo-RdsSshOptionValue $knownHosts
        $options.GlobalKnownHostsFile = ConvertTo-RdsSshOptionValue $knownHosts
        $options.HostKeyAlias = $script:PinnedHostAlias
    } elseif ($null -ne $Settings.knownHostsFile) {
        $options.UserKnownHostsFile = ConvertTo-RdsSshOptionValue ([string]$Settings.knownHostsFile)
    }

    $keyFile = $null
    if ($null -ne $Settings.privateKey) {
        $keyFile = [System.IO.Path]::Combine($WorkDir, 'identity')
        $keyText = ([string]$Settings.privateKey) -replace "`r`n", "`n"
        if (-not $keyText.EndsWith("`n")) { $keyText += "`n" }
        Write-RdsPrivateFile -Path $keyFile -Text $keyText
    } elseif ($null -ne $Settings.privateKeyFile) {
        $keyFile = [string]$Settings.privateKeyFile
    }

    if ($null -ne $keyFile) {
        $parameters.KeyFilePath = $keyFile
        $options.IdentitiesOnly = 'yes'
        $options.PreferredAuthentications = 'publickey'
        $options.PasswordAuthentication = 'no'
        $options.KbdInteractiveAuthentication = 'no'
        if ($null -ne $Settings.privateKeyPassphrase) {
            $secret = [string]$Settings.privateKeyPassphrase
            $options.NumberOfPasswordPrompts = '1'
        } else {
            $options.BatchMode = 'yes'
        }
    } elseif ($null -ne $Settings.password) {
        $secret = [string]$Settings.password
        $options.PreferredAuthentications = 'password,keyboard-interactive'
        $options.PubkeyAuthentication = 'no'
        $options.PasswordAuthentication = 'yes'
        $options.KbdInteractiveAuthentication = 'yes'
        $options.NumberOfPasswordPrompts = '1'
    } else {
        # The ssh agent and ~/.ssh/id_* of the user running Pulumi; never a prompt.
        $options.BatchMode = 'yes'
    }

    if ($null -ne $secret) {
        # ssh asks SSH_ASKPASS for the password / passphrase; the helper prints the variable, which
        # exists only in this process's environment (and so in ssh's) while New-PSSession runs.
        if ($IsWindows) {
            $helper = [System.IO.Path]::Combine($WorkDir, 'askpass.cmd')
            $text = "@`"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe`" -NoLogo -NoProfile -NonInteractive -Command `"[Console]::Out.WriteLine(`$env:RDS_SSH_ASKPASS_SECRET)`"`r`n"
            Write-RdsPrivateFile -Path $helper -Text $text
        } else {
            $helper = [System.IO.Path]::Combine($WorkDir, 'askpass')
            Write-RdsPrivateFile -Path $helper -Text "#!/bin/sh`nprintf '%s\n' `"`$RDS_SSH_ASKPASS_SECRET`"`n" -Executable
        }
        $environment.SSH_ASKPASS = $helper
        $environment.SSH_ASKPASS_REQUIRE = 'force'
        if ([string]::IsNullOrEmpty($env:DISPLAY)) { $environment.DISPLAY = 'rds-askpass:0' }
        $environment.RDS_SSH_ASKPASS_SECRET = $secret
    }

    $parameters.Options = $options
    return @{ Parameters = $parameters; Environment = $environment; Secret = $(if ($null -ne $secret) { 'RDS_SSH_ASKPASS_SECRET' } else { $null }) }
}

$script:WinRmAuthentication = @{ negotiate = 'Negotiate'; kerberos = 'Kerberos'; credssp = 'Credssp'; basic = 'Basic' }

function Get-RdsWinRmSessionParameters {
    <#
    .SYNOPSIS
        New-PSSession parameters (WinRM) for the connect settings: -UseSSL unless scheme http, port,
        authentication, endpoint, session options, and a PSCredential built here from user and password.
    .OUTPUTS
        @{ Parameters = <splat for New-PSSession>; SessionOption = <the New-PSSessionOption arguments>; Environment = @{} }
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][System.Collections.IDictionary]$Settings)
    $authentication = $script:WinRmAuthentication[[string]$Settings.authentication]
    if ($null -eq $authentication) { throw [System.ArgumentException]::new('unknown WinRM authentication') }
    $https = [string]$Settings.scheme -eq 'https'
    if ($authentication -eq 'Basic' -and -not $https) {
        throw (New-RdsScriptError -Code VALIDATION -Message 'authentication "basic" is allowed only with scheme "https"')
    }
    $optionArguments = [ordered]@{ OpenTimeout = [int]$Settings.connectTimeoutSeconds * 1000 }
    if ($Settings.skipCertificateChecks -eq $true) {
        if (-not $https) { throw (New-RdsScriptError -Code VALIDATION -Message 'skipCertificateChecks applies to scheme "https" only') }
        $optionArguments.SkipCACheck = $true
        $optionArguments.SkipCNCheck = $true
        $optionArguments.SkipRevocationCheck = $true
    }
    $parameters = [ordered]@{
        ComputerName      = [string]$Settings.address
        Port              = [int]$Settings.port
        Authentication    = $authentication
        ConfigurationName = [string]$Settings.configurationName
        SessionOption     = New-RdsSessionOption -Arguments $optionArguments
        ErrorAction       = 'Stop'
    }
    if ($https) { $parameters.UseSSL = $true }
    if ($null -ne $Settings.user) {
        if ($null -eq $Settings.password) { throw (New-RdsScriptError -Code VALIDATION -Message 'password is required with user') }
        $secure = ConvertTo-SecureString -String ([string]$Settings.password) -AsPlainText -Force
        $parameters.Credential = [pscredential]::new([string]$Settings.user, $secure)
    } elseif ($authentication -eq 'Basic' -or $authentication -eq 'Credssp') {
        throw (New-RdsScriptError -Code VALIDATION -Message "authentication `"$($Settings.authentication)`" needs user and password")
    }
    return @{ Parameters = $parameters; SessionOption = $optionArguments; Environment = [ordered]@{} }
}

function New-RdsSessionOption {
    <#
    The PSSessionOption that `New-PSSessionOption @Arguments` makes on Windows, built from its
    properties: pwsh on Linux and macOS offers only -SkipCACheck / -SkipCNCheck as parameters.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][System.Collections.IDictionary]$Arguments)
    $option = [System.Management.Automation.Remoting.PSSessionOption]::new()
    foreach ($name in $Arguments.Keys) {
        $value = $Arguments[$name]
        if ($name -eq 'OpenTimeout') { $option.OpenTimeout = [TimeSpan]::FromMilliseconds([double]$value) }
        else { $option.$name = $value }
    }
    return $option
}

function Format-RdsSessionCommand {
    <#
    .SYNOPSIS
        The New-PSSession call a spec stands for, as readable PowerShell text for logs and tests.
        Never contains a secret: a credential shows as <PSCredential user>, secret variables as <secret>.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)][System.Collections.IDictionary]$Spec)
    $quote = { param($v) "'" + ([string]$v -replace "'", "''") + "'" }
    $parts = [System.Collections.Generic.List[string]]::new()
    $parts.Add('New-PSSession')
    $parameters = $Spec.Parameters
    foreach ($name in @('HostName', 'ComputerName', 'Port', 'UseSSL', 'UserName', 'Authentication', 'ConfigurationName', 'Subsystem', 'KeyFilePath', 'ConnectingTimeout')) {
        if (-not $parameters.Contains($name)) { continue }
        $value = $parameters[$name]
        if ($value -is [bool] -or $value -is [switch]) { if ($value) { $parts.Add("-$name") }; continue }
        if ($value -is [int]) { $parts.Add("-$name $value"); continue }
        $parts.Add("-$name " + (& $quote $value))
    }
    if ($parameters.Contains('Credential')) {
        $parts.Add("-Credential <PSCredential $($parameters.Credential.UserName)>")
    }
    if ($Spec.Contains('SessionOption') -and $null -ne $Spec.SessionOption) {
        $optionText = foreach ($name in $Spec.SessionOption.Keys) {
            $value = $Spec.SessionOption[$name]
            if ($value -is [bool]) { if ($value) { "-$name" } } else { "-$name $value" }
        }
        $parts.Add('-SessionOption (New-PSSessionOption ' + ($optionText -join ' ') + ')')
    }
    if ($parameters.Contains('Options')) {
        $pairs = foreach ($name in @($parameters.Options.Keys | Sort-Object)) { "$name=" + (& $quote $parameters.Options[$name]) }
        $parts.Add('-Options @{ ' + ($pairs -join '; ') + ' }')
    }
    $text = $parts -join ' '
    if ($Spec.Contains('Environment') -and $Spec.Environment.Count -gt 0) {
        $vars = foreach ($name in $Spec.Environment.Keys) {
            if ($name -eq $Spec['Secret']) { "$name=<secret>" } else { "$name=" + (& $quote $Spec.Environment[$name]) }
        }
        $text += '  [environment: ' + ($vars -join ', ') + ']'
    }
    return $text
}

function Get-RdsScriptBundle {
    <#
    .SYNOPSIS
        The .ps1/.psm1 files of one folder (not recursive) with their content hash; cached until a
        file's name, size or write time changes.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Directory)
    $files = @(Get-ChildItem -LiteralPath $Directory -File -Force | Where-Object { $_.Extension -eq '.ps1' -or $_.Extension -eq '.psm1' } |
            Sort-Object -Property Name -CaseSensitive -Culture ([cultureinfo]::InvariantCulture))
    $signature = ($files | ForEach-Object { '{0}|{1}|{2}' -f $_.Name, $_.Length, $_.LastWriteTimeUtc.Ticks }) -join '/'
    $cached = $script:Bundles[$Directory]
    if ($null -ne $cached -and $cached.Signature -eq $signature) { return $cached }
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $contents = @{}
    foreach ($file in $files) {
        $bytes = [System.IO.File]::ReadAllBytes($file.FullName)
        $contents[$file.Name] = [Convert]::ToBase64String($bytes)
        $nameBytes = [System.Text.Encoding]::UTF8.GetBytes($file.Name + [char]0)
        $null = $sha.TransformBlock($nameBytes, 0, $nameBytes.Length, $null, 0)
        $length = [BitConverter]::GetBytes([uint64]$bytes.Length)
        $null = $sha.TransformBlock($length, 0, 8, $null, 0)
        $null = $sha.TransformBlock($bytes, 0, $bytes.Length, $null, 0)
    }
    $null = $sha.TransformFinalBlock([byte[]]::new(0), 0, 0)
    $hash = ([BitConverter]::ToString($sha.Hash) -replace '-', '').ToLowerInvariant().Substring(0, 24)
    $bundle = @{ Signature = $signature; Hash = $hash; Files = $contents }
    $script:Bundles[$Directory] = $bundle
    return $bundle
}

function Publish-RdsScriptDirectory {
    <# Ships a local script folder to the target once per content hash (per session); returns the folder's path there. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)][string]$Directory)
    $bundle = Get-RdsScriptBundle -Directory $Directory
    $known = $script:Published[$Directory]
    if ($null -ne $known -and $known.Hash -eq $bundle.Hash) { return $known.RemoteDir }
    $remoteDir = [string](Invoke-Command -Session $script:Session -ScriptBlock $script:InstallBlock -ArgumentList $bundle.Hash, $bundle.Files -ErrorAction Stop)
    $script:Published[$Directory] = @{ Hash = $bundle.Hash; RemoteDir = $remoteDir }
    return $remoteDir
}

function Test-RdsSessionUsable {
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    $s = $script:Session
    return ($null -ne $s -and $s.State -eq [System.Management.Automation.Runspaces.RunspaceState]::Opened -and
        $s.Availability -eq [System.Management.Automation.Runspaces.RunspaceAvailability]::Available)
}

function Test-RdsTransportFailure {
    <# True when an error means the session's connection is gone (rather than a failure of the command). #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory, Position = 0)] $Record)
    $exception = if ($Record -is [System.Management.Automation.ErrorRecord]) { $Record.Exception } else { $Record }
    $current = $exception
    while ($null -ne $current) {
        if ($current -is [System.Management.Automation.Remoting.PSRemotingTransportException] -or
            $current -is [System.Management.Automation.Remoting.PSRemotingDataStructureException] -or
            $current -is [System.Management.Automation.Runspaces.InvalidRunspaceStateException] -or
            $current -is [System.Management.Automation.PSRemotingTransportRedirectException]) { return $true }
        $current = $current.InnerException
    }
    return -not (Test-RdsSessionUsable)
}

function New-RdsDocumentItem {
    <# The invoker's answer to Bootstrap.ps1: one Rds.Document carrying a whole result document. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Json)
    return [pscustomobject]@{ PSTypeName = 'Rds.Document'; Json = $Json }
}

function New-RdsLostDocument {
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Code, [Parameter(Mandatory)][string]$Message)
    return New-RdsDocumentItem -Json (ConvertTo-RdsDocumentJson ([ordered]@{ ok = $false; error = [ordered]@{ code = $Code; message = $Message } }))
}

# ---------------------------------------------------------------------------------------------
# Public functions

function Disconnect-RdsRemoteSession {
    <# Closes the session, if any (quietly: it may be broken already). #>
    [CmdletBinding()]
    param()
    $old = $script:Session
    $script:Session = $null
    $script:Published = @{}
    if ($null -ne $old) {
        try { Remove-PSSession -Session $old -ErrorAction SilentlyContinue 3>$null } catch { $null = $_ }
    }
}

function Connect-RdsRemoteSession {
    <#
    .SYNOPSIS
        (Re)opens the persistent session described by Settings, prepares the far side and installs the
        operation invoker. Returns what the connect operation reports.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][System.Collections.IDictionary]$Settings,
        [Parameter(Mandatory)][string]$ProviderDir
    )
    Disconnect-RdsRemoteSession
    $transport = [string]$Settings.transport
    $work = New-RdsPrivateDirectory
    $saved = @{}
    $spec = $null
    $session = $null
    try {
        if ($transport -eq 'ssh') {
            $spec = Get-RdsSshSessionParameters -Settings $Settings -WorkDir $work
        } elseif ($transport -eq 'winrm') {
            $spec = Get-RdsWinRmSessionParameters -Settings $Settings
        } else {
            throw [System.ArgumentException]::new("not a remote transport: $transport")
        }
        foreach ($name in $spec.Environment.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, [string]$spec.Environment[$name])
        }
        $parameters = $spec.Parameters
        # pwsh reads the ssh client's stderr itself and writes it to [Console]::Out (which Bootstrap
        # has swapped for a null writer while an operation runs): catch it, it says why ("Permission
        # denied", "Host key verification failed", ...), and the exception does not.
        $sshBuffer = [System.IO.StringWriter]::new()
        $sshOutput = [System.IO.TextWriter]::Synchronized($sshBuffer)
        $outBefore = [Console]::Out
        [Console]::SetOut($sshOutput)
        try {
            $session = New-PSSession @parameters
        } catch {
            $failure = $_
            # The reader thread may still be writing: read under the writer's own lock.
            $read = {
                [System.Threading.Monitor]::Enter($sshOutput)
                try { $sshBuffer.ToString() } finally { [System.Threading.Monitor]::Exit($sshOutput) }
            }
            $waitUntil = [DateTime]::UtcNow.AddMilliseconds(500)
            while ((& $read).Length -eq 0 -and [DateTime]::UtcNow -lt $waitUntil) { Start-Sleep -Milliseconds 20 }
            $said = @(((& $read) -split "`r?`n") | ForEach-Object { $_.Trim() } | Where-Object { $_ -and $_ -notmatch '^@+$' })
            $message = Get-RdsExceptionText $failure.Exception
            # ssh's own words, when it said something, are the reason; pwsh's text is then generic.
            if ($said.Count -gt 0) { $message = 'ssh: ' + ($said -join ' / ') }
            throw (New-RdsScriptError -Code CONNECT_FAILED -Message $message)
        } finally {
            [Console]::SetOut($outBefore)
        }
    } finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        try { [System.IO.Directory]::Delete($work, $true) } catch { $null = $_ }
    }

    $script:Session = $session
    $script:Opens++
    try {
        $info = Initialize-RdsRemoteSide -Settings $Settings -ProviderDir $ProviderDir
    } catch {
        $reason = if ($null -ne (Get-RdsScriptErrorDetails $_.Exception)) { $_.Exception.Message } else { Get-RdsExceptionText $_.Exception }
        Disconnect-RdsRemoteSession
        throw (New-RdsScriptError -Code CONNECT_FAILED -Message "the session opened but the target could not be prepared: $reason")
    }

    $pendingStarted = $null
    if ($null -ne $script:PendingRunId) {
        $pendingStarted = [bool](Invoke-Command -Session $script:Session -ScriptBlock $script:PendingBlock -ArgumentList $script:PendingRunId -ErrorAction Stop)
        $script:PendingRunId = $null
    }

    # The transport's own scripts (this folder: the connect operation, which also reconnects) keep
    # running here, in the warm pwsh.
    Set-RdsOperationInvoker -ExceptDirectory $PSScriptRoot { param($ScriptPath, $Envelope) Invoke-RdsRemoteOperation -ScriptPath $ScriptPath -Envelope $Envelope }
    $script:RemoteInfo = $info
    return [ordered]@{
        opens             = $script:Opens
        remotePid         = $info.pid
        psVersion         = $info.psVersion
        edition           = $info.edition
        os                = $info.os
        user              = $info.user
        computer          = $info.computer
        scripts           = $info.scripts
        pendingRunStarted = $pendingStarted
        command           = Format-RdsSessionCommand -Spec $spec
    }
}

function Initialize-RdsRemoteSide {
    <# Prepares the far side of a fresh session: folders, Bootstrap.ps1 + RdsCommon.psm1, the lab emulator. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][System.Collections.IDictionary]$Settings,
        [Parameter(Mandatory)][string]$ProviderDir
    )
    $info = Invoke-Command -Session $script:Session -ScriptBlock $script:PrepareBlock -ErrorAction Stop
    $powershellDir = Publish-RdsScriptDirectory -Directory ([System.IO.Path]::Combine($ProviderDir, 'powershell'))
    $emulatorPath = ''
    $labStateDir = ''
    if ($null -ne $Settings.lab) {
        $emulatorDir = Publish-RdsScriptDirectory -Directory ([System.IO.Path]::Combine($ProviderDir, 'emulator'))
        $emulatorPath = $emulatorDir + '/RdsEmulator.psm1'
        $labStateDir = [string]$Settings.lab.stateDir
    }
    $null = Invoke-Command -Session $script:Session -ScriptBlock $script:LoadBlock -ArgumentList ($powershellDir + '/Bootstrap.ps1'), $emulatorPath, $labStateDir -ErrorAction Stop
    return $info
}

function Invoke-RdsRemoteOperation {
    <#
    .SYNOPSIS
        The operation invoker of remote transports: runs a script on the far side, returns one Rds.Document.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$ScriptPath, [Parameter(Mandatory)][AllowEmptyString()][string]$Envelope)
    if (-not (Test-RdsSessionUsable)) {
        return New-RdsLostDocument -Code SESSION_LOST -Message 'the remote session is closed or broken; nothing was sent'
    }
    try {
        $remoteDir = Publish-RdsScriptDirectory -Directory ([System.IO.Path]::GetDirectoryName($ScriptPath))
    } catch {
        if (Test-RdsTransportFailure $_) {
            return New-RdsLostDocument -Code SESSION_LOST -Message "the remote session failed while shipping scripts; the operation did not start: $(Get-RdsExceptionText $_.Exception)"
        }
        throw
    }
    $runId = [guid]::NewGuid().ToString('N')
    try {
        $json = Invoke-Command -Session $script:Session -ScriptBlock $script:RunBlock -ErrorAction Stop `
            -ArgumentList $remoteDir, ([System.IO.Path]::GetFileName($ScriptPath)), $Envelope, $runId, $script:AnsweredRunId
        $script:AnsweredRunId = $runId
    } catch {
        if (Test-RdsTransportFailure $_) {
            $script:PendingRunId = $runId
            return New-RdsLostDocument -Code CONNECTION_LOST_PENDING -Message "the connection dropped during the operation: $(Get-RdsExceptionText $_.Exception)"
        }
        throw
    }
    return New-RdsDocumentItem -Json ([string]$json)
}

function Get-RdsRemoteSessionState {
    <# For tests and diagnostics: how many sessions this pwsh opened, and the current one's state. #>
    [CmdletBinding()]
    param()
    [ordered]@{
        opens     = $script:Opens
        state     = if ($null -ne $script:Session) { [string]$script:Session.State } else { $null }
        remotePid = if ($null -ne $script:RemoteInfo) { $script:RemoteInfo.pid } else { $null }
        published = @($script:Published.Keys)
    }
}

Export-ModuleMember -Function @(
    'Connect-RdsRemoteSession',
    'Disconnect-RdsRemoteSession',
    'Invoke-RdsRemoteOperation',
    'Get-RdsSshSessionParameters',
    'Get-RdsWinRmSessionParameters',
    'Format-RdsSessionCommand',
    'Get-RdsScriptBundle',
    'Get-RdsRemoteSessionState',
    'Get-RdsExceptionText'
)
