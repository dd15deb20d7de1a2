# Stand-ins for Get-Item, Set-Item, Get-ChildItem and Test-Path that serve RDS: paths (RdsDrive.ps1) and
# hand every other path to the real cmdlet unchanged. They are not exported by RdsEmulator:
# modules/RemoteDesktopServices exports them under the cmdlet names, so the drive exists only after
# `Import-Module RemoteDesktopServices`, as on Windows, and scripts that never import it meet the real
# cmdlets. (A real PSProvider would need C# compiled at import; README.md, "Windows modules by name", says why not.)

# Common parameters the pass-through handles itself: the real cmdlet's errors come back as data and are
# written by the stand-in, so the caller's -ErrorAction / -ErrorVariable apply to them once.
$script:RdsPassThroughOwnParameters = @('ErrorAction', 'ErrorVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable', 'WarningVariable', 'InformationVariable')

# The real cmdlet's parameters: the bound ones minus the RDS:-only ones and the path, which the caller sets.
function Get-RdsPassThroughParameters([hashtable]$Bound, [string[]]$Drop) {
    $splat = @{}
    foreach ($k in $Bound.Keys) { if ($k -notin $Drop -and $k -notin $script:RdsPassThroughOwnParameters) { $splat[$k] = $Bound[$k] } }
    $splat
}

# Runs the real cmdlet in the CALLER's session state, not the emulator's: a module function's scope
# chain is module -> global, so `Test-Path variable:x` or `Set-Item variable:x` called from here would
# miss (or write) the caller's local variables. -SameScope runs it in the caller's current scope (Set-Item
# must write there) and removes the one variable it needs; otherwise a child scope of it. Output comes
# back whole; errors are written by the stand-in (and taken out of $Error first, so there is one record).
$script:RdsCallerChildScopeRunner = [scriptblock]::Create('param($__rdsSimCall) try { & { param($c) $a = $c.Args; $e = $null; $o = & $c.Command @a -ErrorAction SilentlyContinue -ErrorVariable e; @{ Output = @($o); Errors = @($e) } } $__rdsSimCall } finally { Remove-Variable __rdsSimCall -ErrorAction Ignore }')
$script:RdsCallerSameScopeRunner = [scriptblock]::Create('param($__rdsSimCall) try { $__rdsSimErrors = $null; $__rdsSimArgs = $__rdsSimCall.Args; & $__rdsSimCall.Command @__rdsSimArgs -ErrorAction SilentlyContinue -ErrorVariable __rdsSimErrors; $__rdsSimCall.Errors = @($__rdsSimErrors) } finally { Remove-Variable __rdsSimCall, __rdsSimErrors, __rdsSimArgs -ErrorAction Ignore }')

function Invoke-RdsInCallerScope($Cmdlet, [string]$CommandName, [hashtable]$Splat, [switch]$SameScope) {
    $call = @{ Command = $CommandName; Args = $Splat; Errors = @() }
    $runner = if ($SameScope) { $script:RdsCallerSameScopeRunner } else { $script:RdsCallerChildScopeRunner }
    try { $result = $Cmdlet.SessionState.InvokeCommand.InvokeScript($Cmdlet.SessionState, $runner, @($call)) }
    catch {
        # A terminating error of the real cmdlet (parameter binding, a bad argument) stays terminating, as itself.
        $inner = $_.Exception.InnerException
        if ($inner -is [System.Management.Automation.IContainsErrorRecord]) { $Cmdlet.ThrowTerminatingError($inner.ErrorRecord) }
        throw
    }
    $errors = if ($SameScope) { $call.Errors } else { $result[0].Errors }
    foreach ($e in $errors) { if ($global:Error.Count -gt 0 -and [object]::ReferenceEquals($global:Error[0], $e)) { $global:Error.RemoveAt(0) } }
    if ($SameScope) { $result } else { $result[0].Output }
    foreach ($e in $errors) { $Cmdlet.WriteError($e) }
}

# A path outside RDS: goes, with the other parameters as they were bound, to the real cmdlet $CommandName
# (Microsoft.PowerShell.Management) in the caller's session state.
function Invoke-RdsRealPathCmdlet($Cmdlet, [hashtable]$Bound, [string]$PathText, [bool]$Literal, [string]$CommandName, [switch]$SameScope) {
    $splat = Get-RdsPassThroughParameters $Bound @('Path', 'LiteralPath')
    if ($Literal) { $splat.LiteralPath = $PathText } else { $splat.Path = $PathText }
    Invoke-RdsInCallerScope $Cmdlet "Microsoft.PowerShell.Management\$CommandName" $splat -SameScope:$SameScope
}

# An RDS:-only parameter on another path: the parameter-binding error the real cmdlet gives for a
# dynamic parameter its provider does not have.
function Stop-RdsDriveOnlyParameter($Cmdlet, [string]$Name) {
    $ex = [System.Management.Automation.ParameterBindingException]::new("A parameter cannot be found that matches parameter name '$Name'.")
    $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($ex, 'NamedParameterNotFound', 'InvalidArgument', $Name))
}

# The providers' record for a path that names nothing.
function Write-RdsDrivePathNotFound($Cmdlet, [string]$Path) {
    $ex = [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$Path' because it does not exist.")
    Write-RdsCmdletError $Cmdlet $ex 'PathNotFound' ([System.Management.Automation.ErrorCategory]::ObjectNotFound) $Path
}

# Accepts an item's PSPath ("RemoteDesktopServices::RDS:\...") as well as "RDS:\...".
function ConvertTo-RdsDrivePathText([string]$Path) {
    if ($null -ne $Path -and $Path.StartsWith('RemoteDesktopServices::', [StringComparison]::OrdinalIgnoreCase)) { return $Path.Substring(23) }
    $Path
}

function Get-RdsDriveItemCommand {
    <# Get-Item: RDS: paths (wildcards per segment unless -LiteralPath); other paths go to the real cmdlet. #>
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Path', ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(Mandatory, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName)][Alias('PSPath', 'LP')][string[]]$LiteralPath,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude, [switch]$Force,
        [Parameter(ValueFromPipelineByPropertyName)][pscredential]$Credential,
        [string[]]$Stream
    )
    begin { . $script:CallerPreference }
    process {
        $literal = $PSCmdlet.ParameterSetName -eq 'LiteralPath'
        foreach ($p in $(if ($literal) { $LiteralPath } else { $Path })) {
            $p = ConvertTo-RdsDrivePathText $p
            if (-not (Test-RdsDrivePath $p)) {
                Invoke-RdsRealPathCmdlet $PSCmdlet $PSBoundParameters $p $literal 'Get-Item'
                continue
            }
            $r = $script:Isolated.InvokeReturnAsIs({ , (Resolve-RdsDriveNodes (Get-RdsDriveSnapshot 'Get-Item') (Split-RdsDrivePath $p) $literal) })
            if (-not $r.ok) { Write-RdsDriveError $PSCmdlet $r.err 'Get-Item' $p; continue }
            if ($r.value.Count -eq 0) {
                Write-RdsDrivePathNotFound $PSCmdlet $p
                continue
            }
            foreach ($entry in $r.value) { ConvertTo-RdsDriveItem $entry }
        }
    }
}

function Get-RdsDriveChildItemCommand {
    <# Get-ChildItem: a container's children (-Recurse: all below it), a leaf itself, a wildcard path its
       matches; -Name gives names. Other paths (and no path) go to the real cmdlet. #>
    [CmdletBinding(DefaultParameterSetName = 'Items')]
    param(
        [Parameter(Position = 0, ParameterSetName = 'Items', ValueFromPipeline, ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(Mandatory, ParameterSetName = 'LiteralItems', ValueFromPipelineByPropertyName)][Alias('PSPath', 'LP')][string[]]$LiteralPath,
        [Parameter(Position = 1)][string]$Filter, [string[]]$Include, [string[]]$Exclude,
        [Alias('s', 'r')][switch]$Recurse, [uint32]$Depth, [switch]$Force, [switch]$Name,
        [object]$Attributes, [switch]$FollowSymlink,
        [Alias('ad', 'd')][switch]$Directory, [Alias('af')][switch]$File, [Alias('ah', 'h')][switch]$Hidden,
        [Alias('ar')][switch]$ReadOnly, [Alias('as')][switch]$System
    )
    begin { . $script:CallerPreference }
    process {
        $literal = $PSCmdlet.ParameterSetName -eq 'LiteralItems'
        $paths = if ($literal) { $LiteralPath } else { $Path }
        $rdsPaths = @($paths | Where-Object { Test-RdsDrivePath (ConvertTo-RdsDrivePathText $_) })
        if ($null -eq $paths -or $rdsPaths.Count -eq 0) {
            Invoke-RdsInCallerScope $PSCmdlet 'Microsoft.PowerShell.Management\Get-ChildItem' (Get-RdsPassThroughParameters $PSBoundParameters @())
            return
        }
        foreach ($p in $paths) {
            $p = ConvertTo-RdsDrivePathText $p
            if (-not (Test-RdsDrivePath $p)) {
                Invoke-RdsRealPathCmdlet $PSCmdlet $PSBoundParameters $p $literal 'Get-ChildItem'
                continue
            }
            $segments = Split-RdsDrivePath $p
            $r = $script:Isolated.InvokeReturnAsIs({ , (Resolve-RdsDriveNodes (Get-RdsDriveSnapshot 'Get-ChildItem') $segments $literal) })
            if (-not $r.ok) { Write-RdsDriveError $PSCmdlet $r.err 'Get-ChildItem' $p; continue }
            if ($r.value.Count -eq 0) {
                Write-RdsDrivePathNotFound $PSCmdlet $p
                continue
            }
            $wildLast = $segments.Count -gt 0 -and -not $literal -and [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($segments[-1])
            $listed = [System.Collections.Generic.List[object]]::new()
            foreach ($entry in $r.value) {
                if ($wildLast -or $null -eq $entry.Node.Children) { $listed.Add(@{ Entry = $entry; Relative = $entry.Node.Name }); continue }
                Add-RdsDriveDescendants $listed $entry '' $(if ($Recurse) { [int]$(if ($PSBoundParameters.ContainsKey('Depth')) { $Depth + 1 } else { [int]::MaxValue }) } else { 1 })
            }
            foreach ($item in $listed) {
                $n = $item.Entry.Node.Name
                if ($Filter -and -not ($n -like $Filter)) { continue }
                if ($Include -and -not ($Include | Where-Object { $n -like $_ })) { continue }
                if ($Exclude -and ($Exclude | Where-Object { $n -like $_ })) { continue }
                if ($Name) { $item.Relative } else { ConvertTo-RdsDriveItem $item.Entry }
            }
        }
    }
}

# A container's children, depth-first, down to $Levels levels, with paths relative to the listed one.
function Add-RdsDriveDescendants($List, $Entry, [string]$Prefix, [int]$Levels) {
    if ($Levels -le 0 -or $null -eq $Entry.Node.Children) { return }
    foreach ($childName in $Entry.Node.Children.Keys) {
        $child = @{ Node = $Entry.Node.Children[$childName]; Path = "$($Entry.Path)\$childName" }
        $relative = if ($Prefix) { "$Prefix\$childName" } else { $childName }
        $List.Add(@{ Entry = $child; Relative = $relative })
        Add-RdsDriveDescendants $List $child $relative ($Levels - 1)
    }
}

function Test-RdsDrivePathCommand {
    <# Test-Path: whether an RDS: path names an item ([-PathType Any|Container|Leaf]); other paths go to the
       real cmdlet. #>
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Path', ValueFromPipeline, ValueFromPipelineByPropertyName)][AllowNull()][AllowEmptyCollection()][AllowEmptyString()][string[]]$Path,
        [Parameter(Mandatory, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName)][Alias('PSPath', 'LP')][AllowNull()][AllowEmptyCollection()][AllowEmptyString()][string[]]$LiteralPath,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude,
        [Alias('Type')][Microsoft.PowerShell.Commands.TestPathType]$PathType = 'Any',
        [switch]$IsValid,
        [Parameter(ValueFromPipelineByPropertyName)][pscredential]$Credential,
        [datetime]$OlderThan, [datetime]$NewerThan
    )
    begin { . $script:CallerPreference }
    process {
        $literal = $PSCmdlet.ParameterSetName -eq 'LiteralPath'
        foreach ($p in $(if ($literal) { $LiteralPath } else { $Path })) {
            $p = ConvertTo-RdsDrivePathText $p
            if (-not (Test-RdsDrivePath $p)) {
                Invoke-RdsRealPathCmdlet $PSCmdlet $PSBoundParameters $p $literal 'Test-Path'
                continue
            }
            if ($IsValid) { $true; continue }
            $r = $script:Isolated.InvokeReturnAsIs({ , (Resolve-RdsDriveNodes (Get-RdsDriveSnapshot 'Test-Path') (Split-RdsDrivePath $p) $literal) })
            if (-not $r.ok) { Write-RdsDriveError $PSCmdlet $r.err 'Test-Path' $p; $false; continue }
            $hits = @($r.value | Where-Object {
                    $PathType -eq 'Any' -or ($PathType -eq 'Container') -eq ($null -ne $_.Node.Children)
                })
            $hits.Count -gt 0
        }
    }
}

function Set-RdsDriveItemCommand {
    <# Set-Item: RDS:\LicenseServer\Configuration\<field> -Value <string>;
       RDS:\LicenseServer\ActivationStatus -Value 1|0 -ConnectionMethod AUTO [-Reason <0..5>]. Other paths go
       to the real cmdlet (-ConnectionMethod / -Reason there are the parameter-binding error they are on
       Windows outside RDS:). #>
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Path', ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(Mandatory, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName)][Alias('PSPath', 'LP')][string[]]$LiteralPath,
        [Parameter(Position = 1, ValueFromPipeline, ValueFromPipelineByPropertyName)][AllowNull()][AllowEmptyString()][object]$Value,
        [switch]$Force, [switch]$PassThru,
        [string]$Filter, [string[]]$Include, [string[]]$Exclude,
        [Parameter(ValueFromPipelineByPropertyName)][pscredential]$Credential,
        [string]$ConnectionMethod,
        [object]$Reason
    )
    begin { . $script:CallerPreference }
    process {
        $literal = $PSCmdlet.ParameterSetName -eq 'LiteralPath'
        foreach ($p in $(if ($literal) { $LiteralPath } else { $Path })) {
            $p = ConvertTo-RdsDrivePathText $p
            if (-not (Test-RdsDrivePath $p)) {
                foreach ($only in 'ConnectionMethod', 'Reason') { if ($PSBoundParameters.ContainsKey($only)) { Stop-RdsDriveOnlyParameter $PSCmdlet $only } }
                Invoke-RdsRealPathCmdlet $PSCmdlet $PSBoundParameters $p $literal 'Set-Item' -SameScope
                continue
            }
            if (-not $PSCmdlet.ShouldProcess($p, 'Set Item')) { continue }
            $segments = Split-RdsDrivePath $p
            $hasReason = $PSBoundParameters.ContainsKey('Reason')
            $method = if ($PSBoundParameters.ContainsKey('ConnectionMethod')) { $ConnectionMethod } else { 'AUTO' }
            $r = $script:Isolated.InvokeReturnAsIs({ Set-RdsDriveValue $segments $Value $method $Reason $hasReason })
            if (-not $r.ok) { Write-RdsDriveError $PSCmdlet $r.err 'Set-Item' $p; continue }
            if ($PassThru) {
                $read = $script:Isolated.InvokeReturnAsIs({ , (Resolve-RdsDriveNodes (Get-RdsDriveSnapshot 'Get-Item') $segments $true) })
                if ($read.ok) { foreach ($entry in $read.value) { ConvertTo-RdsDriveItem $entry } }
            }
        }
    }
}

# The stand-ins under the names RemoteDesktopServices exports (its .psm1 reads this table).
$script:RdsDriveCommands = [ordered]@{
    'Get-Item'      = 'Get-RdsDriveItemCommand'
    'Get-ChildItem' = 'Get-RdsDriveChildItemCommand'
    'Test-Path'     = 'Test-RdsDrivePathCommand'
    'Set-Item'      = 'Set-RdsDriveItemCommand'
}
