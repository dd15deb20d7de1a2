# Which state directory and which host "we are on" in this pwsh session.

$script:Context = @{ StateDir = $null; HostName = $null }

function Set-RdsEmulatorContext {
    <# Select the state directory and the host "we are on" for the cmdlet functions in this session. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string]$StateDir,
        [string]$HostName
    )
    $base = (Get-Location -PSProvider FileSystem).ProviderPath
    $full = [System.IO.Path]::GetFullPath($StateDir, $base)
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($full, 'hosts'))
    $script:Context.StateDir = $full
    if ($PSBoundParameters.ContainsKey('HostName')) {
        Assert-RdsHostName $HostName
        $script:Context.HostName = $HostName
    }
}

function Get-RdsEmulatorContext {
    [CmdletBinding()] param()
    [pscustomobject]@{ StateDir = (Get-RdsStateDir); HostName = $script:Context.HostName }
}

function Get-RdsStateDir {
    if ($script:Context.StateDir) { return $script:Context.StateDir }
    $dir = if ($env:RDS_SIM_STATE_DIR) { $env:RDS_SIM_STATE_DIR } else { [System.IO.Path]::Combine((Get-Location -PSProvider FileSystem).ProviderPath, '.rds-sim') }
    $full = [System.IO.Path]::GetFullPath($dir, (Get-Location -PSProvider FileSystem).ProviderPath)
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($full, 'hosts'))
    $script:Context.StateDir = $full
    $full
}

function Get-RdsCurrentHost {
    if ($script:Context.HostName) { return $script:Context.HostName }
    if ($env:RDS_SIM_HOST) { return $env:RDS_SIM_HOST }
    throw [System.InvalidOperationException]::new('RdsEmulator: no host selected; call Set-RdsEmulatorContext -StateDir <dir> -HostName <name> first')
}

function Assert-RdsHostName([string]$HostName) {
    if ([string]::IsNullOrWhiteSpace($HostName)) { throw [System.ArgumentException]::new('RdsEmulator: the host name must not be empty') }
    if ($script:Utf8NoBom.GetByteCount($HostName) -gt 100) { throw [System.ArgumentException]::new('RdsEmulator: the host name must be at most 100 bytes of UTF-8') }
}
