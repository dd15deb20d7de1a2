# The RDS: drive of the RemoteDesktopServices module, license server part: the item tree, and what
# reading and writing an item does. The cmdlet stand-ins that serve RDS: paths (Get-Item, Set-Item,
# Get-ChildItem, Test-Path) are in RdsDriveCmdlets.ps1; modules/RemoteDesktopServices exports them.
#
# The tree is built from the same emulated object model the WMI classes serve (Get-RdsInstances, the
# Win32_TSLicenseServer methods), inside one host transaction, so an RDS: write changes exactly the state
# a CIM or WMI call changes, and shows in the call log. Item names and shapes follow the public scripts
# that use the drive; Microsoft's page for the provider was not found (README.md, "The RDS: drive").

$script:RdsDriveContactFields = $script:ContactFields

# True when $Path is on the RDS: drive (any case, '\' or '/').
function Test-RdsDrivePath([string]$Path) {
    -not [string]::IsNullOrEmpty($Path) -and $Path.StartsWith('RDS:', [StringComparison]::OrdinalIgnoreCase)
}

# The path's segments below RDS:\ (empty array for the root).
function Split-RdsDrivePath([string]$Path) {
    , @($Path.Substring(4).Split([char[]]@('\', '/'), [StringSplitOptions]::RemoveEmptyEntries))
}

function New-RdsDriveNode([string]$Name, [string]$Type, [object]$Value, [object]$PermissibleValues) {
    @{ Name = $Name; Type = $Type; Value = $Value; PermissibleValues = $PermissibleValues; Children = $(if ($Type -eq 'Container') { [ordered]@{} } else { $null }) }
}

function Add-RdsDriveChild($Parent, $Node) { $Parent.Children[$Node.Name] = $Node; $Node }

# The whole RDS: tree of a host (small: a few dozen nodes). LicenseServer exists while the license
# server WMI classes are available (role installed, service running), as public scripts that test
# RDS:\LicenseServer after installing the role expect.
function Get-RdsDriveTree($S) {
    $root = New-RdsDriveNode '' 'Container' $null $null
    $lsClass = Resolve-RdsClass 'Win32_TSLicenseServer' 'root/cimv2'
    try { Assert-RdsClassAvailable $S $lsClass } catch { return $root }
    $ls = Add-RdsDriveChild $root (New-RdsDriveNode 'LicenseServer' 'Container' $null $null)
    $server = (Get-RdsInstances $S $lsClass)[0]
    $configuration = Add-RdsDriveChild $ls (New-RdsDriveNode 'Configuration' 'Container' $null $null)
    foreach ($field in $script:RdsDriveContactFields) { [void](Add-RdsDriveChild $configuration (New-RdsDriveNode $field 'String' $server.$field $null)) }
    # CurrentValue 1 = activated, 0 = not (the inverse of GetActivationStatus' out-parameter).
    $activated = 0
    if ((Invoke-LsGetActivationStatus $S @{}).ActivationStatus -eq 0) { $activated = 1 }
    [void](Add-RdsDriveChild $ls (New-RdsDriveNode 'ActivationStatus' 'Integer' $activated @(0, 1)))
    $packsNode = Add-RdsDriveChild $ls (New-RdsDriveNode 'LicenseKeyPacks' 'Container' $null $null)
    foreach ($pack in (Get-RdsInstances $S (Resolve-RdsClass 'Win32_TSLicenseKeyPack' 'root/cimv2'))) {
        $packNode = Add-RdsDriveChild $packsNode (New-RdsDriveNode ([string]$pack.KeyPackId) 'Container' $null $null)
        foreach ($p in @(
                @('KeyPackId', 'Integer', $pack.KeyPackId), @('Description', 'String', $pack.Description),
                @('KeyPackType', 'Integer', $pack.KeyPackType), @('ProductType', 'Integer', $pack.ProductType),
                @('ProductVersion', 'String', $pack.ProductVersion), @('TypeAndModel', 'String', $pack.TypeAndModel),
                @('TotalLicenses', 'Integer', $pack.TotalLicenses), @('IssuedLicensesCount', 'Integer', $pack.IssuedLicenses),
                @('AvailableLicenses', 'Integer', $pack.AvailableLicenses), @('ExpirationDate', 'String', $pack.ExpirationDate.ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture))
            )) { [void](Add-RdsDriveChild $packNode (New-RdsDriveNode $p[0] $p[1] $p[2] $null)) }
    }
    $root
}

# The nodes a path names, with their canonical paths: wildcards (*, ?, [..]) match per segment.
# A path that names nothing gives an empty list.
function Resolve-RdsDriveNodes($Root, [string[]]$Segments, [bool]$Literal) {
    $level = [System.Collections.Generic.List[object]]::new()
    $level.Add(@{ Node = $Root; Path = 'RDS:' })
    foreach ($segment in $Segments) {
        $next = [System.Collections.Generic.List[object]]::new()
        $wild = -not $Literal -and [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($segment)
        $pattern = if ($wild) { [System.Management.Automation.WildcardPattern]::new($segment, [System.Management.Automation.WildcardOptions]::IgnoreCase) } else { $null }
        foreach ($entry in $level) {
            if ($null -eq $entry.Node.Children) { continue }
            foreach ($name in $entry.Node.Children.Keys) {
                $hit = if ($wild) { $pattern.IsMatch($name) } else { [string]::Equals($name, $segment, [StringComparison]::OrdinalIgnoreCase) }
                if ($hit) { $next.Add(@{ Node = $entry.Node.Children[$name]; Path = "$($entry.Path)\$name" }) }
            }
        }
        $level = $next
    }
    , $level
}

# What Get-Item / Get-ChildItem return for a node: the provider's Name, Type, CurrentValue,
# PermissibleValues, plus the PS* properties providers add.
function ConvertTo-RdsDriveItem($Entry) {
    $node = $Entry.Node
    $path = $Entry.Path
    if ($path -eq 'RDS:') { $path = 'RDS:\' }
    $cut = $path.LastIndexOf('\')
    $o = [pscustomobject][ordered]@{
        Name              = $node.Name
        Type              = $node.Type
        CurrentValue      = $node.Value
        PermissibleValues = $node.PermissibleValues
        PSPath            = "RemoteDesktopServices::$path"
        PSParentPath      = $(if ($cut -gt 3) { 'RemoteDesktopServices::' + $path.Substring(0, $cut) } else { 'RemoteDesktopServices::RDS:\' })
        PSChildName       = $node.Name
        PSDrive           = 'RDS'
        PSProvider        = 'RemoteDesktopServices'
        PSIsContainer     = ($node.Type -eq 'Container')
    }
    $o.PSObject.TypeNames.Insert(0, 'RdsEmulator.RdsDriveItem')
    $o
}

# Reads the tree of the current host: one logged call (cmdlet name, no class: the drive reads several).
function Get-RdsDriveSnapshot([string]$CmdletName) {
    Invoke-RdsSimpleCall $CmdletName 'RDS:' { param($S) Get-RdsDriveTree $S }
}

# Set-Item on RDS:. Configuration\<field> writes the contact property as Set-CimInstance does;
# ActivationStatus runs the Win32_TSLicenseServer method the value and -Reason name; its failure is an
# error record whatever the host's failure style (the provider has no return value to carry it).
function Set-RdsDriveValue([string[]]$Segments, [object]$Value, [string]$ConnectionMethod, [object]$Reason, [bool]$HasReason) {
    $canonical = 'RDS:\' + ($Segments -join '\')
    $lsClass = Resolve-RdsClass 'Win32_TSLicenseServer' 'root/cimv2'
    $call = @{ cmdlet = 'Set-Item'; className = 'Win32_TSLicenseServer'; method = $null; result = 0u }
    $isConfiguration = $Segments.Count -eq 3 -and $Segments[0] -eq 'LicenseServer' -and $Segments[1] -eq 'Configuration'
    $isActivation = $Segments.Count -eq 2 -and $Segments[0] -eq 'LicenseServer' -and $Segments[1] -eq 'ActivationStatus'
    # Argument errors are found before anything is sent (no call-log line), as parameter validation is.
    $wanted = $null
    if ($isActivation) {
        $wanted = ConvertTo-RdsInt $Value 'Value' 0 1
        if (-not [string]::Equals($ConnectionMethod, 'AUTO', [StringComparison]::OrdinalIgnoreCase)) {
            throw [System.ArgumentException]::new("RdsEmulator: -ConnectionMethod '$ConnectionMethod' is not emulated on RDS:\LicenseServer\ActivationStatus (emulated: AUTO)")
        }
    }
    $hostName = Get-RdsCurrentHost
    # The path must name an item now (no log line: the write below logs the call).
    $exists = Invoke-RdsHostTransaction -TxHost $hostName -TxCall $null -TxAction { param($S) (Resolve-RdsDriveNodes (Get-RdsDriveTree $S) $Segments $true).Count -gt 0 }
    if (-not $exists) { throw [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$canonical' because it does not exist.") }
    if ($isConfiguration) {
        # The contact property, written by the code path behind Set-CimInstance and WMI's Put().
        [void](Invoke-RdsSetInstance $hostName $lsClass ([pscustomobject]@{}) @{ $Segments[2] = $Value } 'Set-Item' $null)
        return
    }
    if (-not $isActivation) {
        throw [System.Management.Automation.PSInvalidOperationException]::new("RdsEmulator: the RDS: item '$canonical' is read-only (writable: LicenseServer\Configuration\<field>, LicenseServer\ActivationStatus)")
    }
    Invoke-RdsHostTransaction -TxCall $call -TxHost $hostName -TxAction {
        param($S)
        try {
            $activated = [bool]$S.licenseServer.activated
            $sent = [ordered]@{}
            $method = $null
            if ($wanted -eq 0) { if ($activated) { $method = 'DeactivateServerAutomatic' } }
            elseif (-not $activated) { $method = 'ActivateServerAutomatic' }
            elseif ($HasReason -and [long]$Reason -ge 0 -and [long]$Reason -le 4) {
                $method = 'ReactivateServerAutomatic'
                $sent.Reason = @{ Value = [uint32]$Reason; SentType = $null }
            }
            # Value 1 on an activated server with Reason 5 (first activation), or 0 on one that is not
            # activated: nothing to do (the emulator's choice).
            if ($null -eq $method) { return }
            # The drive has no return value to carry a provider failure: the method runs in the exception
            # failure style, so its failure comes back as the error it raised (code and message).
            $style = $S.faults.failureStyle
            $S.faults.failureStyle = 'exception'
            try { [void](Invoke-RdsMethodCall $S $lsClass $method $sent $false $call) }
            finally { $S.faults.failureStyle = $style }
        }
        catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
    }
}

# An error a drive stand-in writes: WBEM failures as CimCmdlets-style records, the rest as the
# provider cmdlets' own (PathNotFound, InvalidArgument, InvalidOperation).
function Write-RdsDriveError($Cmdlet, [System.Management.Automation.ErrorRecord]$Record, [string]$CmdletName, [string]$Target) {
    $ex = $Record.Exception
    if (Test-RdsSimException $ex) { Write-RdsSimError $Cmdlet $Record $CmdletName $Target; return }
    $id, $category = switch ($ex.GetType().Name) {
        'ItemNotFoundException' { 'PathNotFound', 'ObjectNotFound' }
        'ArgumentException' { 'InvalidArgument', 'InvalidArgument' }
        'PSInvalidOperationException' { 'InvalidOperation', 'InvalidOperation' }
        default { $null, $null }
    }
    if ($null -eq $id) { throw $Record }
    Write-RdsCmdletError $Cmdlet $ex $id ([System.Management.Automation.ErrorCategory]$category) $Target
}
