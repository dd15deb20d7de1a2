# Cmdlet stand-ins of the legacy WMI dialect (Windows PowerShell 5.1): Get-WmiObject, Invoke-WmiMethod,
# Set-WmiInstance. They read and change the same emulated state as the CIM stand-ins, through the same
# method table and call log (entries marked dialect 'wmi'). Objects: Private/WmiObjects.ps1.

function Get-WmiObject {
    <# Emulated: Get-WmiObject [-Class] X [-Namespace ns] [-Filter f] [-Property p] [-ComputerName c[]] |
       -List [-Namespace ns] | -Query "SELECT * FROM X [WHERE ...]". #>
    [CmdletBinding(DefaultParameterSetName = 'query')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'query')][Parameter(Position = 1, ParameterSetName = 'list')][Alias('ClassName')][string]$Class,
        [Parameter(Position = 1, ParameterSetName = 'query')][string[]]$Property,
        [Parameter(ParameterSetName = 'query')][string]$Filter,
        [Parameter(Mandatory, ParameterSetName = 'list')][switch]$List,
        [Parameter(Mandatory, ParameterSetName = 'WQLQuery')][string]$Query,
        [string]$Namespace,
        [Alias('Cn')][string[]]$ComputerName,
        [pscredential]$Credential,
        [System.Management.Automation.PSObject]$Authentication,
        [System.Management.Automation.PSObject]$Impersonation,
        [switch]$EnableAllPrivileges,
        [switch]$Amended,
        [switch]$DirectRead,
        [switch]$AsJob
    )
    begin { . $script:CallerPreference }
    process {
        $names = if ($null -ne $ComputerName -and $ComputerName.Count -gt 0) { $ComputerName } else { @('.') }
        foreach ($cn in $names) {
            $r = $script:Isolated.InvokeReturnAsIs({
                    $hostName = Resolve-RdsWmiHost $cn
                    $ns = if ($Namespace) { $Namespace } else { 'root\cimv2' }
                    if ($List) { return , @(Get-RdsWmiClassList $hostName $ns $Class) }
                    $className = $Class
                    $where = $Filter
                    if ($PSCmdlet.ParameterSetName -eq 'WQLQuery') {
                        $q = ConvertFrom-RdsWql $Query
                        $className = $q.ClassName; $where = $q.Where
                    }
                    $objects = @(Get-RdsWmiInstances $hostName $className $ns 'Get-WmiObject')
                    if ($where) { $objects = @($objects | Where-Object { Test-RdsWqlWhere $_ $where }) }
                    , $objects
                })
            if ($r.ok) { foreach ($o in $r.value) { $o } }
            else { Write-RdsWmiCmdletError $PSCmdlet $r.err 'GetWMI' $(if ($Query) { (ConvertFrom-RdsWqlOrNull $Query) } else { $Class }) }
        }
    }
}

function Invoke-WmiMethod {
    <# Emulated: Invoke-WmiMethod [-Class] X [-Namespace ns] [-Name] M [-ArgumentList a[]] [-ComputerName c[]] |
       -Path p -Name M | -InputObject $wmiObject -Name M. -ArgumentList is positional in the order of the
       method's in-parameters as GetMethodParameters() lists them: alphabetical (not the MOF order). #>
    [CmdletBinding(DefaultParameterSetName = 'class')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'class')][string]$Class,
        [Parameter(Mandatory, ParameterSetName = 'path')][string]$Path,
        [Parameter(Mandatory, ValueFromPipeline, ParameterSetName = 'object')][psobject]$InputObject,
        [Parameter(Mandatory, Position = 1)][string]$Name,
        [Parameter(Position = 2)][Alias('Args')][object[]]$ArgumentList,
        [string]$Namespace,
        [Alias('Cn')][string[]]$ComputerName,
        [pscredential]$Credential,
        [System.Management.Automation.PSObject]$Authentication,
        [System.Management.Automation.PSObject]$Impersonation,
        [switch]$EnableAllPrivileges,
        [switch]$AsJob
    )
    begin { . $script:CallerPreference }
    process {
        foreach ($cn in (Get-RdsWmiCallComputers $PSCmdlet.ParameterSetName $ComputerName)) {
            $r = $script:Isolated.InvokeReturnAsIs({
                    $t = Get-RdsWmiCallTarget $PSCmdlet.ParameterSetName $Class $Namespace $cn $Path $InputObject
                    $viaInstance = $t.Instance
                    $hostName = Resolve-RdsWmiHost $t.Server
                    $c = Resolve-RdsClass $t.ClassName ($t.Namespace.Replace('\', '/'))
                    $instance = $null
                    if ($viaInstance -and $PSCmdlet.ParameterSetName -eq 'object') { $instance = $InputObject }
                    # An instance path binds the instance first: one that does not exist is "Not found".
                    if ($viaInstance -and $PSCmdlet.ParameterSetName -eq 'path') { $instance = Get-RdsWmiInstanceByPath $hostName $c $Path $null }
                    $spec = $script:Methods[$c.Name][$Name.ToLowerInvariant()]
                    $sent = [ordered]@{}
                    if ($null -ne $spec) { $sent = ConvertTo-RdsWmiSentArguments $spec $ArgumentList $true }
                    $result = Invoke-RdsMethodTransaction $hostName $c.Name $c.Namespace $Name $sent $viaInstance 'Invoke-WmiMethod' 'wmi' $instance
                    $computer = Invoke-RdsHostTransaction -TxHost $hostName -TxCall $null -TxAction { param($S) Get-RdsComputerName $S }
                    ConvertTo-RdsWmiMethodResult $result $computer $c.Namespace
                })
            if ($r.ok) { $r.value }
            else { Write-RdsWmiCmdletError $PSCmdlet $r.err 'InvokeWMI' $null }
        }
    }
}

function Set-WmiInstance {
    <# Emulated: Set-WmiInstance -InputObject $wmiObject -Arguments @{...} | [-Class] X [-Namespace ns]
       -Arguments @{...} [-ComputerName c[]] | -Path p -Arguments @{...}. Writes through the same code as
       Put() and Set-CimInstance; returns the updated object. #>
    [CmdletBinding(DefaultParameterSetName = 'class')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'class')][string]$Class,
        [Parameter(Mandatory, ParameterSetName = 'path')][string]$Path,
        [Parameter(Mandatory, ValueFromPipeline, ParameterSetName = 'object')][psobject]$InputObject,
        [Parameter(Position = 1)][Alias('Args', 'Property')][hashtable]$Arguments,
        [System.Management.PutType]$PutType,
        [string]$Namespace,
        [Alias('Cn')][string[]]$ComputerName,
        [pscredential]$Credential,
        [switch]$AsJob
    )
    begin { . $script:CallerPreference }
    process {
        foreach ($cn in (Get-RdsWmiCallComputers $PSCmdlet.ParameterSetName $ComputerName)) {
            $r = $script:Isolated.InvokeReturnAsIs({
                    $t = Get-RdsWmiCallTarget $PSCmdlet.ParameterSetName $Class $Namespace $cn $Path $InputObject
                    $target = $InputObject
                    $hostName = Resolve-RdsWmiHost $t.Server
                    $c = Resolve-RdsClass $t.ClassName ($t.Namespace.Replace('\', '/'))
                    if ($null -eq $target) { $target = [pscustomobject]@{} }
                    $written = Invoke-RdsSetInstance $hostName $c $target $(if ($null -ne $Arguments) { $Arguments } else { @{} }) 'Set-WmiInstance' 'wmi'
                    ConvertTo-RdsWmiObject $written $null
                })
            if ($r.ok) { $r.value }
            else { Write-RdsWmiCmdletError $PSCmdlet $r.err 'SetWMI' $null }
        }
    }
}

# Get-WmiObject -List: the emulated classes of a namespace that this host serves now, as class objects.
function Get-RdsWmiClassList([string]$HostName, [string]$Namespace, [string]$Pattern) {
    $ns = Resolve-RdsNamespace $Namespace
    $pattern = if ($Pattern) { $Pattern } else { '*' }
    Invoke-RdsHostTransaction -TxHost $HostName -TxCall $null -TxAction {
        param($S)
        $server = Get-RdsComputerName $S
        foreach ($c in ($script:Classes.Values | Sort-Object Name)) {
            if ($c.Namespace -ne $ns -or $c.Name -notlike $pattern) { continue }
            try { Assert-RdsClassAvailable $S $c } catch { continue }
            Initialize-RdsWmiClassObject ([RdsSimWmiClass]::new()) $c $server
        }
    }
}

# -Query: the WQL the emulator understands, SELECT <props|*> FROM <class> [WHERE <filter>].
$script:WqlPattern = [regex]::new('^\s*SELECT\s+.+?\s+FROM\s+(?<class>[A-Za-z_][A-Za-z0-9_]*)(?:\s+WHERE\s+(?<where>.+))?\s*\z', [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)

function ConvertFrom-RdsWql([string]$Query) {
    $m = $script:WqlPattern.Match($Query)
    if (-not $m.Success) { throw (New-RdsWmiError $script:WBEM_E_INVALID_QUERY "WQL the emulator does not understand: use SELECT * FROM <class> [WHERE <property> = <value> [AND ...]]" -Infra) }
    @{ ClassName = $m.Groups['class'].Value; Where = $(if ($m.Groups['where'].Success) { $m.Groups['where'].Value } else { $null }) }
}

function ConvertFrom-RdsWqlOrNull([string]$Query) { $m = $script:WqlPattern.Match($Query); if ($m.Success) { $m.Groups['class'].Value } else { $Query } }

# -Filter / WHERE: comparisons <property> <op> <value> joined by AND (ops =, <>, !=, <, >, <=, >=, LIKE with
# % and _), values 'quoted', "quoted", numbers, TRUE/FALSE/NULL. Enough for the filters licensing scripts use.
$script:WqlTerm = [regex]::new('^\s*(?<prop>[A-Za-z_][A-Za-z0-9_]*)\s*(?<op>=|<>|!=|<=|>=|<|>|\s+LIKE\s+)\s*(?<value>''(?:[^'']|'''')*''|"(?:[^"]|"")*"|[^\s]+)\s*\z', [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)

function Test-RdsWqlWhere([object]$Object, [string]$Where) {
    foreach ($term in [regex]::Split($Where, '\s+AND\s+', [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)) {
        $m = $script:WqlTerm.Match($term)
        if (-not $m.Success) { throw (New-RdsWmiError $script:WBEM_E_INVALID_QUERY "WQL filter term the emulator does not understand: $term" -Infra) }
        $prop = $Object.PSObject.Properties[$m.Groups['prop'].Value]
        $actual = if ($null -ne $prop) { $prop.Value } else { $null }
        $raw = $m.Groups['value'].Value
        $expected = if ($raw.StartsWith("'") -or $raw.StartsWith('"')) { $raw.Substring(1, $raw.Length - 2).Replace("''", "'").Replace('""', '"') } elseif ($raw -eq 'NULL') { $null } elseif ($raw -eq 'TRUE') { $true } elseif ($raw -eq 'FALSE') { $false } else { $raw }
        $op = $m.Groups['op'].Value.Trim().ToUpperInvariant()
        $ok = switch ($op) {
            '=' { if ($null -eq $expected) { $null -eq $actual } else { $null -ne $actual -and [string]$actual -eq [string]$expected } }
            { $_ -in '<>', '!=' } { if ($null -eq $expected) { $null -ne $actual } else { $null -eq $actual -or [string]$actual -ne [string]$expected } }
            'LIKE' { $null -ne $actual -and ([string]$actual) -like ([string]$expected).Replace('*', '[*]').Replace('?', '[?]').Replace('%', '*').Replace('_', '?') }
            default {
                $a = 0.0; $b = 0.0
                if (-not ([double]::TryParse([string]$actual, [ref]$a) -and [double]::TryParse([string]$expected, [ref]$b))) { $false }
                else { switch ($op) { '<' { $a -lt $b } '>' { $a -gt $b } '<=' { $a -le $b } '>=' { $a -ge $b } } }
            }
        }
        if (-not $ok) { return $false }
    }
    $true
}
