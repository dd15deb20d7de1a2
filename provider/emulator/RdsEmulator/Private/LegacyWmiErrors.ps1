# The failures of the legacy WMI dialect (System.Management, Windows PowerShell 5.1's WMI cmdlets and
# adapter): a ManagementException for a WMI status, a COMException for a computer that cannot be reached.

# The WMI status text System.Management puts in ManagementException.Message (the WMI error's
# description, with its trailing space). The emulated detail goes to Data['RdsSimDetail'].
$script:WmiStatusText = @{
    0x80041001u = 'Generic failure '
    0x80041002u = 'Not found '
    0x80041003u = 'Access denied '
    0x80041004u = 'Provider failure '
    0x80041005u = 'Type mismatch '
    0x80041008u = 'Invalid parameter '
    0x80041009u = 'Not available '
    0x8004100Cu = 'Not supported '
    0x8004100Eu = 'Invalid namespace '
    0x80041010u = 'Invalid class '
    0x80041016u = 'Invalid operation '
    0x80041017u = 'Invalid query '
    0x80041023u = 'Read only '
    0x8004102Bu = 'Value out of range '
    0x8004102Eu = 'Invalid method '
    0x8004102Fu = 'Invalid method Parameter(s) '
    0x8004103Au = 'Invalid object path '
}

# System.Management's constructors refuse to run outside Windows ("only supported for Windows desktop
# applications"), so the exception is made without them: the real type (catch [System.Management.ManagementException]
# works), the message, and SystemException's HRESULT 0x80131501 that a real ManagementException carries.
function New-RdsManagementException([string]$Message, [uint32]$Code, [string]$Detail) {
    $ex = [System.Runtime.CompilerServices.RuntimeHelpers]::GetUninitializedObject([System.Management.ManagementException])
    $flags = [System.Reflection.BindingFlags]'NonPublic,Instance'
    [Exception].GetField('_message', $flags).SetValue($ex, $Message)
    [Exception].GetField('_HResult', $flags).SetValue($ex, [int]-2146233087)
    $ex.Data['RdsSimCode'] = $Code
    if ($Detail) { $ex.Data['RdsSimDetail'] = $Detail }
    $ex
}

# The ManagementException for an emulated WBEM failure (a COMException from New-RdsWmiError).
function ConvertTo-RdsManagementException([Exception]$SimException) {
    $code = [uint32]$SimException.Data['RdsSimCode']
    $text = $script:WmiStatusText[$code]
    if (-not $text) { $text = ('0x{0:X8} ' -f $code) }
    New-RdsManagementException $text $code $SimException.Message
}

# DCOM's answer for a computer that does not exist or does not answer: RPC_S_SERVER_UNAVAILABLE.
function New-RdsRpcUnavailableException([string]$ComputerName) {
    $ex = [System.Runtime.InteropServices.COMException]::new('The RPC server is unavailable. (Exception from HRESULT: 0x800706BA)', [int]-2147023174)
    $ex.Data['RdsSimHost'] = $ComputerName
    $ex
}

# Writes a failure of a WMI cmdlet stand-in as the cmdlet does: ManagementException records under
# "<Prefix>ManagementException", COMException records under "<Prefix>COMException", category
# InvalidOperation, no target object (PowerShell's GetWmiObjectCommand / InvokeWmiMethod source).
# Get-WmiObject words an invalid class or namespace as 'Invalid class "<name>"' (WmiQueryFailure).
function Write-RdsWmiCmdletError($Cmdlet, [System.Management.Automation.ErrorRecord]$Record, [string]$Prefix, [string]$QueryName) {
    $ex = $Record.Exception
    if ($ex -is [System.Runtime.InteropServices.COMException] -and -not (Test-RdsSimException $ex)) {
        Write-RdsCmdletError $Cmdlet $ex "$($Prefix)COMException" ([System.Management.Automation.ErrorCategory]::InvalidOperation) $null
        return
    }
    if (Test-RdsClientArgumentError $ex) { $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($ex, 'System.ArgumentException', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)) }
    if ($ex -is [System.Management.Automation.MethodException]) { $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($ex, 'MethodArgumentConversionInvalidCastArgument', [System.Management.Automation.ErrorCategory]::InvalidArgument, $null)) }
    if (-not (Test-RdsSimException $ex)) { throw $Record }
    $code = [uint32]$ex.Data['RdsSimCode']
    $mex = ConvertTo-RdsManagementException $ex
    $category = [System.Management.Automation.ErrorCategory]::InvalidOperation
    if ($Prefix -eq 'GetWMI' -and $QueryName -and ($code -eq $script:WBEM_E_INVALID_CLASS -or $code -eq $script:WBEM_E_INVALID_NAMESPACE)) {
        $mex = New-RdsManagementException ('{0}"{1}"' -f $script:WmiStatusText[$code], $QueryName) $code $ex.Message
        $category = if ($code -eq $script:WBEM_E_INVALID_CLASS) { [System.Management.Automation.ErrorCategory]::InvalidType } else { [System.Management.Automation.ErrorCategory]::InvalidArgument }
    }
    Write-RdsCmdletError $Cmdlet $mex "$($Prefix)ManagementException" $category $null
}
