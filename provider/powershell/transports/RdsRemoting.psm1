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
      1. ssh: Get-RdsSshSessionParameters writes what ssh needs into a private 0700 directory
         inside the connect folder the provider made (a pinned known_hosts file, a copy of an inline
         private key, the askpass secret that its helper takes once) and sets the askpass variables
         in this process's environment (paths only, never a secret, only while New-PSSession starts
         ssh); winrm: Get-RdsWinRmSessionParameters builds the PSCredential and the session options.
         Then New-PSSession. The directory is removed and the environment restored right after,
         whatever happened; the provider removes the connect folder after the connect, on exit and on
         every signal, and sweeps a dead provider's folder at its next start (a SIGKILLed pwsh runs
         no finally). Failures are CONNECT_FAILED script
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

# The module's parts, dot-sourced into its own scope (their functions are the module's;
# Export-ModuleMember below decides which are public).
. ([System.IO.Path]::Combine($PSScriptRoot, 'RdsRemoting', 'FarSide.ps1'))
. ([System.IO.Path]::Combine($PSScriptRoot, 'RdsRemoting', 'SessionParameters.ps1'))
. ([System.IO.Path]::Combine($PSScriptRoot, 'RdsRemoting', 'Shipping.ps1'))

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
        [Parameter(Mandatory)][string]$ProviderDir,
        # The connect folder the provider made for this connect (transports/connectDir.ts); this
        # attempt's files go into a private folder inside it.
        [string]$WorkRoot
    )
    Disconnect-RdsRemoteSession
    $transport = [string]$Settings.transport
    $work = New-RdsPrivateDirectory -Root $WorkRoot
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
        $details = Get-RdsScriptErrorDetails $_.Exception
        if ($null -ne $details -and $details.code -eq 'TRANSPORT_UNAVAILABLE') {
            # Too old a PowerShell on the target: its own code, not a failed connect (no retry helps).
            Disconnect-RdsRemoteSession
            throw
        }
        $reason = if ($null -ne $details) { $_.Exception.Message } else { Get-RdsExceptionText $_.Exception }
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
    Assert-RdsRemoteVersion -PSVersion ([string]$info.psVersion) -Edition ([string]$info.edition)
    $powershellDir = Publish-RdsScriptDirectory -Directory ([System.IO.Path]::Combine($ProviderDir, 'powershell'))
    $emulatorPath = ''
    $labStateDir = ''
    if ($null -ne $Settings.lab) {
        # The emulator is a module folder: its root .psm1 dot-sources parts from subfolders.
        $emulatorDir = Publish-RdsScriptDirectory -Recurse -Directory ([System.IO.Path]::Combine($ProviderDir, 'emulator'))
        $emulatorPath = $emulatorDir + '/RdsEmulator.psm1'
        $labStateDir = [string]$Settings.lab.stateDir
    }
    $null = Invoke-Command -Session $script:Session -ScriptBlock $script:LoadBlock -ArgumentList ($powershellDir + '/Bootstrap.ps1'), $emulatorPath, $labStateDir -ErrorAction Stop
    return $info
}

function Assert-RdsRemoteVersion {
    <#
    .SYNOPSIS
        Refuses a target whose PowerShell is older than Windows PowerShell 5.1 (TRANSPORT_UNAVAILABLE).
    .DESCRIPTION
        The operation scripts need 5.1 (Windows PowerShell, the default WinRM endpoint) or pwsh 7.2+
        (what an ssh subsystem or the "PowerShell.7" endpoint runs). 6.x and 7.0/7.1 are out of
        support and refused too.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][AllowEmptyString()][string]$PSVersion, [AllowEmptyString()][string]$Edition)
    if ($PSVersion -notmatch '^(?<major>\d+)\.(?<minor>\d+)') {
        throw (New-RdsScriptError -Code TRANSPORT_UNAVAILABLE -Message "the target's PowerShell did not report a version ('$PSVersion'): Windows PowerShell 5.1 or PowerShell 7.2+ is needed")
    }
    $version = [version]('{0}.{1}' -f $Matches.major, $Matches.minor)
    $supported = ($version -ge [version]'5.1' -and $version.Major -lt 6) -or $version -ge [version]'7.2'
    if (-not $supported) {
        $name = if ($Edition -eq 'Core') { 'PowerShell' } else { 'Windows PowerShell' }
        throw (New-RdsScriptError -Code TRANSPORT_UNAVAILABLE -Message "the target runs $name ${PSVersion}: the operation scripts need Windows PowerShell 5.1 or PowerShell 7.2 or later (install WMF 5.1, or pwsh 7 and set configurationName)")
    }
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
    'Get-RdsExceptionText',
    'Assert-RdsRemoteVersion'
)
