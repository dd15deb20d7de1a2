# Writing properties of an emulated instance: the one code path behind Set-CimInstance, the WMI
# ManagementObject.Put() and Set-WmiInstance, so both dialects validate and store alike.

# Writes $Property (a dictionary; $null = the writable properties whose value on $InputObject differs
# from the host's, as CIM and WMI Put do) to $Class on $HostName. Logs one call as $CmdletName. Returns
# the instance as stored; copies the stored values back onto $InputObject, as the real clients do.
function Invoke-RdsSetInstance([string]$HostName, [hashtable]$Class, [psobject]$InputObject, [System.Collections.IDictionary]$Property, [string]$CmdletName, [string]$Dialect) {
    $writable = $script:WritableProperties[$Class.Name]
    $call = @{ cmdlet = $CmdletName; className = $Class.Name; method = $null; result = 0u; properties = @() }
    if ($Dialect) { $call.dialect = $Dialect }
    # The property names and values to write, in a canonical spelling.
    $changes = [ordered]@{}
    $onlyDifferent = $false
    if ($null -ne $Property) {
        foreach ($key in $Property.Keys) {
            $name = [string]$key
            $canonical = $script:AllProperties[$Class.Name] | Where-Object { $_ -eq $name } | Select-Object -First 1
            $changes[$(if ($canonical) { $canonical } else { $name })] = $Property[$key]
        }
    }
    elseif ($null -ne $writable) {
        $onlyDifferent = $true
        foreach ($name in $writable.Keys) {
            $prop = $InputObject.PSObject.Properties[$name]
            if ($null -ne $prop) { $changes[$name] = $prop.Value }
        }
    }
    $instance = Invoke-RdsHostTransaction -TxHost $HostName -TxCall $call -TxAction {
        param($S)
        try {
            Assert-RdsClassAvailable $S $Class
            if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($Class.Name) failed" -Infra) }
            if ($S.faults.accessDenied -and (Test-RdsLicensingClass $Class)) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied' -Infra) }
            if ($onlyDifferent) {
                $current = (Get-RdsInstances $S $Class)[0]
                foreach ($name in @($changes.Keys)) {
                    $a = $changes[$name]; $b = $current.$name
                    $same = if ($a -is [System.Collections.IList] -or $b -is [System.Collections.IList]) { (@($a) -join "`0") -ceq (@($b) -join "`0") -and @($a).Count -eq @($b).Count } else { ($null -eq $a) -eq ($null -eq $b) -and [string]$a -ceq [string]$b }
                    if ($same) { $changes.Remove($name) }
                }
            }
            $call.properties = @($changes.Keys)
            # Validate everything first, then apply.
            $converted = [ordered]@{}
            foreach ($name in $changes.Keys) {
                if ($script:AllProperties[$Class.Name] -notcontains $name) {
                    throw (New-RdsWmiError $script:WBEM_E_NOT_FOUND "property '$name' not found on $($Class.Name)" -Infra)
                }
                if ($null -eq $writable -or -not $writable.Contains($name)) {
                    throw (New-RdsWmiError $script:WBEM_E_READ_ONLY "property '$name' of $($Class.Name) is read-only" -Infra)
                }
                $converted[$name] = ConvertTo-RdsCimValue $changes[$name] $writable[$name] $name
            }
            if ($Class.Name -eq 'Win32_TSLicenseServer') {
                foreach ($name in $converted.Keys) { $S.licenseServer.contact[$name] = ConvertTo-RdsStored $converted[$name] }
            }
            elseif ($Class.Name -eq 'Win32_TSDeploymentLicensing') {
                if ($converted.Contains('LicensingType') -and $null -ne $converted.LicensingType -and [int]$converted.LicensingType -notin 2, 4, 5) {
                    throw (New-RdsWmiError $script:WBEM_E_INVALID_PARAMETER 'LicensingType must be 2 (Per Device), 4 (Per User) or 5 (Not configured)' -Infra)
                }
                if ($converted.Contains('LicenseServers') -and $null -ne $converted.LicenseServers -and ($converted.LicenseServers | Where-Object { [string]::IsNullOrWhiteSpace($_) })) {
                    throw (New-RdsWmiError $script:WBEM_E_INVALID_PARAMETER 'LicenseServers must not contain empty names' -Infra)
                }
                if ($converted.Contains('LicensingType')) { $S.deployment.licensingType = $(if ($null -eq $converted.LicensingType) { 5 } else { [int]$converted.LicensingType }) }
                if ($converted.Contains('LicenseServers')) { $S.deployment.licenseServers = @(@($converted.LicenseServers) | Where-Object { $null -ne $_ } | ForEach-Object { ConvertTo-RdsStored $_ }) }
                if ($converted.Contains('UseCentralLicensingSettings')) { $S.deployment.useCentralLicensingSettings = [bool]$converted.UseCentralLicensingSettings }
            }
            (Get-RdsInstances $S $Class)[0]
        }
        catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
    }
    # Like the real clients, the local object reflects what was written.
    foreach ($name in $changes.Keys) {
        $prop = $InputObject.PSObject.Properties[$name]
        if ($null -ne $prop -and $null -ne $instance.PSObject.Properties[$name]) { $prop.Value = $instance.$name }
    }
    $instance
}
