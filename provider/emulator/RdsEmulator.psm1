#Requires -Version 7.5
<#
.SYNOPSIS
  The RD Licensing WMI emulator.

  Imported into a pwsh session, this module defines FUNCTIONS named like the cmdlets the operation
  scripts call (Get-CimInstance, Set-CimInstance, Invoke-CimMethod, Get-WindowsFeature,
  Install-WindowsFeature, Get-Service, Start-Service, Get-ItemProperty, Get-RDLicenseConfiguration,
  Set-RDLicenseConfiguration). Functions win over cmdlets, so the real scripts run unchanged on top of
  it. The Windows behaviour it reproduces is written down in docs/windows-facts.md; where that
  behaviour is not confirmed, the choice made here is listed in README.md next to this file.

  State is one JSON file per host under <stateDir>/hosts/, written atomically (temp file + rename)
  under an exclusive lock file, plus a Clearinghouse file shared by all hosts. Values are data: nothing
  here ever evaluates or builds script text from a value.

  This file is the root module; the code lives in RdsEmulator/ (Private/: tables and plumbing,
  Classes/: one file per emulated WMI class with methods, Cmdlets/: the stand-ins, Admin/: the
  functions tests and the rds-sim CLI use). Each part is dot-sourced into this module's scope, so their
  functions and $script: variables are the module's, exactly as if they were written here.
#>

Set-StrictMode -Version 3.0

# Order matters only for code that runs at load: the tables come first, Private/Methods.ps1 before the
# Classes/ files that register their methods in its table.
foreach ($emulatorPart in @(
        'Private/WmiErrors.ps1'
        'Private/Values.ps1'
        'Private/Facts.ps1'
        'Private/Context.ps1'
        'Private/CimArguments.ps1'
        'Private/State.ps1'
        'Private/HostFacts.ps1'
        'Private/ClassResolution.ps1'
        'Private/Instances.ps1'
        'Private/Methods.ps1'
        'Private/CmdletPlumbing.ps1'
        'Private/RemoteHost.ps1'
        'Private/SetInstance.ps1'
        'Private/CimTargets.ps1'
        'Private/LegacyWmiErrors.ps1'
        'Private/WmiObjects.ps1'
        'Classes/Win32_TSLicenseServer.ps1'
        'Classes/Win32_TSLicenseServer.Directory.ps1'
        'Classes/Win32_TSLicenseReport.ps1'
        'Classes/Win32_TSLicenseKeyPack.ps1'
        'Classes/Win32_TerminalServiceSetting.ps1'
        'Cmdlets/Cim.ps1'
        'Cmdlets/Wmi.ps1'
        'Cmdlets/Features.ps1'
        'Cmdlets/Restart.ps1'
        'Cmdlets/Services.ps1'
        'Cmdlets/Registry.ps1'
        'Cmdlets/Rdms.ps1'
        'Cmdlets/RdsDrive.ps1'
        'Cmdlets/RdsDriveCmdlets.ps1'
        'Cmdlets/Modules.ps1'
        'Admin/Hosts.ps1'
        'Admin/Clearinghouse.ps1'
        'Admin/IssuedLicenses.ps1'
        'Admin/Faults.ps1'
        'Admin/CallLog.ps1'
        'Admin/Reset.ps1'
    )) {
    . ([System.IO.Path]::Combine($PSScriptRoot, 'RdsEmulator', $emulatorPart))
}
Remove-Variable emulatorPart

Export-ModuleMember -Function @(
    # cmdlet stand-ins
    'Get-CimInstance', 'Set-CimInstance', 'Invoke-CimMethod', 'New-CimSession', 'Get-CimSession', 'Remove-CimSession',
    'Get-WmiObject', 'Invoke-WmiMethod', 'Set-WmiInstance',
    'Get-WindowsFeature', 'Install-WindowsFeature', 'Restart-Computer', 'Get-Service', 'Start-Service', 'Get-ItemProperty',
    'Get-RDLicenseConfiguration', 'Set-RDLicenseConfiguration',
    # context and admin
    'Set-RdsEmulatorContext', 'Get-RdsEmulatorContext',
    'Get-RdsSimHost', 'Get-RdsSimHostList', 'Set-RdsSimHostConfig',
    'Get-RdsSimClearinghouseLicenseServerId', 'Get-RdsSimClearinghouseConfirmationCode', 'Get-RdsSimClearinghouseKeyPackId',
    'New-RdsSimRetailLicenseCode', 'Add-RdsSimIssuedLicense', 'Add-RdsSimLeftoverKeyPack', 'Get-RdsSimRestartState',
    'Set-RdsSimFault', 'Clear-RdsSimFault', 'Set-RdsSimNetworkCut', 'Clear-RdsSimNetworkCut', 'Set-RdsSimGroupPolicy', 'Get-RdsSimCallLog', 'Reset-RdsSim'
)
