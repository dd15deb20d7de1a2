# The legacy WMI object model (System.Management as Windows PowerShell 5.1 adapts it) over the same
# emulated classes, state and call log as the CIM stand-ins: instances (Get-WmiObject, [wmi]) with
# their instance methods, Put() and Get(); classes ([wmiclass]) with their static methods; method
# results with ReturnValue and the out-parameters. The [wmi] / [wmiclass] type accelerators point at the
# two classes below while the emulator is loaded (pwsh 7 has none).

# The key property of each keyed class (a class not listed is a singleton: path "Class=@").
$script:WmiKeyProperties = @{
    'Win32_TSLicenseKeyPack'       = 'KeyPackId'
    'Win32_TSIssuedLicense'        = 'LicenseId'
    'Win32_TerminalServiceSetting' = 'ServerName'
    'Win32_ComputerSystem'         = 'Name'
}

# [wmi]"<path>": one instance, read when the cast runs (as PowerShell's conversion binds the object).
class RdsSimWmiObject {
    hidden RdsSimWmiObject() { }
    RdsSimWmiObject([string]$Path) { Initialize-RdsWmiFromPath $this $Path $false }
}

# [wmiclass]"<path>": a class, with its static methods.
class RdsSimWmiClass {
    hidden RdsSimWmiClass() { }
    RdsSimWmiClass([string]$Path) { Initialize-RdsWmiFromPath $this $Path $true }
}

# A WMI object path: [\\server\][namespace:]Class[=@ | .Key=value]. Namespace separators \ or /.
$script:WmiPathPattern = [regex]::new('^(?:\\\\(?<server>[^\\/]+)[\\/])?(?:(?<ns>[^:]+):)?(?<class>[A-Za-z_][A-Za-z0-9_]*)(?:(?<singleton>=@)|\.(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>.+))?\z')

# $Expect: 'class' ([wmiclass]), 'instance' ([wmi]) or 'any' (Invoke-WmiMethod -Path).
function ConvertFrom-RdsWmiPath([string]$Path, [string]$Expect = 'any') {
    $m = $script:WmiPathPattern.Match($(if ($null -eq $Path) { '' } else { $Path.Trim() }))
    if (-not $m.Success) { throw (New-RdsWmiError $script:WBEM_E_INVALID_OBJECT_PATH "'$Path' is not a WMI object path" -Infra) }
    $isInstance = $m.Groups['singleton'].Success -or $m.Groups['key'].Success
    if ($Expect -eq 'class' -and $isInstance) { throw (New-RdsWmiError $script:WBEM_E_INVALID_OBJECT_PATH "[wmiclass] needs a class path, not an instance path: '$Path'" -Infra) }
    if ($Expect -eq 'instance' -and -not $isInstance) { throw (New-RdsWmiError $script:WBEM_E_INVALID_OBJECT_PATH "[wmi] needs an instance path (Class=@ or Class.Key=value): '$Path'" -Infra) }
    $value = $null
    if ($m.Groups['value'].Success) {
        $value = $m.Groups['value'].Value
        if ($value.Length -ge 2 -and $value.StartsWith('"') -and $value.EndsWith('"')) { $value = $value.Substring(1, $value.Length - 2).Replace('\"', '"').Replace('\\', '\') }
    }
    @{
        Server    = $(if ($m.Groups['server'].Success) { $m.Groups['server'].Value } else { $null })
        Namespace = $(if ($m.Groups['ns'].Success) { $m.Groups['ns'].Value } else { 'root\cimv2' })
        ClassName = $m.Groups['class'].Value
        Instance  = $isInstance
        Key       = $(if ($m.Groups['key'].Success) { $m.Groups['key'].Value } else { $null })
        KeyValue  = $value
    }
}

# The computers a WMI cmdlet call makes one pass for: each -ComputerName, else $null (the -InputObject's
# own computer, or the local one).
function Get-RdsWmiCallComputers([string]$ParameterSetName, [string[]]$ComputerName) {
    if ($ParameterSetName -ne 'object' -and $null -ne $ComputerName -and $ComputerName.Count -gt 0) { return , [object[]]$ComputerName }
    return , [object[]]@($null)
}

# What a WMI cmdlet call addresses: -Class / -Namespace on the pass's computer, a -Path, or an
# -InputObject (its __CLASS, __NAMESPACE and __SERVER; an instance when its __GENUS is 2).
function Get-RdsWmiCallTarget([string]$ParameterSetName, [string]$Class, [string]$Namespace, $Computer, [string]$Path, $InputObject) {
    $target = @{ ClassName = $Class; Namespace = $(if ($Namespace) { $Namespace } else { 'root\cimv2' }); Server = $Computer; Instance = $false }
    if ($ParameterSetName -eq 'path') {
        $p = ConvertFrom-RdsWmiPath $Path
        $target.ClassName = $p.ClassName; $target.Namespace = $p.Namespace; $target.Instance = $p.Instance
        if ($p.Server) { $target.Server = $p.Server }
    } elseif ($ParameterSetName -eq 'object') {
        $target.ClassName = [string]$InputObject.__CLASS; $target.Namespace = [string]$InputObject.__NAMESPACE
        $target.Server = [string]$InputObject.__SERVER; $target.Instance = [int]$InputObject.__GENUS -eq 2
    }
    $target
}

# The host a WMI path or -ComputerName names; an unknown computer is DCOM's "RPC server is unavailable".
function Resolve-RdsWmiHost([string]$ComputerName) {
    try { Resolve-RdsSimComputerName $ComputerName }
    catch {
        if (Test-RdsUnknownHostError $_.Exception) { throw (New-RdsRpcUnavailableException $ComputerName) }
        throw
    }
}

function Get-RdsWmiNamespaceText([string]$Namespace) { $Namespace.Replace('/', '\') }

function Get-RdsWmiRelPath([string]$ClassName, [object]$Instance) {
    $key = $script:WmiKeyProperties[$ClassName]
    if (-not $key) { return "$ClassName=@" }
    $v = $Instance.$key
    if ($v -is [string]) { return '{0}.{1}="{2}"' -f $ClassName, $key, $v.Replace('\', '\\').Replace('"', '\"') }
    '{0}.{1}={2}' -f $ClassName, $key, $v
}

# Adds the WMI system properties (__CLASS, __PATH ...) and PSComputerName to $Target.
function Add-RdsWmiSystemProperties([object]$Target, [string]$ClassName, [string]$Namespace, [string]$Server, [string]$RelPath, [int]$Genus, [int]$PropertyCount) {
    $ns = Get-RdsWmiNamespaceText $Namespace
    $path = if ($RelPath) { "\\$Server\$ns`:$RelPath" } else { "\\$Server\$ns`:$ClassName" }
    $system = [ordered]@{
        __GENUS = $Genus; __CLASS = $ClassName; __SUPERCLASS = $null; __DYNASTY = $ClassName
        __RELPATH = $(if ($RelPath) { $RelPath } else { $ClassName }); __PROPERTY_COUNT = $PropertyCount; __DERIVATION = [string[]]@()
        __SERVER = $Server; __NAMESPACE = $ns; __PATH = $path
    }
    foreach ($k in $system.Keys) { Add-Member -InputObject $Target -NotePropertyName $k -NotePropertyValue $system[$k] }
}

# A CIM-shaped instance (Get-RdsInstances) as a WMI object: DATETIME values as DMTF strings (Get-WmiObject
# does not convert them), the system properties, instance methods, Put() and Get().
function ConvertTo-RdsWmiObject([object]$Instance, [object]$Target) {
    if ($null -eq $Target) { $Target = [RdsSimWmiObject]::new() }
    $sp = $Instance.CimSystemProperties
    $props = @($Instance.PSObject.Properties | Where-Object { $_.Name -notin 'CimSystemProperties', 'PSComputerName' })
    Add-RdsWmiSystemProperties $Target $sp.ClassName $sp.Namespace $sp.ServerName (Get-RdsWmiRelPath $sp.ClassName $Instance) 2 $props.Count
    foreach ($p in $props) {
        $v = $p.Value
        if ($v -is [datetime]) { $v = ConvertTo-RdsDmtf $v }
        Add-Member -InputObject $Target -NotePropertyName $p.Name -NotePropertyValue $v
    }
    Add-Member -InputObject $Target -NotePropertyName PSComputerName -NotePropertyValue $sp.ServerName
    Add-RdsWmiMethods $Target $sp.ClassName $false
    Add-Member -InputObject $Target -MemberType ScriptMethod -Name Put -Value (New-RdsWmiMemberBody 'Put')
    Add-Member -InputObject $Target -MemberType ScriptMethod -Name Get -Value (New-RdsWmiMemberBody 'Get')
    $Target.PSObject.TypeNames.Insert(0, 'System.Management.ManagementObject')
    $Target.PSObject.TypeNames.Insert(0, "System.Management.ManagementObject#$(Get-RdsWmiNamespaceText $sp.Namespace)\$($sp.ClassName)")
    $Target
}

# A WMI class object ([wmiclass]): system properties, static methods, GetInstances().
function Initialize-RdsWmiClassObject([object]$Target, [hashtable]$Class, [string]$Server) {
    Add-RdsWmiSystemProperties $Target $Class.Name $Class.Namespace $Server $null 1 @($script:AllProperties[$Class.Name]).Count
    Add-RdsWmiMethods $Target $Class.Name $true
    Add-Member -InputObject $Target -MemberType ScriptMethod -Name GetInstances -Value (New-RdsWmiMemberBody 'GetInstances')
    $Target.PSObject.TypeNames.Insert(0, 'System.Management.ManagementClass')
    $Target.PSObject.TypeNames.Insert(0, "System.Management.ManagementClass#$(Get-RdsWmiNamespaceText $Class.Namespace)\$($Class.Name)")
    $Target
}

# The adapter exposes a class's static methods on the class object and its other methods on instances.
function Add-RdsWmiMethods([object]$Target, [string]$ClassName, [bool]$Static) {
    $table = $script:Methods[$ClassName]
    if ($null -eq $table) { return }
    foreach ($spec in $table.Values) {
        if ([bool]$spec.Static -ne $Static) { continue }
        Add-Member -InputObject $Target -MemberType ScriptMethod -Name $spec.Name -Value (New-RdsWmiMethodBody $spec.Name)
    }
}

# ScriptMethod bodies. A closure cannot see the module's private functions, but a module function's
# script block keeps the module's scope wherever it is invoked, so the closure holds that block.
function New-RdsWmiMethodBody([string]$WmiMethodName) {
    $wmiInvoker = ${function:Invoke-RdsWmiAdapterMethod}
    { & $wmiInvoker $this $WmiMethodName $args }.GetNewClosure()
}

function New-RdsWmiMemberBody([string]$WmiMemberName) {
    $wmiInvoker = ${function:Invoke-RdsWmiObjectMember}
    { & $wmiInvoker $this $WmiMemberName $args }.GetNewClosure()
}

# The class, host and namespace a WMI object (instance or class) stands for.
function Get-RdsWmiObjectTarget([object]$WmiObject) {
    $class = Resolve-RdsClass ([string]$WmiObject.__CLASS) ([string]$WmiObject.__NAMESPACE)
    @{ Class = $class; Host = (Resolve-RdsWmiHost ([string]$WmiObject.__SERVER)); Server = [string]$WmiObject.__SERVER }
}

# The WMI adapter's conversion of a method argument to the parameter's declared type (PowerShell's
# ManagementObjectAdapter: LanguagePrimitives conversion to the .NET type of the CIM type, so "4" becomes
# [uint32]4 and "RDS01" becomes @("RDS01")). A value it cannot convert is PowerShell's MethodException.
$script:DotNetTypeOfCimType = @{ 'uint32' = [uint32]; 'string' = [string]; 'string[]' = [string[]]; 'boolean' = [bool] }

function ConvertTo-RdsWmiArgument([object]$Value, [string]$CimType, [string]$ParameterName, [string]$MethodName) {
    if ($null -eq $Value) { return @{ Value = $null; SentType = $CimType } }
    try { $converted = [System.Management.Automation.LanguagePrimitives]::ConvertTo($Value, $script:DotNetTypeOfCimType[$CimType], [CultureInfo]::InvariantCulture) }
    catch {
        $msg = 'Cannot convert argument "{0}", with value: "{1}", for "{2}" to type "{3}": "{4}"' -f $ParameterName, $Value, $MethodName, $script:DotNetTypeOfCimType[$CimType].FullName, $_.Exception.InnerException.Message
        throw [System.Management.Automation.MethodException]::new($msg)
    }
    @{ Value = $converted; SentType = $CimType }
}

# The adapter's arguments in declaration order (the MOF's ID qualifier) as sent arguments; more
# arguments than parameters is PowerShell's "Cannot find an overload" MethodException.
function ConvertTo-RdsWmiSentArguments([hashtable]$Spec, [object[]]$Arguments, [bool]$Alphabetical) {
    $sent = [ordered]@{}
    $params = @($Spec.In)
    if ($Alphabetical) { $params = @($params | Sort-Object -Property @{ Expression = { $_[0].ToLowerInvariant() } }) }
    if ($null -eq $Arguments) { $Arguments = @() }
    if ($Arguments.Count -gt $params.Count) {
        throw [System.Management.Automation.MethodException]::new(('Cannot find an overload for "{0}" and the argument count: "{1}".' -f $Spec.Name, $Arguments.Count))
    }
    for ($i = 0; $i -lt $Arguments.Count; $i++) {
        $p = $params[$i]
        $sent[$p[0]] = ConvertTo-RdsWmiArgument $Arguments[$i] $p[1] $p[0] $Spec.Name
    }
    $sent
}

# The out-parameters object of a WMI method (class __PARAMETERS): ReturnValue and the out-parameters.
function ConvertTo-RdsWmiMethodResult([object]$CimResult, [string]$Server, [string]$Namespace) {
    $props = @($CimResult.PSObject.Properties | Where-Object { $_.Name -ne 'PSComputerName' })
    $o = [pscustomobject]@{}
    Add-RdsWmiSystemProperties $o '__PARAMETERS' $Namespace $Server $null 2 $props.Count
    foreach ($p in ($props | Sort-Object Name)) { Add-Member -InputObject $o -NotePropertyName $p.Name -NotePropertyValue $p.Value }
    Add-Member -InputObject $o -NotePropertyName PSComputerName -NotePropertyValue $Server
    $o.PSObject.TypeNames.Insert(0, 'System.Management.ManagementBaseObject')
    $o.PSObject.TypeNames.Insert(0, 'System.Management.ManagementBaseObject#\__PARAMETERS')
    $o
}

# $obj.Method(args) / $class.Method(args). A nonzero ReturnValue comes back in the result (no error);
# an infrastructure failure throws the ManagementException, which PowerShell reports as
# 'Exception calling "<Method>" with "<n>" argument(s): ...'.
function Invoke-RdsWmiAdapterMethod([object]$WmiObject, [string]$MethodName, [object[]]$Arguments) {
    $t = Get-RdsWmiObjectTarget $WmiObject
    $spec = $script:Methods[$t.Class.Name][$MethodName.ToLowerInvariant()]
    $sent = ConvertTo-RdsWmiSentArguments $spec $Arguments $false
    $viaInstance = [int]$WmiObject.__GENUS -eq 2
    $instance = $(if ($viaInstance) { $WmiObject } else { $null })
    $r = $script:Isolated.InvokeReturnAsIs({ Invoke-RdsMethodTransaction $t.Host $t.Class.Name $t.Class.Namespace $MethodName $sent $viaInstance 'ManagementObject.InvokeMethod' 'wmi' $instance })
    if (-not $r.ok) { throw (ConvertTo-RdsWmiException $r.err) }
    ConvertTo-RdsWmiMethodResult $r.value $t.Server $t.Class.Namespace
}

# Put(), Get(), GetInstances() on WMI objects.
function Invoke-RdsWmiObjectMember([object]$WmiObject, [string]$MemberName, [object[]]$Arguments) {
    $t = Get-RdsWmiObjectTarget $WmiObject
    switch ($MemberName) {
        'Put' {
            $r = $script:Isolated.InvokeReturnAsIs({ Invoke-RdsSetInstance $t.Host $t.Class $WmiObject $null 'ManagementObject.Put' 'wmi' })
            if (-not $r.ok) { throw (ConvertTo-RdsWmiException $r.err) }
            # ManagementObject.Put returns the instance's ManagementPath.
            $ns = Get-RdsWmiNamespaceText $t.Class.Namespace
            $rel = [string]$WmiObject.__RELPATH
            return [pscustomobject][ordered]@{ Path = "\\$($t.Server)\$ns`:$rel"; RelativePath = $rel; Server = $t.Server; NamespacePath = $ns; ClassName = $t.Class.Name; IsClass = $false; IsInstance = $true; IsSingleton = $rel.EndsWith('=@') }
        }
        'Get' {
            $fresh = Get-RdsWmiInstanceByPath $t.Host $t.Class ([string]$WmiObject.__RELPATH)
            foreach ($p in $fresh.PSObject.Properties) {
                $mine = $WmiObject.PSObject.Properties[$p.Name]
                if ($null -ne $mine -and $p.MemberType -eq 'NoteProperty') { $mine.Value = $p.Value }
            }
            return
        }
        'GetInstances' { return (Get-RdsWmiInstances $t.Host $t.Class.Name $t.Class.Namespace 'ManagementClass.GetInstances') }
    }
}

function ConvertTo-RdsWmiException([System.Management.Automation.ErrorRecord]$Record) {
    $ex = $Record.Exception
    if (Test-RdsSimException $ex) { return ConvertTo-RdsManagementException $ex }
    $ex
}

# The instances of a class on a host, as WMI objects; the read is logged like Get-CimInstance's.
function Get-RdsWmiInstances([string]$HostName, [string]$ClassName, [string]$Namespace, [string]$CmdletName) {
    foreach ($i in (Get-RdsInstancesCall $HostName $ClassName ($Namespace.Replace('\', '/')) $CmdletName 'wmi')) { ConvertTo-RdsWmiObject $i $null }
}

# The one instance a path names ("...Class=@" or "...Class.Key=value"); WBEM_E_NOT_FOUND if none.
function Get-RdsWmiInstanceByPath([string]$HostName, [hashtable]$Class, [string]$RelPath, [object]$Target) {
    $p = ConvertFrom-RdsWmiPath $RelPath
    $all = @(Get-RdsInstancesCall $HostName $Class.Name $Class.Namespace '[wmi]' 'wmi')
    $key = $script:WmiKeyProperties[$Class.Name]
    $found = $null
    if ($null -eq $p.Key) {
        # "=@": the singleton path. For a keyed class with one instance per host (Win32_TerminalServiceSetting)
        # the emulator also accepts it (public scripts use it; emulator's choice).
        if ($all.Count -eq 1) { $found = $all[0] }
    }
    elseif ($p.Key -eq $key) {
        foreach ($i in $all) { if ([string]::Equals([string]$i.$key, $p.KeyValue, [StringComparison]::OrdinalIgnoreCase)) { $found = $i; break } }
    }
    if ($null -eq $found) { throw (New-RdsWmiError $script:WBEM_E_NOT_FOUND "no instance $RelPath" -Infra) }
    ConvertTo-RdsWmiObject $found $Target
}

# The cast constructors: [wmi]"<path>" binds one instance, [wmiclass]"<path>" a class. Failures throw
# the ManagementException / COMException, which PowerShell reports as 'Cannot convert value ...'.
function Initialize-RdsWmiFromPath([object]$Target, [string]$Path, [bool]$AsClass) {
    $r = $script:Isolated.InvokeReturnAsIs({
            $p = ConvertFrom-RdsWmiPath $Path $(if ($AsClass) { 'class' } else { 'instance' })
            $hostName = Resolve-RdsWmiHost $p.Server
            $class = Resolve-RdsClass $p.ClassName ($p.Namespace.Replace('\', '/'))
            if ($AsClass) {
                # Binding a class reads its definition: the class must exist on that host now.
                $server = Invoke-RdsHostTransaction -TxHost $hostName -TxCall $null -TxAction { param($S) Assert-RdsClassAvailable $S $class; Get-RdsComputerName $S }
                [void](Initialize-RdsWmiClassObject $Target $class $server)
            }
            else {
                [void](Get-RdsWmiInstanceByPath $hostName $class $Path $Target)
            }
        })
    if (-not $r.ok) { throw (ConvertTo-RdsWmiException $r.err) }
}

# The [wmi] and [wmiclass] accelerators, only while the emulator is loaded; whatever they named before
# (Windows PowerShell's System.Management types) is put back when the module is removed.
$script:TypeAccelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
$script:PreviousAccelerators = @{}
foreach ($wmiAccel in @(@('wmi', [RdsSimWmiObject]), @('wmiclass', [RdsSimWmiClass]))) {
    $existing = $script:TypeAccelerators::Get[$wmiAccel[0]]
    # A type of an earlier load of this module (Import-Module -Force) is replaced, never restored.
    if ($null -ne $existing -and $existing.Name -notlike 'RdsSimWmi*') { $script:PreviousAccelerators[$wmiAccel[0]] = $existing }
    if ($null -ne $existing) { [void]$script:TypeAccelerators::Remove($wmiAccel[0]) }
    $script:TypeAccelerators::Add($wmiAccel[0], $wmiAccel[1])
}
Remove-Variable wmiAccel, existing
$script:PreviousOnRemove = $ExecutionContext.SessionState.Module.OnRemove
$ExecutionContext.SessionState.Module.OnRemove = {
    foreach ($name in 'wmi', 'wmiclass') {
        [void]$script:TypeAccelerators::Remove($name)
        if ($script:PreviousAccelerators.ContainsKey($name)) { $script:TypeAccelerators::Add($name, $script:PreviousAccelerators[$name]) }
    }
    if ($null -ne $script:PreviousOnRemove) { & $script:PreviousOnRemove @args }
}
