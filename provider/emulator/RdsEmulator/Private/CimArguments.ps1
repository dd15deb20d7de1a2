# Argument conversion: what CIM does with -Arguments / -Property values before the provider sees them.

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
