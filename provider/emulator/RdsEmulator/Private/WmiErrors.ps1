# WBEM error codes and how an emulated failure becomes a COMException / error record, as CimCmdlets report it.

# WBEM codes the licensing providers and the WMI infrastructure return (docs/windows-facts.md). UInt32 literals.
$script:WBEM_E_FAILED = 0x80041001u
$script:WBEM_E_NOT_FOUND = 0x80041002u
$script:WBEM_E_ACCESS_DENIED = 0x80041003u
$script:WBEM_E_PROVIDER_FAILURE = 0x80041004u
$script:WBEM_E_TYPE_MISMATCH = 0x80041005u
$script:WBEM_E_INVALID_PARAMETER = 0x80041008u
$script:WBEM_E_NOT_AVAILABLE = 0x80041009u
$script:WBEM_E_NOT_SUPPORTED = 0x8004100Cu
$script:WBEM_E_INVALID_NAMESPACE = 0x8004100Eu
$script:WBEM_E_INVALID_CLASS = 0x80041010u
$script:WBEM_E_INVALID_OPERATION = 0x80041016u
$script:WBEM_E_INVALID_QUERY = 0x80041017u
$script:WBEM_E_READ_ONLY = 0x80041023u
$script:WBEM_E_VALUE_OUT_OF_RANGE = 0x8004102Bu
$script:WBEM_E_INVALID_METHOD = 0x8004102Eu
$script:WBEM_E_INVALID_METHOD_PARAMETERS = 0x8004102Fu
$script:WBEM_E_INVALID_OBJECT_PATH = 0x8004103Au

$script:WbemNames = @{
    0x80041001u = 'WBEM_E_FAILED'
    0x80041002u = 'WBEM_E_NOT_FOUND'
    0x80041003u = 'WBEM_E_ACCESS_DENIED'
    0x80041004u = 'WBEM_E_PROVIDER_FAILURE'
    0x80041005u = 'WBEM_E_TYPE_MISMATCH'
    0x80041008u = 'WBEM_E_INVALID_PARAMETER'
    0x80041009u = 'WBEM_E_NOT_AVAILABLE'
    0x8004100Cu = 'WBEM_E_NOT_SUPPORTED'
    0x8004100Eu = 'WBEM_E_INVALID_NAMESPACE'
    0x80041010u = 'WBEM_E_INVALID_CLASS'
    0x80041016u = 'WBEM_E_INVALID_OPERATION'
    0x80041017u = 'WBEM_E_INVALID_QUERY'
    0x80041023u = 'WBEM_E_READ_ONLY'
    0x8004102Bu = 'WBEM_E_VALUE_OUT_OF_RANGE'
    0x8004102Eu = 'WBEM_E_INVALID_METHOD'
    0x8004102Fu = 'WBEM_E_INVALID_METHOD_PARAMETERS'
    0x8004103Au = 'WBEM_E_INVALID_OBJECT_PATH'
}

function Get-RdsWbemName([uint32]$Code) {
    if ($script:WbemNames.ContainsKey($Code)) { return $script:WbemNames[$Code] }
    '0x{0:X8}' -f $Code
}

function ConvertTo-RdsHResult([uint32]$Code) { [BitConverter]::ToInt32([BitConverter]::GetBytes($Code), 0) }

# A failure. Infra = raised by the WMI/CIM infrastructure (no return value exists), so it is always an
# error record. Otherwise it is the provider's return value and the host's failureStyle decides.
function New-RdsWmiError([uint32]$Code, [string]$Message, [switch]$Infra) {
    $name = Get-RdsWbemName $Code
    $ex = [System.Runtime.InteropServices.COMException]::new(('{0} (0x{1:X8}): {2}' -f $name, $Code, $Message), (ConvertTo-RdsHResult $Code))
    $ex.Data['RdsSim'] = $true
    $ex.Data['RdsSimInfra'] = [bool]$Infra
    $ex.Data['RdsSimCode'] = $Code
    $ex
}

function Test-RdsSimException($Exception) {
    $Exception -is [System.Runtime.InteropServices.COMException] -and $Exception.Data.Contains('RdsSim')
}

function Write-RdsSimError($Cmdlet, [System.Management.Automation.ErrorRecord]$Record, [string]$CmdletName, $Target) {
    $ex = $Record.Exception
    if (Test-RdsClientArgumentError $ex) {
        # CimCmdlets throws these from ProcessRecord, before anything is sent: terminating, not a WBEM code.
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($ex, 'System.ArgumentException', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Target))
    }
    if (-not (Test-RdsSimException $ex)) { throw $Record }
    $code = [uint32]$ex.Data['RdsSimCode']
    $category = switch ($code) {
        $script:WBEM_E_ACCESS_DENIED { [System.Management.Automation.ErrorCategory]::PermissionDenied }
        $script:WBEM_E_INVALID_CLASS { [System.Management.Automation.ErrorCategory]::MetadataError }
        $script:WBEM_E_INVALID_NAMESPACE { [System.Management.Automation.ErrorCategory]::MetadataError }
        $script:WBEM_E_NOT_FOUND { [System.Management.Automation.ErrorCategory]::ObjectNotFound }
        $script:WBEM_E_TYPE_MISMATCH { [System.Management.Automation.ErrorCategory]::InvalidType }
        $script:WBEM_E_INVALID_PARAMETER { [System.Management.Automation.ErrorCategory]::InvalidArgument }
        $script:WBEM_E_INVALID_METHOD_PARAMETERS { [System.Management.Automation.ErrorCategory]::InvalidArgument }
        $script:WBEM_E_NOT_AVAILABLE { [System.Management.Automation.ErrorCategory]::ConnectionError }
        default { [System.Management.Automation.ErrorCategory]::InvalidOperation }
    }
    # PowerShell appends ",<function name>" itself, giving e.g. "HRESULT 0x80041010,Get-CimInstance".
    $id = 'HRESULT 0x{0:X8}' -f $code
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, $id, $category, $Target))
}
