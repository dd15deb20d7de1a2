# Admin function: forget hosts and the Clearinghouse.

function Reset-RdsSim {
    <# Forget one host (state and call log) or, without -HostName, every host and the Clearinghouse. #>
    [CmdletBinding()]
    param([string]$HostName)
    $dir = Get-RdsStateDir
    $bases = if ($HostName) { , (Get-RdsHostBasePath $HostName) } else {
        [System.IO.Directory]::GetFiles([System.IO.Path]::Combine($dir, 'hosts'), '*.json') | ForEach-Object { $_.Substring(0, $_.Length - 5) }
    }
    foreach ($base in $bases) {
        $lock = Enter-RdsLock "$base.lock"
        try {
            foreach ($f in "$base.json", "$base.calls.jsonl") { if ([System.IO.File]::Exists($f)) { [System.IO.File]::Delete($f) } }
        }
        finally { $lock.Dispose() }
    }
    if (-not $HostName) {
        foreach ($f in [System.IO.Directory]::GetFiles([System.IO.Path]::Combine($dir, 'hosts'), '*.calls.jsonl')) { [System.IO.File]::Delete($f) }
        $lock = Enter-RdsLock ([System.IO.Path]::Combine($dir, 'clearinghouse.lock'))
        try {
            $ch = [System.IO.Path]::Combine($dir, 'clearinghouse.json')
            if ([System.IO.File]::Exists($ch)) { [System.IO.File]::Delete($ch) }
        }
        finally { $lock.Dispose() }
    }
}
