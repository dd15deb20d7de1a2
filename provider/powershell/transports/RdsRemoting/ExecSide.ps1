# The far side of the ssh exec channel (pool/remoteShell.ts): the target's PowerShell IS the warm
# session, reading one command per line on stdin. The provider sends this file's text, after
# FarSide.ps1's (whose script blocks these functions run), as one base64 data line that the first
# command dot-sources at global scope. Runs on Windows PowerShell 5.1 and pwsh 7.2+.
#
# Values never travel in a command line: a command names a function and, at most, hex hashes, run ids
# and our own script file names; anything else (script files, the lab's state folder, the envelope,
# which may hold secrets) is a data line the function reads itself with [Console]::In.ReadLine(),
# right after its command line (pwsh -Command - reads its commands from the same reader, so the data
# line is never taken for a command). Every function answers with one result document on a line of
# its own, ASCII only (5.1 writes stdout in the OEM code page), between the framing's delimiters.

function Write-RdsExecAnswer {
    param([Parameter(Mandatory)][System.Collections.IDictionary]$Document)
    $json = ConvertTo-Json -InputObject $Document -Compress -Depth 6
    $ascii = [regex]::Replace($json, '[^\x00-\x7f]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
    [Console]::Out.Write("`n" + $ascii + "`n")
    [Console]::Out.Flush()
}

function Write-RdsExecFailure {
    param([Parameter(Mandatory)] $Record, [string]$Doing)
    $text = ([string]$Record.Exception.Message -replace '\s+', ' ').Trim()
    Write-RdsExecAnswer ([ordered]@{ ok = $false; error = [ordered]@{ code = 'REMOTE_SETUP_FAILED'; message = "$Doing on the target failed: $text" } })
}

function Read-RdsExecDataLine {
    <# The data line that follows this command. #>
    $line = [Console]::In.ReadLine()
    if ($null -eq $line) { throw [System.IO.EndOfStreamException]::new('stdin ended before the data line') }
    return $line
}

function Initialize-RdsExecSide {
    <# Folders and what the target runs (FarSide.ps1 PrepareBlock). #>
    try {
        $info = & $script:PrepareBlock
        Write-RdsExecAnswer ([ordered]@{ ok = $true; result = $info })
    } catch {
        Write-RdsExecFailure $_ 'preparing the session folders'
    }
}

function Find-RdsExecMissingBundle {
    <# Which of the script folders named by hash (data line: JSON array) the target does not hold yet. #>
    try {
        $hashes = @(ConvertFrom-Json -InputObject (Read-RdsExecDataLine))
        $missing = @(foreach ($hash in $hashes) {
                if ([string]$hash -notmatch '^[0-9a-f]{16,64}$') { throw [System.ArgumentException]::new('bad bundle hash') }
                $done = [System.IO.Path]::Combine($global:RdsRemoteScriptsDir, [string]$hash, '.complete')
                if (-not [System.IO.File]::Exists($done)) { [string]$hash }
            })
        Write-RdsExecAnswer ([ordered]@{ ok = $true; result = [ordered]@{ missing = $missing } })
    } catch {
        Write-RdsExecFailure $_ 'checking the shipped scripts'
    }
}

function Install-RdsExecBundle {
    <# Writes one script folder (data line: JSON object, relative name -> base64 content) as scripts/<Hash>. #>
    param([Parameter(Mandatory)][string]$Hash)
    try {
        $parsed = ConvertFrom-Json -InputObject (Read-RdsExecDataLine)
        $files = @{}
        foreach ($property in $parsed.PSObject.Properties) { $files[$property.Name] = [string]$property.Value }
        $null = & $script:InstallBlock $Hash $files
        Write-RdsExecAnswer ([ordered]@{ ok = $true; result = $null })
    } catch {
        Write-RdsExecFailure $_ 'installing the scripts'
    }
}

function Import-RdsExecSide {
    <#
    Loads Bootstrap.ps1 from the shipped folder BootstrapHash and, in a lab, the emulator from
    EmulatorHash (data line: JSON { labStateDir }); then the session's identity.
    #>
    param([Parameter(Mandatory)][string]$BootstrapHash, [string]$EmulatorHash)
    try {
        $settings = ConvertFrom-Json -InputObject (Read-RdsExecDataLine)
        $bootstrap = [System.IO.Path]::Combine($global:RdsRemoteScriptsDir, $BootstrapHash, 'Bootstrap.ps1')
        $emulator = ''
        if ($EmulatorHash) { $emulator = [System.IO.Path]::Combine($global:RdsRemoteScriptsDir, $EmulatorHash, 'RdsEmulator.psm1') }
        $null = & $script:LoadBlock $bootstrap $emulator ([string]$settings.labStateDir)
        Write-RdsExecAnswer ([ordered]@{ ok = $true; result = [ordered]@{ pid = $PID; psVersion = $PSVersionTable.PSVersion.ToString() } })
    } catch {
        Write-RdsExecFailure $_ 'loading the operation runtime'
    }
}

function Invoke-RdsExecOperation {
    <#
    Runs one operation script from the shipped folder Hash (data line: the base64 envelope) and prints
    its result document (FarSide.ps1 RunBlock: run marker, lab host, Invoke-RdsOperationCore).
    #>
    param([Parameter(Mandatory)][string]$Hash, [Parameter(Mandatory)][string]$Leaf, [Parameter(Mandatory)][string]$RunId, [string]$AnsweredRunId)
    $json = $null
    try {
        $envelope = Read-RdsExecDataLine
        if ($Hash -notmatch '^[0-9a-f]{16,64}$' -or $Leaf -match '[\\/:\x00-\x1f]') { throw [System.ArgumentException]::new('bad script reference') }
        $dir = [System.IO.Path]::Combine($global:RdsRemoteScriptsDir, $Hash)
        $json = & $script:RunBlock $dir $Leaf $envelope $RunId $AnsweredRunId $true
    } catch {
        $json = ConvertTo-RdsDocumentJson (ConvertTo-RdsErrorDocument $_)
    }
    Write-RdsDocument -DocumentJson ([string]$json)
}

function Test-RdsExecRunStarted {
    <# After a reconnect: did the run cut off with the last session start (FarSide.ps1 PendingBlock)? #>
    param([Parameter(Mandatory)][string]$RunId)
    try {
        if ($RunId -notmatch '^[0-9a-f]{32}$') { throw [System.ArgumentException]::new('bad run id') }
        Write-RdsExecAnswer ([ordered]@{ ok = $true; result = [bool](& $script:PendingBlock $RunId) })
    } catch {
        Write-RdsExecFailure $_ 'reading the run marker'
    }
}
