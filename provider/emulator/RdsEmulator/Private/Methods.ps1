# The WMI method table (filled by the Classes/ files) and the dispatch of one method call: parameter
# checks, CIM conversion, and a provider failure as a ReturnValue or an error (the host's failureStyle).

# Method table: class -> lower-case method name -> spec. In = ordered [name, CIM type]; Out = ordered
# [name, CIM type]. NotEmulated = the real class has the method but the emulator does not model it
# (answers WBEM_E_NOT_SUPPORTED). Impl = the function that does the work.
function New-RdsMethodSpec([string]$Name, [bool]$Static, [object[]]$In, [object[]]$Out, [string]$Impl, [switch]$NotEmulated) {
    @{ Name = $Name; Static = $Static; In = $In; Out = $Out; Impl = $Impl; NotEmulated = [bool]$NotEmulated }
}
$script:Methods = @{
    'Win32_TSLicenseServer'        = @{}
    'Win32_TSLicenseKeyPack'       = @{}
    'Win32_TSIssuedLicense'        = @{}
    'Win32_TerminalServiceSetting' = @{}
    'Win32_TSDeploymentLicensing'  = @{}
    'Win32_OperatingSystem'        = @{}
    'Win32_ComputerSystem'         = @{}
}
function Register-RdsMethod([string]$Class, [hashtable]$Spec) { $script:Methods[$Class][$Spec.Name.ToLowerInvariant()] = $Spec }

function New-RdsMethodResult([string]$ClassName, [hashtable]$Spec, [uint32]$ReturnValue, [hashtable]$Out) {
    $p = [ordered]@{ ReturnValue = $ReturnValue }
    foreach ($o in $Spec.Out) {
        $name = $o[0]
        # Plain assignment: an if-expression would unroll a one-element string[] into a string.
        $p[$name] = $null
        if ($null -ne $Out -and $Out.ContainsKey($name)) { $p[$name] = $Out[$name] }
    }
    $r = [pscustomobject]$p
    $r.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimMethodResult')
    $r.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimMethodResult#$ClassName#$($Spec.Name)")
    $r
}

# $Sent: the arguments as CimCmdlets sent them (ConvertTo-RdsSentArguments in CimArguments.ps1).
# The instance an instance method was called on, while its implementation runs (Get-RdsCalledInstance).
$script:CalledInstance = $null

# $Instance: the instance of an instance method (Invoke-CimMethod -InputObject, a WMI object's method), else $null.
function Invoke-RdsMethodCall($S, [hashtable]$Class, [string]$MethodName, [System.Collections.IDictionary]$Sent, [bool]$ViaInstance, [hashtable]$Call, [object]$Instance = $null) {
    Assert-RdsClassAvailable $S $Class
    $spec = $script:Methods[$Class.Name][$MethodName.ToLowerInvariant()]
    if ($null -eq $spec) { throw (New-RdsWmiError $script:WBEM_E_INVALID_METHOD "Method '$MethodName' not found on class $($Class.Name)" -Infra) }
    $Call.method = $spec.Name
    if (-not $spec.Static -and -not $ViaInstance) {
        throw (New-RdsWmiError $script:WBEM_E_INVALID_METHOD "$($Class.Name).$($spec.Name) is not a static method; call it on the instance (Invoke-CimMethod -InputObject)" -Infra)
    }
    $style = [string]$S.faults.failureStyle
    try {
        if (Test-RdsLicensingClass $Class) {
            if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($Class.Name) failed") }
            if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied (the caller is not a local administrator)') }
        }
        if ($spec.NotEmulated) {
            throw (New-RdsWmiError $script:WBEM_E_NOT_SUPPORTED "$($Class.Name).$($spec.Name) is not emulated")
        }
        # Parameter names are checked (case-insensitively) against the MOF. Values typed by CimCmdlets
        # (-ClassName) must carry the declared CIM type; declared-type values (-InputObject) are converted.
        $in = @{}
        if ($null -ne $Sent) {
            foreach ($key in $Sent.Keys) {
                $name = [string]$key
                $decl = $null
                foreach ($p in $spec.In) { if ($p[0] -eq $name) { $decl = $p; break } }
                if ($null -eq $decl) {
                    throw (New-RdsWmiError $script:WBEM_E_INVALID_METHOD_PARAMETERS "$($Class.Name).$($spec.Name) has no parameter '$name'" -Infra)
                }
                $arg = $Sent[$key]
                # Plain assignments: an if-expression would unroll a one-element string[] into a string.
                if ($null -eq $arg.SentType) { $in[$decl[0]] = ConvertTo-RdsCimValue $arg.Value $decl[1] $decl[0] }
                else { $in[$decl[0]] = ConvertFrom-RdsSentCimValue $arg $decl[1] $decl[0] }
            }
        }
        foreach ($p in $spec.In) {
            if (-not $in.ContainsKey($p[0]) -or $null -eq $in[$p[0]]) {
                throw (New-RdsWmiError $script:WBEM_E_INVALID_PARAMETER "$($Class.Name).$($spec.Name) requires parameter '$($p[0])'")
            }
        }
        $previousInstance = $script:CalledInstance
        $script:CalledInstance = $Instance
        try { $out = & $spec.Impl $S $in }
        finally { $script:CalledInstance = $previousInstance }
        if ($out -isnot [hashtable]) { throw "RdsEmulator internal error: $($spec.Name) returned $($out.GetType().Name)" }
        $Call.result = 0u
        return (New-RdsMethodResult $Class.Name $spec 0 $out)
    }
    catch {
        $ex = $_.Exception
        if (-not (Test-RdsSimException $ex) -or $ex.Data['RdsSimInfra'] -or $style -eq 'exception') { throw }
        $code = [uint32]$ex.Data['RdsSimCode']
        $Call.result = $code
        return (New-RdsMethodResult $Class.Name $spec $code $null)
    }
}

function Stop-RdsMethod([uint32]$Code, [string]$Message) { throw (New-RdsWmiError $Code $Message) }

# The instance the running instance method was called on (both dialects), or $null for a static method.
function Get-RdsCalledInstance { $script:CalledInstance }
