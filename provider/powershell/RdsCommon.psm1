#Requires -Version 5.1
<#
.SYNOPSIS
    Helpers every operation script may call. Loaded once into each warm pwsh by Bootstrap.ps1.

.DESCRIPTION
    An operation script is a .ps1 file that starts with

        param([Parameter(Mandatory)][string]$Envelope)
        $in = ConvertFrom-RdsEnvelope $Envelope

    talks to Windows only through the CIM cmdlets named in docs/contracts.md (by name, so the
    emulator's functions stand in for them on the simulator), and ends with exactly one

        Write-RdsResult $object

    A long step may tell the user what it is doing while it runs: `Write-RdsProgress 'attempt 2 ...'`.
    It fails by throwing: `throw (New-RdsScriptError -Code X -Message Y ...)` for errors it
    understands; anything else becomes SCRIPT_EXCEPTION in Bootstrap.ps1.

    No function here ever builds PowerShell source text from a value.
#>

Set-StrictMode -Version 3.0

# The type name Bootstrap.ps1 looks for on pipeline output. A result that crossed a remoting
# boundary arrives as 'Deserialized.Rds.Result'; Bootstrap accepts both.
$script:ResultTypeName = 'Rds.Result'

# Key in Exception.Data that marks an error thrown through New-RdsScriptError.
$script:ScriptErrorKey = 'Rds.ScriptError'

# MI_RESULT status codes (CimException.StatusCode / NativeErrorCode) -> WBEM HRESULTs, for a
# CimException whose ErrorData does not carry the WBEM code itself.
$script:MiResultToWbem = @{
    1  = 0x80041001L  # FAILED
    2  = 0x80041003L  # ACCESS_DENIED
    3  = 0x8004100EL  # INVALID_NAMESPACE
    4  = 0x80041008L  # INVALID_PARAMETER
    5  = 0x80041010L  # INVALID_CLASS
    6  = 0x80041002L  # NOT_FOUND
    7  = 0x8004100CL  # NOT_SUPPORTED
    11 = 0x80041019L  # ALREADY_EXISTS
    12 = 0x80041002L  # NO_SUCH_PROPERTY (WMI reports not found)
    13 = 0x80041005L  # TYPE_MISMATCH
    14 = 0x80041018L  # QUERY_LANGUAGE_NOT_SUPPORTED
    15 = 0x80041017L  # INVALID_QUERY
    16 = 0x8004102EL  # METHOD_NOT_AVAILABLE
    17 = 0x8004102EL  # METHOD_NOT_FOUND
}

function ConvertTo-RdsUInt32 {
    <#
    .SYNOPSIS
        A WMI return value or HRESULT as an unsigned 32-bit number (2147749896, not -2147217400).
    .DESCRIPTION
        Accepts any integral number (signed HRESULTs such as COMException.HResult included), a
        double holding an integer, or a decimal / 0x-hex string. Throws for anything that does not
        fit in 32 bits.
    #>
    [CmdletBinding()]
    [OutputType([uint32])]
    param([Parameter(Mandatory, Position = 0)][AllowNull()] $Value)

    if ($null -eq $Value) { throw [System.ArgumentNullException]::new('Value') }
    if ($Value -is [uint32]) { return $Value }
    if ($Value -is [int32]) { return [System.BitConverter]::ToUInt32([System.BitConverter]::GetBytes([int32]$Value), 0) }
    if ($Value -is [string]) {
        $text = $Value.Trim()
        if ($text -match '^0[xX][0-9a-fA-F]{1,8}$') {
            return [uint32]::Parse($text.Substring(2), [System.Globalization.NumberStyles]::HexNumber, [cultureinfo]::InvariantCulture)
        }
        $Value = [decimal]::Parse($text, [cultureinfo]::InvariantCulture)
    }
    $number = [decimal]$Value
    if ($number -ne [decimal]::Truncate($number)) { throw [System.ArgumentException]::new("not an integer: $number") }
    if ($number -lt 0 -and $number -ge [int32]::MinValue) { $number += 4294967296 }
    if ($number -lt 0 -or $number -gt [uint32]::MaxValue) { throw [System.ArgumentOutOfRangeException]::new('Value', "does not fit in 32 bits: $number") }
    return [uint32]$number
}

function Test-RdsWbemCode {
    <# True when an unsigned code is a WBEM / FACILITY_ITF HRESULT (0x8004xxxx). #>
    [OutputType([bool])]
    param([Parameter(Mandatory, Position = 0)][uint32]$Code)
    return ($Code -band [uint32]'0xFFFF0000') -eq [uint32]'0x80040000'
}

function Get-RdsExceptionHResult {
    <#
    .SYNOPSIS
        The HRESULT an exception (or one it wraps) carries, unsigned, or $null when it carries none.
    .DESCRIPTION
        Walks the InnerException chain. The first WBEM code found wins: the HResult of any
        exception when it is 0x8004xxxx, the error_Code of a CimException's ErrorData, or the WBEM
        equivalent of a CimException's StatusCode. Failing that, the HResult of a COMException (or
        any ExternalException). Plain .NET exceptions (whose HResult is a CLR default such as
        0x80131500) give $null.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][AllowNull()] $Exception)

    $fallback = $null
    $current = $Exception
    $depth = 0
    while ($null -ne $current -and $depth -lt 20) {
        $depth++
        $hr = ConvertTo-RdsUInt32 ([int32]$current.HResult)
        if (Test-RdsWbemCode $hr) { return $hr }

        if ($current.GetType().Name -eq 'CimException') {
            $fromErrorData = Get-RdsCimExceptionCode $current
            if ($null -ne $fromErrorData) { return $fromErrorData }
        }
        if ($null -eq $fallback -and $current -is [System.Runtime.InteropServices.ExternalException]) {
            $fallback = $hr
        }
        $current = $current.InnerException
    }
    return $fallback
}

function Get-RdsCimExceptionCode {
    # The WBEM code of a Microsoft.Management.Infrastructure.CimException (looked at by property
    # name: the type only exists where CimCmdlets is loaded).
    param($Exception)
    $errorData = $null
    try { $errorData = $Exception.ErrorData } catch { $errorData = $null }
    if ($null -ne $errorData) {
        $code = $null
        $properties = $null
        try { $properties = $errorData.CimInstanceProperties } catch { $properties = $null }
        if ($null -ne $properties) {
            try { $code = $properties['error_Code'].Value } catch { $code = $null }
        }
        if ($null -eq $code) {
            try { $code = $errorData.error_Code } catch { $code = $null }
        }
        if ($null -ne $code) {
            $unsigned = ConvertTo-RdsUInt32 $code
            if (Test-RdsWbemCode $unsigned) { return $unsigned }
        }
    }
    $status = $null
    try { $status = $Exception.StatusCode } catch { $status = $null }
    if ($null -eq $status) {
        try { $status = $Exception.NativeErrorCode } catch { $status = $null }
    }
    if ($null -ne $status) {
        $key = [int][uint32]$status
        if ($script:MiResultToWbem.ContainsKey($key)) { return [uint32]$script:MiResultToWbem[$key] }
    }
    return $null
}

function ConvertFrom-RdsEnvelope {
    <#
    .SYNOPSIS
        Decodes the operation envelope: base64 -> UTF-8 -> JSON -> hashtable.
    .DESCRIPTION
        Returns @{ operation = '...'; host = '...'; args = @{...} }. Strings arrive byte for byte:
        NUL, CR/LF, quotes, `$()`, backticks, unicode. Date-looking strings stay strings. Objects are
        hashtables with case-sensitive keys, arrays are object[], integers Int64 (BigInteger beyond),
        other numbers Double. Nesting deeper than 50 levels, invalid UTF-8 and invalid JSON throw.
        Runs on Windows PowerShell 5.1 and PowerShell 7.2+ (ConvertFrom-RdsJson says how).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string]$Envelope)

    $bytes = [System.Convert]::FromBase64String($Envelope)
    $strictUtf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false, $true
    $json = $strictUtf8.GetString($bytes)
    $decoded = ConvertFrom-RdsJson -Json $json
    if ($decoded -isnot [System.Collections.IDictionary]) {
        throw (New-Object -TypeName System.FormatException -ArgumentList 'the envelope is not a JSON object')
    }
    return $decoded
}

# How deep an envelope may nest (what `ConvertFrom-Json -Depth 50` allowed before).
$script:EnvelopeMaxDepth = 50

function ConvertFrom-RdsJson {
    <#
    .SYNOPSIS
        JSON text -> hashtables / object[] / plain values, the same on Windows PowerShell 5.1 and pwsh 7.2+.
    .DESCRIPTION
        `ConvertFrom-Json -AsHashtable` is 6.0+ and `-DateKind String` 7.5+; without -DateKind, pwsh
        7.x turns ISO-8601 strings into DateTime. So:
          - PowerShell 7 (Core, .NET 6+): System.Text.Json's JsonDocument, walked here. It never
            interprets strings, rejects invalid JSON and nesting beyond MaxDepth.
          - Windows PowerShell 5.1 (Desktop): ConvertFrom-Json (JavaScriptSerializer there), which
            leaves ISO-8601 strings alone (it converts only the "\/Date(ms)\/" form, which the
            provider's JSON.stringify never writes), then PSCustomObject -> hashtable here.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][AllowEmptyString()][string]$Json)

    $jsonDocumentType = 'System.Text.Json.JsonDocument' -as [type]
    if ($PSVersionTable.PSEdition -eq 'Core' -and $null -ne $jsonDocumentType) {
        $options = New-Object -TypeName System.Text.Json.JsonDocumentOptions
        $options.MaxDepth = $script:EnvelopeMaxDepth
        $document = $jsonDocumentType::Parse($Json, $options)
        try {
            return , (ConvertFrom-RdsJsonElement -Element $document.RootElement)
        } finally {
            $document.Dispose()
        }
    }
    $parsed = ConvertFrom-Json -InputObject $Json
    return , (ConvertFrom-RdsJsonObject -Value $parsed -Depth 0)
}

function New-RdsJsonHashtable {
    # A JSON object's hashtable: keys case-sensitive as in JSON, insertion order kept where the type
    # that `ConvertFrom-Json -AsHashtable` returns in pwsh 7.3+ exists.
    $orderedType = 'System.Management.Automation.OrderedHashtable' -as [type]
    if ($null -ne $orderedType) { return , ($orderedType::new()) }
    return , (New-Object -TypeName System.Collections.Hashtable -ArgumentList ([System.StringComparer]::Ordinal))
}

function ConvertFrom-RdsJsonElement {
    # One System.Text.Json.JsonElement as a PowerShell value (pwsh 7 path of ConvertFrom-RdsJson).
    param([Parameter(Mandatory)] $Element)
    switch ([string]$Element.ValueKind) {
        'Object' {
            $table = New-RdsJsonHashtable
            foreach ($property in $Element.EnumerateObject()) {
                if ($table.ContainsKey($property.Name)) {
                    throw (New-Object -TypeName System.FormatException -ArgumentList "duplicate key in JSON object: $($property.Name)")
                }
                $table[$property.Name] = ConvertFrom-RdsJsonElement -Element $property.Value
            }
            return , $table
        }
        'Array' {
            $items = New-Object -TypeName System.Collections.Generic.List[object]
            foreach ($item in $Element.EnumerateArray()) { $items.Add((ConvertFrom-RdsJsonElement -Element $item)) }
            return , $items.ToArray()
        }
        'String' { return $Element.GetString() }
        'Number' {
            $integer = [int64]0
            if ($Element.TryGetInt64([ref]$integer)) { return $integer }
            $text = $Element.GetRawText()
            if ($text -match '^-?[0-9]+$') { return [System.Numerics.BigInteger]::Parse($text, [cultureinfo]::InvariantCulture) }
            return $Element.GetDouble()
        }
        'True' { return $true }
        'False' { return $false }
        default { return $null }
    }
}

function ConvertFrom-RdsJsonObject {
    # ConvertFrom-Json's PSCustomObject tree as hashtables and object[] (Windows PowerShell 5.1 path
    # of ConvertFrom-RdsJson). Depth is checked here: 5.1's ConvertFrom-Json has no -Depth.
    param([AllowNull()] $Value, [int]$Depth)
    if ($null -eq $Value) { return $null }
    $isContainer = $Value -is [System.Management.Automation.PSCustomObject] -or $Value -is [System.Array]
    # Container number 51 from the top is refused, as JsonDocument's MaxDepth = 50 does.
    if ($isContainer -and $Depth -ge $script:EnvelopeMaxDepth) {
        throw (New-Object -TypeName System.FormatException -ArgumentList "the JSON nests deeper than $($script:EnvelopeMaxDepth) levels")
    }
    if ($Value -is [System.Management.Automation.PSCustomObject]) {
        $table = New-RdsJsonHashtable
        foreach ($property in $Value.PSObject.Properties) {
            $table[$property.Name] = ConvertFrom-RdsJsonObject -Value $property.Value -Depth ($Depth + 1)
        }
        return , $table
    }
    if ($Value -is [System.Array]) {
        $items = New-Object -TypeName System.Collections.Generic.List[object]
        foreach ($item in $Value) { $items.Add((ConvertFrom-RdsJsonObject -Value $item -Depth ($Depth + 1))) }
        return , $items.ToArray()
    }
    if ($Value -is [int32]) { return [int64]$Value }
    return $Value
}

function ConvertTo-RdsAsciiJson {
    <#
    .SYNOPSIS
        ConvertTo-Json, then every non-ASCII character as \uXXXX: one ASCII line on 5.1 and 7.x alike.
    .DESCRIPTION
        What `-EscapeHandling EscapeNonAscii` (pwsh 6.2+) does, done by hand so Windows PowerShell
        5.1 gives the same text. Outside strings JSON is ASCII already, so escaping the whole text is
        safe. A value nested deeper than -Depth: pwsh 7 warns (see -WarningVariable); 5.1 does not.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory, Position = 0)][AllowNull()][AllowEmptyString()][AllowEmptyCollection()] $InputObject,
        [int]$Depth = 20
    )
    $json = [string](ConvertTo-Json -InputObject $InputObject -Depth $Depth -Compress)
    if (-not [regex]::IsMatch($json, '[^\x00-\x7F]')) { return $json }
    return [regex]::Replace($json, '[^\x00-\x7F]', { param($match) '\u{0:x4}' -f [int][char]$match.Value })
}

function Write-RdsResult {
    <#
    .SYNOPSIS
        Emits the operation's one result (any JSON-serializable value, $null included).
    .DESCRIPTION
        Call it exactly once, as the last statement. The value is converted to JSON here (compact,
        ASCII, depth up to 100; arrays are kept whole, never enumerated) and wrapped so that
        Bootstrap.ps1 can tell it from stray pipeline output. Because the wrapper carries a string, a
        result crosses a remoting boundary unchanged. Build results from hashtables / [ordered] /
        [pscustomobject] of plain values, not raw CimInstances.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [AllowNull()][AllowEmptyString()][AllowEmptyCollection()]
        $InputObject
    )
    $depthWarnings = $null
    $json = ConvertTo-RdsAsciiJson -InputObject $InputObject -Depth 100 -WarningAction SilentlyContinue -WarningVariable depthWarnings
    if ($depthWarnings) { throw [System.InvalidOperationException]::new('Write-RdsResult: the result is nested deeper than 100 levels') }
    $wrapper = [pscustomobject]@{ PSTypeName = $script:ResultTypeName; Json = [string]$json }
    $PSCmdlet.WriteObject($wrapper, $false)
}

# The tag that marks an information record as a progress line (Write-RdsProgress, Bootstrap.ps1).
$script:ProgressTag = 'RdsProgress'

function Write-RdsProgress {
    <#
    .SYNOPSIS
        Tells the user what a long operation is doing now: one progress line, shown while the script runs.
    .DESCRIPTION
        Writes one information record tagged 'RdsProgress'. Bootstrap.ps1 turns it into a line on the
        warm pwsh's stderr that the runner hands to the provider at once (the provider prints it as
        `[rds] <host>: <what the step does>: <Message>`); a remote session carries the record back
        through Invoke-Command's information stream as it is written. Without Bootstrap (a script run
        by hand) it is an ordinary, silent information record.
        The message is the script's own words: NEVER a secret (a license code or number, a license
        server id, a credential) nor any other envelope value the user did not write as plain text.
        Works on Windows PowerShell 5.1 as well (Write-Information, PowerShell 5.0+).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][string]$Message)
    Write-Information -MessageData $Message -Tags $script:ProgressTag
}

function New-RdsScriptError {
    <#
    .SYNOPSIS
        An exception carrying a stable error code, to be thrown: `throw (New-RdsScriptError ...)`.
    .DESCRIPTION
        Codes: WMI_ERROR (with -Method, -ClassName, -ReturnValue), or a code of the provider's
        ErrorCode list with or without its RDS_ prefix (NOT_ACTIVATED, GROUP_POLICY_CONFLICT,
        NOT_FOUND, ...). Other codes reach TypeScript as RDS_SCRIPT_ERROR with the code kept.
        Never put secrets (license codes, passwords) in -Message.
    #>
    [CmdletBinding()]
    [OutputType([System.Exception])]
    param(
        [Parameter(Mandatory)][ValidatePattern('^[A-Z][A-Z0-9_]*$')][string]$Code,
        [Parameter(Mandatory)][string]$Message,
        [string]$Method,
        [string]$ClassName,
        [AllowNull()] $ReturnValue
    )
    $exception = [System.Exception]::new($Message)
    $details = [ordered]@{ code = $Code; message = $Message }
    if ($Method) { $details.method = $Method }
    if ($ClassName) { $details.className = $ClassName }
    if ($null -ne $ReturnValue) { $details.returnValue = ConvertTo-RdsUInt32 $ReturnValue }
    $exception.Data[$script:ScriptErrorKey] = $details
    return $exception
}

function Get-RdsScriptErrorDetails {
    <# The details New-RdsScriptError attached to an exception (searched through InnerException), or $null. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)][AllowNull()] $Exception)
    $current = $Exception
    $depth = 0
    while ($null -ne $current -and $depth -lt 20) {
        $depth++
        if ($null -ne $current.Data -and $current.Data.Contains($script:ScriptErrorKey)) {
            return $current.Data[$script:ScriptErrorKey]
        }
        $current = $current.InnerException
    }
    return $null
}

function Invoke-RdsWmiMethod {
    <#
    .SYNOPSIS
        Invoke-CimMethod, with WMI failures turned into WMI_ERROR script errors.
    .DESCRIPTION
        Static methods: -ClassName (and -Namespace). Instance methods: -InputObject (a CimInstance;
        -ClassName then only names the class in errors). A non-zero ReturnValue (unless listed in
        -AllowReturnValue) and an exception carrying a WBEM HRESULT (0x8004xxxx) both throw
        WMI_ERROR with the unsigned code, the method and the class: which of the two the real
        provider does is not confirmed (docs/windows-facts.md). Other exceptions pass through unchanged.
        Returns the method's result object (ReturnValue plus out parameters).
    #>
    [CmdletBinding()]
    param(
        [string]$ClassName,
        [string]$Namespace,
        [Parameter(Mandatory)][string]$MethodName,
        [System.Collections.IDictionary]$Arguments,
        $InputObject,
        [uint32[]]$AllowReturnValue = @()
    )

    $parameters = @{ MethodName = $MethodName }
    if ($null -ne $InputObject) {
        $parameters.InputObject = $InputObject
        if (-not $ClassName) {
            try { $ClassName = $InputObject.CimSystemProperties.ClassName } catch { $ClassName = $null }
            if (-not $ClassName) {
                try { $ClassName = $InputObject.CimClass.CimClassName } catch { $ClassName = $null }
            }
        }
    } elseif ($ClassName) {
        $parameters.ClassName = $ClassName
        if ($Namespace) { $parameters.Namespace = $Namespace }
    } else {
        throw [System.ArgumentException]::new('Invoke-RdsWmiMethod needs -ClassName or -InputObject')
    }
    # get_Count(), not .Count: on a hashtable with a Count key (the report Fetch* methods) .Count reads the key.
    if ($null -ne $Arguments -and $Arguments.get_Count() -gt 0) { $parameters.Arguments = $Arguments }
    $label = if ($ClassName) { "$ClassName.$MethodName" } else { $MethodName }

    try {
        $result = Invoke-CimMethod @parameters -ErrorAction Stop
    } catch {
        $code = Get-RdsExceptionHResult $_.Exception
        if ($null -ne $code -and (Test-RdsWbemCode $code)) {
            $inner = $_.Exception.Message
            $scriptError = New-RdsScriptError -Code WMI_ERROR -Method $MethodName -ClassName $ClassName -ReturnValue $code `
                -Message ("{0} failed with 0x{1:X8}: {2}" -f $label, $code, $inner)
            throw $scriptError
        }
        throw
    }

    $returnValue = $null
    if ($null -ne $result) {
        try { $returnValue = $result.ReturnValue } catch { $returnValue = $null }
    }
    if ($null -ne $returnValue) {
        $unsigned = ConvertTo-RdsUInt32 $returnValue
        if ($unsigned -ne 0 -and $AllowReturnValue -notcontains $unsigned) {
            throw (New-RdsScriptError -Code WMI_ERROR -Method $MethodName -ClassName $ClassName -ReturnValue $unsigned `
                    -Message ("{0} returned 0x{1:X8}" -f $label, $unsigned))
        }
    }
    return $result
}

function Get-RdsProperty {
    # A property of a CIM instance (or hashtable / PSObject), or $Default when it is not there.
    # One definition for every resource script: CIM instances, the emulator's objects and plain
    # hashtables all answer through it, and a missing property is never an error (WMI returns $null).
    param($InputObject, [string]$Name, $Default = $null)
    if ($null -eq $InputObject) { return $Default }
    if ($InputObject -is [System.Collections.IDictionary]) {
        if ($InputObject.Contains($Name)) { return $InputObject[$Name] }
        return $Default
    }
    $p = $InputObject.PSObject.Properties[$Name]
    if ($null -ne $p) { return $p.Value }
    try {
        $cp = $InputObject.CimInstanceProperties[$Name]
        if ($null -ne $cp) { return $cp.Value }
    } catch { $null = $_ }
    return $Default
}

function Get-RdsLicensingServiceStatus {
    # TermServLicensing's status as text ('Running', 'Stopped', ...), '' when there is no such service (role missing).
    # A box without Get-Service at all (no Windows) still throws: it is not "a missing service".
    $s = Get-Service -Name TermServLicensing -ErrorAction SilentlyContinue
    if ($null -eq $s) { return '' }
    return [string](Get-RdsProperty $s 'Status' 'unknown')
}

function Assert-RdsLicensingService {
    # Throws CLASS_NOT_READY (service, status, how to start it) unless TermServLicensing is Running; called before querying
    # the licensing classes (what they answer on a stopped service is undocumented).
    $status = Get-RdsLicensingServiceStatus
    if ($status -eq 'Running') { return }
    if ($status -eq '') { $status = 'not installed: install the RDS-Licensing role first' }
    throw (New-RdsScriptError -Code CLASS_NOT_READY -Message ("the Remote Desktop Licensing service (TermServLicensing) is $status; the licensing " +
            'classes answer only while it runs: start it (Start-Service -Name TermServLicensing), check the event log, then run again'))
}

Export-ModuleMember -Function @(
    'Get-RdsProperty', 'ConvertFrom-RdsEnvelope', 'ConvertTo-RdsAsciiJson', 'Write-RdsResult', 'Write-RdsProgress',
    'New-RdsScriptError', 'Get-RdsScriptErrorDetails', 'Invoke-RdsWmiMethod', 'ConvertTo-RdsUInt32', 'Test-RdsWbemCode',
    'Get-RdsExceptionHResult', 'Get-RdsLicensingServiceStatus', 'Assert-RdsLicensingService'
)
