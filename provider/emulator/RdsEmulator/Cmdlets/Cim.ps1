# Cmdlet stand-ins: Get-CimInstance, Set-CimInstance, Invoke-CimMethod.

function Get-CimInstance {
    <# Emulated: Get-CimInstance -ClassName X [-Namespace ns] | -InputObject $instance (re-read). #>
    [CmdletBinding(DefaultParameterSetName = 'ClassName')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'ClassName')][string]$ClassName,
        [Parameter(ParameterSetName = 'ClassName')][string]$Namespace,
        [Parameter(Mandatory, ValueFromPipeline, ParameterSetName = 'InputObject')][psobject]$InputObject
    )
    begin { . $script:CallerPreference }
    process {
        $r = $script:Isolated.InvokeReturnAsIs({
                $hostName = Get-RdsCurrentHost
                $className = $ClassName
                $ns = $Namespace
                if ($PSCmdlet.ParameterSetName -eq 'InputObject') {
                    $c = Resolve-RdsInputObject $InputObject
                    $className = $c.Name; $ns = $c.Namespace
                }
                $call = @{ cmdlet = 'Get-CimInstance'; className = $className; method = $null; result = 0u }
                Invoke-RdsHostTransaction -TxHost $hostName -TxCall $call -TxAction {
                    param($S)
                    try {
                        $class = Resolve-RdsClass $className $ns
                        $call.className = $class.Name
                        Assert-RdsClassAvailable $S $class
                        if (Test-RdsLicensingClass $class) {
                            if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($class.Name) failed" -Infra) }
                            if ($S.faults.accessDenied -and $class.Name -ne 'Win32_TSLicenseServer') { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied' -Infra) }
                        }
                        , (Get-RdsInstances $S $class)
                    }
                    catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
                }
            })
        if ($r.ok) { foreach ($i in $r.value) { $i } }
        else { Write-RdsSimError $PSCmdlet $r.err 'Get-CimInstance' $ClassName }
    }
}

function Set-CimInstance {
    <# Emulated: Set-CimInstance -InputObject $inst [-Property @{...}] [-PassThru]; pipeline input supported.
       Without -Property, the writable properties changed on the InputObject are written. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)][psobject]$InputObject,
        [Parameter(Position = 1)][System.Collections.IDictionary]$Property,
        [switch]$PassThru
    )
    begin { . $script:CallerPreference }
    process {
        $hasProperty = $PSBoundParameters.ContainsKey('Property') -and $null -ne $Property
        $r = $script:Isolated.InvokeReturnAsIs({
                $hostName = Get-RdsCurrentHost
                $class = Resolve-RdsInputObject $InputObject
                $writable = $script:WritableProperties[$class.Name]
                $call = @{ cmdlet = 'Set-CimInstance'; className = $class.Name; method = $null; result = 0u; properties = @() }
                # The property names and values to write, in a canonical spelling.
                $changes = [ordered]@{}
                $onlyDifferent = $false
                if ($hasProperty) {
                    foreach ($key in $Property.Keys) {
                        $name = [string]$key
                        $canonical = $script:AllProperties[$class.Name] | Where-Object { $_ -eq $name } | Select-Object -First 1
                        $changes[$(if ($canonical) { $canonical } else { $name })] = $Property[$key]
                    }
                }
                elseif ($null -ne $writable) {
                    # No -Property: like CIM, write the writable properties whose local value was changed.
                    $onlyDifferent = $true
                    foreach ($name in $writable.Keys) {
                        $prop = $InputObject.PSObject.Properties[$name]
                        if ($null -ne $prop) { $changes[$name] = $prop.Value }
                    }
                }
                $instance = Invoke-RdsHostTransaction -TxHost $hostName -TxCall $call -TxAction {
                    param($S)
                    try {
                        Assert-RdsClassAvailable $S $class
                        if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($class.Name) failed" -Infra) }
                        if ($S.faults.accessDenied -and (Test-RdsLicensingClass $class)) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied' -Infra) }
                        if ($onlyDifferent) {
                            $current = (Get-RdsInstances $S $class)[0]
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
                            if ($script:AllProperties[$class.Name] -notcontains $name) {
                                throw (New-RdsWmiError $script:WBEM_E_NOT_FOUND "property '$name' not found on $($class.Name)" -Infra)
                            }
                            if ($null -eq $writable -or -not $writable.Contains($name)) {
                                throw (New-RdsWmiError $script:WBEM_E_READ_ONLY "property '$name' of $($class.Name) is read-only" -Infra)
                            }
                            $converted[$name] = ConvertTo-RdsCimValue $changes[$name] $writable[$name] $name
                        }
                        if ($class.Name -eq 'Win32_TSLicenseServer') {
                            foreach ($name in $converted.Keys) { $S.licenseServer.contact[$name] = ConvertTo-RdsStored $converted[$name] }
                        }
                        elseif ($class.Name -eq 'Win32_TSDeploymentLicensing') {
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
                        (Get-RdsInstances $S $class)[0]
                    }
                    catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
                }
                # Like CimCmdlets, the local object reflects what was written.
                foreach ($name in $changes.Keys) {
                    $prop = $InputObject.PSObject.Properties[$name]
                    if ($null -ne $prop -and $null -ne $instance.PSObject.Properties[$name]) { $prop.Value = $instance.$name }
                }
                $instance
            })
        if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Set-CimInstance' $InputObject }
        elseif ($PassThru) { $r.value }
    }
}

function Invoke-CimMethod {
    <# Emulated: Invoke-CimMethod -ClassName X [-Namespace ns] -MethodName M [-Arguments @{}] (static) or
       Invoke-CimMethod -InputObject $inst -MethodName M [-Arguments @{}] (instance; pipeline supported). #>
    [CmdletBinding(DefaultParameterSetName = 'ClassName')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'ClassName')][string]$ClassName,
        [Parameter(ParameterSetName = 'ClassName')][string]$Namespace,
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ParameterSetName = 'InputObject')][psobject]$InputObject,
        [Parameter(Position = 1)][System.Collections.IDictionary]$Arguments,
        [Parameter(Mandatory, Position = 2)][string]$MethodName
    )
    begin { . $script:CallerPreference }
    process {
        $viaInstance = $PSCmdlet.ParameterSetName -eq 'InputObject'
        $r = $script:Isolated.InvokeReturnAsIs({
                $hostName = Get-RdsCurrentHost
                $className = $ClassName
                $ns = $Namespace
                if ($viaInstance) { $c = Resolve-RdsInputObject $InputObject; $className = $c.Name; $ns = $c.Namespace }
                # CimCmdlets builds the parameters on the client first: its ArgumentExceptions never reach the host.
                $sent = ConvertTo-RdsSentArguments $Arguments $className $MethodName $viaInstance
                $call = @{ cmdlet = 'Invoke-CimMethod'; className = $className; method = $MethodName; result = 0u }
                Invoke-RdsHostTransaction -TxHost $hostName -TxCall $call -TxAction {
                    param($S)
                    try {
                        $class = Resolve-RdsClass $className $ns
                        $call.className = $class.Name
                        Invoke-RdsMethodCall $S $class $MethodName $sent $viaInstance $call
                    }
                    catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
                }
            })
        if ($r.ok) { $r.value }
        else { Write-RdsSimError $PSCmdlet $r.err 'Invoke-CimMethod' $MethodName }
    }
}
