# Admin function: the log of emulated calls made on a host.

function Get-RdsSimCallLog {
    <# The emulated calls made on a host, oldest first: at (UTC), pid, cmdlet, className, method, result
       (0 or the unsigned WBEM code), and for Set-CimInstance the property names. Never argument values. #>
    [CmdletBinding()]
    param([string]$HostName)
    $h = Resolve-RdsAdminHost $HostName
    $base = Get-RdsHostBasePath $h
    $path = "$base.calls.jsonl"
    $rows = [System.Collections.Generic.List[object]]::new()
    # Read under the host lock so a line being appended by another process is never seen half written.
    $lines = $null
    $lock = Enter-RdsLock "$base.lock"
    try { if ([System.IO.File]::Exists($path)) { $lines = [System.IO.File]::ReadAllLines($path, $script:Utf8NoBom) } }
    finally { $lock.Dispose() }
    if ($null -ne $lines) {
        $seq = 0
        foreach ($line in $lines) {
            if ($line.Length -eq 0) { continue }
            $e = ConvertFrom-Json -InputObject $line -DateKind String
            $seq++
            $e | Add-Member -NotePropertyName seq -NotePropertyValue $seq
            $rows.Add($e)
        }
    }
    $rows
}
