# Which simulated hosts a CIM stand-in's -ComputerName / -CimSession address, the CimSession stand-ins'
# session table, and the error CimCmdlets give for a computer they cannot reach.

$script:CimSessions = [System.Collections.Generic.List[object]]::new()
$script:NextCimSessionId = 1

# What a CIM call to an unreachable computer reports: WinRM's message for a computer that does not answer
# (HRESULT 0x80338126), as a CimException (provider/emulator/README.md, "-ComputerName").
$script:WinRmUnreachableHResult = 0x80338126u
$script:WinRmUnreachableMessage = 'WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer. By default, the WinRM firewall exception for public profiles limits access to remote computers within the same local subnet. '

function Write-RdsCimUnreachableError($Cmdlet, [string]$ComputerName) {
    $ex = [Microsoft.Management.Infrastructure.CimException]::new($script:WinRmUnreachableMessage)
    $ex.Data['RdsSimHost'] = $ComputerName
    $id = 'HRESULT 0x{0:X8}' -f $script:WinRmUnreachableHResult
    Write-RdsCmdletError $Cmdlet $ex $id ([System.Management.Automation.ErrorCategory]::ConnectionError) $ComputerName
}

# The targets of one CIM stand-in call: a list of @{ Host = <simulated host>; ComputerName = <the name the
# caller gave, or $null for the local default> }. Names that address no simulated host get the WinRM error
# (non-terminating, one per name, as CimCmdlets write them) and are left out. $DefaultHost: the host when
# neither parameter is given (the current host, or the host an -InputObject instance came from).
function Get-RdsCimTargets($Cmdlet, [string[]]$ComputerName, [object[]]$CimSession, [string]$DefaultHost) {
    $targets = [System.Collections.Generic.List[object]]::new()
    if ($null -ne $CimSession -and $CimSession.Count -gt 0) {
        foreach ($session in $CimSession) {
            $entry = Get-RdsCimSessionEntry $session
            if ($null -eq $entry -or $entry.Closed) {
                # Emulator's choice: a removed session is refused like a disposed object.
                $ex = [System.ObjectDisposedException]::new('CimSession', 'The CimSession has been removed (Remove-CimSession).')
                Write-RdsCmdletError $Cmdlet $ex 'Microsoft.Management.Infrastructure.CimSession' ([System.Management.Automation.ErrorCategory]::InvalidOperation) $session
                continue
            }
            $targets.Add(@{ Host = $entry.Host; ComputerName = $entry.ComputerName })
        }
        return , $targets.ToArray()
    }
    if ($null -ne $ComputerName -and $ComputerName.Count -gt 0) {
        foreach ($name in $ComputerName) {
            # Isolated: the resolver's exception must not stay in $Error beside the error written.
            $resolved = $script:Isolated.InvokeReturnAsIs({ Resolve-RdsSimComputerName $name })
            if ($resolved.ok) { $targets.Add(@{ Host = $resolved.value; ComputerName = $name }); continue }
            if (-not (Test-RdsUnknownHostError $resolved.err.Exception)) { throw $resolved.err }
            Write-RdsCimUnreachableError $Cmdlet $name
        }
        return , $targets.ToArray()
    }
    if (-not $DefaultHost) { $DefaultHost = Get-RdsCurrentHost }
    , @(@{ Host = $DefaultHost; ComputerName = $null })
}

# The host an instance returned by a stand-in lives on: its CimSystemProperties.ServerName (or a WMI
# object's __SERVER) names it. An instance whose server is not a simulated host stays on the current host.
function Get-RdsInstanceHost([object]$InputObject) {
    $server = $null
    $sp = if ($null -ne $InputObject) { $InputObject.PSObject.Properties['CimSystemProperties'] } else { $null }
    if ($null -ne $sp -and $null -ne $sp.Value -and $null -ne $sp.Value.PSObject.Properties['ServerName']) { $server = [string]$sp.Value.ServerName }
    elseif ($null -ne $InputObject -and $null -ne $InputObject.PSObject.Properties['__SERVER']) { $server = [string]$InputObject.__SERVER }
    if (-not $server) { return Get-RdsCurrentHost }
    $resolved = $script:Isolated.InvokeReturnAsIs({ Resolve-RdsSimComputerName $server })
    if ($resolved.ok) { return $resolved.value }
    if (Test-RdsUnknownHostError $resolved.err.Exception) { return Get-RdsCurrentHost }
    throw $resolved.err
}

# Adds PSComputerName as CimCmdlets do for a call that named a computer (a local call without
# -ComputerName leaves instances as they were, so their shape does not change).
function Add-RdsPSComputerName([object]$Instance, [object]$ComputerName) {
    if ($null -eq $ComputerName -or $null -eq $Instance) { return $Instance }
    $ComputerName = [string]$ComputerName
    if ($null -ne $Instance.PSObject.Properties['PSComputerName']) { $Instance.PSComputerName = $ComputerName }
    else { $Instance | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $ComputerName }
    $Instance
}

function Get-RdsCimSessionEntry([object]$Session) {
    if ($null -eq $Session) { return $null }
    $idProp = $Session.PSObject.Properties['InstanceId']
    if ($null -eq $idProp) { return $null }
    foreach ($entry in $script:CimSessions) { if ($entry.InstanceId -eq $idProp.Value) { return $entry } }
    # Removed sessions are no longer listed: report them closed.
    @{ Closed = $true }
}

function New-RdsCimSessionObject([hashtable]$Entry) {
    $o = [pscustomobject][ordered]@{ Id = $Entry.Id; Name = $Entry.Name; InstanceId = $Entry.InstanceId; ComputerName = $Entry.ComputerName; Protocol = 'WSMAN' }
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimSession')
    $o
}

function New-CimSession {
    <# Emulated: New-CimSession [[-ComputerName] <string[]>] [-Name] [-Credential] [-Authentication]
       [-SessionOption] [-Port] [-SkipTestConnection]. One session per simulated host named; a name that
       addresses no simulated host gets the WinRM error (the real cmdlet tests the connection first). #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)][Alias('CN', 'ServerName')][string[]]$ComputerName,
        [string]$Name,
        [pscredential]$Credential,
        [string]$Authentication,
        [object]$SessionOption,
        [uint32]$Port,
        [uint32]$OperationTimeoutSec,
        [switch]$SkipTestConnection
    )
    begin { . $script:CallerPreference }
    process {
        $names = if ($null -ne $ComputerName -and $ComputerName.Count -gt 0) { $ComputerName } else { @('localhost') }
        foreach ($cn in $names) {
            $r = $script:Isolated.InvokeReturnAsIs({ Resolve-RdsSimComputerName $cn })
            if (-not $r.ok) {
                if (-not (Test-RdsUnknownHostError $r.err.Exception)) { throw $r.err }
                Write-RdsCimUnreachableError $PSCmdlet $cn
                continue
            }
            $id = $script:NextCimSessionId++
            $entry = @{ Id = $id; Name = $(if ($Name) { $Name } else { "CimSession$id" }); InstanceId = [guid]::NewGuid(); ComputerName = $cn; Host = $r.value; Closed = $false }
            $script:CimSessions.Add($entry)
            New-RdsCimSessionObject $entry
        }
    }
}

function Get-CimSession {
    <# Emulated: Get-CimSession [[-ComputerName] <string[]>] | -Id <uint32[]> | -Name <string[]>: the open sessions. #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string[]]$ComputerName, [uint32[]]$Id, [string[]]$Name)
    foreach ($entry in @($script:CimSessions)) {
        if ($ComputerName -and -not ($ComputerName | Where-Object { [string]::Equals($_, $entry.ComputerName, [StringComparison]::OrdinalIgnoreCase) })) { continue }
        if ($Id -and $Id -notcontains $entry.Id) { continue }
        if ($Name -and $Name -notcontains $entry.Name) { continue }
        New-RdsCimSessionObject $entry
    }
}

function Remove-CimSession {
    <# Emulated: Remove-CimSession [-CimSession] <CimSession[]> | -ComputerName | -Id | -Name: closes the sessions. #>
    [CmdletBinding(DefaultParameterSetName = 'CimSession')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ParameterSetName = 'CimSession')][object[]]$CimSession,
        [Parameter(Mandatory, ParameterSetName = 'ComputerName')][string[]]$ComputerName,
        [Parameter(Mandatory, ParameterSetName = 'Id')][uint32[]]$Id,
        [Parameter(Mandatory, ParameterSetName = 'Name')][string[]]$Name
    )
    process {
        foreach ($entry in @($script:CimSessions)) {
            $match = switch ($PSCmdlet.ParameterSetName) {
                'CimSession' { [bool]($CimSession | Where-Object { $null -ne $_.PSObject.Properties['InstanceId'] -and $_.InstanceId -eq $entry.InstanceId }) }
                'ComputerName' { [bool]($ComputerName | Where-Object { [string]::Equals($_, $entry.ComputerName, [StringComparison]::OrdinalIgnoreCase) }) }
                'Id' { $Id -contains $entry.Id }
                'Name' { $Name -contains $entry.Name }
            }
            if ($match) { $entry.Closed = $true; [void]$script:CimSessions.Remove($entry) }
        }
    }
}
