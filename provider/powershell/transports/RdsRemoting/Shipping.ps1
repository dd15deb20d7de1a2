# Part of RdsRemoting.psm1 (dot-sourced by it, in the module's scope: $script: is the module's).
# Shipping script folders to the target, telling a lost session from a failed command, and the
# documents the invoker answers with.

function Get-RdsScriptBundle {
    <#
    .SYNOPSIS
        The .ps1/.psm1 files of one folder (with -Recurse: and of its subfolders, named by their
        relative path with `/`) with their content hash; cached until a file's name, size or write
        time changes.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Directory, [switch]$Recurse)
    $root = [System.IO.Path]::GetFullPath($Directory).TrimEnd([System.IO.Path]::DirectorySeparatorChar) + [System.IO.Path]::DirectorySeparatorChar
    $files = @(Get-ChildItem -LiteralPath $Directory -File -Force -Recurse:$Recurse | Where-Object { $_.Extension -eq '.ps1' -or $_.Extension -eq '.psm1' } |
            ForEach-Object { [pscustomobject]@{ Name = $_.FullName.Substring($root.Length).Replace([System.IO.Path]::DirectorySeparatorChar, '/'); File = $_ } })
    # Ordinal order (the far side's InstallBlock hashes in it): Sort-Object compares by culture.
    $ordered = [System.Collections.Generic.List[object]]::new([object[]]$files)
    $ordered.Sort([System.Comparison[object]] { param($a, $b) [string]::CompareOrdinal($a.Name, $b.Name) })
    $files = $ordered.ToArray()
    $signature = ($files | ForEach-Object { '{0}|{1}|{2}' -f $_.Name, $_.File.Length, $_.File.LastWriteTimeUtc.Ticks }) -join '/'
    $cacheKey = "$Directory|$([bool]$Recurse)"
    $cached = $script:Bundles[$cacheKey]
    if ($null -ne $cached -and $cached.Signature -eq $signature) { return $cached }
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $contents = @{}
    foreach ($entry in $files) {
        $bytes = [System.IO.File]::ReadAllBytes($entry.File.FullName)
        $contents[$entry.Name] = [Convert]::ToBase64String($bytes)
        $nameBytes = [System.Text.Encoding]::UTF8.GetBytes($entry.Name + [char]0)
        $null = $sha.TransformBlock($nameBytes, 0, $nameBytes.Length, $null, 0)
        $length = [BitConverter]::GetBytes([uint64]$bytes.Length)
        $null = $sha.TransformBlock($length, 0, 8, $null, 0)
        $null = $sha.TransformBlock($bytes, 0, $bytes.Length, $null, 0)
    }
    $null = $sha.TransformFinalBlock([byte[]]::new(0), 0, 0)
    $hash = ([BitConverter]::ToString($sha.Hash) -replace '-', '').ToLowerInvariant().Substring(0, 24)
    $bundle = @{ Signature = $signature; Hash = $hash; Files = $contents }
    $script:Bundles[$cacheKey] = $bundle
    return $bundle
}

function Publish-RdsScriptDirectory {
    <#
    Ships a local script folder (with -Recurse: its subfolders too, e.g. the emulator's module folder)
    to the target once per content hash (per session); returns the folder's path there.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)][string]$Directory, [switch]$Recurse)
    $bundle = Get-RdsScriptBundle -Directory $Directory -Recurse:$Recurse
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
