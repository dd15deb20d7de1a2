# Cmdlet stand-ins: Get-CimInstance, Set-CimInstance, Invoke-CimMethod (the CimSession stand-ins are in
# Private/CimTargets.ps1). Each takes -ComputerName / -CimSession: one call per simulated host addressed.

function Get-CimInstance {
    <# Emulated: Get-CimInstance -ClassName X [-Namespace ns] [-ComputerName c[] | -CimSession s[]] |
       -InputObject $instance (re-read, on the host it came from). #>
    [CmdletBinding(DefaultParameterSetName = 'ClassName')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'ClassName')][string]$ClassName,
        [Parameter(ParameterSetName = 'ClassName')][string]$Namespace,
        [Parameter(Mandatory, ValueFromPipeline, ParameterSetName = 'InputObject')][psobject]$InputObject,
        [Alias('CN', 'ServerName')][string[]]$ComputerName,
        [object[]]$CimSession,
        [uint32]$OperationTimeoutSec
    )
    begin { . $script:CallerPreference }
    process {
        $defaultHost = $null
        if ($PSCmdlet.ParameterSetName -eq 'InputObject') { $defaultHost = Get-RdsInstanceHost $InputObject }
        foreach ($target in (Get-RdsCimTargets $PSCmdlet $ComputerName $CimSession $defaultHost)) {
            $r = $script:Isolated.InvokeReturnAsIs({
                    $className = $ClassName
                    $ns = $Namespace
                    if ($PSCmdlet.ParameterSetName -eq 'InputObject') {
                        $c = Resolve-RdsInputObject $InputObject
                        $className = $c.Name; $ns = $c.Namespace
                    }
                    Get-RdsInstancesCall $target.Host $className $ns 'Get-CimInstance' $null
                })
            if ($r.ok) { foreach ($i in $r.value) { Add-RdsPSComputerName $i $target.ComputerName } }
            else { Write-RdsSimError $PSCmdlet $r.err 'Get-CimInstance' $ClassName }
        }
    }
}

# One logged operation on a class of a host: the class resolved and named in the call log entry, the WBEM
# code of a failure recorded there; $Action gets the host state and the class.
function Invoke-RdsClassTransaction([string]$HostName, [string]$ClassName, [string]$Namespace, [hashtable]$Call, [scriptblock]$Action) {
    Invoke-RdsHostTransaction -TxHost $HostName -TxCall $Call -TxAction {
        param($S)
        try {
            $class = Resolve-RdsClass $ClassName $Namespace
            $Call.className = $class.Name
            & $Action $S $class
        }
        catch { if (Test-RdsSimException $_.Exception) { $Call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
    }
}

# One logged read of a class's instances on a host (Get-CimInstance, Get-WmiObject, the [wmi] casts).
function Get-RdsInstancesCall([string]$HostName, [string]$ClassName, [string]$Namespace, [string]$CmdletName, [string]$Dialect) {
    $call = @{ cmdlet = $CmdletName; className = $ClassName; method = $null; result = 0u }
    if ($Dialect) { $call.dialect = $Dialect }
    Invoke-RdsClassTransaction $HostName $ClassName $Namespace $call {
        param($S, $class)
        Assert-RdsClassAvailable $S $class
        if (Test-RdsLicensingClass $class) {
            if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($class.Name) failed" -Infra) }
            if ($S.faults.accessDenied -and $class.Name -ne 'Win32_TSLicenseServer') { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied' -Infra) }
        }
        , (Get-RdsInstances $S $class)
    }
}

function Set-CimInstance {
    <# Emulated: Set-CimInstance -InputObject $inst [-Property @{...}] [-PassThru] [-ComputerName | -CimSession];
       pipeline input supported. Without -Property, the writable properties changed on the InputObject are written. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)][psobject]$InputObject,
        [Parameter(Position = 1)][System.Collections.IDictionary]$Property,
        [switch]$PassThru,
        [Alias('CN', 'ServerName')][string[]]$ComputerName,
        [object[]]$CimSession,
        [uint32]$OperationTimeoutSec
    )
    begin { . $script:CallerPreference }
    process {
        $hasProperty = $PSBoundParameters.ContainsKey('Property') -and $null -ne $Property
        $setProperty = if ($hasProperty) { $Property } else { $null }
        foreach ($target in (Get-RdsCimTargets $PSCmdlet $ComputerName $CimSession (Get-RdsInstanceHost $InputObject))) {
            $r = $script:Isolated.InvokeReturnAsIs({
                    $class = Resolve-RdsInputObject $InputObject
                    Invoke-RdsSetInstance $target.Host $class $InputObject $setProperty 'Set-CimInstance' $null
                })
            if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Set-CimInstance' $InputObject }
            elseif ($PassThru) { Add-RdsPSComputerName $r.value $target.ComputerName }
        }
    }
}

function Invoke-CimMethod {
    <# Emulated: Invoke-CimMethod -ClassName X [-Namespace ns] -MethodName M [-Arguments @{}] (static) or
       Invoke-CimMethod -InputObject $inst -MethodName M [-Arguments @{}] (instance; pipeline supported);
       either with -ComputerName / -CimSession. #>
    [CmdletBinding(DefaultParameterSetName = 'ClassName')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'ClassName')][string]$ClassName,
        [Parameter(ParameterSetName = 'ClassName')][string]$Namespace,
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ParameterSetName = 'InputObject')][psobject]$InputObject,
        [Parameter(Position = 1)][System.Collections.IDictionary]$Arguments,
        [Parameter(Mandatory, Position = 2)][string]$MethodName,
        [Alias('CN', 'ServerName')][string[]]$ComputerName,
        [object[]]$CimSession,
        [uint32]$OperationTimeoutSec
    )
    begin { . $script:CallerPreference }
    process {
        $viaInstance = $PSCmdlet.ParameterSetName -eq 'InputObject'
        $defaultHost = $null
        if ($viaInstance) { $defaultHost = Get-RdsInstanceHost $InputObject }
        foreach ($target in (Get-RdsCimTargets $PSCmdlet $ComputerName $CimSession $defaultHost)) {
            $r = $script:Isolated.InvokeReturnAsIs({
                    $className = $ClassName
                    $ns = $Namespace
                    if ($viaInstance) { $c = Resolve-RdsInputObject $InputObject; $className = $c.Name; $ns = $c.Namespace }
                    # CimCmdlets builds the parameters on the client first: its ArgumentExceptions never reach the host.
                    $sent = ConvertTo-RdsSentArguments $Arguments $className $MethodName $viaInstance
                    $instance = $(if ($viaInstance) { $InputObject } else { $null })
                    Invoke-RdsMethodTransaction $target.Host $className $ns $MethodName $sent $viaInstance 'Invoke-CimMethod' $null $instance
                })
            if ($r.ok) { Add-RdsPSComputerName $r.value $target.ComputerName }
            else { Write-RdsSimError $PSCmdlet $r.err 'Invoke-CimMethod' $MethodName }
        }
    }
}

# One logged method call on a host (Invoke-CimMethod, Invoke-WmiMethod, the WMI adapter's methods).
function Invoke-RdsMethodTransaction([string]$HostName, [string]$ClassName, [string]$Namespace, [string]$MethodName, [System.Collections.IDictionary]$Sent, [bool]$ViaInstance, [string]$CmdletName, [string]$Dialect, [object]$Instance = $null) {
    $call = @{ cmdlet = $CmdletName; className = $ClassName; method = $MethodName; result = 0u }
    if ($Dialect) { $call.dialect = $Dialect }
    Invoke-RdsClassTransaction $HostName $ClassName $Namespace $call {
        param($S, $class)
        Invoke-RdsMethodCall $S $class $MethodName $Sent $ViaInstance $call $Instance
    }
}
