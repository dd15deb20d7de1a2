<#
.SYNOPSIS
  The emulator's RemoteDesktop module: the RD Management Service cmdlets the emulator models
  (Get-RDLicenseConfiguration, Set-RDLicenseConfiguration) under the module name Windows gives them, so
  `Import-Module RemoteDesktop` and `Get-Module -ListAvailable RemoteDesktop` work as on Windows.
  The emulator (RdsEmulator.psm1) puts this folder on PSModulePath while it is loaded; the functions are
  the emulator's own (RdsEmulator/Cmdlets/Modules.ps1).
#>
$emulator = Get-Module RdsEmulator | Select-Object -First 1
if ($null -eq $emulator) {
    $emulator = Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'RdsEmulator.psm1')) -Global -PassThru -DisableNameChecking
}
$functions = & $emulator { Get-RdsWindowsModuleFunctions 'RemoteDesktop' }
foreach ($name in $functions.Keys) { Microsoft.PowerShell.Management\Set-Item -Path "function:script:$name" -Value $functions[$name] }
Export-ModuleMember -Function @($functions.Keys)
