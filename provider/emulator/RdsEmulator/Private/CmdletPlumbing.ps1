# Plumbing every cmdlet stand-in shares: isolation of internal errors, the caller's
# ErrorActionPreference, and one logged host transaction per call.

# Every cmdlet stand-in does its work inside $script:Isolated, through InvokeReturnAsIs: the throw/catch
# pairs inside the emulator then stay out of the caller's -ErrorVariable and $Error, so a failing call
# leaves exactly one error record, as a compiled cmdlet would. The body's errors come back as data.
$script:Isolated = {
    param([scriptblock]$IsoBody)
    try { @{ ok = $true; value = (& $IsoBody) } }
    catch { @{ ok = $false; err = $_ } }
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
