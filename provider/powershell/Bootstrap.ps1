#Requires -Version 5.1
<#
.SYNOPSIS
    Loaded once into each warm pwsh (dot-sourced at global scope): defines Invoke-RdsOperation.

.DESCRIPTION
    The runner sends pwsh nothing but

        Invoke-RdsOperation -ScriptPath '<abs path>' -EnvelopePath '<abs path>'

    Invoke-RdsOperation reads the base64 envelope from the file, deletes the file, runs the script
    with -Envelope <base64>, and prints exactly one compact JSON line on stdout:

        {"ok":true,"result":<the JSON Write-RdsResult made of its value>,"scriptMs":1.234}
        {"ok":false,"error":{"code":"...","message":"...", ...},"scriptMs":1.234}

    scriptMs is the script's own run time in this pwsh (ms; a remote run reports the far side's).

    The line is ASCII only (non-ASCII escaped as \uXXXX) and is preceded by a newline, so it always
    starts a line even after partial host output. Everything else the script might print is kept
    off stdout: warning/verbose/debug/information (Write-Host) streams are discarded and
    [Console]::Out is swapped for a null writer while the script runs. Explicit host writes
    (Out-Host, $Host.UI) can still reach stdout; the runner ignores every line but the last.

    Progress: a script's Write-RdsProgress (RdsCommon.psm1) is an information record tagged
    'RdsProgress'. Invoke-RdsOperationCore passes such records on as they are written (every other
    information record is still discarded): on the far side of a remote session it writes them again
    on its own information stream, which Invoke-Command carries back live; in the warm pwsh
    (-ProgressToStderr, what Invoke-RdsOperation uses) each becomes one stderr line

        ##rds-progress## "<the text as a JSON string>"

    which the runner's shell reader (pool/shell.ts) hands to the provider while the script runs and
    keeps out of the operation's stderr text.

    Error documents:
      - a script error thrown with New-RdsScriptError keeps code/message/method/className/returnValue;
      - any other exception becomes SCRIPT_EXCEPTION with the message, the HRESULT when the exception
        (or one it wraps) carries one (COMException, CimException, any 0x8004xxxx), the exception type
        and the script position;
      - no Write-RdsResult, or more than one, gives RESULT_COUNT; other objects left on the pipeline
        give STRAY_OUTPUT (capture them, or discard with $null = ...).

    $ErrorActionPreference is 'Stop' (globally, so module functions too), so non-terminating errors
    become exceptions. `break`/`continue` outside a loop in a script cannot escape the bootstrap.

    Invoke-RdsOperationCore does the work and returns the document as a string; the remote transports
    dot-source this file on the far side of their session too (it has no side effect there beyond
    preferences and RdsCommon.psm1) and call Invoke-RdsOperationCore through Invoke-Command, so a
    remote run classifies output and catches errors exactly like a local one. Their local invoker
    hands the document back as one `Rds.Document` object, which Invoke-RdsOperation prints as is.
#>

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# $PSStyle exists from pwsh 7.2 on; Windows PowerShell 5.1 never colours its output.
if ($null -ne (Get-Variable -Name PSStyle -ValueOnly -ErrorAction SilentlyContinue)) { $PSStyle.OutputRendering = 'PlainText' }

Import-Module -Name (Join-Path $PSScriptRoot 'RdsCommon.psm1') -Global -Force -DisableNameChecking

# Remote transports (winrm, ssh) set this in their connect operation (transports/RdsRemoting.psm1) so
# that operation scripts run in their persistent PSSession. The invoker gets ($ScriptPath, $Envelope)
# and returns the script's pipeline output, or exactly one `Rds.Document` object whose Json is the
# whole result document (what the far side's Invoke-RdsOperationCore returned). $null runs scripts
# in this pwsh.
$global:RdsOperationInvoker = $null
# Scripts in this folder run in this pwsh even when an invoker is set (a remote transport's own
# connect operation, which also runs to reconnect).
$global:RdsOperationInvokerExcept = $null

function global:Set-RdsOperationInvoker {
    <#
    Sets (or with $null clears) the script block that runs operation scripts: param($ScriptPath, $Envelope).
    -ExceptDirectory: scripts directly in that folder keep running in this pwsh.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][AllowNull()][scriptblock]$ScriptBlock,
        [string]$ExceptDirectory
    )
    $global:RdsOperationInvoker = $ScriptBlock
    $global:RdsOperationInvokerExcept = if ($ExceptDirectory) { $ExceptDirectory } else { $null }
}

function global:ConvertTo-RdsDocumentJson {
    <# A result/error document as one compact ASCII JSON line. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory, Position = 0)][System.Collections.IDictionary]$Document)
    return [string](ConvertTo-RdsAsciiJson -InputObject $Document -Depth 20 -WarningAction SilentlyContinue)
}

function global:Write-RdsDocument {
    <#
    Prints one result/error document as one compact ASCII JSON line, on a line of its own.
    -ResultJson: the document is {"ok":true,"result":<ResultJson>} (JSON already made by Write-RdsResult).
    -DocumentJson: the whole document, already one JSON line (Invoke-RdsOperationCore).
    #>
    [CmdletBinding(DefaultParameterSetName = 'Document')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Document')][System.Collections.IDictionary]$Document,
        [Parameter(Mandatory, ParameterSetName = 'Result')][string]$ResultJson,
        [Parameter(Mandatory, ParameterSetName = 'Json')][string]$DocumentJson
    )
    if ($PSCmdlet.ParameterSetName -eq 'Result') {
        $json = '{"ok":true,"result":' + $ResultJson + '}'
    } elseif ($PSCmdlet.ParameterSetName -eq 'Json') {
        $json = $DocumentJson
    } else {
        $json = ConvertTo-RdsDocumentJson $Document
    }
    [Console]::Out.Write("`n" + $json + "`n")
    [Console]::Out.Flush()
}

function global:ConvertTo-RdsErrorDocument {
    <# The error document for an ErrorRecord or exception caught around an operation script. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Record)

    $exception = if ($Record -is [System.Management.Automation.ErrorRecord]) { $Record.Exception } else { $Record }
    $details = Get-RdsScriptErrorDetails $exception
    $errorDoc = [ordered]@{}
    if ($null -ne $details) {
        foreach ($key in $details.Keys) { $errorDoc[$key] = $details[$key] }
    } else {
        $errorDoc.code = 'SCRIPT_EXCEPTION'
        $errorDoc.message = [string]$exception.Message
        $hresult = Get-RdsExceptionHResult $exception
        if ($null -ne $hresult) { $errorDoc.hresult = $hresult }
        $errorDoc.exceptionType = $exception.GetBaseException().GetType().FullName
    }
    $position = Get-RdsErrorPosition $Record
    if ($position) { $errorDoc.position = $position }
    return [ordered]@{ ok = $false; error = $errorDoc }
}

function global:Get-RdsErrorPosition {
    <# 'Script.ps1:12': the innermost stack frame outside this bootstrap and RdsCommon, else the error's own position. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Record)
    if ($Record -isnot [System.Management.Automation.ErrorRecord]) { return $null }
    $ownFiles = @('Bootstrap.ps1', 'RdsCommon.psm1')
    foreach ($frame in ([string]$Record.ScriptStackTrace -split "`r?`n")) {
        if ($frame -match ', (?<file>[^,]+): line (?<line>\d+)\s*$') {
            $leaf = Split-Path -Leaf $Matches.file
            if ($ownFiles -notcontains $leaf) { return '{0}:{1}' -f $leaf, $Matches.line }
        }
    }
    if ($null -ne $Record.InvocationInfo -and $Record.InvocationInfo.ScriptName) {
        return '{0}:{1}' -f (Split-Path -Leaf $Record.InvocationInfo.ScriptName), $Record.InvocationInfo.ScriptLineNumber
    }
    return $null
}

function global:Select-RdsOperationOutput {
    <#
    .SYNOPSIS
        The pipeline filter around an operation script run with `6>&1`: passes its output on, forwards
        progress records (tag 'RdsProgress') as they arrive, drops every other information record.
    .DESCRIPTION
        -ProgressToStderr: each progress record becomes a `##rds-progress## "<json text>"` line on this
        pwsh's stderr (the warm pwsh the runner reads). Without it the record is written again on the
        information stream (the far side of a remote session, where Invoke-Command carries it home).
    #>
    [CmdletBinding()]
    param(
        [Parameter(ValueFromPipeline)][AllowNull()] $InputObject,
        [switch]$ProgressToStderr
    )
    process {
        if ($InputObject -is [System.Management.Automation.InformationRecord]) {
            if (@($InputObject.Tags) -contains 'RdsProgress') {
                $text = [string]$InputObject.MessageData
                if ($ProgressToStderr) {
                    [Console]::Error.WriteLine('##rds-progress## ' + (ConvertTo-RdsAsciiJson -InputObject $text))
                    [Console]::Error.Flush()
                } else {
                    Write-Information -MessageData $text -Tags 'RdsProgress'
                }
            }
            return
        }
        $PSCmdlet.WriteObject($InputObject, $false)
    }
}

function global:Invoke-RdsOperationCore {
    <#
    .SYNOPSIS
        Runs one operation script with its (base64) envelope and returns the result document as one
        compact ASCII JSON line. Never throws: every failure is an error document.
    .DESCRIPTION
        Used by Invoke-RdsOperation here and, on the far side of a remote session, by the remote
        transports (Invoke-Command -Session ... { Invoke-RdsOperationCore ... }).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)][string]$ScriptPath,
        [Parameter(Mandatory)][AllowEmptyString()][string]$Envelope,
        # Progress records become stderr lines of this pwsh (the warm pwsh the runner reads); without
        # it they stay information records (the far side of a remote session).
        [switch]$ProgressToStderr
    )

    $document = $null
    $resultJson = $null
    $savedOut = [Console]::Out
    # The script's own run time, returned as `scriptMs` in the document: what the runner, the
    # envelope and the host add on top of it is the provider's overhead (bench/run.ts reports it).
    $scriptClock = [System.Diagnostics.Stopwatch]::new()
    try {
        $scriptCommand = $ExecutionContext.InvokeCommand.GetCommand($ScriptPath, [System.Management.Automation.CommandTypes]::ExternalScript)
        if ($null -eq $scriptCommand) { throw [System.IO.FileNotFoundException]::new('operation script not found', $ScriptPath) }

        $items = @()
        [Console]::SetOut([System.IO.TextWriter]::Null)
        $ErrorActionPreference = 'Stop'
        $useInvoker = $null -ne $global:RdsOperationInvoker -and
            -not ($null -ne $global:RdsOperationInvokerExcept -and [System.IO.Path]::GetDirectoryName($ScriptPath) -eq $global:RdsOperationInvokerExcept)
        $scriptClock.Start()
        # The loop stops a stray `break` / `continue` in the script from unwinding past this function.
        do {
            # 6>&1 through the filter: progress records go out while the script runs, the rest of the
            # information stream (Write-Host) stays discarded.
            if ($useInvoker) {
                $items = @(& $global:RdsOperationInvoker $ScriptPath $Envelope 3>$null 4>$null 5>$null 6>&1 |
                        Select-RdsOperationOutput -ProgressToStderr:$ProgressToStderr)
            } else {
                $items = @(& $scriptCommand -Envelope $Envelope 3>$null 4>$null 5>$null 6>&1 |
                        Select-RdsOperationOutput -ProgressToStderr:$ProgressToStderr)
            }
        } while ($false)
        $scriptClock.Stop()
        [Console]::SetOut($savedOut)

        $first = if ($items.Count -gt 0) { $items[0] } else { $null }
        if ($items.Count -eq 1 -and $null -ne $first -and
            ($first.PSObject.TypeNames -contains 'Rds.Document' -or $first.PSObject.TypeNames -contains 'Deserialized.Rds.Document')) {
            # A remote invoker's answer: the whole document, made by Invoke-RdsOperationCore on the far side.
            return [string]$first.Json
        }

        $results = [System.Collections.Generic.List[string]]::new()
        $stray = [System.Collections.Generic.List[string]]::new()
        foreach ($item in $items) {
            if ($null -ne $item -and ($item.PSObject.TypeNames -contains 'Rds.Result' -or $item.PSObject.TypeNames -contains 'Deserialized.Rds.Result')) {
                $results.Add([string]$item.Json)
            } elseif ($null -eq $item) {
                $stray.Add('$null')
            } else {
                $stray.Add($item.GetType().FullName)
            }
        }
        if ($stray.Count -gt 0) {
            $kinds = ($stray | Select-Object -Unique -First 5) -join ', '
            $document = [ordered]@{ ok = $false; error = [ordered]@{
                    code    = 'STRAY_OUTPUT'
                    message = "the script left $($stray.Count) object(s) on the pipeline besides its result ($kinds); capture them or discard them with `$null = ..."
                }
            }
        } elseif ($results.Count -ne 1) {
            $document = [ordered]@{ ok = $false; error = [ordered]@{
                    code    = 'RESULT_COUNT'
                    message = "the script emitted $($results.Count) results; exactly one Write-RdsResult is required"
                }
            }
        } else {
            $resultJson = $results[0]
        }
    } catch {
        $document = ConvertTo-RdsErrorDocument $_
    } finally {
        $scriptClock.Stop()
        [Console]::SetOut($savedOut)
    }
    $scriptMs = [math]::Round($scriptClock.Elapsed.TotalMilliseconds, 3)
    if ($null -ne $document) {
        $document.scriptMs = $scriptMs
        return (ConvertTo-RdsDocumentJson $document)
    }
    return '{"ok":true,"result":' + $resultJson + ',"scriptMs":' + $scriptMs.ToString([cultureinfo]::InvariantCulture) + '}'
}

function global:Invoke-RdsOperation {
    <#
    .SYNOPSIS
        Runs one operation script with the envelope stored in EnvelopePath and prints its result document.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string]$ScriptPath,
        [Parameter(Mandatory)][string]$EnvelopePath
    )

    $json = $null
    try {
        try {
            $envelope = [System.IO.File]::ReadAllText($EnvelopePath, [System.Text.Encoding]::ASCII)
        } finally {
            # The envelope may hold secrets: it lives on disk only until it is read (or failed to be).
            try { [System.IO.File]::Delete($EnvelopePath) } catch { $null = $_ }
        }
        $json = Invoke-RdsOperationCore -ScriptPath $ScriptPath -Envelope $envelope -ProgressToStderr
    } catch {
        $json = ConvertTo-RdsDocumentJson (ConvertTo-RdsErrorDocument $_)
    }
    Write-RdsDocument -DocumentJson $json
}

function global:Import-RdsModule {
    <# Imports a module globally (for transport preambles) and prints a result document saying whether it worked. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Path)
    $document = $null
    try {
        Import-Module -Name $Path -Global -Force -DisableNameChecking 3>$null 4>$null 5>$null 6>$null
        $document = [ordered]@{ ok = $true; result = $null }
    } catch {
        $document = ConvertTo-RdsErrorDocument $_
    }
    Write-RdsDocument $document
}

function global:Write-RdsSessionInfo {
    <# Prints the session's identity as a result document: the real pwsh pid (the dotnet tool shim spawns a child) and version. #>
    [CmdletBinding()]
    param()
    Write-RdsDocument ([ordered]@{ ok = $true; result = [ordered]@{ pid = $PID; psVersion = $PSVersionTable.PSVersion.ToString() } })
}

function global:Start-RdsParentWatchdog {
    <#
    .SYNOPSIS
        Exits this pwsh when the Node process that started it is gone.
    .DESCRIPTION
        An idle pwsh exits by itself on stdin EOF when its parent dies, but one that is busy in a
        long operation would run on until the operation ends. A background runspace polls the
        parent process twice a second (by pid and start time) and ends this process when it has gone.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][int]$ParentId)
    $runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $watch = [powershell]::Create()
    $watch.Runspace = $runspace
    $null = $watch.AddScript({
            param([int]$ParentId)
            # The parent's start time tells it apart from a later process that reuses its pid.
            function Get-StartTime([int]$Id) {
                $process = $null
                try {
                    $process = [System.Diagnostics.Process]::GetProcessById($Id)
                    return $process.StartTime
                } catch {
                    return $null
                } finally {
                    if ($null -ne $process) { $process.Dispose() }
                }
            }
            $parentStart = Get-StartTime $ParentId
            while ($null -ne $parentStart) {
                Start-Sleep -Milliseconds 500
                if ((Get-StartTime $ParentId) -ne $parentStart) { break }
            }
            [System.Environment]::Exit(70)
        }).AddArgument($ParentId)
    $global:RdsParentWatchdog = @{ PowerShell = $watch; Handle = $watch.BeginInvoke() }
}

if ($env:RDS_RUNNER_PARENT_PID -match '^\d+$') {
    Start-RdsParentWatchdog -ParentId ([int]$env:RDS_RUNNER_PARENT_PID)
}
