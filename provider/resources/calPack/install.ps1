<#
.SYNOPSIS
    RdsCalPack install: one WMI install call, the one its license program takes (docs/windows-facts.md#key-pack-methods, docs/windows-facts.md#install-preconditions).

.DESCRIPTION
    Args: program, productVersion ("2022"), activationMethod, and the program's data:
      retail            licenseCode                         -> InstallRetailPurchaseLicenseKeyPack
      openLicense       licenseNumber, authorizationNumber,
                        productVersionCode, productTypeCode,
                        licenseCount                        -> InstallOpenLicenseKeyPack
      agreements        agreementType (0-5), agreementNumber,
                        productVersionCode, productTypeCode,
                        licenseCount                        -> InstallAgreementLicenseKeyPack
      keyPackId         licenseKeyPackId                    -> InstallLicenseKeyPack
    Refuses first (nothing is called) when the server is not activated, when its version does not
    accept the CAL version, or when a code does not have its format (never echoing the value).
    Progress: one line before the install call, naming the method (never a code or number).
    Result: { method, keyPackId, pack } (pack: the new Win32_TSLicenseKeyPack, or null if it cannot be read back).
#>
param([Parameter(Mandatory)][string]$Envelope)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'CalPack.Common.ps1')

$in = ConvertFrom-RdsEnvelope $Envelope
$a = $in.args

function Get-Arg([string]$Name) {
    if ($a.Contains($Name) -and $null -ne $a[$Name]) { return $a[$Name] }
    throw (New-RdsScriptError -Code VALIDATION -Message "install needs argument $Name for program $($a.program)")
}

function Get-Code([string]$Name, [int]$Length, [bool]$DigitsOnly, [string]$What) {
    # The code without hyphens or spaces, upper case; refused (without its value) when malformed.
    $value = ([string](Get-Arg $Name)) -replace '[-\s]', ''
    $value = $value.ToUpperInvariant()
    $pattern = if ($DigitsOnly) { "^[0-9]{$Length}$" } else { "^[A-Z0-9]{$Length}$" }
    if ($value -cnotmatch $pattern) {
        $kind = if ($DigitsOnly) { 'digits' } else { 'letters and digits' }
        throw (New-RdsScriptError -Code VALIDATION -Message ("{0} is malformed: {1} must be {2} {3} (got {4} characters); nothing was installed" -f $Name, $What, $Length, $kind, $value.Length))
    }
    return $value
}

function Get-UInt32Arg([string]$Name, [int64]$Min, [int64]$Max) {
    $raw = Get-Arg $Name
    $number = [int64]0
    if (-not [int64]::TryParse([string]$raw, [ref]$number) -or $number -lt $Min -or $number -gt $Max) {
        throw (New-RdsScriptError -Code VALIDATION -Message ("{0} must be a whole number from {1} to {2}, got {3}; nothing was installed" -f $Name, $Min, $Max, $raw))
    }
    return [uint32]$number
}

$program = [string]$a.program
$agreementTypes = @{ select = 0; enterpriseAgreement = 1; campus = 2; school = 3; spla = 4; otherAgreement = 5 }

# Validate everything before touching the server.
switch ($program) {
    'retail' {
        $method = 'InstallRetailPurchaseLicenseKeyPack'
        $arguments = @{ sLicenseCode = [string](Get-Code 'licenseCode' 25 $false 'the retail license code') }
    }
    'openLicense' {
        $method = 'InstallOpenLicenseKeyPack'
        $arguments = @{
            sLicenseNumber       = [string](Get-Code 'licenseNumber' 8 $true 'the Open License number')
            sAuthorizationNumber = [string](Get-Code 'authorizationNumber' 15 $false 'the Open License authorization number')
            ProductVersion       = [uint32](Get-UInt32Arg 'productVersionCode' 2 8)
            ProductType          = [uint32](Get-UInt32Arg 'productTypeCode' 0 1)
            LicenseCount         = [uint32](Get-UInt32Arg 'licenseCount' 1 4294967295)
        }
    }
    { $agreementTypes.ContainsKey($_) } {
        $method = 'InstallAgreementLicenseKeyPack'
        $type = Get-UInt32Arg 'agreementType' 0 5
        if ($type -ne $agreementTypes[$program]) {
            throw (New-RdsScriptError -Code VALIDATION -Message ("agreementType {0} is not the code of program {1} ({2}); nothing was installed" -f $type, $program, $agreementTypes[$program]))
        }
        $arguments = @{
            AgreementType    = [uint32]$type
            sAgreementNumber = [string](Get-Code 'agreementNumber' 7 $true 'the agreement or enrollment number')
            ProductVersion   = [uint32](Get-UInt32Arg 'productVersionCode' 2 8)
            ProductType      = [uint32](Get-UInt32Arg 'productTypeCode' 0 1)
            LicenseCount     = [uint32](Get-UInt32Arg 'licenseCount' 1 4294967295)
        }
    }
    'keyPackId' {
        $method = 'InstallLicenseKeyPack'
        $arguments = @{ sLicenseKeyPackId = [string](Get-Code 'licenseKeyPackId' 35 $false 'the license key pack id') }
    }
    default {
        throw (New-RdsScriptError -Code VALIDATION -Message ("unknown license program {0}; nothing was installed" -f $program))
    }
}

$null = Assert-CalPackInstallable -ProductVersion ([string]$a.productVersion) -ActivationMethod ([string]$a.activationMethod)

# Progress: the call that can take long (online installs contact the Clearinghouse; a license key
# pack id installs offline: docs/windows-facts.md). The method's name only: never a code or number.
if ($method -eq 'InstallLicenseKeyPack') {
    Write-RdsProgress "calling $method"
} else {
    Write-RdsProgress "calling $method (through the Microsoft Clearinghouse)"
}
$result = Invoke-RdsWmiMethod -Namespace root/cimv2 -ClassName Win32_TSLicenseKeyPack -MethodName $method -Arguments $arguments
$arguments = $null
$keyPackId = [int64](Get-RdsProperty $result 'KeyPackId' -1)
if ($keyPackId -lt 0) {
    throw (New-RdsScriptError -Code SCRIPT_ERROR -Message "$method succeeded but returned no KeyPackId")
}
$pack = Get-CalPackById -KeyPackId $keyPackId
Write-RdsResult ([ordered]@{ method = $method; keyPackId = $keyPackId; pack = $pack })
