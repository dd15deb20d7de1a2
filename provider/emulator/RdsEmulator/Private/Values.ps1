# Value helpers: the stored-string encoding of the state files, DMTF/ISO dates, derived ids, and
# the lenient bool/int parsing of admin inputs.

$script:Alphabet36 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
$script:Base36Digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'
$script:Utf8NoBom = [System.Text.UTF8Encoding]::new($false)
$script:Rng = [System.Random]::new()

# Strings that cannot survive ConvertFrom-Json (lone UTF-16 surrogates are replaced by U+FFFD) are
# stored as marker + base64(UTF-16LE). Any string that starts with the marker is stored encoded too,
# so decoding is unambiguous.
$script:StoredMarker = [string][char]0 + [char]1 + 'rds-u16:'
$script:NeedsEncoding = [regex]::new('^\u0000\u0001rds-u16:|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]', [System.Text.RegularExpressions.RegexOptions]::Compiled)

function ConvertTo-RdsStored([object]$Value) {
    if ($null -eq $Value) { return $null }
    $s = [string]$Value
    if ($script:NeedsEncoding.IsMatch($s)) {
        # Raw UTF-16 code units: Encoding.Unicode would replace a lone surrogate with U+FFFD.
        $bytes = [byte[]]::new($s.Length * 2)
        [System.Buffer]::BlockCopy($s.ToCharArray(), 0, $bytes, 0, $bytes.Length)
        return $script:StoredMarker + [Convert]::ToBase64String($bytes)
    }
    $s
}

function ConvertFrom-RdsStored([object]$Value) {
    if ($null -eq $Value) { return $null }
    $s = [string]$Value
    if ($s.StartsWith($script:StoredMarker, [StringComparison]::Ordinal)) {
        $bytes = [Convert]::FromBase64String($s.Substring($script:StoredMarker.Length))
        $chars = [char[]]::new($bytes.Length / 2)
        [System.Buffer]::BlockCopy($bytes, 0, $chars, 0, $bytes.Length)
        return [string]::new($chars)
    }
    $s
}

function Get-RdsNowIso { [DateTime]::UtcNow.ToString('o', [CultureInfo]::InvariantCulture) }

function ConvertTo-RdsDmtf([DateTime]$Utc) { $Utc.ToUniversalTime().ToString('yyyyMMddHHmmss', [CultureInfo]::InvariantCulture) + '.000000+000' }

$script:DmtfCache = [System.Collections.Generic.Dictionary[string, DateTime]]::new([StringComparer]::Ordinal)

function ConvertFrom-RdsDmtf([string]$Dmtf) {
    # yyyyMMddHHmmss.ffffff+UUU (UUU = minutes east of UTC). Get-CimInstance returns DATETIME as local DateTime.
    $cached = [DateTime]::MinValue
    if ($script:DmtfCache.TryGetValue($Dmtf, [ref]$cached)) { return $cached }
    $local = [DateTime]::ParseExact($Dmtf.Substring(0, 21), 'yyyyMMddHHmmss.ffffff', [CultureInfo]::InvariantCulture)
    $offset = [int]::Parse($Dmtf.Substring(21), [CultureInfo]::InvariantCulture)
    $value = [DateTime]::SpecifyKind($local.AddMinutes(-$offset), [DateTimeKind]::Utc).ToLocalTime()
    if ($script:DmtfCache.Count -lt 4096) { $script:DmtfCache[$Dmtf] = $value }
    $value
}

function ConvertFrom-RdsIso([string]$Iso) {
    [DateTime]::Parse($Iso, [CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind).ToUniversalTime()
}

function Get-RdsAlnumId([string]$Seed, [int]$Length) {
    $bytes = [System.Security.Cryptography.SHA512]::HashData($script:Utf8NoBom.GetBytes($Seed))
    $chars = [char[]]::new($Length)
    for ($i = 0; $i -lt $Length; $i++) { $chars[$i] = $script:Alphabet36[$bytes[$i] % 36] }
    [string]::new($chars)
}

function Get-RdsSha256Hex([string]$Text) {
    [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($script:Utf8NoBom.GetBytes($Text))).ToLowerInvariant()
}

function Test-RdsFormat([string]$Value, [string]$Pattern) {
    $null -ne $Value -and [regex]::IsMatch($Value, $Pattern)
}

function ConvertTo-RdsBool([object]$Value, [string]$Name) {
    if ($Value -is [bool]) { return $Value }
    if ($null -ne $Value) {
        $s = ([string]$Value).Trim().ToLowerInvariant()
        if ($s -in 'true', '1', 'yes', 'on') { return $true }
        if ($s -in 'false', '0', 'no', 'off') { return $false }
    }
    throw [System.ArgumentException]::new("RdsEmulator: '$Name' must be true or false")
}

function ConvertTo-RdsInt([object]$Value, [string]$Name, [long]$Min, [long]$Max) {
    $n = 0L
    if ($Value -is [string] -and [long]::TryParse($Value.Trim(), [System.Globalization.NumberStyles]::Integer, [CultureInfo]::InvariantCulture, [ref]$n)) { }
    elseif ($null -ne $Value -and $Value -isnot [string] -and $Value -isnot [bool] -and (Test-RdsIntegral $Value)) { $n = [long]$Value }
    else { throw [System.ArgumentException]::new("RdsEmulator: '$Name' must be an integer") }
    if ($n -lt $Min -or $n -gt $Max) { throw [System.ArgumentException]::new("RdsEmulator: '$Name' must be between $Min and $Max") }
    $n
}

function Test-RdsIntegral([object]$Value) {
    $code = [Type]::GetTypeCode($Value.GetType())
    switch ($code) {
        { $_ -in 'SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64' } { return $true }
        { $_ -in 'Single', 'Double', 'Decimal' } { return ([decimal]$Value -eq [Math]::Truncate([decimal]$Value)) }
    }
    if ($Value -is [System.Numerics.BigInteger]) { return $true }
    $false
}
