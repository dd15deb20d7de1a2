# Part of RdsRemoting.psm1 (dot-sourced by it, in the module's scope: $script: is the module's).
# Opening a session: New-PSSession parameters for ssh and WinRM, private files for ssh, the command
# line a log shows, and the exception text of a failure.

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
    <#
    .SYNOPSIS
        A new directory only this user can read (0700 on Unix), for one connect attempt's files.
    .DESCRIPTION
        Inside Root when given: the connect folder the provider made for this connect (named with its
        pid, removed by it after the connect and on exit or any signal, and swept at the next start if
        it was SIGKILLed: transports/connectDir.ts). Root must exist: a folder the provider already
        removed (it is exiting) is never recreated. Without Root (tests, direct calls): a new folder
        in the user's temp directory.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([string]$Root)
    if ([string]::IsNullOrEmpty($Root)) {
        return [System.IO.Directory]::CreateTempSubdirectory('rds-remote-').FullName
    }
    if (-not [System.IO.Directory]::Exists($Root)) {
        throw [System.IO.DirectoryNotFoundException]::new('the connect folder made by the provider is gone (the provider is exiting)')
    }
    $path = [System.IO.Path]::Combine($Root, 'attempt-' + [guid]::NewGuid().ToString('N'))
    if ($IsLinux -or $IsMacOS) {
        $null = [System.IO.Directory]::CreateDirectory($path, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    } else {
        $null = [System.IO.Directory]::CreateDirectory($path)
    }
    return $path
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
        while it runs (never a secret: the askpass helper's path and the path of the file it reads
        once). Writes the pinned known_hosts file, an inline private key, the askpass secret and its
        helper into WorkDir (a private directory the caller removes).
    .OUTPUTS
        @{ Parameters = <splat for New-PSSession>; Environment = @{ name = value }; Secret = $null
        (no variable holds a secret) }
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
        # ssh asks SSH_ASKPASS for the password / passphrase. The secret is handed over once: it sits
        # in a 0600 file of WorkDir that the helper takes (renames) before it prints it and then
        # removes, so a second ask gets nothing. No environment holds it (the long-lived ssh
        # process's environment is readable for the whole warm session); only the file's path is
        # in the environment.
        $secretFile = [System.IO.Path]::Combine($WorkDir, 'askpass-secret')
        Write-RdsPrivateFile -Path $secretFile -Text ($secret + "`n")
        if ($IsWindows) {
            $helper = [System.IO.Path]::Combine($WorkDir, 'askpass.cmd')
            $text = "@`"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe`" -NoLogo -NoProfile -NonInteractive -Command `"`$f = `$env:RDS_SSH_ASKPASS_FILE; `$t = `$f + '.taken'; try { [IO.File]::Move(`$f, `$t) } catch { exit 1 }; [Console]::Out.Write([IO.File]::ReadAllText(`$t)); [IO.File]::Delete(`$t)`"`r`n"
            Write-RdsPrivateFile -Path $helper -Text $text
        } else {
            $helper = [System.IO.Path]::Combine($WorkDir, 'askpass')
            Write-RdsPrivateFile -Path $helper -Text ($script:AskpassHelper + "`n") -Executable
        }
        $environment.SSH_ASKPASS = $helper
        $environment.SSH_ASKPASS_REQUIRE = 'force'
        if ([string]::IsNullOrEmpty($env:DISPLAY)) { $environment.DISPLAY = 'rds-askpass:0' }
        $environment.RDS_SSH_ASKPASS_FILE = $secretFile
    }

    if (-not $IsWindows) {
        # pwsh starts `ssh` as found on PATH: put the watchdog (below) first, so the client ends
        # with the pwsh that started it, even a SIGKILLed one in the middle of a login.
        $client = Get-Command -Name ssh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -ne $client) {
            $binDir = [System.IO.Path]::Combine($WorkDir, 'bin')
            $null = [System.IO.Directory]::CreateDirectory($binDir, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
            Write-RdsPrivateFile -Path ([System.IO.Path]::Combine($binDir, 'ssh')) -Text ($script:SshWatchdog + "`n") -Executable
            $environment.RDS_SSH_CLIENT = $client.Source
            $environment.PATH = $binDir + [System.IO.Path]::PathSeparator + $env:PATH
        }
    }

    $parameters.Options = $options
    return @{ Parameters = $parameters; Environment = $environment; Secret = $null }
}

# The `ssh` the client runs through (POSIX sh, ssh-watchdog.sh beside this file): runs the real
# client ($RDS_SSH_CLIENT) with the same arguments and standard streams, and ends it when the process
# that started it is gone (see the file). The subsystem channel puts it first on PATH as `ssh` while
# New-PSSession starts; the exec channel starts it itself (sshExec.ts).
$script:SshWatchdog = [System.IO.File]::ReadAllText([System.IO.Path]::Combine($PSScriptRoot, 'ssh-watchdog.sh'))

# The askpass helper (POSIX sh): prints the secret file once. `mv` is atomic, so of two asks only
# one gets the file; the taken copy is removed right after it is printed.
$script:AskpassHelper = @'
#!/bin/sh
taken="$RDS_SSH_ASKPASS_FILE.taken.$$"
mv -- "$RDS_SSH_ASKPASS_FILE" "$taken" 2>/dev/null || exit 1
cat -- "$taken"
rm -f -- "$taken"
'@

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
    if ($authentication -eq 'Credssp' -and -not $https) {
        # Defence in depth (check refuses it first): CredSSP delegates the password to the target.
        throw (New-RdsScriptError -Code VALIDATION -Message 'authentication "credssp" is allowed only with scheme "https"')
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
        SessionOption     = New-RdsSessionOption -Arguments $optionArguments
        ErrorAction       = 'Stop'
    }
    if ($https) { $parameters.UseSSL = $true }
    # No name: the target's default endpoint (Windows PowerShell 5.1 on a stock server).
    if (-not [string]::IsNullOrEmpty([string]$Settings.configurationName)) { $parameters.ConfigurationName = [string]$Settings.configurationName }
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
            if ($name -eq $Spec['Secret']) { "$name=<secret>" }
            elseif ($name -eq 'PATH') { 'PATH=<ssh watchdog folder>:$PATH' }
            else { "$name=" + (& $quote $Spec.Environment[$name]) }
        }
        $text += '  [environment: ' + ($vars -join ', ') + ']'
    }
    return $text
}

