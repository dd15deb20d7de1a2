#Requires -Version 7.5
<#
.SYNOPSIS
  The RD Licensing WMI emulator.

  Imported into a pwsh session, this module defines FUNCTIONS named like the cmdlets the operation
  scripts call (Get-CimInstance, Set-CimInstance, Invoke-CimMethod, Get-WindowsFeature,
  Install-WindowsFeature, Get-Service, Start-Service, Get-ItemProperty, Get-RDLicenseConfiguration,
  Set-RDLicenseConfiguration). Functions win over cmdlets, so the real scripts run unchanged on top of
  it. Every number it produces comes from ../shared/docs/rd-licensing-reference.md; every choice made
  where that reference says UNCONFIRMED is written down in README.md next to this file.

  State is one JSON file per host under <stateDir>/hosts/, written atomically (temp file + rename)
  under an exclusive lock file, plus a Clearinghouse file shared by all hosts. Values are data: nothing
  here ever evaluates or builds script text from a value.
#>

Set-StrictMode -Version 3.0

# ---------------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------------

# WBEM codes (reference section 8, plus the general WMI codes it names). UInt32 literals.
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
$script:WBEM_E_READ_ONLY = 0x80041023u
$script:WBEM_E_VALUE_OUT_OF_RANGE = 0x8004102Bu
$script:WBEM_E_INVALID_METHOD = 0x8004102Eu
$script:WBEM_E_INVALID_METHOD_PARAMETERS = 0x8004102Fu

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
    0x80041023u = 'WBEM_E_READ_ONLY'
    0x8004102Bu = 'WBEM_E_VALUE_OUT_OF_RANGE'
    0x8004102Eu = 'WBEM_E_INVALID_METHOD'
    0x8004102Fu = 'WBEM_E_INVALID_METHOD_PARAMETERS'
}

$script:GracePeriodDays = 120
$script:PolicyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$script:PolicyKeyProviderPath = 'HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$script:PurchasedExpiration = '20380101010000.000000-000'     # reference 3.2 (observed)
$script:BuiltInExpiration = '20351231230000.000000-000'       # reference 3.2 (observed)
$script:Alphabet36 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
$script:Base36Digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'
$script:Utf8NoBom = [System.Text.UTF8Encoding]::new($false)
$script:Rng = [System.Random]::new()

# Strings that cannot survive ConvertFrom-Json (lone UTF-16 surrogates are replaced by U+FFFD) are
# stored as marker + base64(UTF-16LE). Any string that starts with the marker is stored encoded too,
# so decoding is unambiguous.
$script:StoredMarker = [string][char]0 + [char]1 + 'rds-u16:'
$script:NeedsEncoding = [regex]::new('^\u0000\u0001rds-u16:|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]', [System.Text.RegularExpressions.RegexOptions]::Compiled)

# Host OS facts (Win32_OperatingSystem) and the newest CAL ProductVersionID a license server of that
# version accepts (reference 9.5: the license server must be the same version as the CAL or newer).
$script:OsTable = [ordered]@{
    '2008R2' = @{ Caption = 'Microsoft Windows Server 2008 R2 Standard'; Version = '6.1.7601'; BuildNumber = '7601'; MaxCalVersionId = 3 }
    '2012'   = @{ Caption = 'Microsoft Windows Server 2012 R2 Standard'; Version = '6.3.9600'; BuildNumber = '9600'; MaxCalVersionId = 4 }
    '2016'   = @{ Caption = 'Microsoft Windows Server 2016 Standard'; Version = '10.0.14393'; BuildNumber = '14393'; MaxCalVersionId = 5 }
    '2019'   = @{ Caption = 'Microsoft Windows Server 2019 Standard'; Version = '10.0.17763'; BuildNumber = '17763'; MaxCalVersionId = 6 }
    '2022'   = @{ Caption = 'Microsoft Windows Server 2022 Standard'; Version = '10.0.20348'; BuildNumber = '20348'; MaxCalVersionId = 7 }
    '2025'   = @{ Caption = 'Microsoft Windows Server 2025 Standard'; Version = '10.0.26100'; BuildNumber = '26100'; MaxCalVersionId = 8 }
}

# ProductVersion input (InstallAgreement/InstallOpen, reference 3.7) -> ProductVersionID (3.6) and the
# ProductVersion string (3.5). 3 is a ProductVersionID only, never an input.
$script:CalVersions = @{
    0 = @{ Name = $null; String = 'Windows 2000 Server'; Description = '5.00' }
    2 = @{ Name = '2008R2'; String = 'Windows Server 2008 or Windows Server 2008 R2'; Description = '6.00' }
    3 = @{ Name = '2008R2'; String = 'Windows Server 7'; Description = '6.01' }
    4 = @{ Name = '2012'; String = 'Windows Server 2012'; Description = '6.02' }
    5 = @{ Name = '2016'; String = 'Windows Server 2016'; Description = '10.00' }
    6 = @{ Name = '2019'; String = 'Windows Server 2019'; Description = '10.01' }
    7 = @{ Name = '2022'; String = 'Windows Server 2022'; Description = '10.02' }
    8 = @{ Name = '2025'; String = 'Windows Server 2025'; Description = '10.03' }
}
$script:CalVersionInputs = @(2, 4, 5, 6, 7, 8)
$script:VersionNameToId = @{ '2008R2' = 2; '2012' = 4; '2016' = 5; '2019' = 6; '2022' = 7; '2025' = 8 }

# License programs: KeyPackType (reference 3.3) and AgreementType (3.7).
$script:Programs = [ordered]@{
    retail              = @{ KeyPackType = 1; AgreementType = $null }
    openLicense         = @{ KeyPackType = 5; AgreementType = $null }
    select              = @{ KeyPackType = 2; AgreementType = 0 }
    enterpriseAgreement = @{ KeyPackType = 2; AgreementType = 1 }
    campus              = @{ KeyPackType = 2; AgreementType = 2 }
    school              = @{ KeyPackType = 2; AgreementType = 3 }
    spla                = @{ KeyPackType = 2; AgreementType = 4 }
    otherAgreement      = @{ KeyPackType = 2; AgreementType = 5 }
}
$script:AgreementTypeToProgram = @{ 0 = 'select'; 1 = 'enterpriseAgreement'; 2 = 'campus'; 3 = 'school'; 4 = 'spla'; 5 = 'otherAgreement' }

# Licensing modes of Win32_TerminalServiceSetting (reference 5.3). LicensingName strings are UNCONFIRMED.
$script:LicensingNames = @{
    0 = @('Personal Terminal Server', 'Personal Terminal Server licensing mode')
    1 = @('Remote Desktop for Administration', 'Remote Desktop for Administration: no RDS CALs are needed for two administrative sessions')
    2 = @('Per Device', 'Per Device licensing mode: each device needs an RDS Per Device CAL')
    4 = @('Per User', 'Per User licensing mode: each user needs an RDS Per User CAL')
    5 = @('Not configured', 'The licensing mode is not configured')
    6 = @('AAD Per User', 'Per User licensing mode for Azure AD users')
}

$script:ContactFields = @('FirstName', 'LastName', 'Company', 'CountryRegion', 'eMail', 'OrgUnit', 'Address', 'City', 'State', 'PostalCode')

try { $script:StatusRunning = [System.ServiceProcess.ServiceControllerStatus]::Running; $script:StatusStopped = [System.ServiceProcess.ServiceControllerStatus]::Stopped }
catch { $script:StatusRunning = 'Running'; $script:StatusStopped = 'Stopped' }

# Classes we emulate: canonical name, namespace, which part of the host they belong to.
$script:Namespaces = @{ 'root/cimv2' = 'root/cimv2'; 'root/cimv2/terminalservices' = 'root/cimv2/TerminalServices' }
$script:Classes = @{
    'win32_tslicenseserver'        = @{ Name = 'Win32_TSLicenseServer'; Namespace = 'root/cimv2'; Kind = 'LicenseServer' }
    'win32_tslicensekeypack'       = @{ Name = 'Win32_TSLicenseKeyPack'; Namespace = 'root/cimv2'; Kind = 'LicenseServer' }
    'win32_tsissuedlicense'        = @{ Name = 'Win32_TSIssuedLicense'; Namespace = 'root/cimv2'; Kind = 'LicenseServer' }
    'win32_terminalservicesetting' = @{ Name = 'Win32_TerminalServiceSetting'; Namespace = 'root/cimv2/TerminalServices'; Kind = 'SessionHost' }
    'win32_tsdeploymentlicensing'  = @{ Name = 'Win32_TSDeploymentLicensing'; Namespace = 'root/cimv2/TerminalServices'; Kind = 'Deployment' }
    'win32_operatingsystem'        = @{ Name = 'Win32_OperatingSystem'; Namespace = 'root/cimv2'; Kind = 'System' }
    'win32_computersystem'         = @{ Name = 'Win32_ComputerSystem'; Namespace = 'root/cimv2'; Kind = 'System' }
}

# Writable properties per class (everything else is read-only).
$script:WritableProperties = @{
    'Win32_TSLicenseServer'       = @{ FirstName = 'string'; LastName = 'string'; Company = 'string'; CountryRegion = 'string'; eMail = 'string'; OrgUnit = 'string'; Address = 'string'; City = 'string'; State = 'string'; PostalCode = 'string' }
    'Win32_TSDeploymentLicensing' = @{ UseCentralLicensingSettings = 'boolean'; LicenseServers = 'string[]'; LicensingType = 'uint32' }
}
$script:AllProperties = @{
    'Win32_TSLicenseServer'        = @('FirstName', 'LastName', 'Company', 'CountryRegion', 'eMail', 'OrgUnit', 'Address', 'City', 'State', 'PostalCode', 'ServerRole', 'DatabasePath', 'ProductId', 'Version', 'VersionNumber')
    'Win32_TSLicenseKeyPack'       = @('KeyPackId', 'Description', 'KeyPackType', 'ProductType', 'ProductVersion', 'ProductVersionID', 'TotalLicenses', 'IssuedLicenses', 'AvailableLicenses', 'ExpirationDate', 'AccessRights', 'TypeAndModel')
    'Win32_TSIssuedLicense'        = @('LicenseId', 'KeyPackId', 'sIssuedToUser', 'sIssuedToComputer', 'sHardwareId', 'LicenseStatus', 'IssueDate', 'ExpirationDate')
    'Win32_TerminalServiceSetting' = @('ServerName', 'TerminalServerMode', 'LicensingType', 'PolicySourceLicensingType', 'LicensingName', 'LicensingDescription', 'PolicySourceConfiguredLicenseServers')
    'Win32_TSDeploymentLicensing'  = @('UseCentralLicensingSettings', 'LicenseServers', 'LicensingType')
    'Win32_OperatingSystem'        = @('Caption', 'Version', 'BuildNumber', 'CSName')
    'Win32_ComputerSystem'         = @('Name', 'DNSHostName', 'Domain', 'PartOfDomain', 'Workgroup')
}

# Method table: class -> lower-case method name -> spec. In = ordered [name, CIM type]; Out = ordered
# [name, CIM type]. NotEmulated = the real class has the method but the emulator does not model it
# (answers WBEM_E_NOT_SUPPORTED). Impl = the function that does the work.
function New-RdsMethodSpec([string]$Name, [bool]$Static, [object[]]$In, [object[]]$Out, [string]$Impl, [switch]$NotEmulated) {
    @{ Name = $Name; Static = $Static; In = $In; Out = $Out; Impl = $Impl; NotEmulated = [bool]$NotEmulated }
}
$script:Methods = @{
    'Win32_TSLicenseServer'        = @{}
    'Win32_TSLicenseKeyPack'       = @{}
    'Win32_TSIssuedLicense'        = @{}
    'Win32_TerminalServiceSetting' = @{}
    'Win32_TSDeploymentLicensing'  = @{}
    'Win32_OperatingSystem'        = @{}
    'Win32_ComputerSystem'         = @{}
}
function Register-RdsMethod([string]$Class, [hashtable]$Spec) { $script:Methods[$Class][$Spec.Name.ToLowerInvariant()] = $Spec }

$ls = 'Win32_TSLicenseServer'
Register-RdsMethod $ls (New-RdsMethodSpec 'ActivateServer' $true @(, @('sLicenseServerId', 'string')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsActivateServer')
Register-RdsMethod $ls (New-RdsMethodSpec 'ActivateServerAutomatic' $true @() @(, @('ActivationStatus', 'uint32')) 'Invoke-LsActivateServerAutomatic')
Register-RdsMethod $ls (New-RdsMethodSpec 'DeactivateServer' $true @(, @('sConfirmCode', 'string')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsDeactivateServer')
Register-RdsMethod $ls (New-RdsMethodSpec 'DeactivateServerAutomatic' $true @() @(, @('ActivationStatus', 'uint32')) 'Invoke-LsDeactivateServerAutomatic')
Register-RdsMethod $ls (New-RdsMethodSpec 'ReactivateServer' $true @(, @('sNewLicenseServerId', 'string')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsReactivateServer')
Register-RdsMethod $ls (New-RdsMethodSpec 'ReactivateServerAutomatic' $true @(, @('Reason', 'uint32')) @(, @('ActivationStatus', 'uint32')) 'Invoke-LsReactivateServerAutomatic')
Register-RdsMethod $ls (New-RdsMethodSpec 'GetActivationStatus' $true @() @(, @('ActivationStatus', 'uint32')) 'Invoke-LsGetActivationStatus')
Register-RdsMethod $ls (New-RdsMethodSpec 'GetLicenseServerId' $true @() @(, @('sLicenseServerId', 'string')) 'Invoke-LsGetLicenseServerId')
Register-RdsMethod $ls (New-RdsMethodSpec 'ChangeRole' $true @(, @('ServerRole', 'uint32')) @() 'Invoke-LsChangeRole')
foreach ($m in 'IsLSPublished', 'PublishLS', 'UnpublishLS', 'IsLSRegisteredToSCP', 'RegisterLSToSCP', 'UnRegisterLSFromSCP', 'IsLSinTSLSGroup', 'AddLStoTSLSGroup', 'RemoveLSfromTSLSGroup', 'IsLSonDC', 'IsLSSecGrpGPEnabled', 'IsLSPreventUpgradeGPEnabled', 'IsSecureAccessAllowed', 'IsTSinTSCGroup', 'CreateTSCGroup', 'RemoveTSCGroup', 'IsTSCGroupPresent') {
    Register-RdsMethod $ls (New-RdsMethodSpec $m $true @() @() $null -NotEmulated)
}

$kp = 'Win32_TSLicenseKeyPack'
$versionTypeCount = @(@('ProductVersion', 'uint32'), @('ProductType', 'uint32'), @('LicenseCount', 'uint32'))
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallRetailPurchaseLicenseKeyPack' $true @(, @('sLicenseCode', 'string')) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallRetail')
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallOpenLicenseKeyPack' $true (@(@('sLicenseNumber', 'string'), @('sAuthorizationNumber', 'string')) + $versionTypeCount) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallOpen')
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallAgreementLicenseKeyPack' $true (@(@('AgreementType', 'uint32'), @('sAgreementNumber', 'string')) + $versionTypeCount) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallAgreement')
Register-RdsMethod $kp (New-RdsMethodSpec 'InstallLicenseKeyPack' $true @(, @('sLicenseKeyPackId', 'string')) @(, @('KeyPackId', 'uint32')) 'Invoke-KpInstallOffline')
Register-RdsMethod $kp (New-RdsMethodSpec 'UninstallLicenseKeyPackWithId' $true @(, @('KeyPackId', 'uint32')) @() 'Invoke-KpUninstallWithId')
Register-RdsMethod $kp (New-RdsMethodSpec 'RemoveLicensesWithIdCount' $true @(@('KeyPackId', 'uint32'), @('LicenseCount', 'uint32')) @() 'Invoke-KpRemoveLicensesWithIdCount')
foreach ($m in 'ImportAgreementLicenseKeyPack', 'ImportOpenPurchaseLicenseKeyPack', 'ImportRetailPurchaseLicenseKeyPack', 'ImportLicenseKeyPackOffline', 'ReinstallAgreementLicenseKeyPack', 'ReinstallOpenPurchaseLicenseKeyPack', 'ReinstallRetailPurchaseLicenseKeyPack', 'ReinstallLicenseKeyPackOffline', 'UninstallLicenseKeyPack', 'ConvertLicenses') {
    Register-RdsMethod $kp (New-RdsMethodSpec $m $true @() @() $null -NotEmulated)
}
Register-RdsMethod 'Win32_TSIssuedLicense' (New-RdsMethodSpec 'Revoke' $false @() @() $null -NotEmulated)

$ts = 'Win32_TerminalServiceSetting'
Register-RdsMethod $ts (New-RdsMethodSpec 'ChangeMode' $false @(, @('LicensingType', 'uint32')) @() 'Invoke-TsChangeMode')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetSpecifiedLicenseServerList' $false @() @(, @('SpecifiedLSList', 'string[]')) 'Invoke-TsGetList')
Register-RdsMethod $ts (New-RdsMethodSpec 'SetSpecifiedLicenseServerList' $false @(, @('SpecifiedLSList', 'string[]')) @() 'Invoke-TsSetList')
Register-RdsMethod $ts (New-RdsMethodSpec 'AddLSToSpecifiedLicenseServerList' $false @(, @('LicenseServerName', 'string')) @() 'Invoke-TsAddToList')
Register-RdsMethod $ts (New-RdsMethodSpec 'RemoveLSFromSpecifiedLicenseServerList' $false @(, @('LicenseServerName', 'string')) @() 'Invoke-TsRemoveFromList')
Register-RdsMethod $ts (New-RdsMethodSpec 'EmptySpecifiedLicenseServerList' $false @() @() 'Invoke-TsEmptyList')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetGracePeriodDays' $false @() @(, @('DaysLeft', 'uint32')) 'Invoke-TsGetGracePeriodDays')
Register-RdsMethod $ts (New-RdsMethodSpec 'GetDomain' $false @() @(, @('Domain', 'string')) 'Invoke-TsGetDomain')
foreach ($m in 'SetPrimaryLicenseServer', 'GetRegisteredLicenseServerList', 'FindLicenseServers', 'GetTStoLSConnectivityStatus') {
    Register-RdsMethod $ts (New-RdsMethodSpec $m $false @() @() $null -NotEmulated)
}
Remove-Variable ls, kp, ts, m, versionTypeCount

# ---------------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------------

$script:Context = @{ StateDir = $null; HostName = $null }

function Set-RdsEmulatorContext {
    <# Select the state directory and the host "we are on" for the cmdlet functions in this session. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string]$StateDir,
        [string]$HostName
    )
    $base = (Get-Location -PSProvider FileSystem).ProviderPath
    $full = [System.IO.Path]::GetFullPath($StateDir, $base)
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($full, 'hosts'))
    $script:Context.StateDir = $full
    if ($PSBoundParameters.ContainsKey('HostName')) {
        Assert-RdsHostName $HostName
        $script:Context.HostName = $HostName
    }
}

function Get-RdsEmulatorContext {
    [CmdletBinding()] param()
    [pscustomobject]@{ StateDir = (Get-RdsStateDir); HostName = $script:Context.HostName }
}

function Get-RdsStateDir {
    if ($script:Context.StateDir) { return $script:Context.StateDir }
    $dir = if ($env:RDS_SIM_STATE_DIR) { $env:RDS_SIM_STATE_DIR } else { [System.IO.Path]::Combine((Get-Location -PSProvider FileSystem).ProviderPath, '.rds-sim') }
    $full = [System.IO.Path]::GetFullPath($dir, (Get-Location -PSProvider FileSystem).ProviderPath)
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($full, 'hosts'))
    $script:Context.StateDir = $full
    $full
}

function Get-RdsCurrentHost {
    if ($script:Context.HostName) { return $script:Context.HostName }
    if ($env:RDS_SIM_HOST) { return $env:RDS_SIM_HOST }
    throw [System.InvalidOperationException]::new('RdsEmulator: no host selected; call Set-RdsEmulatorContext -StateDir <dir> -HostName <name> first')
}

function Assert-RdsHostName([string]$HostName) {
    if ([string]::IsNullOrWhiteSpace($HostName)) { throw [System.ArgumentException]::new('RdsEmulator: the host name must not be empty') }
    if ($script:Utf8NoBom.GetByteCount($HostName) -gt 100) { throw [System.ArgumentException]::new('RdsEmulator: the host name must be at most 100 bytes of UTF-8') }
}

# ---------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------

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

# ---------------------------------------------------------------------------------------------------
# Argument conversion (what CIM does with -Arguments before the provider sees them)
# ---------------------------------------------------------------------------------------------------

function ConvertTo-RdsCimValue([object]$Value, [string]$Type, [string]$Name) {
    if ($null -eq $Value) { return $null }
    $v = $Value.PSObject.BaseObject
    switch ($Type) {
        'string' {
            if ($v -is [string]) { return $v }
            if ($v -is [char]) { return [string]$v }
            if ($v -isnot [bool] -and (Test-RdsIntegral $v)) { return [Convert]::ToString($v, [CultureInfo]::InvariantCulture) }
            throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects a string, got $($v.GetType().Name)" -Infra)
        }
        'uint32' {
            $n = [System.Numerics.BigInteger]::Zero
            if ($v -is [bool]) { throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects uint32, got Boolean" -Infra) }
            if ($v -is [string]) {
                if (-not [System.Numerics.BigInteger]::TryParse($v.Trim(), [System.Globalization.NumberStyles]::AllowLeadingSign, [CultureInfo]::InvariantCulture, [ref]$n)) {
                    throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects uint32, got a non-numeric string" -Infra)
                }
            }
            elseif (Test-RdsIntegral $v) { $n = [System.Numerics.BigInteger]::new([decimal]$v) }
            else { throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "parameter '$Name' expects uint32, got $($v.GetType().Name)" -Infra) }
            if ($n -lt 0 -or $n -gt [uint32]::MaxValue) {
                throw (New-RdsWmiError $script:WBEM_E_VALUE_OUT_OF_RANGE "parameter '$Name' is outside the uint32 range" -Infra)
            }
            return [uint32]$n
        }
        'boolean' {
            if ($v -is [bool]) { return $v }
            throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "'$Name' expects a boolean, got $($v.GetType().Name)" -Infra)
        }
        'string[]' {
            if ($v -is [string] -or $v -isnot [System.Collections.IList]) {
                throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "'$Name' expects string[] (an array), got $($v.GetType().Name)" -Infra)
            }
            $out = [string[]]::new($v.Count)
            for ($i = 0; $i -lt $v.Count; $i++) {
                $e = $v[$i]
                if ($null -eq $e) { $out[$i] = $null; continue }
                $e = $e.PSObject.BaseObject
                if ($e -is [string]) { $out[$i] = $e }
                elseif ($e -is [char]) { $out[$i] = [string]$e }
                else { throw (New-RdsWmiError $script:WBEM_E_TYPE_MISMATCH "'$Name' expects string[], element $i is $($e.GetType().Name)" -Infra) }
            }
            return , $out
        }
    }
    throw "RdsEmulator internal error: unknown CIM type $Type"
}

# ---------------------------------------------------------------------------------------------------
# State: files, locks, transactions
# ---------------------------------------------------------------------------------------------------

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

# ---------------------------------------------------------------------------------------------------
# Derived host facts
# ---------------------------------------------------------------------------------------------------

function Get-RdsHostName($S) { ConvertFrom-RdsStored $S.hostName }

function Get-RdsComputerName($S) {
    $h = Get-RdsHostName $S
    $dot = $h.IndexOf('.')
    $(if ($dot -gt 0) { $h.Substring(0, $dot) } else { $h }).ToUpperInvariant()
}

function Get-RdsDomain($S) {
    $d = ConvertFrom-RdsStored $S.config.domain
    if ([string]::IsNullOrEmpty($d)) { $null } else { $d }
}

function Get-RdsOs($S) { $script:OsTable[[string]$S.config.osVersion] }

$script:ProductIdCache = [System.Collections.Generic.Dictionary[string, string]]::new([StringComparer]::Ordinal)

function Get-RdsProductId($S) {
    if ($null -ne $S.config.productId) { return ConvertFrom-RdsStored $S.config.productId }
    $key = (Get-RdsHostName $S).ToLowerInvariant()
    $cached = $null
    if ($script:ProductIdCache.TryGetValue($key, [ref]$cached)) { return $cached }
    $script:ProductIdCache[$key] = Get-RdsDerivedProductId $key
    $script:ProductIdCache[$key]
}

function Get-RdsDerivedProductId([string]$LowerHostName) {
    # Format ddddd-ddddd-ddddd-LLddd (like 00490-92005-99454-AT527), from SHA-256 of the host name.
    $h = [System.Security.Cryptography.SHA256]::HashData($script:Utf8NoBom.GetBytes('rds-sim/product-id/v1/' + $LowerHostName))
    $sb = [System.Text.StringBuilder]::new(23)
    for ($i = 0; $i -lt 15; $i++) {
        if ($i -gt 0 -and $i % 5 -eq 0) { [void]$sb.Append('-') }
        [void]$sb.Append([char](48 + $h[$i] % 10))
    }
    [void]$sb.Append('-').Append($script:Alphabet36[$h[15] % 26]).Append($script:Alphabet36[$h[16] % 26])
    for ($i = 17; $i -lt 20; $i++) { [void]$sb.Append([char](48 + $h[$i] % 10)) }
    $sb.ToString()
}

function Test-RdsRoleInstalled($S) { [bool]$S.features['RDS-Licensing'] }

function Get-RdsActivationStatus($S) { if ($S.licenseServer.activated) { 0 } else { 1 } }

function Get-RdsEffectiveLicensingType($S) {
    if ($null -ne $S.groupPolicy.LicensingMode) { return [uint32]$S.groupPolicy.LicensingMode }
    [uint32]$S.sessionHost.licensingType
}

function Get-RdsPolicyServerList($S) {
    $raw = ConvertFrom-RdsStored $S.groupPolicy.LicenseServers
    $list = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $raw.Split(',')) { $t = $p.Trim(); if ($t.Length -gt 0) { $list.Add($t) } }
    , $list.ToArray()
}

function Get-RdsEffectiveServerList($S) {
    if ($null -ne $S.groupPolicy.LicenseServers) { return , (Get-RdsPolicyServerList $S) }
    $list = [string[]]::new(@($S.sessionHost.specifiedLSList).Count)
    $i = 0
    foreach ($e in @($S.sessionHost.specifiedLSList)) { $list[$i++] = ConvertFrom-RdsStored $e }
    , $list
}

function Get-RdsGraceDaysLeft($S) {
    $start = ConvertFrom-RdsIso $S.config.gracePeriodStart
    $elapsed = [Math]::Floor(([DateTime]::UtcNow - $start).TotalDays)
    [uint32][Math]::Max(0, [Math]::Min($script:GracePeriodDays, $script:GracePeriodDays - $elapsed))
}

function Get-RdsServiceStatus($S) {
    if (-not (Test-RdsRoleInstalled $S) -or $null -eq $S.service) { return $null }
    [string]$S.service
}

# ---------------------------------------------------------------------------------------------------
# Class resolution, availability and faults
# ---------------------------------------------------------------------------------------------------

function Resolve-RdsNamespace([string]$Namespace) {
    if ([string]::IsNullOrWhiteSpace($Namespace)) { return 'root/cimv2' }
    $n = $Namespace.Replace('\', '/').Trim('/').ToLowerInvariant()
    if (-not $script:Namespaces.ContainsKey($n)) {
        throw (New-RdsWmiError $script:WBEM_E_INVALID_NAMESPACE "Invalid namespace '$Namespace'" -Infra)
    }
    $script:Namespaces[$n]
}

function Resolve-RdsClass([string]$ClassName, [string]$Namespace) {
    $ns = Resolve-RdsNamespace $Namespace
    $key = if ($ClassName) { $ClassName.ToLowerInvariant() } else { '' }
    if (-not $script:Classes.ContainsKey($key) -or $script:Classes[$key].Namespace -ne $ns) {
        throw (New-RdsWmiError $script:WBEM_E_INVALID_CLASS "Invalid class '$ClassName' in namespace '$ns'" -Infra)
    }
    $script:Classes[$key]
}

function Resolve-RdsInputObject([object]$InputObject) {
    $o = $InputObject
    $sp = if ($null -ne $o) { $o.PSObject.Properties['CimSystemProperties'] } else { $null }
    if ($null -eq $sp -or $null -eq $sp.Value -or $null -eq $sp.Value.PSObject.Properties['ClassName']) {
        throw (New-RdsWmiError $script:WBEM_E_INVALID_OBJECT_PATH 'InputObject is not a CIM instance returned by Get-CimInstance' -Infra)
    }
    Resolve-RdsClass $sp.Value.ClassName $sp.Value.Namespace
}
$script:WBEM_E_INVALID_OBJECT_PATH = 0x8004103Au
$script:WbemNames[0x8004103Au] = 'WBEM_E_INVALID_OBJECT_PATH'

# Throws (infra) when the class does not exist on this host right now.
function Assert-RdsClassAvailable($S, [hashtable]$Class) {
    switch ($Class.Kind) {
        'LicenseServer' {
            if ($S.faults.classNotReadyCalls -gt 0) {
                $S.faults.classNotReadyCalls = [int]$S.faults.classNotReadyCalls - 1
                throw (New-RdsWmiError $script:WBEM_E_INVALID_CLASS "Invalid class '$($Class.Name)' (the license server WMI provider is not registered yet)" -Infra)
            }
            if (-not (Test-RdsRoleInstalled $S)) {
                throw (New-RdsWmiError $script:WBEM_E_INVALID_CLASS "Invalid class '$($Class.Name)' (the RDS-Licensing role is not installed)" -Infra)
            }
            if ((Get-RdsServiceStatus $S) -ne 'Running') {
                throw (New-RdsWmiError $script:WBEM_E_INVALID_CLASS "Invalid class '$($Class.Name)' (the TermServLicensing service is not running)" -Infra)
            }
        }
        'Deployment' {
            if (-not $S.config.isConnectionBroker) {
                throw (New-RdsWmiError $script:WBEM_E_INVALID_CLASS "Invalid class '$($Class.Name)' (this host is not an RD Connection Broker)" -Infra)
            }
        }
    }
}

function Test-RdsLicensingClass([hashtable]$Class) { $Class.Kind -ne 'System' }

# ---------------------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------------------

function New-RdsCimInstance([string]$ClassName, [string]$Namespace, [System.Collections.Specialized.OrderedDictionary]$Properties, [string]$ServerName) {
    $Properties['CimSystemProperties'] = [pscustomobject]@{ Namespace = $Namespace; ServerName = $ServerName; ClassName = $ClassName; Path = $null }
    $o = [pscustomobject]$Properties
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance')
    $o.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#$Namespace/$ClassName")
    $o
}

function Get-RdsBuiltInPack {
    [ordered]@{
        KeyPackId = 2; KeyPackType = 6; ProductType = 3; ProductVersionID = 0
        TotalLicenses = [uint32]::MaxValue; IssuedLicenses = 0; AvailableLicenses = [uint32]::MaxValue
        ExpirationDate = $script:BuiltInExpiration; AccessRights = 7
        TypeAndModel = 'Built-in TS Per Device CAL'; Description = 'A02-5.00-EX'
    }
}

function Get-RdsPackView($Pack) {
    $pvid = [int]$Pack.ProductVersionID
    $pt = [int]$Pack.ProductType
    $typeAndModel = if ($Pack.Contains('TypeAndModel')) { $Pack.TypeAndModel } else {
        $prefix = if ($pvid -eq 2) { 'TS or RDS' } else { 'RDS' }
        '{0} Per {1} CAL' -f $prefix, $(if ($pt -eq 1) { 'User' } else { 'Device' })
    }
    $description = if ($Pack.Contains('Description')) { $Pack.Description } else {
        '{0}-{1}-S' -f $(if ($pt -eq 1) { 'C50' } else { 'C40' }), $script:CalVersions[$pvid].Description
    }
    [ordered]@{
        KeyPackId         = [uint32]$Pack.KeyPackId
        Description       = [string]$description
        KeyPackType       = [uint32]$Pack.KeyPackType
        ProductType       = [uint32]$pt
        ProductVersion    = [string]$script:CalVersions[$pvid].String
        ProductVersionID  = [uint32]$pvid
        TotalLicenses     = [uint32]$Pack.TotalLicenses
        IssuedLicenses    = [uint32]$Pack.IssuedLicenses
        AvailableLicenses = [uint32]$Pack.AvailableLicenses
        ExpirationDate    = (ConvertFrom-RdsDmtf $Pack.ExpirationDate)
        AccessRights      = [uint32]$Pack.AccessRights
        TypeAndModel      = [string]$typeAndModel
    }
}

function Get-RdsInstances($S, [hashtable]$Class) {
    $server = Get-RdsComputerName $S
    $ns = $Class.Namespace
    switch ($Class.Name) {
        'Win32_TSLicenseServer' {
            $os = Get-RdsOs $S
            $p = [ordered]@{}
            $denied = [bool]$S.faults.accessDenied
            foreach ($f in $script:ContactFields) { $p[$f] = if ($denied) { $null } else { ConvertFrom-RdsStored $S.licenseServer.contact[$f] } }
            if ($denied) {
                foreach ($f in 'ServerRole', 'DatabasePath', 'ProductId', 'Version', 'VersionNumber') { $p[$f] = $null }
            }
            else {
                $p.ServerRole = [uint32]$S.licenseServer.serverRole
                $p.DatabasePath = 'C:\Windows\system32\LServer\'
                $p.ProductId = Get-RdsProductId $S
                $p.Version = $os.Version
                $p.VersionNumber = $os.BuildNumber
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_TSLicenseKeyPack' {
            $list = [System.Collections.Generic.List[object]]::new()
            $list.Add((New-RdsCimInstance $Class.Name $ns (Get-RdsPackView (Get-RdsBuiltInPack)) $server))
            foreach ($pack in @($S.licenseServer.keyPacks)) { $list.Add((New-RdsCimInstance $Class.Name $ns (Get-RdsPackView $pack) $server)) }
            return , $list.ToArray()
        }
        'Win32_TSIssuedLicense' {
            $list = [System.Collections.Generic.List[object]]::new()
            foreach ($l in @($S.licenseServer.issuedLicenses)) {
                $p = [ordered]@{
                    LicenseId         = [uint32]$l.LicenseId
                    KeyPackId         = [uint32]$l.KeyPackId
                    sIssuedToUser     = (ConvertFrom-RdsStored $l.sIssuedToUser)
                    sIssuedToComputer = (ConvertFrom-RdsStored $l.sIssuedToComputer)
                    sHardwareId       = [string]$l.sHardwareId
                    LicenseStatus     = [uint32]$l.LicenseStatus
                    IssueDate         = (ConvertFrom-RdsDmtf $l.IssueDate)
                    ExpirationDate    = (ConvertFrom-RdsDmtf $l.ExpirationDate)
                }
                $list.Add((New-RdsCimInstance $Class.Name $ns $p $server))
            }
            return , $list.ToArray()
        }
        'Win32_TerminalServiceSetting' {
            $type = Get-RdsEffectiveLicensingType $S
            $names = $script:LicensingNames[[int]$type]
            $p = [ordered]@{
                ServerName                           = $server
                TerminalServerMode                   = [uint32]1
                LicensingType                        = $type
                PolicySourceLicensingType            = [uint32]$(if ($null -ne $S.groupPolicy.LicensingMode) { 1 } else { 0 })
                LicensingName                        = $(if ($names) { $names[0] } else { $null })
                LicensingDescription                 = $(if ($names) { $names[1] } else { $null })
                PolicySourceConfiguredLicenseServers = [uint32]$(if ($null -ne $S.groupPolicy.LicenseServers) { 1 } else { 0 })
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_TSDeploymentLicensing' {
            $servers = [string[]]@(@($S.deployment.licenseServers) | ForEach-Object { ConvertFrom-RdsStored $_ })
            $p = [ordered]@{
                UseCentralLicensingSettings = [bool]$S.deployment.useCentralLicensingSettings
                LicenseServers              = $servers
                LicensingType               = [uint32]$S.deployment.licensingType
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_OperatingSystem' {
            $os = Get-RdsOs $S
            $p = [ordered]@{ Caption = $os.Caption; Version = $os.Version; BuildNumber = $os.BuildNumber; CSName = $server }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
        'Win32_ComputerSystem' {
            $domain = Get-RdsDomain $S
            $hn = (Get-RdsComputerName $S).ToLowerInvariant()
            $p = [ordered]@{
                Name         = $server
                DNSHostName  = $hn
                Domain       = $(if ($domain) { $domain } else { [string]$S.config.workgroup })
                PartOfDomain = [bool]$domain
                Workgroup    = $(if ($domain) { $null } else { [string]$S.config.workgroup })
            }
            return , @(New-RdsCimInstance $Class.Name $ns $p $server)
        }
    }
}

# ---------------------------------------------------------------------------------------------------
# Cmdlet stand-ins: CIM
# ---------------------------------------------------------------------------------------------------

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

function Get-CimInstance {
    <# Emulated: Get-CimInstance -ClassName X [-Namespace ns] | -InputObject $instance (re-read). #>
    [CmdletBinding(DefaultParameterSetName = 'ClassName')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'ClassName')][string]$ClassName,
        [Parameter(ParameterSetName = 'ClassName')][string]$Namespace,
        [Parameter(Mandatory, ValueFromPipeline, ParameterSetName = 'InputObject')][psobject]$InputObject
    )
    begin { . $script:CallerPreference }
    process {
        $r = $script:Isolated.InvokeReturnAsIs({
                $hostName = Get-RdsCurrentHost
                $className = $ClassName
                $ns = $Namespace
                if ($PSCmdlet.ParameterSetName -eq 'InputObject') {
                    $c = Resolve-RdsInputObject $InputObject
                    $className = $c.Name; $ns = $c.Namespace
                }
                $call = @{ cmdlet = 'Get-CimInstance'; className = $className; method = $null; result = 0u }
                Invoke-RdsHostTransaction -TxHost $hostName -TxCall $call -TxAction {
                    param($S)
                    try {
                        $class = Resolve-RdsClass $className $ns
                        $call.className = $class.Name
                        Assert-RdsClassAvailable $S $class
                        if (Test-RdsLicensingClass $class) {
                            if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($class.Name) failed" -Infra) }
                            if ($S.faults.accessDenied -and $class.Name -ne 'Win32_TSLicenseServer') { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied' -Infra) }
                        }
                        , (Get-RdsInstances $S $class)
                    }
                    catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
                }
            })
        if ($r.ok) { foreach ($i in $r.value) { $i } }
        else { Write-RdsSimError $PSCmdlet $r.err 'Get-CimInstance' $ClassName }
    }
}

function Set-CimInstance {
    <# Emulated: Set-CimInstance -InputObject $inst [-Property @{...}] [-PassThru]; pipeline input supported.
       Without -Property, the writable properties changed on the InputObject are written. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)][psobject]$InputObject,
        [Parameter(Position = 1)][System.Collections.IDictionary]$Property,
        [switch]$PassThru
    )
    begin { . $script:CallerPreference }
    process {
        $hasProperty = $PSBoundParameters.ContainsKey('Property') -and $null -ne $Property
        $r = $script:Isolated.InvokeReturnAsIs({
                $hostName = Get-RdsCurrentHost
                $class = Resolve-RdsInputObject $InputObject
                $writable = $script:WritableProperties[$class.Name]
                $call = @{ cmdlet = 'Set-CimInstance'; className = $class.Name; method = $null; result = 0u; properties = @() }
                # The property names and values to write, in a canonical spelling.
                $changes = [ordered]@{}
                $onlyDifferent = $false
                if ($hasProperty) {
                    foreach ($key in $Property.Keys) {
                        $name = [string]$key
                        $canonical = $script:AllProperties[$class.Name] | Where-Object { $_ -eq $name } | Select-Object -First 1
                        $changes[$(if ($canonical) { $canonical } else { $name })] = $Property[$key]
                    }
                }
                elseif ($null -ne $writable) {
                    # No -Property: like CIM, write the writable properties whose local value was changed.
                    $onlyDifferent = $true
                    foreach ($name in $writable.Keys) {
                        $prop = $InputObject.PSObject.Properties[$name]
                        if ($null -ne $prop) { $changes[$name] = $prop.Value }
                    }
                }
                $instance = Invoke-RdsHostTransaction -TxHost $hostName -TxCall $call -TxAction {
                    param($S)
                    try {
                        Assert-RdsClassAvailable $S $class
                        if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($class.Name) failed" -Infra) }
                        if ($S.faults.accessDenied -and (Test-RdsLicensingClass $class)) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied' -Infra) }
                        if ($onlyDifferent) {
                            $current = (Get-RdsInstances $S $class)[0]
                            foreach ($name in @($changes.Keys)) {
                                $a = $changes[$name]; $b = $current.$name
                                $same = if ($a -is [System.Collections.IList] -or $b -is [System.Collections.IList]) { (@($a) -join "`0") -ceq (@($b) -join "`0") -and @($a).Count -eq @($b).Count } else { ($null -eq $a) -eq ($null -eq $b) -and [string]$a -ceq [string]$b }
                                if ($same) { $changes.Remove($name) }
                            }
                        }
                        $call.properties = @($changes.Keys)
                        # Validate everything first, then apply.
                        $converted = [ordered]@{}
                        foreach ($name in $changes.Keys) {
                            if ($script:AllProperties[$class.Name] -notcontains $name) {
                                throw (New-RdsWmiError $script:WBEM_E_NOT_FOUND "property '$name' not found on $($class.Name)" -Infra)
                            }
                            if ($null -eq $writable -or -not $writable.Contains($name)) {
                                throw (New-RdsWmiError $script:WBEM_E_READ_ONLY "property '$name' of $($class.Name) is read-only" -Infra)
                            }
                            $converted[$name] = ConvertTo-RdsCimValue $changes[$name] $writable[$name] $name
                        }
                        if ($class.Name -eq 'Win32_TSLicenseServer') {
                            foreach ($name in $converted.Keys) { $S.licenseServer.contact[$name] = ConvertTo-RdsStored $converted[$name] }
                        }
                        elseif ($class.Name -eq 'Win32_TSDeploymentLicensing') {
                            if ($converted.Contains('LicensingType') -and $null -ne $converted.LicensingType -and [int]$converted.LicensingType -notin 2, 4, 5) {
                                throw (New-RdsWmiError $script:WBEM_E_INVALID_PARAMETER 'LicensingType must be 2 (Per Device), 4 (Per User) or 5 (Not configured)' -Infra)
                            }
                            if ($converted.Contains('LicenseServers') -and $null -ne $converted.LicenseServers -and ($converted.LicenseServers | Where-Object { [string]::IsNullOrWhiteSpace($_) })) {
                                throw (New-RdsWmiError $script:WBEM_E_INVALID_PARAMETER 'LicenseServers must not contain empty names' -Infra)
                            }
                            if ($converted.Contains('LicensingType')) { $S.deployment.licensingType = $(if ($null -eq $converted.LicensingType) { 5 } else { [int]$converted.LicensingType }) }
                            if ($converted.Contains('LicenseServers')) { $S.deployment.licenseServers = @(@($converted.LicenseServers) | Where-Object { $null -ne $_ } | ForEach-Object { ConvertTo-RdsStored $_ }) }
                            if ($converted.Contains('UseCentralLicensingSettings')) { $S.deployment.useCentralLicensingSettings = [bool]$converted.UseCentralLicensingSettings }
                        }
                        (Get-RdsInstances $S $class)[0]
                    }
                    catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
                }
                # Like CimCmdlets, the local object reflects what was written.
                foreach ($name in $changes.Keys) {
                    $prop = $InputObject.PSObject.Properties[$name]
                    if ($null -ne $prop -and $null -ne $instance.PSObject.Properties[$name]) { $prop.Value = $instance.$name }
                }
                $instance
            })
        if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Set-CimInstance' $InputObject }
        elseif ($PassThru) { $r.value }
    }
}

function Invoke-CimMethod {
    <# Emulated: Invoke-CimMethod -ClassName X [-Namespace ns] -MethodName M [-Arguments @{}] (static) or
       Invoke-CimMethod -InputObject $inst -MethodName M [-Arguments @{}] (instance; pipeline supported). #>
    [CmdletBinding(DefaultParameterSetName = 'ClassName')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'ClassName')][string]$ClassName,
        [Parameter(ParameterSetName = 'ClassName')][string]$Namespace,
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ParameterSetName = 'InputObject')][psobject]$InputObject,
        [Parameter(Position = 1)][System.Collections.IDictionary]$Arguments,
        [Parameter(Mandatory, Position = 2)][string]$MethodName
    )
    begin { . $script:CallerPreference }
    process {
        $viaInstance = $PSCmdlet.ParameterSetName -eq 'InputObject'
        $r = $script:Isolated.InvokeReturnAsIs({
                $hostName = Get-RdsCurrentHost
                $className = $ClassName
                $ns = $Namespace
                if ($viaInstance) { $c = Resolve-RdsInputObject $InputObject; $className = $c.Name; $ns = $c.Namespace }
                $call = @{ cmdlet = 'Invoke-CimMethod'; className = $className; method = $MethodName; result = 0u }
                Invoke-RdsHostTransaction -TxHost $hostName -TxCall $call -TxAction {
                    param($S)
                    try {
                        $class = Resolve-RdsClass $className $ns
                        $call.className = $class.Name
                        Invoke-RdsMethodCall $S $class $MethodName $Arguments $viaInstance $call
                    }
                    catch { if (Test-RdsSimException $_.Exception) { $call.result = [uint32]$_.Exception.Data['RdsSimCode'] }; throw }
                }
            })
        if ($r.ok) { $r.value }
        else { Write-RdsSimError $PSCmdlet $r.err 'Invoke-CimMethod' $MethodName }
    }
}

function New-RdsMethodResult([string]$ClassName, [hashtable]$Spec, [uint32]$ReturnValue, [hashtable]$Out) {
    $p = [ordered]@{ ReturnValue = $ReturnValue }
    foreach ($o in $Spec.Out) {
        $name = $o[0]
        # Plain assignment: an if-expression would unroll a one-element string[] into a string.
        $p[$name] = $null
        if ($null -ne $Out -and $Out.ContainsKey($name)) { $p[$name] = $Out[$name] }
    }
    $r = [pscustomobject]$p
    $r.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimMethodResult')
    $r.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimMethodResult#$ClassName#$($Spec.Name)")
    $r
}

function Invoke-RdsMethodCall($S, [hashtable]$Class, [string]$MethodName, [System.Collections.IDictionary]$Arguments, [bool]$ViaInstance, [hashtable]$Call) {
    Assert-RdsClassAvailable $S $Class
    $spec = $script:Methods[$Class.Name][$MethodName.ToLowerInvariant()]
    if ($null -eq $spec) { throw (New-RdsWmiError $script:WBEM_E_INVALID_METHOD "Method '$MethodName' not found on class $($Class.Name)" -Infra) }
    $Call.method = $spec.Name
    if (-not $spec.Static -and -not $ViaInstance) {
        throw (New-RdsWmiError $script:WBEM_E_INVALID_METHOD "$($Class.Name).$($spec.Name) is not a static method; call it on the instance (Invoke-CimMethod -InputObject)" -Infra)
    }
    $style = [string]$S.faults.failureStyle
    try {
        if (Test-RdsLicensingClass $Class) {
            if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the WMI provider for $($Class.Name) failed") }
            if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied (the caller is not a local administrator)') }
        }
        if ($spec.NotEmulated) {
            throw (New-RdsWmiError $script:WBEM_E_NOT_SUPPORTED "$($Class.Name).$($spec.Name) is not emulated")
        }
        # Parameter names are checked (case-insensitively) against the MOF, values converted to their CIM types.
        $in = @{}
        if ($null -ne $Arguments) {
            foreach ($key in $Arguments.Keys) {
                $name = [string]$key
                $decl = $null
                foreach ($p in $spec.In) { if ($p[0] -eq $name) { $decl = $p; break } }
                if ($null -eq $decl) {
                    throw (New-RdsWmiError $script:WBEM_E_INVALID_METHOD_PARAMETERS "$($Class.Name).$($spec.Name) has no parameter '$name'" -Infra)
                }
                $in[$decl[0]] = ConvertTo-RdsCimValue $Arguments[$key] $decl[1] $decl[0]
            }
        }
        foreach ($p in $spec.In) {
            if (-not $in.ContainsKey($p[0]) -or $null -eq $in[$p[0]]) {
                throw (New-RdsWmiError $script:WBEM_E_INVALID_PARAMETER "$($Class.Name).$($spec.Name) requires parameter '$($p[0])'")
            }
        }
        $out = & $spec.Impl $S $in
        if ($out -isnot [hashtable]) { throw "RdsEmulator internal error: $($spec.Name) returned $($out.GetType().Name)" }
        $Call.result = 0u
        return (New-RdsMethodResult $Class.Name $spec 0 $out)
    }
    catch {
        $ex = $_.Exception
        if (-not (Test-RdsSimException $ex) -or $ex.Data['RdsSimInfra'] -or $style -eq 'exception') { throw }
        $code = [uint32]$ex.Data['RdsSimCode']
        $Call.result = $code
        return (New-RdsMethodResult $Class.Name $spec $code $null)
    }
}

function Stop-RdsMethod([uint32]$Code, [string]$Message) { throw (New-RdsWmiError $Code $Message) }

# ---------------------------------------------------------------------------------------------------
# Win32_TSLicenseServer methods
# ---------------------------------------------------------------------------------------------------

$script:Alnum35 = '^[A-Za-z0-9]{35}\z'

function Get-RdsExpectedLicenseServerId([string]$ProductId) { Get-RdsAlnumId "rds-sim/license-server-id/v1/$ProductId" 35 }
function Get-RdsExpectedConfirmCode([string]$ProductId) { Get-RdsAlnumId "rds-sim/deactivation-confirmation-code/v1/$ProductId" 35 }

function Assert-RdsClearinghouseReachable($S, [string]$What) {
    if ($S.faults.clearinghouseUnreachable) {
        Stop-RdsMethod $script:WBEM_E_NOT_AVAILABLE "$What could not reach the Microsoft Clearinghouse (outbound TCP 443 blocked or no Internet access)"
    }
}

function Assert-RdsContact($S, [string[]]$Fields, [string]$What) {
    $missing = @($Fields | Where-Object { [string]::IsNullOrWhiteSpace((ConvertFrom-RdsStored $S.licenseServer.contact[$_])) })
    if ($missing.Count -gt 0) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "$What requires the contact properties $($missing -join ', ') to be set (Set-CimInstance) first"
    }
}

function Assert-RdsLicenseServerId([string]$Id, [string]$Param, $S) {
    if (-not (Test-RdsFormat $Id $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "$Param must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces"
    }
    $productId = Get-RdsProductId $S
    if (-not [string]::Equals($Id, (Get-RdsExpectedLicenseServerId $productId), [StringComparison]::OrdinalIgnoreCase)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "the Clearinghouse did not issue this license server ID for product ID $productId"
    }
}

function Set-RdsActivated($S, [string]$Method) {
    $ls = $S.licenseServer
    $ls.activated = $true
    $ls.everActivated = $true
    $ls.licenseServerId = Get-RdsExpectedLicenseServerId (Get-RdsProductId $S)
    $ls.activationMethod = $Method
    $ls.activatedAt = Get-RdsNowIso
}

function Set-RdsDeactivated($S) {
    $ls = $S.licenseServer
    $ls.activated = $false
    $ls.licenseServerId = $null
    $ls.activationMethod = $null
    $ls.activatedAt = $null
}

function Invoke-LsActivateServer($S, $In) {
    Assert-RdsLicenseServerId $In.sLicenseServerId 'sLicenseServerId' $S
    if (-not $S.licenseServer.activated) { Set-RdsActivated $S 'licenseServerId' }
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsActivateServerAutomatic($S, $In) {
    Assert-RdsContact $S @('FirstName', 'LastName', 'Company', 'CountryRegion') 'ActivateServerAutomatic'
    Assert-RdsClearinghouseReachable $S 'ActivateServerAutomatic'
    if (-not $S.licenseServer.activated) { Set-RdsActivated $S 'automatic' }
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsDeactivateServer($S, $In) {
    if (-not (Test-RdsFormat $In.sConfirmCode $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sConfirmCode must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server is not activated' }
    $productId = Get-RdsProductId $S
    if (-not [string]::Equals($In.sConfirmCode, (Get-RdsExpectedConfirmCode $productId), [StringComparison]::OrdinalIgnoreCase)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "the Clearinghouse did not issue this confirmation code for product ID $productId"
    }
    Set-RdsDeactivated $S
    @{ ActivationStatus = [uint32]1 }
}

function Invoke-LsDeactivateServerAutomatic($S, $In) {
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server is not activated' }
    Assert-RdsContact $S @('FirstName', 'LastName') 'DeactivateServerAutomatic'
    Assert-RdsClearinghouseReachable $S 'DeactivateServerAutomatic'
    Set-RdsDeactivated $S
    @{ ActivationStatus = [uint32]1 }
}

function Invoke-LsReactivateServer($S, $In) {
    if (-not (Test-RdsFormat $In.sNewLicenseServerId $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sNewLicenseServerId must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    if (-not $S.licenseServer.everActivated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server was never activated; use ActivateServer' }
    Assert-RdsLicenseServerId $In.sNewLicenseServerId 'sNewLicenseServerId' $S
    Set-RdsActivated $S 'licenseServerId'
    $S.licenseServer.reactivations = [int]$S.licenseServer.reactivations + 1
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsReactivateServerAutomatic($S, $In) {
    if ($In.Reason -gt 4) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'Reason must be 0..4 (redeployed, certificate corrupt, private key compromised, activation key expired, upgraded)' }
    if (-not $S.licenseServer.everActivated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server was never activated; use ActivateServerAutomatic' }
    Assert-RdsContact $S @('FirstName', 'LastName') 'ReactivateServerAutomatic'
    Assert-RdsClearinghouseReachable $S 'ReactivateServerAutomatic'
    Set-RdsActivated $S 'automatic'
    $S.licenseServer.reactivations = [int]$S.licenseServer.reactivations + 1
    $S.licenseServer.lastReactivationReason = [int]$In.Reason
    @{ ActivationStatus = [uint32]0 }
}

function Invoke-LsGetActivationStatus($S, $In) {
    if ($S.faults.activationStatusUnknown) { return @{ ActivationStatus = [uint32]2 } }
    @{ ActivationStatus = [uint32](Get-RdsActivationStatus $S) }
}

function Invoke-LsGetLicenseServerId($S, $In) {
    if (-not $S.licenseServer.activated) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server is not activated, so it has no license server ID' }
    @{ sLicenseServerId = [string]$S.licenseServer.licenseServerId }
}

function Invoke-LsChangeRole($S, $In) {
    if ($In.ServerRole -gt 2) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ServerRole must be 0 (workgroup), 1 (domain) or 2 (forest)' }
    if ($In.ServerRole -gt 0 -and -not (Get-RdsDomain $S)) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'a license server in a workgroup can only use the workgroup discovery scope (0)' }
    $S.licenseServer.serverRole = [int]$In.ServerRole
    @{}
}

# ---------------------------------------------------------------------------------------------------
# Win32_TSLicenseKeyPack methods
# ---------------------------------------------------------------------------------------------------

function Assert-RdsActivatedForInstall($S) {
    if (-not $S.licenseServer.activated) {
        Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION "the license server must be activated before you can install RDS CALs onto it (product ID $(Get-RdsProductId $S))"
    }
}

function Assert-RdsVersionTypeCount($In) {
    if ([int]$In.ProductVersion -notin $script:CalVersionInputs) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ProductVersion must be 2 (2008/2008 R2), 4 (2012), 5 (2016), 6 (2019), 7 (2022) or 8 (2025)'
    }
    if ($In.ProductType -gt 1) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'ProductType must be 0 (Per Device) or 1 (Per User)' }
    if ($In.LicenseCount -lt 1) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicenseCount must be at least 1' }
}

function Assert-RdsServerAcceptsVersion($S, [int]$VersionId) {
    $os = Get-RdsOs $S
    if ($VersionId -gt $os.MaxCalVersionId) {
        Stop-RdsMethod $script:WBEM_E_NOT_SUPPORTED "a Windows Server $($S.config.osVersion) license server cannot install $($script:CalVersions[$VersionId].String) CALs (the license server must be the same version as the CALs or newer)"
    }
}

function Add-RdsKeyPack($S, [int]$KeyPackType, [int]$ProductType, [int]$VersionId, [long]$Count, [string]$Program, [string]$Method) {
    $ls = $S.licenseServer
    $id = [int]$ls.nextKeyPackId
    $ls.nextKeyPackId = $id + 1
    $pack = [ordered]@{
        KeyPackId         = $id
        KeyPackType       = $KeyPackType
        ProductType       = $ProductType
        ProductVersionID  = $VersionId
        TotalLicenses     = $Count
        IssuedLicenses    = 0
        AvailableLicenses = $Count
        ExpirationDate    = $script:PurchasedExpiration
        AccessRights      = 7
        program           = $Program
        installMethod     = $Method
        installedAt       = (Get-RdsNowIso)
    }
    $ls.keyPacks = @(@($ls.keyPacks) + $pack)
    @{ KeyPackId = [uint32]$id }
}

# The retail-code rule (documented in README.md): characters are read as base-36 digits (0-9, A-Z).
#   [20] CAL type: even = Per Device, odd = Per User.
#   [21] version: value mod 6 -> 2008R2, 2012, 2016, 2019, 2022, 2025.
#   [22][23] quantity: (v22 mod 10) * 10 + (v23 mod 10), 0 meaning 100.
function Get-RdsRetailCodeTerms([string]$Code) {
    $c = $Code.ToUpperInvariant()
    $v = { param($i) $script:Base36Digits.IndexOf($c[$i]) }
    $versionIds = @(2, 4, 5, 6, 7, 8)
    $qty = ((& $v 22) % 10) * 10 + ((& $v 23) % 10)
    @{
        ProductType = [int]((& $v 20) % 2)
        VersionId   = [int]$versionIds[(& $v 21) % 6]
        Count       = $(if ($qty -eq 0) { 100 } else { $qty })
    }
}

function Invoke-KpInstallRetail($S, $In) {
    $code = $In.sLicenseCode
    if (-not (Test-RdsFormat $code '^[A-Za-z0-9]{25}\z')) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sLicenseCode must be 25 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    Assert-RdsActivatedForInstall $S
    $terms = Get-RdsRetailCodeTerms $code
    Assert-RdsServerAcceptsVersion $S $terms.VersionId
    Assert-RdsClearinghouseReachable $S 'InstallRetailPurchaseLicenseKeyPack'
    $hash = Get-RdsSha256Hex ('rds-sim/retail-code/v1/' + $code.ToUpperInvariant())
    $hostName = $S.hostName
    $null = Invoke-RdsClearinghouseTransaction {
        param($ch)
        if ($ch.retailCodes.Contains($hash)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'the Clearinghouse rejected this license code: it was already used' }
        $ch.retailCodes[$hash] = [ordered]@{ host = $hostName; at = (Get-RdsNowIso) }
    }
    Add-RdsKeyPack $S 1 $terms.ProductType $terms.VersionId $terms.Count 'retail' 'InstallRetailPurchaseLicenseKeyPack'
}

function Invoke-KpInstallOpen($S, $In) {
    if (-not (Test-RdsFormat $In.sLicenseNumber '^[0-9]{8}\z')) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sLicenseNumber must be 8 digits without hyphens or spaces'
    }
    if (-not (Test-RdsFormat $In.sAuthorizationNumber '^[A-Za-z0-9]{15}\z')) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sAuthorizationNumber must be 15 alphanumeric characters without hyphens or spaces'
    }
    Assert-RdsVersionTypeCount $In
    Assert-RdsActivatedForInstall $S
    Assert-RdsServerAcceptsVersion $S ([int]$In.ProductVersion)
    Assert-RdsClearinghouseReachable $S 'InstallOpenLicenseKeyPack'
    Add-RdsKeyPack $S 5 ([int]$In.ProductType) ([int]$In.ProductVersion) ([long]$In.LicenseCount) 'openLicense' 'InstallOpenLicenseKeyPack'
}

function Invoke-KpInstallAgreement($S, $In) {
    if ($In.AgreementType -gt 5) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'AgreementType must be 0..5 (Select, Enterprise Agreement, Campus, School, SPLA, other)' }
    $pattern = if ($In.AgreementType -eq 5) { '^[A-Za-z0-9]{1,15}\z' } else { '^[0-9]{7}\z' }
    if (-not (Test-RdsFormat $In.sAgreementNumber $pattern)) {
        $what = if ($In.AgreementType -eq 5) { '1 to 15 alphanumeric characters' } else { '7 digits' }
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "sAgreementNumber must be $what without hyphens or spaces"
    }
    Assert-RdsVersionTypeCount $In
    Assert-RdsActivatedForInstall $S
    Assert-RdsServerAcceptsVersion $S ([int]$In.ProductVersion)
    Assert-RdsClearinghouseReachable $S 'InstallAgreementLicenseKeyPack'
    Add-RdsKeyPack $S 2 ([int]$In.ProductType) ([int]$In.ProductVersion) ([long]$In.LicenseCount) $script:AgreementTypeToProgram[[int]$In.AgreementType] 'InstallAgreementLicenseKeyPack'
}

function Invoke-KpInstallOffline($S, $In) {
    $id = $In.sLicenseKeyPackId
    if (-not (Test-RdsFormat $id $script:Alnum35)) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'sLicenseKeyPackId must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces'
    }
    Assert-RdsActivatedForInstall $S
    $productId = Get-RdsProductId $S
    $key = $id.ToUpperInvariant()
    $hostName = $S.hostName
    $record = Invoke-RdsClearinghouseTransaction {
        param($ch)
        $r = if ($ch.keyPackIds.Contains($key)) { $ch.keyPackIds[$key] } else { $null }
        if ($null -eq $r -or (ConvertFrom-RdsStored $r.productId) -cne $productId) {
            Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "the Clearinghouse did not issue this license key pack ID for product ID $productId"
        }
        if ($null -ne $r.usedBy) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'this license key pack ID was already used' }
        Assert-RdsServerAcceptsVersion $S ([int]$r.productVersionId)
        $r.usedBy = $hostName
        $r.usedAt = Get-RdsNowIso
        $r
    }
    $program = [string]$record.program
    $productType = if ($record.calType -eq 'perUser') { 1 } else { 0 }
    Add-RdsKeyPack $S $script:Programs[$program].KeyPackType $productType ([int]$record.productVersionId) ([long]$record.quantity) $program 'InstallLicenseKeyPack'
}

function Find-RdsPack($S, [uint32]$KeyPackId) {
    if ($KeyPackId -eq 2) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the built-in key pack (KeyPackId 2) cannot be changed' }
    foreach ($p in @($S.licenseServer.keyPacks)) { if ([uint32]$p.KeyPackId -eq $KeyPackId) { return $p } }
    Stop-RdsMethod $script:WBEM_E_NOT_FOUND "no key pack with KeyPackId $KeyPackId"
}

function Invoke-KpUninstallWithId($S, $In) {
    $pack = Find-RdsPack $S $In.KeyPackId
    $id = [int]$pack.KeyPackId
    $S.licenseServer.keyPacks = @(@($S.licenseServer.keyPacks) | Where-Object { [int]$_.KeyPackId -ne $id })
    $S.licenseServer.issuedLicenses = @(@($S.licenseServer.issuedLicenses) | Where-Object { [int]$_.KeyPackId -ne $id })
    @{}
}

function Invoke-KpRemoveLicensesWithIdCount($S, $In) {
    $pack = Find-RdsPack $S $In.KeyPackId
    if ($In.LicenseCount -lt 1) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicenseCount must be at least 1' }
    if ([long]$In.LicenseCount -gt [long]$pack.AvailableLicenses) {
        Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER "LicenseCount is larger than the $($pack.AvailableLicenses) available (not issued) licenses of key pack $($pack.KeyPackId)"
    }
    $pack.TotalLicenses = [long]$pack.TotalLicenses - [long]$In.LicenseCount
    $pack.AvailableLicenses = [long]$pack.AvailableLicenses - [long]$In.LicenseCount
    @{}
}

# ---------------------------------------------------------------------------------------------------
# Win32_TerminalServiceSetting methods
# ---------------------------------------------------------------------------------------------------

function Assert-RdsNotPolicyList($S) {
    if ($null -ne $S.groupPolicy.LicenseServers) {
        Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the license server list is set by Group Policy (PolicySourceConfiguredLicenseServers = 1)'
    }
}

function Invoke-TsChangeMode($S, $In) {
    if ([int]$In.LicensingType -notin 0, 1, 2, 4) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicensingType must be 0, 1, 2 (Per Device) or 4 (Per User)' }
    if ($null -ne $S.groupPolicy.LicensingMode) { Stop-RdsMethod $script:WBEM_E_INVALID_OPERATION 'the licensing mode is set by Group Policy (PolicySourceLicensingType = 1)' }
    $S.sessionHost.licensingType = [int]$In.LicensingType
    @{}
}

function Invoke-TsGetList($S, $In) { @{ SpecifiedLSList = [string[]](Get-RdsEffectiveServerList $S) } }

function Invoke-TsSetList($S, $In) {
    Assert-RdsNotPolicyList $S
    $seen = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($name in $In.SpecifiedLSList) {
        if ([string]::IsNullOrWhiteSpace($name)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'SpecifiedLSList must not contain empty names' }
        if ($seen.Add($name)) { $list.Add((ConvertTo-RdsStored $name)) }
    }
    $S.sessionHost.specifiedLSList = $list.ToArray()
    @{}
}

function Invoke-TsAddToList($S, $In) {
    if ([string]::IsNullOrWhiteSpace($In.LicenseServerName)) { Stop-RdsMethod $script:WBEM_E_INVALID_PARAMETER 'LicenseServerName must not be empty' }
    Assert-RdsNotPolicyList $S
    $current = Get-RdsEffectiveServerList $S
    foreach ($e in $current) { if ([string]::Equals($e, $In.LicenseServerName, [StringComparison]::OrdinalIgnoreCase)) { return @{} } }
    $S.sessionHost.specifiedLSList = @(@($S.sessionHost.specifiedLSList) + (ConvertTo-RdsStored $In.LicenseServerName))
    @{}
}

function Invoke-TsRemoveFromList($S, $In) {
    Assert-RdsNotPolicyList $S
    $kept = [System.Collections.Generic.List[object]]::new()
    $found = $false
    foreach ($e in @($S.sessionHost.specifiedLSList)) {
        if ([string]::Equals((ConvertFrom-RdsStored $e), $In.LicenseServerName, [StringComparison]::OrdinalIgnoreCase)) { $found = $true } else { $kept.Add($e) }
    }
    if (-not $found) { Stop-RdsMethod $script:WBEM_E_NOT_FOUND 'that license server is not in the specified license server list' }
    $S.sessionHost.specifiedLSList = $kept.ToArray()
    @{}
}

function Invoke-TsEmptyList($S, $In) {
    Assert-RdsNotPolicyList $S
    $S.sessionHost.specifiedLSList = @()
    @{}
}

function Invoke-TsGetGracePeriodDays($S, $In) { @{ DaysLeft = (Get-RdsGraceDaysLeft $S) } }

function Invoke-TsGetDomain($S, $In) {
    $d = Get-RdsDomain $S
    @{ Domain = $(if ($d) { $d } else { [string]$S.config.workgroup }) }
}

# ---------------------------------------------------------------------------------------------------
# Cmdlet stand-ins: features, services, registry, RDMS
# ---------------------------------------------------------------------------------------------------

$script:Features = [ordered]@{
    'RDS-Licensing'    = @{ DisplayName = 'Remote Desktop Licensing'; FeatureType = 'Role Service'; Path = 'Remote Desktop Services\Remote Desktop Licensing' }
    'RDS-Licensing-UI' = @{ DisplayName = 'Remote Desktop Licensing Tools'; FeatureType = 'Feature'; Path = 'Remote Server Administration Tools\Role Administration Tools\Remote Desktop Services Tools\Remote Desktop Licensing Tools' }
}

function New-RdsFeatureObject($S, [string]$Name) {
    $installed = [bool]$S.features[$Name]
    $f = $script:Features[$Name]
    $o = [pscustomobject][ordered]@{
        Name         = $Name
        DisplayName  = $f.DisplayName
        Installed    = $installed
        InstallState = $(if ($installed) { 'Installed' } else { 'Available' })
        FeatureType  = $f.FeatureType
        Path         = $f.Path
    }
    $o.PSObject.TypeNames.Insert(0, 'Microsoft.Windows.ServerManager.Commands.Feature')
    $o
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

function Get-WindowsFeature {
    <# Emulated for RDS-Licensing and RDS-Licensing-UI. Unknown names return nothing, like the real cmdlet. #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string[]]$Name)
    . $script:CallerPreference
    $names = if ($Name) { $Name } else { @($script:Features.Keys) }
    $r = $script:Isolated.InvokeReturnAsIs({
            Invoke-RdsSimpleCall 'Get-WindowsFeature' $null {
                param($S)
                $list = [System.Collections.Generic.List[object]]::new()
                foreach ($n in $script:Features.Keys) {
                    foreach ($pattern in $names) { if ($n -like $pattern) { $list.Add((New-RdsFeatureObject $S $n)); break } }
                }
                , $list.ToArray()
            }
        })
    if ($r.ok) { foreach ($o in $r.value) { $o } }
    else { Write-RdsSimError $PSCmdlet $r.err 'Get-WindowsFeature' $Name }
}

function Install-WindowsFeature {
    <# Emulated: Install-WindowsFeature -Name RDS-Licensing [-IncludeManagementTools] [-IncludeAllSubFeature].
       Installing the role starts TermServLicensing and makes the license server classes available. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string[]]$Name,
        [switch]$IncludeManagementTools,
        [switch]$IncludeAllSubFeature,
        [switch]$Restart
    )
    . $script:CallerPreference
    foreach ($n in $Name) {
        if (-not $script:Features.Contains($n)) {
            $ex = [System.ArgumentException]::new("ArgumentNotValid: The role, role service, or feature name is not valid: '$n'. The name was not found.")
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'NameDoesNotExist', 'InvalidArgument', $n))
            return
        }
    }
    $r = $script:Isolated.InvokeReturnAsIs({
            Invoke-RdsSimpleCall 'Install-WindowsFeature' $null {
                param($S)
                if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Install-WindowsFeature requires elevation (the caller is not a local administrator)' -Infra) }
                $want = [System.Collections.Generic.List[string]]::new()
                foreach ($n in $Name) { foreach ($k in $script:Features.Keys) { if ($k -eq $n) { $want.Add($k) } } }
                if ($IncludeManagementTools -and $want.Contains('RDS-Licensing') -and -not $want.Contains('RDS-Licensing-UI')) { $want.Add('RDS-Licensing-UI') }
                $changed = [System.Collections.Generic.List[object]]::new()
                foreach ($n in $want) {
                    if (-not $S.features[$n]) {
                        $S.features[$n] = $true
                        $changed.Add([pscustomobject][ordered]@{ Name = $n; DisplayName = $script:Features[$n].DisplayName; Success = $true; RestartNeeded = $false })
                    }
                }
                if ($want.Contains('RDS-Licensing') -and $S.features['RDS-Licensing']) { $S.service = 'Running' }
                [pscustomobject][ordered]@{
                    Success       = $true
                    RestartNeeded = 'No'
                    ExitCode      = $(if ($changed.Count -gt 0) { 'Success' } else { 'NoChangeNeeded' })
                    FeatureResult = $changed.ToArray()
                }
            }
        })
    if ($r.ok) { $r.value }
    else { Write-RdsSimError $PSCmdlet $r.err 'Install-WindowsFeature' $Name }
}

function New-RdsServiceObject([string]$Status) {
    $o = [pscustomobject][ordered]@{
        Name        = 'TermServLicensing'
        ServiceName = 'TermServLicensing'
        DisplayName = 'Remote Desktop Licensing'
        Status      = $(if ($Status -eq 'Running') { $script:StatusRunning } else { $script:StatusStopped })
        StartType   = 'Automatic'
    }
    $o.PSObject.TypeNames.Insert(0, 'RdsEmulator.ServiceController')
    $o
}

# ServiceCommandException only exists where the real service cmdlets do (Windows).
$script:ServiceExceptionType = 'Microsoft.PowerShell.Commands.ServiceCommandException' -as [type]

function Write-RdsServiceNotFound($Cmdlet, [string]$Name, [string]$CmdletName) {
    $message = "Cannot find any service with service name '$Name'."
    $ex = if ($null -ne $script:ServiceExceptionType) { $script:ServiceExceptionType::new($message) } else { [System.InvalidOperationException]::new($message) }
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'NoServiceFoundForGivenName', 'ObjectNotFound', $Name))
}

function Get-Service {
    <# Emulated for TermServLicensing (exists once the RDS-Licensing role is installed). Other names go to the
       real cmdlet when there is one (Windows); otherwise they are not found. #>
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name)
    begin { . $script:CallerPreference }
    process {
        $names = if ($Name) { $Name } else { @('TermServLicensing') }
        foreach ($n in $names) {
            if ($n -ne 'TermServLicensing') {
                if (Get-Command Microsoft.PowerShell.Management\Get-Service -ErrorAction Ignore) { Microsoft.PowerShell.Management\Get-Service -Name $n }
                else { Write-RdsServiceNotFound $PSCmdlet $n 'GetServiceCommand' }
                continue
            }
            $r = $script:Isolated.InvokeReturnAsIs({ Invoke-RdsSimpleCall 'Get-Service' $null { param($S) Get-RdsServiceStatus $S } })
            if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Get-Service' $n }
            elseif ($null -ne $r.value) { New-RdsServiceObject $r.value }
            elseif ($Name) { Write-RdsServiceNotFound $PSCmdlet $n 'GetServiceCommand' }
        }
    }
}

function Start-Service {
    <# Emulated for TermServLicensing: -Name or pipeline input from Get-Service; -PassThru. #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName)][Alias('ServiceName')][string[]]$Name,
        [switch]$PassThru
    )
    begin { . $script:CallerPreference }
    process {
        foreach ($n in $Name) {
            if ($n -ne 'TermServLicensing') {
                if (Get-Command Microsoft.PowerShell.Management\Start-Service -ErrorAction Ignore) { Microsoft.PowerShell.Management\Start-Service -Name $n -PassThru:$PassThru }
                else { Write-RdsServiceNotFound $PSCmdlet $n 'StartServiceCommand' }
                continue
            }
            $r = $script:Isolated.InvokeReturnAsIs({
                    Invoke-RdsSimpleCall 'Start-Service' $null {
                        param($S)
                        $st = Get-RdsServiceStatus $S
                        if ($null -eq $st) { return $null }
                        if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED "Service 'Remote Desktop Licensing (TermServLicensing)' cannot be started: access is denied" -Infra) }
                        $S.service = 'Running'
                        'Running'
                    }
                })
            if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Start-Service' $n }
            elseif ($null -eq $r.value) { Write-RdsServiceNotFound $PSCmdlet $n 'StartServiceCommand' }
            elseif ($PassThru) { New-RdsServiceObject $r.value }
        }
    }
}

function Test-RdsPolicyPath([string]$Path) {
    if ([string]::IsNullOrEmpty($Path)) { return $false }
    $p = $Path.Replace('/', '\').Trim().TrimEnd('\')
    foreach ($prefix in 'Microsoft.PowerShell.Core\Registry::', 'Registry::') {
        if ($p.StartsWith($prefix, [StringComparison]::OrdinalIgnoreCase)) { $p = $p.Substring($prefix.Length) }
    }
    foreach ($root in 'HKEY_LOCAL_MACHINE\', 'HKEY_LOCAL_MACHINE') {
        if ($p.StartsWith($root, [StringComparison]::OrdinalIgnoreCase)) { $p = 'HKLM:\' + $p.Substring($root.Length).TrimStart('\'); break }
    }
    if ($p.StartsWith('HKLM:', [StringComparison]::OrdinalIgnoreCase) -and -not $p.StartsWith('HKLM:\', [StringComparison]::OrdinalIgnoreCase)) { $p = 'HKLM:\' + $p.Substring(5) }
    [string]::Equals($p, $script:PolicyKey, [StringComparison]::OrdinalIgnoreCase)
}

function Get-ItemProperty {
    <# Emulated only for HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services (values LicensingMode
       REG_DWORD and LicenseServers REG_SZ, set with Set-RdsSimGroupPolicy). Everything else goes to
       Microsoft.PowerShell.Management\Get-ItemProperty. #>
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Path', ValueFromPipelineByPropertyName)][string[]]$Path,
        [Parameter(Mandatory, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName)][Alias('PSPath', 'LP')][string[]]$LiteralPath,
        [Parameter(Position = 1)][Alias('PSProperty')][string[]]$Name,
        [string]$Filter,
        [string[]]$Include,
        [string[]]$Exclude,
        [pscredential]$Credential
    )
    begin { . $script:CallerPreference }
    process {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($p in $paths) {
            if (-not (Test-RdsPolicyPath $p)) {
                $splat = @{}
                foreach ($k in $PSBoundParameters.Keys) { if ($k -notin 'Path', 'LiteralPath') { $splat[$k] = $PSBoundParameters[$k] } }
                if ($PSCmdlet.ParameterSetName -eq 'Path') { $splat.Path = $p } else { $splat.LiteralPath = $p }
                Microsoft.PowerShell.Management\Get-ItemProperty @splat
                continue
            }
            $r = $script:Isolated.InvokeReturnAsIs({
                    Invoke-RdsSimpleCall 'Get-ItemProperty' 'Registry' {
                        param($S)
                        [ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers) }
                    }
                })
            if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Get-ItemProperty' $p; continue }
            $gp = $r.value
            $values = [ordered]@{}
            if ($null -ne $gp.LicensingMode) { $values.LicensingMode = [int]$gp.LicensingMode }
            if ($null -ne $gp.LicenseServers) { $values.LicenseServers = [string]$gp.LicenseServers }
            if ($values.Count -eq 0) {
                $ex = [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$($script:PolicyKey)' because it does not exist.")
                $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'PathNotFound', 'ObjectNotFound', $p))
                continue
            }
            $selected = [ordered]@{}
            if ($Name) {
                foreach ($n in $Name) {
                    $match = @($values.Keys | Where-Object { $_ -like $n })
                    if ($match.Count -eq 0 -and -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($n)) {
                        $ex = [System.Management.Automation.PSArgumentException]::new("Property $n does not exist at path $($script:PolicyKeyProviderPath).")
                        $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'System.Management.Automation.PSArgumentException', 'InvalidArgument', $n))
                    }
                    foreach ($m in $match) { $selected[$m] = $values[$m] }
                }
                if ($selected.Count -eq 0) { continue }
            }
            else { $selected = $values }
            $selected.PSPath = "Microsoft.PowerShell.Core\Registry::$($script:PolicyKeyProviderPath)"
            $selected.PSParentPath = 'Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT'
            $selected.PSChildName = 'Terminal Services'
            $selected.PSDrive = 'HKLM'
            $selected.PSProvider = 'Microsoft.PowerShell.Core\Registry'
            [pscustomobject]$selected
        }
    }
}

$script:ModeNames = @{ 2 = 'PerDevice'; 4 = 'PerUser'; 5 = 'NotConfigured' }
$script:ModeValues = @{ PerDevice = 2; PerUser = 4; NotConfigured = 5 }

function Write-RdsRdmsError($Cmdlet, [string]$Message, [string]$CmdletName, [string]$Category = 'InvalidOperation') {
    $ex = [System.InvalidOperationException]::new($Message)
    $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'DeploymentNotFound', $Category, $null))
}

function Assert-RdsBroker($S, [string]$Broker) {
    if ($S.faults.providerFailure) { throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE 'the RD Management Service failed' -Infra) }
    if ($S.faults.accessDenied) { throw (New-RdsWmiError $script:WBEM_E_ACCESS_DENIED 'Access denied (the caller is not an administrator of the RD Connection Broker)' -Infra) }
    if (-not $S.config.isConnectionBroker) {
        throw [System.InvalidOperationException]::new("A Remote Desktop Services deployment does not exist on $Broker. This operation can be performed after creating a deployment. (The emulated host is not an RD Connection Broker: set isConnectionBroker.)")
    }
}

function Write-RdsRdmsFailure($Cmdlet, [System.Management.Automation.ErrorRecord]$Record, [string]$CmdletName) {
    $ex = $Record.Exception
    if (Test-RdsSimException $ex) { Write-RdsSimError $Cmdlet $Record $CmdletName $null }
    elseif ($ex -is [System.InvalidOperationException]) { Write-RdsRdmsError $Cmdlet $ex.Message $CmdletName }
    elseif ($ex -is [System.ArgumentException]) { $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'InvalidArgument', 'InvalidArgument', $null)) }
    else { throw $Record }
}

function Get-RDLicenseConfiguration {
    <# Emulated RDMS cmdlet: Get-RDLicenseConfiguration [-ConnectionBroker <host>] (default: the current host). #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$ConnectionBroker)
    . $script:CallerPreference
    $r = $script:Isolated.InvokeReturnAsIs({
            $broker = if ($ConnectionBroker) { $ConnectionBroker } else { Get-RdsCurrentHost }
            Invoke-RdsSimpleCall 'Get-RDLicenseConfiguration' 'Win32_TSDeploymentLicensing' -ScHost $broker -ScAction {
                param($S)
                Assert-RdsBroker $S $broker
                $o = [pscustomobject][ordered]@{
                    Mode          = $script:ModeNames[[int]$S.deployment.licensingType]
                    LicenseServer = [string[]]@(@($S.deployment.licenseServers) | ForEach-Object { ConvertFrom-RdsStored $_ })
                }
                $o.PSObject.TypeNames.Insert(0, 'Microsoft.RemoteDesktopServices.Management.LicensingSetting')
                $o
            }
        })
    if ($r.ok) { $r.value }
    else { Write-RdsRdmsFailure $PSCmdlet $r.err 'Get-RDLicenseConfiguration' }
}

function Test-RdsNonInteractive {
    if ([Console]::IsInputRedirected) { return $true }
    foreach ($a in [Environment]::GetCommandLineArgs()) { if ($a -match '^-noni') { return $true } }
    $false
}

function Set-RDLicenseConfiguration {
    <# Emulated RDMS cmdlet: -Mode <PerUser|PerDevice|NotConfigured> [-LicenseServer <string[]>] | -LicenseServer;
       [-Force] [-ConnectionBroker <host>]. Without -Force it asks for confirmation, which fails in a
       non-interactive session. #>
    [CmdletBinding(DefaultParameterSetName = 'ModePS')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'ModePS')]
        [Parameter(Mandatory, ParameterSetName = 'BothPS')]
        [ValidateSet('PerUser', 'PerDevice', 'NotConfigured')][string]$Mode,
        [Parameter(Mandatory, ParameterSetName = 'BothPS')]
        [Parameter(Mandatory, ParameterSetName = 'LicenseServerPS')]
        [AllowEmptyCollection()][string[]]$LicenseServer,
        [switch]$Force,
        [string]$ConnectionBroker
    )
    . $script:CallerPreference
    $hasMode = $PSBoundParameters.ContainsKey('Mode')
    $hasServers = $PSBoundParameters.ContainsKey('LicenseServer')
    if (-not $Force) {
        if (Test-RdsNonInteractive) {
            $ex = [System.Management.Automation.PSInvalidOperationException]::new('Set-RDLicenseConfiguration asks for confirmation before it changes the deployment licensing settings, and PowerShell is in NonInteractive mode. Read and Prompt functionality is not available. Pass -Force.')
            $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new($ex, 'ConfirmationRequired', 'InvalidOperation', $null))
            return
        }
        if (-not $PSCmdlet.ShouldContinue('Set the licensing configuration of the RDS deployment?', 'Set-RDLicenseConfiguration')) { return }
    }
    $r = $script:Isolated.InvokeReturnAsIs({
            $broker = if ($ConnectionBroker) { $ConnectionBroker } else { Get-RdsCurrentHost }
            if ($hasServers) {
                foreach ($n in $LicenseServer) { if ([string]::IsNullOrWhiteSpace($n)) { throw [System.ArgumentException]::new('LicenseServer must not contain empty names') } }
            }
            Invoke-RdsSimpleCall 'Set-RDLicenseConfiguration' 'Win32_TSDeploymentLicensing' -ScHost $broker -ScAction {
                param($S)
                Assert-RdsBroker $S $broker
                $S.deployment.useCentralLicensingSettings = $true
                if ($hasMode) { $S.deployment.licensingType = $script:ModeValues[$Mode] }
                if ($hasServers) { $S.deployment.licenseServers = @($LicenseServer | ForEach-Object { ConvertTo-RdsStored $_ }) }
            }
        })
    if (-not $r.ok) { Write-RdsRdmsFailure $PSCmdlet $r.err 'Set-RDLicenseConfiguration' }
}

# ---------------------------------------------------------------------------------------------------
# Admin functions (tests and the rds-sim CLI; never used by operation scripts)
# ---------------------------------------------------------------------------------------------------

function Resolve-RdsAdminHost([string]$HostName) {
    if ($HostName) { Assert-RdsHostName $HostName; return $HostName }
    Get-RdsCurrentHost
}

function Invoke-RdsAdmin([string]$AdHost, [scriptblock]$AdAction) {
    Invoke-RdsHostTransaction -TxHost $AdHost -TxCall $null -TxAction $AdAction
}

function ConvertTo-RdsHostView($S, [string]$StatePath) {
    $packs = @(@(Get-RdsBuiltInPack) + @($S.licenseServer.keyPacks)) | ForEach-Object {
        $v = Get-RdsPackView $_
        $v.ExpirationDate = $v.ExpirationDate.ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture)
        $v.program = if ($_.Contains('program')) { $_.program } else { 'builtIn' }
        $v.installMethod = if ($_.Contains('installMethod')) { $_.installMethod } else { $null }
        $v.installedAt = if ($_.Contains('installedAt')) { $_.installedAt } else { $null }
        [pscustomobject]$v
    }
    $issued = @($S.licenseServer.issuedLicenses) | ForEach-Object {
        [pscustomobject][ordered]@{
            LicenseId = [int]$_.LicenseId; KeyPackId = [int]$_.KeyPackId
            sIssuedToUser = (ConvertFrom-RdsStored $_.sIssuedToUser); sIssuedToComputer = (ConvertFrom-RdsStored $_.sIssuedToComputer)
            sHardwareId = [string]$_.sHardwareId; LicenseStatus = [int]$_.LicenseStatus
            IssueDate = (ConvertFrom-RdsDmtf $_.IssueDate).ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture)
            ExpirationDate = (ConvertFrom-RdsDmtf $_.ExpirationDate).ToUniversalTime().ToString('o', [CultureInfo]::InvariantCulture)
        }
    }
    $contact = [ordered]@{}
    foreach ($f in $script:ContactFields) { $contact[$f] = ConvertFrom-RdsStored $S.licenseServer.contact[$f] }
    $os = Get-RdsOs $S
    $domain = Get-RdsDomain $S
    [pscustomobject][ordered]@{
        hostName      = (Get-RdsHostName $S)
        computerName  = (Get-RdsComputerName $S)
        stateFile     = $StatePath
        createdAt     = $S.createdAt
        config        = [pscustomobject][ordered]@{
            osVersion          = [string]$S.config.osVersion
            domain             = $domain
            workgroup          = $(if ($domain) { $null } else { [string]$S.config.workgroup })
            partOfDomain       = [bool]$domain
            isConnectionBroker = [bool]$S.config.isConnectionBroker
            productId          = (ConvertFrom-RdsStored $S.config.productId)
            gracePeriodStart   = [string]$S.config.gracePeriodStart
        }
        os            = [pscustomobject][ordered]@{ caption = $os.Caption; version = $os.Version; buildNumber = $os.BuildNumber }
        roleInstalled = (Test-RdsRoleInstalled $S)
        features      = [pscustomobject][ordered]@{ 'RDS-Licensing' = [bool]$S.features['RDS-Licensing']; 'RDS-Licensing-UI' = [bool]$S.features['RDS-Licensing-UI'] }
        serviceStatus = (Get-RdsServiceStatus $S)
        faults        = [pscustomobject][ordered]@{
            clearinghouseUnreachable = [bool]$S.faults.clearinghouseUnreachable
            accessDenied             = [bool]$S.faults.accessDenied
            providerFailure          = [bool]$S.faults.providerFailure
            latencyMs                = [int]$S.faults.latencyMs
            classNotReadyCalls       = [int]$S.faults.classNotReadyCalls
            activationStatusUnknown  = [bool]$S.faults.activationStatusUnknown
            failureStyle             = [string]$S.faults.failureStyle
        }
        groupPolicy   = [pscustomobject][ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers) }
        licenseServer = [pscustomobject][ordered]@{
            productId              = (Get-RdsProductId $S)
            activationStatus       = (Get-RdsActivationStatus $S)
            activated              = [bool]$S.licenseServer.activated
            licenseServerId        = $S.licenseServer.licenseServerId
            activationMethod       = $S.licenseServer.activationMethod
            activatedAt            = $S.licenseServer.activatedAt
            reactivations          = [int]$S.licenseServer.reactivations
            lastReactivationReason = $S.licenseServer.lastReactivationReason
            serverRole             = [int]$S.licenseServer.serverRole
            contact                = [pscustomobject]$contact
            keyPacks               = @($packs)
            issuedLicenses         = @($issued)
        }
        sessionHost   = [pscustomobject][ordered]@{
            licensingType                        = [int]$S.sessionHost.licensingType
            effectiveLicensingType               = [int](Get-RdsEffectiveLicensingType $S)
            policySourceLicensingType            = $(if ($null -ne $S.groupPolicy.LicensingMode) { 1 } else { 0 })
            specifiedLicenseServers              = [string[]]@(@($S.sessionHost.specifiedLSList) | ForEach-Object { ConvertFrom-RdsStored $_ })
            effectiveLicenseServers              = [string[]](Get-RdsEffectiveServerList $S)
            policySourceConfiguredLicenseServers = $(if ($null -ne $S.groupPolicy.LicenseServers) { 1 } else { 0 })
            graceDaysLeft                        = [int](Get-RdsGraceDaysLeft $S)
        }
        deployment    = [pscustomobject][ordered]@{
            useCentralLicensingSettings = [bool]$S.deployment.useCentralLicensingSettings
            licenseServers              = [string[]]@(@($S.deployment.licenseServers) | ForEach-Object { ConvertFrom-RdsStored $_ })
            licensingType               = [int]$S.deployment.licensingType
            mode                        = $script:ModeNames[[int]$S.deployment.licensingType]
        }
    }
}

function Get-RdsSimHost {
    <# The whole emulated state of one host (created with defaults on first use), as a plain object. #>
    [CmdletBinding()]
    param([string]$HostName)
    $h = Resolve-RdsAdminHost $HostName
    $path = (Get-RdsHostBasePath $h) + '.json'
    Invoke-RdsAdmin $h { param($S) ConvertTo-RdsHostView $S $path }
}

function Get-RdsSimHostList {
    <# One summary row per host that has a state file. #>
    [CmdletBinding()] param()
    $dir = [System.IO.Path]::Combine((Get-RdsStateDir), 'hosts')
    $rows = foreach ($file in [System.IO.Directory]::GetFiles($dir, '*.json')) {
        # Under the host's lock: on Windows an open reader would make the writer's rename fail.
        $lock = Enter-RdsLock ($file.Substring(0, $file.Length - 5) + '.lock')
        try { $text = Read-RdsJsonFile $file }
        finally { $lock.Dispose() }
        if ($null -eq $text) { continue }
        try { $S = ConvertFrom-RdsStateText $text $file }
        catch {
            # A corrupt file is listed (and left alone), not skipped silently.
            [pscustomobject][ordered]@{ hostName = $null; osVersion = $null; partOfDomain = $null; roleInstalled = $null; isConnectionBroker = $null; activated = $null; productId = $null; keyPacks = $null; licensingType = $null; stateFile = $file; error = $_.Exception.Message }
            continue
        }
        [pscustomobject][ordered]@{
            hostName           = (Get-RdsHostName $S)
            osVersion          = [string]$S.config.osVersion
            partOfDomain       = [bool](Get-RdsDomain $S)
            roleInstalled      = (Test-RdsRoleInstalled $S)
            isConnectionBroker = [bool]$S.config.isConnectionBroker
            activated          = [bool]$S.licenseServer.activated
            productId          = (Get-RdsProductId $S)
            keyPacks           = @($S.licenseServer.keyPacks).Count
            licensingType      = [int](Get-RdsEffectiveLicensingType $S)
            stateFile          = $file
            error              = $null
        }
    }
    $rows | Sort-Object hostName
}

$script:HostSettings = @('osVersion', 'domain', 'workgroup', 'partOfDomain', 'isConnectionBroker', 'productId', 'roleInstalled', 'serviceStatus', 'gracePeriodStart', 'gracePeriodDaysLeft')

function Set-RdsSimHostConfig {
    <# Host facts. Settings (all optional): osVersion 2008R2|2012|2016|2019|2022|2025; domain <fqdn> ('' or
       $null = workgroup); workgroup <name>; partOfDomain <bool>; isConnectionBroker <bool>; productId <string>
       ($null = derived from the host name; a different value models a rebuilt server and clears the
       activation); roleInstalled <bool>; serviceStatus Running|Stopped; gracePeriodStart <ISO date>;
       gracePeriodDaysLeft 0..120. #>
    [CmdletBinding()]
    param([string]$HostName, [Parameter(Mandatory)][System.Collections.IDictionary]$Settings)
    $h = Resolve-RdsAdminHost $HostName
    # Validate names and values before touching state.
    $clean = [ordered]@{}
    foreach ($key in $Settings.Keys) {
        $name = $script:HostSettings | Where-Object { $_ -eq [string]$key } | Select-Object -First 1
        if (-not $name) { throw [System.ArgumentException]::new("RdsEmulator: unknown host setting '$key' (known: $($script:HostSettings -join ', '))") }
        $value = $Settings[$key]
        $clean[$name] = switch ($name) {
            'osVersion' {
                $v = [string]$value
                $match = $script:OsTable.Keys | Where-Object { $_ -eq $v } | Select-Object -First 1
                if (-not $match) { throw [System.ArgumentException]::new("RdsEmulator: osVersion must be one of $($script:OsTable.Keys -join ', ')") }
                $match
            }
            'domain' { if ([string]::IsNullOrWhiteSpace([string]$value)) { $null } else { [string]$value } }
            'workgroup' { if ([string]::IsNullOrWhiteSpace([string]$value)) { throw [System.ArgumentException]::new('RdsEmulator: workgroup must not be empty') } else { [string]$value } }
            'partOfDomain' { ConvertTo-RdsBool $value $name }
            'isConnectionBroker' { ConvertTo-RdsBool $value $name }
            'roleInstalled' { ConvertTo-RdsBool $value $name }
            'productId' { if ($null -eq $value -or [string]::IsNullOrWhiteSpace([string]$value)) { $null } else { [string]$value } }
            'serviceStatus' {
                $v = [string]$value
                if ($v -notin 'Running', 'Stopped') { throw [System.ArgumentException]::new('RdsEmulator: serviceStatus must be Running or Stopped') }
                $(if ($v -eq 'Running') { 'Running' } else { 'Stopped' })
            }
            'gracePeriodStart' {
                $dt = if ($value -is [DateTime]) { $value.ToUniversalTime() } else {
                    $parsed = [DateTime]::MinValue
                    if (-not [DateTime]::TryParse([string]$value, [CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind, [ref]$parsed)) { throw [System.ArgumentException]::new('RdsEmulator: gracePeriodStart must be an ISO 8601 date') }
                    $parsed.ToUniversalTime()
                }
                $dt.ToString('o', [CultureInfo]::InvariantCulture)
            }
            'gracePeriodDaysLeft' { ConvertTo-RdsInt $value $name 0 $script:GracePeriodDays }
        }
    }
    if ($clean.Contains('serviceStatus') -and $clean.Contains('roleInstalled') -and -not $clean.roleInstalled) {
        throw [System.ArgumentException]::new('RdsEmulator: serviceStatus needs the role installed')
    }
    $path = (Get-RdsHostBasePath $h) + '.json'
    Invoke-RdsAdmin $h {
        param($S)
        foreach ($name in $clean.Keys) {
            $value = $clean[$name]
            switch ($name) {
                'osVersion' { $S.config.osVersion = $value }
                'domain' { $S.config.domain = ConvertTo-RdsStored $value }
                'workgroup' { $S.config.workgroup = $value }
                'partOfDomain' {
                    if (-not $value) { $S.config.domain = $null }
                    elseif (-not (Get-RdsDomain $S)) { $S.config.domain = 'contoso.com' }
                }
                'isConnectionBroker' { $S.config.isConnectionBroker = $value }
                'productId' {
                    $old = Get-RdsProductId $S
                    $S.config.productId = ConvertTo-RdsStored $value
                    if ((Get-RdsProductId $S) -cne $old) { Set-RdsDeactivated $S; $S.licenseServer.everActivated = $false }
                }
                'roleInstalled' {
                    $S.features['RDS-Licensing'] = $value
                    $S.service = if ($value) { 'Running' } else { $null }
                }
                'serviceStatus' {
                    if (-not (Test-RdsRoleInstalled $S)) { throw [System.ArgumentException]::new('RdsEmulator: serviceStatus needs the RDS-Licensing role installed') }
                    $S.service = $value
                }
                'gracePeriodStart' { $S.config.gracePeriodStart = $value }
                'gracePeriodDaysLeft' {
                    $S.config.gracePeriodStart = [DateTime]::UtcNow.AddDays( - ($script:GracePeriodDays - $value)).ToString('o', [CultureInfo]::InvariantCulture)
                }
            }
        }
        ConvertTo-RdsHostView $S $path
    }
}

function Get-RdsSimClearinghouseLicenseServerId {
    <# The license server ID the simulated Clearinghouse gives (web or telephone) for a product ID: 35
       characters A-Z0-9, deterministic. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$ProductId)
    Get-RdsExpectedLicenseServerId $ProductId
}

function Get-RdsSimClearinghouseConfirmationCode {
    <# The confirmation code the simulated Clearinghouse gives by telephone to deactivate (DeactivateServer). #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$ProductId)
    Get-RdsExpectedConfirmCode $ProductId
}

function Get-RdsSimClearinghouseKeyPackId {
    <# A 35-character license key pack ID (offline CAL install through the web site or by phone) that
       InstallLicenseKeyPack accepts once, on the license server with this product ID. Each call issues a
       new ID and records what it stands for in the Clearinghouse file. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][string]$ProductId,
        [Parameter(Mandatory)][ValidateSet('retail', 'openLicense', 'select', 'enterpriseAgreement', 'campus', 'school', 'spla', 'otherAgreement')][string]$Program,
        [Parameter(Mandatory)][ValidateSet('2008R2', '2012', '2016', '2019', '2022', '2025')][string]$ProductVersion,
        [Parameter(Mandatory)][ValidateSet('perUser', 'perDevice')][string]$CalType,
        [Parameter(Mandatory)][ValidateRange(1, 4294967294)][long]$Quantity
    )
    $program = $script:Programs.Keys | Where-Object { $_ -eq $Program } | Select-Object -First 1
    $version = $script:VersionNameToId.Keys | Where-Object { $_ -eq $ProductVersion } | Select-Object -First 1
    $cal = if ($CalType -eq 'perUser') { 'perUser' } else { 'perDevice' }
    Invoke-RdsClearinghouseTransaction {
        param($ch)
        $seq = [long]$ch.sequence + 1
        $ch.sequence = $seq
        $id = Get-RdsAlnumId "rds-sim/key-pack-id/v1/$ProductId/$program/$version/$cal/$Quantity/$seq" 35
        $ch.keyPackIds[$id] = [ordered]@{
            productId        = (ConvertTo-RdsStored $ProductId)
            program          = $program
            productVersion   = $version
            productVersionId = $script:VersionNameToId[$version]
            calType          = $cal
            quantity         = $Quantity
            issuedAt         = (Get-RdsNowIso)
            usedBy           = $null
            usedAt           = $null
        }
        $id
    }
}

function New-RdsSimRetailLicenseCode {
    <# A fresh 25-character retail license code whose terms (see README: the retail-code rule) are the ones
       asked for. Not a Clearinghouse record: any well-formed code is accepted once. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)][ValidateSet('2008R2', '2012', '2016', '2019', '2022', '2025')][string]$ProductVersion,
        [Parameter(Mandatory)][ValidateSet('perUser', 'perDevice')][string]$CalType,
        [Parameter(Mandatory)][ValidateRange(1, 100)][int]$Quantity
    )
    $random = Get-RdsAlnumId ([Guid]::NewGuid().ToString()) 21
    $versionDigit = @('2008R2', '2012', '2016', '2019', '2022', '2025').IndexOf(($script:VersionNameToId.Keys | Where-Object { $_ -eq $ProductVersion } | Select-Object -First 1))
    $q = $Quantity % 100
    '{0}{1}{2}{3}{4}{5}' -f $random.Substring(0, 20), $(if ($CalType -eq 'perUser') { '1' } else { '0' }), $versionDigit, [int][Math]::Floor($q / 10), ($q % 10), $random.Substring(20, 1)
}

function Add-RdsSimIssuedLicense {
    <# Simulate clients taking CALs from a pack: per-device packs get Win32_TSIssuedLicense rows (status 2,
       active); per-user packs only count (per-user CALs are tracked in AD). Fails if not enough available. #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [Parameter(Mandatory)][long]$KeyPackId,
        [Parameter(Mandatory)][ValidateRange(1, 100000)][int]$Count,
        [string]$Computer
    )
    $h = Resolve-RdsAdminHost $HostName
    Invoke-RdsAdmin $h {
        param($S)
        $pack = $null
        foreach ($p in @($S.licenseServer.keyPacks)) { if ([long]$p.KeyPackId -eq $KeyPackId) { $pack = $p; break } }
        if ($null -eq $pack) { throw [System.ArgumentException]::new("RdsEmulator: host '$h' has no installed key pack $KeyPackId") }
        if ([long]$pack.AvailableLicenses -lt $Count) { throw [System.InvalidOperationException]::new("RdsEmulator: key pack $KeyPackId has only $($pack.AvailableLicenses) available licenses, $Count requested") }
        $pack.IssuedLicenses = [long]$pack.IssuedLicenses + $Count
        $pack.AvailableLicenses = [long]$pack.AvailableLicenses - $Count
        $issued = [System.Collections.Generic.List[object]]::new()
        if ([int]$pack.ProductType -eq 0) {
            $now = [DateTime]::UtcNow
            $new = [System.Collections.Generic.List[object]]::new()
            for ($i = 1; $i -le $Count; $i++) {
                $id = [int]$S.licenseServer.nextLicenseId
                $S.licenseServer.nextLicenseId = $id + 1
                $name = if ($Computer -and $Count -eq 1) { $Computer } elseif ($Computer) { "$Computer-$i" } else { 'CLIENT-{0:D4}' -f $id }
                $row = [ordered]@{
                    LicenseId         = $id
                    KeyPackId         = [int]$pack.KeyPackId
                    sIssuedToUser     = $null
                    sIssuedToComputer = (ConvertTo-RdsStored $name)
                    sHardwareId       = (Get-RdsSha256Hex "rds-sim/hardware-id/$($S.hostName)/$id").Substring(0, 32).ToUpperInvariant()
                    LicenseStatus     = 2
                    IssueDate         = (ConvertTo-RdsDmtf $now)
                    ExpirationDate    = (ConvertTo-RdsDmtf $now.AddDays(52 + ($id % 38)))
                }
                $new.Add($row)
                $issued.Add([pscustomobject][ordered]@{ LicenseId = $id; KeyPackId = [int]$pack.KeyPackId; sIssuedToComputer = $name; LicenseStatus = 2 })
            }
            $S.licenseServer.issuedLicenses = @(@($S.licenseServer.issuedLicenses) + $new.ToArray())
        }
        [pscustomobject][ordered]@{
            hostName          = $h
            KeyPackId         = [int]$pack.KeyPackId
            count             = $Count
            IssuedLicenses    = [long]$pack.IssuedLicenses
            AvailableLicenses = [long]$pack.AvailableLicenses
            licenses          = $issued.ToArray()
        }
    }
}

$script:FaultNames = @('clearinghouseUnreachable', 'accessDenied', 'providerFailure', 'latencyMs', 'classNotReadyCalls', 'activationStatusUnknown', 'failureStyle', 'groupPolicy')

function Get-RdsFaultView($S) {
    [pscustomobject][ordered]@{
        clearinghouseUnreachable = [bool]$S.faults.clearinghouseUnreachable
        accessDenied             = [bool]$S.faults.accessDenied
        providerFailure          = [bool]$S.faults.providerFailure
        latencyMs                = [int]$S.faults.latencyMs
        classNotReadyCalls       = [int]$S.faults.classNotReadyCalls
        activationStatusUnknown  = [bool]$S.faults.activationStatusUnknown
        failureStyle             = [string]$S.faults.failureStyle
        groupPolicy              = [pscustomobject][ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers) }
    }
}

function ConvertTo-RdsPolicyValues([object]$LicensingMode, [object]$LicenseServers, [bool]$HasMode, [bool]$HasServers) {
    $r = @{}
    if ($HasMode) {
        if ($null -eq $LicensingMode) { $r.LicensingMode = $null }
        else {
            $m = ConvertTo-RdsInt $LicensingMode 'LicensingMode' 0 4294967295
            if ($m -notin 2, 4, 6) { throw [System.ArgumentException]::new('RdsEmulator: the LicensingMode policy value must be 2 (Per Device), 4 (Per User) or 6 (AAD Per User)') }
            $r.LicensingMode = [int]$m
        }
    }
    if ($HasServers) {
        if ($null -eq $LicenseServers) { $r.LicenseServers = $null }
        else {
            $v = $LicenseServers.PSObject.BaseObject
            $s = if ($v -is [string]) { $v } elseif ($v -is [System.Collections.IEnumerable]) { (@($v) | ForEach-Object { [string]$_ }) -join ',' } else { [string]$v }
            if ([string]::IsNullOrWhiteSpace($s)) { throw [System.ArgumentException]::new('RdsEmulator: the LicenseServers policy value must name at least one server (clear it instead)') }
            $r.LicenseServers = $s
        }
    }
    $r
}

function Set-RdsSimFault {
    <# Switch a fault on a host. Fault names: clearinghouseUnreachable, accessDenied, providerFailure,
       activationStatusUnknown (bool); latencyMs, classNotReadyCalls (int >= 0); failureStyle
       (return|exception); groupPolicy (@{ LicensingMode = 2|4|6; LicenseServers = 'a,b' }). #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [Parameter(Mandatory)][string]$Fault,
        [Parameter(Mandatory)][AllowNull()][object]$Value
    )
    $h = Resolve-RdsAdminHost $HostName
    $name = $script:FaultNames | Where-Object { $_ -eq $Fault } | Select-Object -First 1
    if (-not $name) { throw [System.ArgumentException]::new("RdsEmulator: unknown fault '$Fault' (known: $($script:FaultNames -join ', '))") }
    $v = switch ($name) {
        { $_ -in 'clearinghouseUnreachable', 'accessDenied', 'providerFailure', 'activationStatusUnknown' } { ConvertTo-RdsBool $Value $name }
        'latencyMs' { [int](ConvertTo-RdsInt $Value $name 0 600000) }
        'classNotReadyCalls' { [int](ConvertTo-RdsInt $Value $name 0 1000000) }
        'failureStyle' {
            $s = [string]$Value
            if ($s -notin 'return', 'exception') { throw [System.ArgumentException]::new("RdsEmulator: failureStyle must be 'return' or 'exception'") }
            $s.ToLowerInvariant()
        }
        'groupPolicy' {
            $d = $Value
            if ($d -isnot [System.Collections.IDictionary]) {
                if ($null -ne $d -and $d -isnot [string]) { $tmp = @{}; foreach ($p in $d.PSObject.Properties) { $tmp[$p.Name] = $p.Value }; $d = $tmp }
                else { throw [System.ArgumentException]::new('RdsEmulator: the groupPolicy fault takes @{ LicensingMode = ...; LicenseServers = ... }') }
            }
            $hasMode = $false; $hasServers = $false; $mode = $null; $servers = $null
            foreach ($k in $d.Keys) {
                if ([string]$k -eq 'LicensingMode') { $hasMode = $true; $mode = $d[$k] }
                elseif ([string]$k -eq 'LicenseServers') { $hasServers = $true; $servers = $d[$k] }
                else { throw [System.ArgumentException]::new("RdsEmulator: unknown policy value '$k' (LicensingMode, LicenseServers)") }
            }
            ConvertTo-RdsPolicyValues $mode $servers $hasMode $hasServers
        }
    }
    Invoke-RdsAdmin $h {
        param($S)
        if ($name -eq 'groupPolicy') {
            if ($v.ContainsKey('LicensingMode')) { $S.groupPolicy.LicensingMode = $v.LicensingMode }
            if ($v.ContainsKey('LicenseServers')) { $S.groupPolicy.LicenseServers = ConvertTo-RdsStored $v.LicenseServers }
        }
        else { $S.faults[$name] = $v }
        Get-RdsFaultView $S
    }
}

function Clear-RdsSimFault {
    <# Clear one fault (or all of them, Group Policy values included) on a host. #>
    [CmdletBinding()]
    param([string]$HostName, [string]$Fault)
    $h = Resolve-RdsAdminHost $HostName
    $name = $null
    if ($Fault) {
        $name = $script:FaultNames | Where-Object { $_ -eq $Fault } | Select-Object -First 1
        if (-not $name) { throw [System.ArgumentException]::new("RdsEmulator: unknown fault '$Fault' (known: $($script:FaultNames -join ', '))") }
    }
    Invoke-RdsAdmin $h {
        param($S)
        $defaults = New-RdsFaults
        if (-not $name) {
            $S.faults = $defaults
            $S.groupPolicy = [ordered]@{ LicensingMode = $null; LicenseServers = $null }
        }
        elseif ($name -eq 'groupPolicy') { $S.groupPolicy = [ordered]@{ LicensingMode = $null; LicenseServers = $null } }
        else { $S.faults[$name] = $defaults[$name] }
        Get-RdsFaultView $S
    }
}

function Set-RdsSimGroupPolicy {
    <# Write the Group Policy licensing values of a host (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal
       Services): -LicensingMode 2|4|6 (REG_DWORD) and -LicenseServers 'ls1,ls2' (REG_SZ, comma-separated).
       Pass $null to remove a value. Policy overrides WMI (reference 5.4, 7.2). #>
    [CmdletBinding()]
    param(
        [string]$HostName,
        [AllowNull()][object]$LicensingMode,
        [AllowNull()][object]$LicenseServers
    )
    $h = Resolve-RdsAdminHost $HostName
    $v = ConvertTo-RdsPolicyValues $LicensingMode $LicenseServers $PSBoundParameters.ContainsKey('LicensingMode') $PSBoundParameters.ContainsKey('LicenseServers')
    Invoke-RdsAdmin $h {
        param($S)
        if ($v.ContainsKey('LicensingMode')) { $S.groupPolicy.LicensingMode = $v.LicensingMode }
        if ($v.ContainsKey('LicenseServers')) { $S.groupPolicy.LicenseServers = ConvertTo-RdsStored $v.LicenseServers }
        [pscustomobject][ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers) }
    }
}

function Get-RdsSimCallLog {
    <# The emulated calls made on a host, oldest first: at (UTC), pid, cmdlet, className, method, result
       (0 or the unsigned WBEM code), and for Set-CimInstance the property names. Never argument values. #>
    [CmdletBinding()]
    param([string]$HostName)
    $h = Resolve-RdsAdminHost $HostName
    $base = Get-RdsHostBasePath $h
    $path = "$base.calls.jsonl"
    $rows = [System.Collections.Generic.List[object]]::new()
    # Read under the host lock so a line being appended by another process is never seen half written.
    $lines = $null
    $lock = Enter-RdsLock "$base.lock"
    try { if ([System.IO.File]::Exists($path)) { $lines = [System.IO.File]::ReadAllLines($path, $script:Utf8NoBom) } }
    finally { $lock.Dispose() }
    if ($null -ne $lines) {
        $seq = 0
        foreach ($line in $lines) {
            if ($line.Length -eq 0) { continue }
            $e = ConvertFrom-Json -InputObject $line -DateKind String
            $seq++
            $e | Add-Member -NotePropertyName seq -NotePropertyValue $seq
            $rows.Add($e)
        }
    }
    $rows
}

function Reset-RdsSim {
    <# Forget one host (state and call log) or, without -HostName, every host and the Clearinghouse. #>
    [CmdletBinding()]
    param([string]$HostName)
    $dir = Get-RdsStateDir
    $bases = if ($HostName) { , (Get-RdsHostBasePath $HostName) } else {
        [System.IO.Directory]::GetFiles([System.IO.Path]::Combine($dir, 'hosts'), '*.json') | ForEach-Object { $_.Substring(0, $_.Length - 5) }
    }
    foreach ($base in $bases) {
        $lock = Enter-RdsLock "$base.lock"
        try {
            foreach ($f in "$base.json", "$base.calls.jsonl") { if ([System.IO.File]::Exists($f)) { [System.IO.File]::Delete($f) } }
        }
        finally { $lock.Dispose() }
    }
    if (-not $HostName) {
        foreach ($f in [System.IO.Directory]::GetFiles([System.IO.Path]::Combine($dir, 'hosts'), '*.calls.jsonl')) { [System.IO.File]::Delete($f) }
        $lock = Enter-RdsLock ([System.IO.Path]::Combine($dir, 'clearinghouse.lock'))
        try {
            $ch = [System.IO.Path]::Combine($dir, 'clearinghouse.json')
            if ([System.IO.File]::Exists($ch)) { [System.IO.File]::Delete($ch) }
        }
        finally { $lock.Dispose() }
    }
}

Export-ModuleMember -Function @(
    # cmdlet stand-ins
    'Get-CimInstance', 'Set-CimInstance', 'Invoke-CimMethod',
    'Get-WindowsFeature', 'Install-WindowsFeature', 'Get-Service', 'Start-Service', 'Get-ItemProperty',
    'Get-RDLicenseConfiguration', 'Set-RDLicenseConfiguration',
    # context and admin
    'Set-RdsEmulatorContext', 'Get-RdsEmulatorContext',
    'Get-RdsSimHost', 'Get-RdsSimHostList', 'Set-RdsSimHostConfig',
    'Get-RdsSimClearinghouseLicenseServerId', 'Get-RdsSimClearinghouseConfirmationCode', 'Get-RdsSimClearinghouseKeyPackId',
    'New-RdsSimRetailLicenseCode', 'Add-RdsSimIssuedLicense',
    'Set-RdsSimFault', 'Clear-RdsSimFault', 'Set-RdsSimGroupPolicy', 'Get-RdsSimCallLog', 'Reset-RdsSim'
)
