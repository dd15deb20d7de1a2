# Host and Clearinghouse state: one JSON file per host, written atomically under an exclusive lock.

$script:HexCache = [System.Collections.Generic.Dictionary[string, string]]::new([StringComparer]::Ordinal)
$script:StateCache = [System.Collections.Generic.Dictionary[string, object]]::new([StringComparer]::Ordinal)

function Get-RdsHostBasePath([string]$HostName) {
    $hex = $null
    if (-not $script:HexCache.TryGetValue($HostName, [ref]$hex)) {
        Assert-RdsHostName $HostName
        $hex = [Convert]::ToHexString($script:Utf8NoBom.GetBytes($HostName.ToLowerInvariant())).ToLowerInvariant()
        $script:HexCache[$HostName] = $hex
    }
    [System.IO.Path]::Combine((Get-RdsStateDir), 'hosts', $hex)
}

function Enter-RdsLock([string]$Path) {
    # FileShare.None is implemented with flock(LOCK_EX) on Linux/macOS and a sharing lock on Windows:
    # exclusive across processes and released by the OS if the holder dies, so no stale locks.
    # Waiters back off exponentially (1, 2, 4 ... 32 ms, plus jitter): a tight retry loop would steal the CPU
    # the lock holder needs on a small machine.
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    $wait = 1
    while ($true) {
        try {
            return [System.IO.FileStream]::new($Path, [System.IO.FileMode]::OpenOrCreate, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None)
        }
        catch [System.IO.IOException] {
            if ([DateTime]::UtcNow -gt $deadline) { throw [System.TimeoutException]::new("RdsEmulator: could not lock $Path within 60 s") }
            [System.Threading.Thread]::Sleep($wait + $script:Rng.Next(0, $wait + 1))
            if ($wait -lt 32) { $wait *= 2 }
        }
    }
}

function Write-RdsFileAtomic([string]$Path, [string]$Text) {
    $tmp = '{0}.{1}.{2}.tmp' -f $Path, $PID, [Guid]::NewGuid().ToString('N')
    [System.IO.File]::WriteAllText($tmp, $Text, $script:Utf8NoBom)
    [System.IO.File]::Move($tmp, $Path, $true)
}

function Read-RdsJsonFile([string]$Path) {
    if (-not [System.IO.File]::Exists($Path)) { return $null }
    [System.IO.File]::ReadAllText($Path, $script:Utf8NoBom)
}

function ConvertFrom-RdsStateText([string]$Text, [string]$Path) {
    try { ConvertFrom-Json -InputObject $Text -AsHashtable -DateKind String -Depth 64 }
    catch { throw [System.IO.InvalidDataException]::new("RdsEmulator: state file $Path is not valid JSON: $($_.Exception.Message)") }
}

function ConvertTo-RdsStateText($State) {
    ConvertTo-Json -InputObject $State -Depth 64 -Compress -EscapeHandling EscapeNonAscii
}

function New-RdsFaults {
    [ordered]@{
        clearinghouseUnreachable = $false
        accessDenied             = $false
        providerFailure          = $false
        latencyMs                = 0
        classNotReadyCalls       = 0
        activationStatusUnknown  = $false
        failureStyle             = 'return'
    }
}

function New-RdsHostState([string]$HostName) {
    $now = Get-RdsNowIso
    $dot = $HostName.IndexOf('.')
    $domain = if ($dot -gt 0 -and $dot -lt $HostName.Length - 1) { $HostName.Substring($dot + 1).ToLowerInvariant() } else { 'contoso.com' }
    [ordered]@{
        schema        = 1
        hostName      = (ConvertTo-RdsStored $HostName)
        createdAt     = $now
        config        = [ordered]@{
            osVersion          = '2022'
            domain             = (ConvertTo-RdsStored $domain)
            workgroup          = 'WORKGROUP'
            isConnectionBroker = $false
            productId          = $null
            gracePeriodStart   = $now
        }
        features      = [ordered]@{ 'RDS-Licensing' = $false; 'RDS-Licensing-UI' = $false }
        service       = $null
        faults        = (New-RdsFaults)
        groupPolicy   = [ordered]@{ LicensingMode = $null; LicenseServers = $null }
        policyKeyOtherValues = (New-RdsPolicyKeyOtherValues)
        licenseServer = [ordered]@{
            contact          = [ordered]@{ FirstName = $null; LastName = $null; Company = $null; CountryRegion = $null; eMail = $null; OrgUnit = $null; Address = $null; City = $null; State = $null; PostalCode = $null }
            serverRole       = 1
            activated        = $false
            everActivated    = $false
            licenseServerId  = $null
            activationMethod = $null
            activatedAt      = $null
            reactivations    = 0
            lastReactivationReason = $null
            nextKeyPackId    = 3
            keyPacks         = @()
            nextLicenseId    = 1
            issuedLicenses   = @()
        }
        sessionHost   = [ordered]@{ licensingType = 5; specifiedLSList = @() }
        deployment    = [ordered]@{ useCentralLicensingSettings = $true; licenseServers = @(); licensingType = 5 }
    }
}

# Runs $Action under the host's lock with the host's state (created with defaults on first use), writes
# the state back atomically if it changed, appends $Call to the call log (if given), releases the lock,
# then sleeps the host's latencyMs. Errors thrown by $Action are rethrown after the state was saved (a
# failing call may still count down classNotReadyCalls).
function Invoke-RdsHostTransaction {
    # Parameters and locals carry a tx prefix: the action scriptblock runs in a child scope of this
    # function and reads its caller's variables through dynamic scoping, so nothing here may shadow them.
    param([string]$TxHost, [scriptblock]$TxAction, [hashtable]$TxCall)
    $txBase = Get-RdsHostBasePath $TxHost
    $txStatePath = "$txBase.json"
    $txLock = Enter-RdsLock "$txBase.lock"
    $txLatency = 0
    $txFailure = $null
    $txResult = $null
    try {
        $txText = Read-RdsJsonFile $txStatePath
        # Parsing is the expensive part of a call. When the file still holds exactly the text this process
        # last read or wrote, the parsed object from then is the same state: reuse it.
        $txCached = $null
        $txState = $null
        if ($null -ne $txText -and $script:StateCache.TryGetValue($txStatePath, [ref]$txCached) -and $txCached.Text -ceq $txText) { $txState = $txCached.State }
        elseif ($null -ne $txText) { $txState = ConvertFrom-RdsStateText $txText $txStatePath }
        else { $txState = New-RdsHostState $TxHost }
        [void]$script:StateCache.Remove($txStatePath)
        try { $txResult = & $TxAction $txState }
        catch { $txFailure = $_ }
        $txLatency = [int]$txState.faults.latencyMs
        $txNewText = ConvertTo-RdsStateText $txState
        if ($txNewText -cne $txText) { Write-RdsFileAtomic $txStatePath $txNewText }
        $script:StateCache[$txStatePath] = @{ Text = $txNewText; State = $txState }
        if ($null -ne $TxCall) {
            $txEntry = [ordered]@{
                at        = (Get-RdsNowIso)
                pid       = $PID
                cmdlet    = $TxCall.cmdlet
                className = $TxCall.className
                method    = $TxCall.method
                result    = $TxCall.result
            }
            if ($TxCall.ContainsKey('properties')) { $txEntry.properties = @($TxCall.properties) }
            # Only legacy WMI calls carry a dialect (CIM entries keep their original shape).
            if ($TxCall.ContainsKey('dialect')) { $txEntry.dialect = $TxCall.dialect }
            $txLine = (ConvertTo-Json -InputObject $txEntry -Compress -Depth 5 -EscapeHandling EscapeNonAscii) + "`n"
            [System.IO.File]::AppendAllText("$txBase.calls.jsonl", $txLine, $script:Utf8NoBom)
        }
    }
    finally { $txLock.Dispose() }
    if ($txLatency -gt 0) { [System.Threading.Thread]::Sleep($txLatency) }
    if ($null -ne $txFailure) { throw $txFailure }
    $txResult
}

function Invoke-RdsClearinghouseTransaction([scriptblock]$ChAction) {
    # ch-prefixed names for the same reason as in Invoke-RdsHostTransaction.
    $chDir = Get-RdsStateDir
    $chPath = [System.IO.Path]::Combine($chDir, 'clearinghouse.json')
    $chLock = Enter-RdsLock ([System.IO.Path]::Combine($chDir, 'clearinghouse.lock'))
    try {
        $chText = Read-RdsJsonFile $chPath
        $chState = if ($null -ne $chText) { ConvertFrom-RdsStateText $chText $chPath } else { [ordered]@{ schema = 1; sequence = 0; retailCodes = [ordered]@{}; keyPackIds = [ordered]@{} } }
        $chResult = & $ChAction $chState
        $chNewText = ConvertTo-RdsStateText $chState
        if ($chNewText -cne $chText) { Write-RdsFileAtomic $chPath $chNewText }
        $chResult
    }
    finally { $chLock.Dispose() }
}
