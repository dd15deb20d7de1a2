<#
.SYNOPSIS
  The emulator's RemoteDesktopServices module: the RDS: drive's license server paths
  (RDS:\LicenseServer\Configuration\<field>, ActivationStatus, LicenseKeyPacks) through stand-ins for
  Get-Item, Set-Item, Get-ChildItem and Test-Path that serve RDS: paths and pass every other path to the
  real cmdlet unchanged. Importing it is what makes RDS: exist, as on Windows.
  The emulator (RdsEmulator.psm1) puts this folder on PSModulePath while it is loaded; the functions are
  the emulator's own (RdsEmulator/Cmdlets/RdsDriveCmdlets.ps1, Modules.ps1).
#>
$emulator = Get-Module RdsEmulator | Select-Object -First 1
if ($null -eq $emulator) {
    $emulator = Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'RdsEmulator.psm1')) -Global -PassThru -DisableNameChecking
}
$functions = & $emulator { Get-RdsWindowsModuleFunctions 'RemoteDesktopServices' }
foreach ($name in $functions.Keys) { Microsoft.PowerShell.Management\Set-Item -Path "function:script:$name" -Value $functions[$name] }
Export-ModuleMember -Function @($functions.Keys)
