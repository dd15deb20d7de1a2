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

