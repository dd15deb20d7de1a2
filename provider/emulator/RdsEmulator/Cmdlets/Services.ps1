# Cmdlet stand-ins: Get-Service, Start-Service (TermServLicensing).

function New-RdsServiceObject([string]$Status) {
    $o = [pscustomobject][ordered]@{
        Name        = 'TermServLicensing'
        ServiceName = 'TermServLicensing'
        DisplayName = 'Remote Desktop Licensing'
        Status      = $(if ($Status -eq 'Running') { $script:StatusRunning } else { $script:StatusStopped })
        StartType   = 'Automatic'
    }
    $o.PSObject.TypeNames.Insert(0, 'RdsEmulator.ServiceController')
    $o
}

# ServiceCommandException only exists where the real service cmdlets do (Windows).
$script:ServiceExceptionType = 'Microsoft.PowerShell.Commands.ServiceCommandException' -as [type]

function Write-RdsServiceNotFound($Cmdlet, [string]$Name, [string]$CmdletName) {
    $message = "Cannot find any service with service name '$Name'."
    $ex = if ($null -ne $script:ServiceExceptionType) { $script:ServiceExceptionType::new($message) } else { [System.InvalidOperationException]::new($message) }
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'NoServiceFoundForGivenName', 'ObjectNotFound', $Name))
}

# Get-Service -ComputerName (Windows PowerShell 5.1 has it; PowerShell 7 removed it, and the scripts that use
# it are 5.1 scripts): the host it names. An unknown computer is the ServiceController's
# InvalidOperationException "Cannot open Service Control Manager on computer '<name>'..." (README.md,
# "-ComputerName on the feature, service and restart stand-ins").
function Resolve-RdsServiceTargets($Cmdlet, [string[]]$ComputerName) {
    if ($null -eq $ComputerName -or $ComputerName.Count -eq 0) { return , @(@{ Host = $null; ComputerName = $null }) }
    $targets = [System.Collections.Generic.List[object]]::new()
    foreach ($c in $ComputerName) {
        $r = $script:Isolated.InvokeReturnAsIs({ Resolve-RdsSimComputerName $c })
        if ($r.ok) { $targets.Add(@{ Host = $r.value; ComputerName = $c }); continue }
        if (-not (Test-RdsUnknownHostError $r.err.Exception)) { throw $r.err }
        $ex = [System.InvalidOperationException]::new("Cannot open Service Control Manager on computer '$c'. This operation might require other privileges.")
        Write-RdsCmdletError $Cmdlet $ex 'System.InvalidOperationException' ([System.Management.Automation.ErrorCategory]::NotSpecified) $null
    }
    , $targets.ToArray()
}

function Get-Service {
    <# Emulated for TermServLicensing (exists once the RDS-Licensing role is installed), on this host or on each
       -ComputerName's. Other names go to the real cmdlet when there is one (Windows; local only); otherwise
       they are not found. #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [Parameter(ValueFromPipelineByPropertyName)][Alias('Cn')][string[]]$ComputerName
    )
    begin { . $script:CallerPreference }
    process {
        $names = if ($Name) { $Name } else { @('TermServLicensing') }
        foreach ($target in (Resolve-RdsServiceTargets $PSCmdlet $ComputerName)) {
            foreach ($n in $names) {
                if ($n -ne 'TermServLicensing') {
                    if ($null -eq $target.ComputerName -and (Get-Command Microsoft.PowerShell.Management\Get-Service -ErrorAction Ignore)) { Microsoft.PowerShell.Management\Get-Service -Name $n }
                    else { Write-RdsServiceNotFound $PSCmdlet $n 'GetServiceCommand' }
                    continue
                }
                $r = $script:Isolated.InvokeReturnAsIs({ Invoke-RdsSimpleCall 'Get-Service' $null -ScHost $target.Host -ScAction { param($S) Get-RdsServiceStatus $S } })
                if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Get-Service' $n }
                elseif ($null -ne $r.value) { New-RdsServiceObject $r.value }
                elseif ($Name) { Write-RdsServiceNotFound $PSCmdlet $n 'GetServiceCommand' }
            }
        }
    }
}

function Start-Service {
    <# Emulated for TermServLicensing: -Name or pipeline input from Get-Service; -PassThru. #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [switch]$PassThru
    )
    begin { . $script:CallerPreference }
    process {
        foreach ($n in $Name) {
            if ($n -ne 'TermServLicensing') {
                if (Get-Command Microsoft.PowerShell.Management\Start-Service -ErrorAction Ignore) { Microsoft.PowerShell.Management\Start-Service -Name $n -PassThru:$PassThru }
                else { Write-RdsServiceNotFound $PSCmdlet $n 'StartServiceCommand' }
                continue
            }
            $r = $script:Isolated.InvokeReturnAsIs({
                    Invoke-RdsSimpleCall 'Start-Service' $null {
                        param($S)
                        $st = Get-RdsServiceStatus $S
                        if ($null -eq $st) { return $null }
                        if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED "Service 'Remote Desktop Licensing (TermServLicensing)' cannot be started: access is denied" -Infra) }
                        $S.service = 'Running'
                        'Running'
                    }
                })
            if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Start-Service' $n }
            elseif ($null -eq $r.value) { Write-RdsServiceNotFound $PSCmdlet $n 'StartServiceCommand' }
            elseif ($PassThru) { New-RdsServiceObject $r.value }
        }
    }
}
