<#
.SYNOPSIS
    Helpers shared by the RdsCalPack operation scripts (dot-sourced; no job of its own).

.DESCRIPTION
    Talks to Windows only through Get-CimInstance and, via Invoke-RdsWmiMethod (RdsCommon.psm1),
    Invoke-CimMethod, so the emulator stands in on the simulator. Never puts a license code,
    agreement, license or authorization number, or key pack id into a message.
#>

Set-StrictMode -Version 3.0

# License server version -> the newest CAL version it accepts (docs/windows-facts.md#install-preconditions: the license server
# must be the same version as the CAL or newer; 2008/2008 R2 take only 2008 R2-era CALs,
# 2012/2012 R2 take up to 2012 CALs). Mirrored in schema.ts (NEWEST_ACCEPTED_CAL) for messages.
$script:CalPackVersions = @('2008R2', '2012', '2016', '2019', '2022', '2025')
$script:CalPackNewestAccepted = @{
    '2008' = '2008R2'; '2008R2' = '2008R2'; '2012' = '2012'; '2012R2' = '2012'
    '2016' = '2016'; '2019' = '2019'; '2022' = '2022'; '2025' = '2025'
}
# Windows Server build numbers (Win32_OperatingSystem.Version) -> version, for when Caption does not say.
$script:CalPackServerBuilds = [ordered]@{
    '6.0.' = '2008'; '6.1.' = '2008R2'; '6.2.' = '2012'; '6.3.' = '2012R2'
    '10.0.14393' = '2016'; '10.0.17763' = '2019'; '10.0.20348' = '2022'; '10.0.26100' = '2025'
}

function ConvertTo-CalPackIsoDate {
    # Get-CimInstance gives a DateTime; WMI DMTF text is yyyyMMddHHmmss.ffffff+UUU. Returns ISO 8601 UTC or "".
    param($Value)
    if ($null -eq $Value) { return '' }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture) }
    $text = [string]$Value
    if ($text -match '^(\d{14})\.(\d{6})([+-])(\d{3})$') {
        $local = [datetime]::ParseExact($Matches[1], 'yyyyMMddHHmmss', [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::None)
        $offsetMinutes = [int]$Matches[4]
        if ($Matches[3] -eq '-') { $offsetMinutes = -$offsetMinutes }
        $utc = [datetime]::SpecifyKind($local.AddMinutes(-$offsetMinutes), [System.DateTimeKind]::Utc)
        return $utc.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
    }
    $parsed = [datetime]::MinValue
    if ([datetime]::TryParse($text, [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal, [ref]$parsed)) {
        return $parsed.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
    }
    return $text
}

function Test-CalPackBuiltIn {
    # The built-in pack (docs/windows-facts.md#built-in-pack): ProductType 3, ProductVersionID 0/1, or "Built-in" in TypeAndModel.
    param($Pack)
    $type = Get-RdsProperty $Pack 'ProductType'
    $pvid = Get-RdsProperty $Pack 'ProductVersionID'
    $model = [string](Get-RdsProperty $Pack 'TypeAndModel' '')
    return ($type -eq 3) -or ($null -ne $pvid -and [int64]$pvid -lt 2) -or ($model -like 'Built-in*')
}

function Test-CalPackLeftover {
    # A leftover row (docs/windows-facts.md#key-pack-type): TotalLicenses 0, seen with the undocumented KeyPackType 7.
    # It holds no CALs, so no declaration matches, adopts, resizes or removes it: the scripts treat it as absent.
    param($Pack)
    return ([double](Get-RdsProperty $Pack 'TotalLicenses' 0) -eq 0)
}

function Get-CalPackIssuedCounts {
    # Per KeyPackId: how many Win32_TSIssuedLicense (per-device CALs) are issued and not revoked (status 4).
    $counts = @{}
    $issued = @(Get-CimInstance -Namespace root/cimv2 -ClassName Win32_TSIssuedLicense -ErrorAction Stop)
    foreach ($license in $issued) {
        if ($null -eq $license) { continue }
        $status = Get-RdsProperty $license 'LicenseStatus'
        if ($null -ne $status -and [int64]$status -eq 4) { continue }
        $id = [int64](Get-RdsProperty $license 'KeyPackId' -1)
        if ($counts.ContainsKey($id)) { $counts[$id]++ } else { $counts[$id] = 1 }
    }
    return $counts
}

function ConvertTo-CalPackFacts {
    # One Win32_TSLicenseKeyPack instance as plain data (packSchema in schema.ts).
    param($Pack, [hashtable]$IssuedCounts)
    $id = [int64](Get-RdsProperty $Pack 'KeyPackId')
    $perDevice = 0
    if ($null -ne $IssuedCounts -and $IssuedCounts.ContainsKey($id)) { $perDevice = [int64]$IssuedCounts[$id] }
    return [ordered]@{
        keyPackId         = $id
        keyPackType       = [int64](Get-RdsProperty $Pack 'KeyPackType' 0)
        productType       = [int64](Get-RdsProperty $Pack 'ProductType' 2)
        productVersion    = [string](Get-RdsProperty $Pack 'ProductVersion' '')
        productVersionId  = [int64](Get-RdsProperty $Pack 'ProductVersionID' 0)
        totalLicenses     = [double](Get-RdsProperty $Pack 'TotalLicenses' 0)
        issuedLicenses    = [double](Get-RdsProperty $Pack 'IssuedLicenses' 0)
        availableLicenses = [double](Get-RdsProperty $Pack 'AvailableLicenses' 0)
        typeAndModel      = [string](Get-RdsProperty $Pack 'TypeAndModel' '')
        description       = [string](Get-RdsProperty $Pack 'Description' '')
        expirationDate    = ConvertTo-CalPackIsoDate (Get-RdsProperty $Pack 'ExpirationDate')
        issuedPerDevice   = $perDevice
    }
}

function Get-CalPackList {
    # Every key pack on the server except the built-in one and leftovers, as plain data.
    $issued = Get-CalPackIssuedCounts
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($pack in @(Get-CimInstance -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -ErrorAction Stop)) {
        if ($null -eq $pack -or (Test-CalPackBuiltIn $pack) -or (Test-CalPackLeftover $pack)) { continue }
        $list.Add((ConvertTo-CalPackFacts $pack $issued))
    }
    return , $list.ToArray()
}

function Get-CalPackById {
    # The key pack with this KeyPackId as plain data, or $null (absent, or the built-in pack). A row without
    # licenses is returned as it is: read by id it is the resource's own pack, emptied (the provider replaces
    # it, leaving no orphan row); leftovers are ignored only when matching (Get-CalPackList).
    param([Parameter(Mandatory)][int64]$KeyPackId)
    foreach ($pack in @(Get-CimInstance -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -ErrorAction Stop)) {
        if ($null -eq $pack) { continue }
        if ([int64](Get-RdsProperty $pack 'KeyPackId' -1) -ne $KeyPackId) { continue }
        if (Test-CalPackBuiltIn $pack) { return $null }
        return (ConvertTo-CalPackFacts $pack (Get-CalPackIssuedCounts))
    }
    return $null
}

function Get-CalPackByIds {
    # For each KeyPackId (in order): its key pack as plain data (a row without licenses too, as Get-CalPackById),
    # or $null (built-in or absent). One
    # enumeration of the packs and of the issued licenses serves the whole list (coalesced reads).
    param([Parameter(Mandatory)][AllowEmptyCollection()][int64[]]$KeyPackIds)
    $byId = @{}
    $issued = $null
    foreach ($pack in @(Get-CimInstance -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -ErrorAction Stop)) {
        if ($null -eq $pack) { continue }
        $id = [int64](Get-RdsProperty $pack 'KeyPackId' -1)
        if ($byId.ContainsKey($id) -or $KeyPackIds -notcontains $id) { continue }
        if (Test-CalPackBuiltIn $pack) { $byId[$id] = $null; continue }
        if ($null -eq $issued) { $issued = Get-CalPackIssuedCounts }
        $byId[$id] = ConvertTo-CalPackFacts $pack $issued
    }
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($id in $KeyPackIds) { $list.Add($(if ($byId.ContainsKey($id)) { $byId[$id] } else { $null })) }
    return , $list.ToArray()
}

function Get-CalPackServerVersion {
    # The license server's Windows Server version ("2022"), from Win32_OperatingSystem; "" when unknown.
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $os) { return '' }
    $caption = [string](Get-RdsProperty $os 'Caption' '')
    if ($caption -match 'Server\s+(2008\s*R2|2012\s*R2|2008|2012|2016|2019|2022|2025)\b') {
        return ($Matches[1] -replace '\s', '')
    }
    $version = [string](Get-RdsProperty $os 'Version' '')
    foreach ($prefix in $script:CalPackServerBuilds.Keys) {
        if ($version.StartsWith($prefix)) { return $script:CalPackServerBuilds[$prefix] }
    }
    return ''
}

function Get-CalPackNextStep {
    # What to do to activate, for the activation method the RdsLicenseServer reports.
    param([string]$ActivationMethod, [string]$ProductId)
    $pid_ = if ($ProductId) { $ProductId } else { '(unknown)' }
    switch ($ActivationMethod) {
        'automatic' {
            return "run pulumi up so the RdsLicenseServer activates it automatically again (it needs the contact fields and outbound TCP 443 to the Microsoft Clearinghouse; run pulumi refresh first if it was deactivated outside Pulumi)"
        }
        'web' {
            return "open https://activate.microsoft.com, activate a license server with product id $pid_, set activation.licenseServerId of the RdsLicenseServer to the 35-character license server id the site gives you, and run pulumi up"
        }
        'telephone' {
            return "call the Microsoft Clearinghouse at the number RD Licensing Manager shows for your country or region, read them product id $pid_, set activation.licenseServerId of the RdsLicenseServer to the license server id they give you, and run pulumi up"
        }
        default {
            return "activate it first: give the RdsLicenseServer activation { method: `"automatic`" }, or use method `"web`" (https://activate.microsoft.com) or `"telephone`" with product id $pid_ and set activation.licenseServerId; then run pulumi up"
        }
    }
}

function Assert-CalPackInstallable {
    <#
    .SYNOPSIS
        Refuses unless the license server is activated and its version accepts the CAL version.
    .DESCRIPTION
        Returns @{ activationStatus; productId; serverVersion } when it may install. Throws
        NOT_ACTIVATED (GetActivationStatus is not 0: the Best Practices Analyzer rule) or
        VERSION_NOT_ACCEPTED (docs/windows-facts.md#install-preconditions) before anything is installed.
    #>
    param(
        [Parameter(Mandatory)][string]$ProductVersion,
        [string]$ActivationMethod = ''
    )
    $status = Invoke-RdsWmiMethod -Namespace root/cimv2 -ClassName Win32_TSLicenseServer -MethodName GetActivationStatus
    $activation = [int64](Get-RdsProperty $status 'ActivationStatus' 2)
    $server = Get-CimInstance -Namespace root/cimv2 -ClassName Win32_TSLicenseServer -ErrorAction Stop | Select-Object -First 1
    $productId = [string](Get-RdsProperty $server 'ProductId' '')
    if ($activation -ne 0) {
        $state = if ($activation -eq 1) { 'not activated' } else { "cannot be determined (ActivationStatus $activation)" }
        $next = Get-CalPackNextStep -ActivationMethod $ActivationMethod -ProductId $productId
        throw (New-RdsScriptError -Code NOT_ACTIVATED -Message ("the license server must be activated before you can install RDS CALs: its activation status is {0} (product id {1}); nothing was installed; next step: {2}" -f $state, $productId, $next))
    }
    $serverVersion = Get-CalPackServerVersion
    if ($serverVersion -ne '' -and $script:CalPackNewestAccepted.ContainsKey($serverVersion)) {
        $newest = $script:CalPackNewestAccepted[$serverVersion]
        if ($script:CalPackVersions.IndexOf($ProductVersion) -gt $script:CalPackVersions.IndexOf($newest)) {
            $label = $serverVersion -replace 'R2$', ' R2'
            throw (New-RdsScriptError -Code VERSION_NOT_ACCEPTED -Message ("a Windows Server {0} license server accepts RDS CALs up to version {1}, and this pack is version {2}; nothing was installed: install {2} CALs on a license server running Windows Server {2} or later (a license server takes CALs of its own version and older)" -f $label, $newest, $ProductVersion))
        }
    }
    return [ordered]@{ activationStatus = $activation; productId = $productId; serverVersion = $serverVersion }
}
