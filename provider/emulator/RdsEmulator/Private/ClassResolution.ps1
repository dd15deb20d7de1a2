# The emulated WMI classes, their namespaces and properties, and when a class is available on a host.

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
            # The class is registered with the role; its provider serves it through the service. What a
            # stopped service answers is undocumented (likely a provider or RPC error, not INVALID_CLASS):
            # WBEM_E_PROVIDER_FAILURE is the emulator's choice (README.md, Choices).
            if ((Get-RdsServiceStatus $S) -ne 'Running') {
                throw (New-RdsWmiError $script:WBEM_E_PROVIDER_FAILURE "the licensing WMI provider for '$($Class.Name)' failed: the TermServLicensing service is not running" -Infra)
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
