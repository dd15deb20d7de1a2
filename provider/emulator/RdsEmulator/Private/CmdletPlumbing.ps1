# Plumbing every cmdlet stand-in shares: isolation of internal errors, the caller's
# ErrorActionPreference, and one logged host transaction per call.

# Every cmdlet stand-in does its work inside $script:Isolated, through InvokeReturnAsIs: the throw/catch
# pairs inside the emulator then stay out of the caller's -ErrorVariable and $Error, so a failing call
# leaves exactly one error record, as a compiled cmdlet would. The body's errors come back as data.
# PowerShell still appends every exception thrown inside a try block to $Error, caught or not, so the block
# also takes back the records its body added: a compiled cmdlet leaves in $Error only what it writes
# (Remove-RdsInternalErrorRecords). Locals carry an iso prefix: the body reads its caller's variables
# through dynamic scoping.
$script:Isolated = {
    param([scriptblock]$IsoBody)
    $isoFirst = $null
    if ($global:Error.Count -gt 0) { $isoFirst = $global:Error[0] }
    try { $isoResult = @{ ok = $true; value = (& $IsoBody) } }
    catch { $isoResult = @{ ok = $false; err = $_ } }
    finally { Remove-RdsInternalErrorRecords $isoFirst }
    $isoResult
}

# $Error grows at index 0: drop the entries added since $First was the newest one.
function Remove-RdsInternalErrorRecords([object]$First) {
    $errors = $global:Error
    while ($errors.Count -gt 0 -and -not [object]::ReferenceEquals($errors[0], $First)) { $errors.RemoveAt(0) }
}

# Writes one non-terminating error as a compiled cmdlet does (honours -ErrorAction, -ErrorVariable and the
# caller's preference; -ErrorAction Stop turns it into the terminating error). PowerShell appends
# ",<function name>" to $ErrorId (a compiled cmdlet gets ",<its class name>").
function Write-RdsCmdletError($Cmdlet, [Exception]$Exception, [string]$ErrorId, [System.Management.Automation.ErrorCategory]$Category, $Target) {
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($Exception, $ErrorId, $Category, $Target))
}

# Module functions do not see a caller's function-local $ErrorActionPreference (their scope chain is
# module -> global). Compiled cmdlets do, so each stand-in copies the caller's value into its own scope.
# Used as: . $script:CallerPreference
$script:CallerPreference = {
    if (-not $PSBoundParameters.ContainsKey('ErrorAction')) {
        $ErrorActionPreference = $PSCmdlet.SessionState.PSVariable.GetValue('ErrorActionPreference')
    }
}

function Invoke-RdsSimpleCall([string]$ScCmdlet, [object]$ScClass, [scriptblock]$ScAction, [string]$ScHost) {
    if (-not $ScHost) { $ScHost = Get-RdsCurrentHost }
    $scCall = @{ cmdlet = $ScCmdlet; className = $ScClass; method = $null; result = 0u }
    Invoke-RdsHostTransaction -TxHost $ScHost -TxCall $scCall -TxAction {
        param($S)
        try { & $ScAction $S }
        catch { if (Test-RdsSimException $_.Exception) { $scCall.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
    }
}
