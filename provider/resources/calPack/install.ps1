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
    Refuses first (nothing is called) when a code does not have its format (never echoing the value;
    the agreement number's format depends on AgreementType), when the licensing service is not
    running (CLASS_NOT_READY), when the server is not activated, or when its version does not
    accept the CAL version.
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

function Get-Code([string]$Name, [int]$Length, [bool]$DigitsOnly, [string]$What, [int]$MaxLength = 0) {
    # The code without hyphens or spaces, upper case; refused (without its value) when malformed.
    # $Length characters exactly, or $Length to $MaxLength when $MaxLength is given.
    $value = ([string](Get-Arg $Name)) -replace '[-\s]', ''
    $value = $value.ToUpperInvariant()
    $max = if ($MaxLength -gt $Length) { $MaxLength } else { $Length }
    $pattern = if ($DigitsOnly) { "^[0-9]{$Length,$max}$" } else { "^[A-Z0-9]{$Length,$max}$" }
    if ($value -cnotmatch $pattern) {
        $kind = if ($DigitsOnly) { 'digits' } else { 'letters and digits' }
        $count = if ($max -eq $Length) { [string]$Length } else { "$Length to $max" }
        throw (New-RdsScriptError -Code VALIDATION -Message ("{0} is malformed: {1} must be {2} {3} (got {4} characters); nothing was installed" -f $Name, $What, $count, $kind, $value.Length))
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
# sAgreementNumber per AgreementType (docs/windows-facts.md#identifier-formats; AGREEMENT_NUMBER_FORMATS in schema.ts):
# 0-3 the 7-digit enrollment number; 4 (SPLA) 7 or 8 digits; 5 no documented format: 1 to 15 letters and digits.
$agreementNumberFormats = @{
    0 = @(7, 7, $true); 1 = @(7, 7, $true); 2 = @(7, 7, $true); 3 = @(7, 7, $true); 4 = @(7, 8, $true); 5 = @(1, 15, $false)
}

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
        $format = $agreementNumberFormats[[int]$type]
        $arguments = @{
            AgreementType    = [uint32]$type
            sAgreementNumber = [string](Get-Code 'agreementNumber' $format[0] $format[2] 'the agreement or enrollment number' $format[1])
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

# Validated: now the server. What the licensing classes answer on a stopped service is undocumented.
Assert-RdsLicensingService
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
