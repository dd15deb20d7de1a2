#Requires -Version 7.2
<#
.SYNOPSIS
    The pwsh half of the `rds-sim` CLI (cli.ts): runs one admin action against the emulator.

.DESCRIPTION
    Started once per CLI command as

        pwsh -NoLogo -NoProfile -NonInteractive -File cli-driver.ps1 -ModulePath <RdsEmulator.psm1>

    and fed ONE request on stdin: base64 of the UTF-8 JSON

        { "stateDir": "<abs path>", "action": "<name>", "args": { ... } }

    Every value in the request is data: it is bound to a parameter of an emulator admin function,
    never spliced into script text. The driver prints exactly one result line on stdout, prefixed
    with a marker so stray output (if any) cannot be mistaken for it:

        @@rds-sim@@{"ok":true,"result":...}
        @@rds-sim@@{"ok":false,"error":{"message":"...","type":"System.ArgumentException"}}

    The JSON is ASCII (non-ASCII escaped), so the console encoding cannot mangle it.
#>
[CmdletBinding()]
param([Parameter(Mandatory)][string]$ModulePath)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 3.0

$Marker = '@@rds-sim@@'
$Utf8 = [System.Text.UTF8Encoding]::new($false)

function Write-CliDocument([System.Collections.IDictionary]$Document) {
    $json = ConvertTo-Json -InputObject $Document -Depth 32 -Compress -EscapeHandling EscapeNonAscii -WarningAction SilentlyContinue
    [Console]::Out.Write("`n" + $Marker + $json + "`n")
    [Console]::Out.Flush()
}

# The state file of a host, by the layout contracts.md fixes: <stateDir>/hosts/<hex of the UTF-8 of the
# lower-cased name>.json. Used to tell "no such host" apart from "created with defaults on first use".
function Test-CliHostExists([string]$StateDir, [string]$HostName) {
    $hex = [Convert]::ToHexString($Utf8.GetBytes($HostName.ToLowerInvariant())).ToLowerInvariant()
    [System.IO.File]::Exists([System.IO.Path]::Combine($StateDir, 'hosts', "$hex.json"))
}

function Assert-CliHostExists([string]$StateDir, [string]$HostName) {
    if (-not (Test-CliHostExists $StateDir $HostName)) {
        $e = [System.Management.Automation.ItemNotFoundException]::new("host '$HostName' has no state in $StateDir (hosts are created by 'host set', 'fault set', 'gpo set' or by the provider; 'rds-sim hosts' lists them)")
        $e.Data['RdsSimCliCode'] = 'NO_SUCH_HOST'
        throw $e
    }
}

# One script block per action. $a is the request's args (a hashtable); $dir the absolute state dir.
$Actions = @{
    # Get-RdsSimHostList and Get-RdsSimCallLog return their array as ONE pipeline object; assigning it
    # first keeps it flat (wrapping the call in @() would nest it).
    'hosts'     = { param($a, $dir) $rows = Get-RdsSimHostList; , @($rows) }

    'show'      = {
        param($a, $dir)
        Assert-CliHostExists $dir $a['host']
        Get-RdsSimHost -HostName $a['host']
    }

    'license-server-id' = {
        param($a, $dir)
        $productId = $a['productId']
        if ($null -ne $a['host']) { Assert-CliHostExists $dir $a['host']; $productId = (Get-RdsSimHost -HostName $a['host']).licenseServer.productId }
        [ordered]@{
            productId       = $productId
            licenseServerId = (Get-RdsSimClearinghouseLicenseServerId -ProductId $productId)
        }
    }

    'confirmation-code' = {
        param($a, $dir)
        $productId = $a['productId']
        if ($null -ne $a['host']) { Assert-CliHostExists $dir $a['host']; $productId = (Get-RdsSimHost -HostName $a['host']).licenseServer.productId }
        [ordered]@{
            productId        = $productId
            confirmationCode = (Get-RdsSimClearinghouseConfirmationCode -ProductId $productId)
        }
    }

    'key-pack-id' = {
        param($a, $dir)
        $productId = $a['productId']
        if ($null -ne $a['host']) { Assert-CliHostExists $dir $a['host']; $productId = (Get-RdsSimHost -HostName $a['host']).licenseServer.productId }
        $id = Get-RdsSimClearinghouseKeyPackId -ProductId $productId -Program $a['program'] -ProductVersion $a['version'] `
            -CalType $a['calType'] -Quantity ([long]$a['quantity'])
        [ordered]@{
            productId      = $productId
            keyPackId      = $id
            program        = $a['program']
            productVersion = $a['version']
            calType        = $a['calType']
            quantity       = [long]$a['quantity']
        }
    }

    'retail-code' = {
        param($a, $dir)
        $code = New-RdsSimRetailLicenseCode -ProductVersion $a['version'] -CalType $a['calType'] -Quantity ([int]$a['quantity'])
        [ordered]@{ licenseCode = $code; productVersion = $a['version']; calType = $a['calType']; quantity = [int]$a['quantity'] }
    }

    'host-set' = {
        param($a, $dir)
        $settings = [ordered]@{}
        foreach ($key in $a['settings'].Keys) { $settings[$key] = $a['settings'][$key] }
        Set-RdsSimHostConfig -HostName $a['host'] -Settings $settings
    }

    'issue' = {
        param($a, $dir)
        Assert-CliHostExists $dir $a['host']
        $p = @{ HostName = $a['host']; KeyPackId = [long]$a['keyPackId']; Count = [int]$a['count'] }
        if ($null -ne $a['computer']) { $p.Computer = $a['computer'] }
        if ($null -ne $a['user']) { $p.User = $a['user'] }
        Add-RdsSimIssuedLicense @p
    }

    'leftover-pack' = {
        param($a, $dir)
        Assert-CliHostExists $dir $a['host']
        Add-RdsSimLeftoverKeyPack -HostName $a['host'] -ProductVersion $a['version'] -CalType $a['calType']
    }

    'fault-set' = {
        param($a, $dir)
        Set-RdsSimFault -HostName $a['host'] -Fault $a['fault'] -Value $a['value']
    }

    'fault-clear' = {
        param($a, $dir)
        Assert-CliHostExists $dir $a['host']
        $p = @{ HostName = $a['host'] }
        if ($null -ne $a['fault']) { $p.Fault = $a['fault'] }
        Clear-RdsSimFault @p
    }

    'gpo-set' = {
        param($a, $dir)
        $p = @{ HostName = $a['host'] }
        if ($a.Contains('licensingMode')) { $p.LicensingMode = [int]$a['licensingMode'] }
        if ($a.Contains('licenseServers')) { $p.LicenseServers = [string]$a['licenseServers'] }
        Set-RdsSimGroupPolicy @p
    }

    'gpo-clear' = {
        param($a, $dir)
        Assert-CliHostExists $dir $a['host']
        $p = @{ HostName = $a['host'] }
        if ($a['mode']) { $p.LicensingMode = $null }
        if ($a['licenseServers']) { $p.LicenseServers = $null }
        Set-RdsSimGroupPolicy @p
    }

    'reset' = {
        param($a, $dir)
        if ($null -ne $a['host']) {
            $existed = Test-CliHostExists $dir $a['host']
            Reset-RdsSim -HostName $a['host']
            [ordered]@{ host = $a['host']; existed = $existed; hostsReset = $(if ($existed) { 1 } else { 0 }); clearinghouseReset = $false }
        } else {
            $rows = Get-RdsSimHostList
            $count = @($rows).Count
            Reset-RdsSim
            [ordered]@{ host = $null; existed = $null; hostsReset = $count; clearinghouseReset = $true }
        }
    }

    'log' = {
        param($a, $dir)
        Assert-CliHostExists $dir $a['host']
        $rows = Get-RdsSimCallLog -HostName $a['host']
        , @($rows)
    }
}

try {
    $encoded = [Console]::In.ReadToEnd()
    $request = ConvertFrom-Json -InputObject ($Utf8.GetString([Convert]::FromBase64String($encoded.Trim()))) -AsHashtable -DateKind String -Depth 16
    $action = $Actions[[string]$request.action]
    if ($null -eq $action) { throw [System.ArgumentException]::new("unknown driver action '$($request.action)'") }
    $arguments = if ($request.args -is [System.Collections.IDictionary]) { $request.args } else { @{} }

    Import-Module -Name $ModulePath -Force -DisableNameChecking
    Set-RdsEmulatorContext -StateDir ([string]$request.stateDir)
    $stateDir = (Get-RdsEmulatorContext).StateDir

    $result = & $action $arguments $stateDir
    Write-CliDocument ([ordered]@{ ok = $true; result = $result })
} catch {
    $ex = $_.Exception
    # Parameter binding and validation wrap the interesting exception.
    while ($ex -is [System.Management.Automation.ParameterBindingException] -and $null -ne $ex.InnerException) { $ex = $ex.InnerException }
    $message = [string]$ex.Message
    if ($message.StartsWith('RdsEmulator: ')) { $message = $message.Substring(13) }
    $doc = [ordered]@{ message = $message; type = $ex.GetType().FullName }
    if ($ex.Data.Contains('RdsSimCliCode')) { $doc.code = [string]$ex.Data['RdsSimCliCode'] }
    Write-CliDocument ([ordered]@{ ok = $false; error = $doc })
}
exit 0
