# Windows facts the emulated classes report: OS versions, CAL versions, license programs, licensing
# modes, the Group Policy key. What each value means on Windows: docs/windows-facts.md.

$script:GracePeriodDays = 120
$script:PolicyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$script:PolicyKeyProviderPath = 'HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$script:PurchasedExpiration = '20380101010000.000000-000'     # purchased packs (observed)
$script:BuiltInExpiration = '20351231230000.000000-000'       # the built-in pack (observed)

# Host OS facts (Win32_OperatingSystem) and the newest CAL ProductVersionID a license server of that
# version accepts (the license server must be the same version as the CAL or newer).
$script:OsTable = [ordered]@{
    '2008R2' = @{ Caption = 'Microsoft Windows Server 2008 R2 Standard'; Version = '6.1.7601'; BuildNumber = '7601'; MaxCalVersionId = 3 }
    '2012'   = @{ Caption = 'Microsoft Windows Server 2012 R2 Standard'; Version = '6.3.9600'; BuildNumber = '9600'; MaxCalVersionId = 4 }
    '2016'   = @{ Caption = 'Microsoft Windows Server 2016 Standard'; Version = '10.0.14393'; BuildNumber = '14393'; MaxCalVersionId = 5 }
    '2019'   = @{ Caption = 'Microsoft Windows Server 2019 Standard'; Version = '10.0.17763'; BuildNumber = '17763'; MaxCalVersionId = 6 }
    '2022'   = @{ Caption = 'Microsoft Windows Server 2022 Standard'; Version = '10.0.20348'; BuildNumber = '20348'; MaxCalVersionId = 7 }
    '2025'   = @{ Caption = 'Microsoft Windows Server 2025 Standard'; Version = '10.0.26100'; BuildNumber = '26100'; MaxCalVersionId = 8 }
}

# ProductVersion input (InstallAgreement/InstallOpen) -> ProductVersionID and the ProductVersion
# string of Win32_TSLicenseKeyPack. 3 is a ProductVersionID only, never an input.
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

# License programs: Win32_TSLicenseKeyPack.KeyPackType and InstallAgreementLicenseKeyPack's AgreementType.
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
# sAgreementNumber per AgreementType: 0-3 the 7-digit enrollment number (documented); 4 (SPLA) 7 digits
# documented, 8 passed by public SPLA scripts; 5 has no documented format: 1-15 alphanumerics is the
# emulator's choice (provider/emulator/README.md, Choices).
$script:AgreementNumberFormats = @{
    0 = @{ Pattern = '^[0-9]{7}\z'; What = '7 digits' }
    1 = @{ Pattern = '^[0-9]{7}\z'; What = '7 digits' }
    2 = @{ Pattern = '^[0-9]{7}\z'; What = '7 digits' }
    3 = @{ Pattern = '^[0-9]{7}\z'; What = '7 digits' }
    4 = @{ Pattern = '^[0-9]{7,8}\z'; What = '7 or 8 digits' }
    5 = @{ Pattern = '^[A-Za-z0-9]{1,15}\z'; What = '1 to 15 alphanumeric characters' }
}

# Licensing modes of Win32_TerminalServiceSetting. The LicensingName strings are not confirmed on a real
# host (provider/emulator/README.md, Choices).
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
