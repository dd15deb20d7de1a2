# Argument conversion: what CimCmdlets sends for -Arguments / -Property values, and what the emulated
# WMI side accepts. How CimCmdlets builds method parameters (PowerShell repository, CimCmdlets
# CimInvokeCimMethod.CreateParametersCollection; MMI CimConverter / CimProperty.ConvertToNativeLayer):
#  - -ClassName: the cmdlet has no method declaration, so each value goes out as
#    CimMethodParameter.Create(name, value, flags): its CIM type is inferred from the .NET type
#    (CimConverter: Int32 -> sint32, Int64 -> sint64, UInt16 -> uint16, UInt32 -> uint32, String -> string,
#    an array whose elements share one type -> that type's array). A value with no CIM type (a hashtable,
#    an empty or mixed object[]) is an ArgumentException before anything is sent.
#  - -InputObject: the declaration comes from the instance's class. A name it does not declare is an
#    ArgumentException "Can not find Parameter ..." before anything is sent; declared ones are converted
#    to the declared type on the client (System.Convert).

# CimConverter's .NET type -> CIM type table (scalar types; arrays get '[]').
$script:CimTypeOfDotNetType = @{
    [sbyte]    = 'sint8'
    [byte]     = 'uint8'
    [int16]    = 'sint16'
    [uint16]   = 'uint16'
    [int32]    = 'sint32'
    [uint32]   = 'uint32'
    [int64]    = 'sint64'
    [uint64]   = 'uint64'
    [single]   = 'real32'
    [double]   = 'real64'
    [bool]     = 'boolean'
    [string]   = 'string'
    [datetime] = 'datetime'
    [timespan] = 'datetime'
    [char]     = 'char16'
}

# A client-side refusal: CimCmdlets throws before the call leaves the machine, so it is never a WBEM code.
function New-RdsClientArgumentError([string]$Message) {
    $ex = [System.ArgumentException]::new($Message)
    $ex.Data['RdsSimClient'] = $true
    $ex
}

function Test-RdsClientArgumentError($Exception) { $Exception -is [System.ArgumentException] -and $Exception.Data.Contains('RdsSimClient') }

# The CIM type CimCmdlets infers for a value sent with -ClassName, or $null when it cannot infer one.
function Get-RdsInferredCimType([object]$Value) {
    if ($null -eq $Value) { return 'string' }
    $v = $Value.PSObject.BaseObject
    $scalar = $script:CimTypeOfDotNetType[$v.GetType()]
    if ($null -ne $scalar) { return $scalar }
    if ($v -isnot [System.Collections.IList]) { return $null }
    if ($v.GetType().IsArray -and $v.GetType().GetElementType() -ne [object]) {
        $element = $script:CimTypeOfDotNetType[$v.GetType().GetElementType()]
        if ($null -ne $element) { return "$element[]" }
        return $null
    }
    # An untyped list: its non-null elements must all have the same scalar type (an empty list has none).
    $types = [System.Collections.Generic.List[object]]::new()
    foreach ($e in $v) {
        if ($null -eq $e) { continue }
        $t = $script:CimTypeOfDotNetType[$e.PSObject.BaseObject.GetType()]
        if (-not $types.Contains($t)) { $types.Add($t) }
    }
    if ($types.Count -eq 1 -and $null -ne $types[0]) { return "$($types[0])[]" }
    $null
}

# The arguments as CimCmdlets sends them: name -> @{ Value; SentType } (SentType $null = converted to
# the declared type on the client, the -InputObject case). Throws the client-side ArgumentExceptions.
function ConvertTo-RdsSentArguments([System.Collections.IDictionary]$Arguments, [string]$ClassName, [string]$MethodName, [bool]$ViaInstance) {
    $sent = [ordered]@{}
    if ($null -eq $Arguments) { return $sent }
    $spec = $null
    if ($ViaInstance -and $script:Methods.ContainsKey($ClassName)) { $spec = $script:Methods[$ClassName][$MethodName.ToLowerInvariant()] }
    foreach ($key in $Arguments.Keys) {
        $name = [string]$key
        $value = $Arguments[$key]
        # A method the class does not declare gets no declaration either: its values go out typed by value and
        # WMI answers WBEM_E_INVALID_METHOD. Not-emulated methods keep their real (unmodelled) parameters.
        if ($null -ne $spec -and -not $spec.NotEmulated) {
            $declared = $false
            foreach ($p in $spec.In) { if ($p[0] -eq $name) { $declared = $true; break } }
            if (-not $declared) { throw (New-RdsClientArgumentError "Can not find Parameter '$name' in method '$MethodName' of class '$ClassName'.") }
            $sent[$name] = @{ Value = $value; SentType = $null }
            continue
        }
        $type = Get-RdsInferredCimType $value
        if ($null -eq $type) {
            throw (New-RdsClientArgumentError "Cannot infer the CIM type of the value of parameter '$name' ($($value.GetType().Name)): send a typed value, e.g. [uint32], [string] or [string[]].")
        }
        $sent[$name] = @{ Value = $value; SentType = $type }
    }
    $sent
}

# WMI's side of a -ClassName call: the CIM type that was sent must be the declared one. No coercion: a
# decimal string or an [int] for a uint32 parameter is a type mismatch (the emulator's choice, the
# strictest reading: what WMI does with a differently typed parameter is not documented).
function ConvertFrom-RdsSentCimValue([hashtable]$Sent, [string]$Type, [string]$Name) {
    $v = $Sent.Value
    if ($null -eq $v) { return $null }
    if ($Sent.SentType -ne $Type) {
        throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' is $Type, but $($Sent.SentType) was sent (a $($v.PSObject.BaseObject.GetType().Name)): cast it, e.g. [$(if ($Type -eq 'string[]') { 'string[]' } else { $Type })]" -Infra)
    }
    if ($Type -eq 'string[]') {
        $out = [string[]]::new($v.Count)
        for ($i = 0; $i -lt $v.Count; $i++) { if ($null -ne $v[$i]) { $out[$i] = [string]$v[$i].PSObject.BaseObject } }
        return , $out
    }
    $v.PSObject.BaseObject
}

# The declared-type conversion (-InputObject method arguments, Set-CimInstance -Property). CimCmdlets
# converts these on the client with System.Convert; the emulator answers WBEM codes instead and refuses
# booleans and fractions that Convert would accept (its choice: stricter, never more lenient).
function ConvertTo-RdsCimValue([object]$Value, [string]$Type, [string]$Name) {
    if ($null -eq $Value) { return $null }
    $v = $Value.PSObject.BaseObject
    switch ($Type) {
        'string' {
            if ($v -is [string]) { return $v }
            if ($v -is [char]) { return [string]$v }
            if ($v -isnot [bool] -and (Test-RdsIntegral $v)) { return [Convert]::ToString($v, [CultureInfo]::InvariantCulture) }
            throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects a string, got $($v.GetType().Name)" -Infra)
        }
        'uint32' {
            $n = [System.Numerics.BigInteger]::Zero
            if ($v -is [bool]) { throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects uint32, got Boolean" -Infra) }
            if ($v -is [string]) {
                if (-not [System.Numerics.BigInteger]::TryParse($v.Trim(), [System.Globalization.NumberStyles]::AllowLeadingSign, [CultureInfo]::InvariantCulture, [ref]$n)) {
                    throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects uint32, got a non-numeric string" -Infra)
                }
            }
            elseif (Test-RdsIntegral $v) { $n = [System.Numerics.BigInteger]::new([decimal]$v) }
            else { throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects uint32, got $($v.GetType().Name)" -Infra) }
            if ($n -lt 0 -or $n -gt [uint32]::MaxValue) {
                throw (New-RdsWmiError $script:WBEM_E_VALUE_OUT_OF_RANGE "parameter '$Name' is outside the uint32 range" -Infra)
            }
            return [uint32]$n
        }
        'boolean' {
            if ($v -is [bool]) { return $v }
            throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "'$Name' expects a boolean, got $($v.GetType().Name)" -Infra)
        }
        'string[]' {
            if ($v -is [string] -or $v -isnot [System.Collections.IList]) {
                throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "'$Name' expects string[] (an array), got $($v.GetType().Name)" -Infra)
            }
            $out = [string[]]::new($v.Count)
            for ($i = 0; $i -lt $v.Count; $i++) {
                $e = $v[$i]
                if ($null -eq $e) { $out[$i] = $null; continue }
                $e = $e.PSObject.BaseObject
                if ($e -is [string]) { $out[$i] = $e }
                elseif ($e -is [char]) { $out[$i] = [string]$e }
                else { throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "'$Name' expects string[], element $i is $($e.GetType().Name)" -Infra) }
            }
            return , $out
        }
    }
    throw "RdsEmulator internal error: unknown CIM type $Type"
}
