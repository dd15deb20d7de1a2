# The Windows modules by their real names: RemoteDesktop (the RDMS cmdlets) and RemoteDesktopServices
# (the RDS: drive). Their folders are in provider/emulator/modules; while the emulator is loaded that
# folder is first on PSModulePath, so `Import-Module RemoteDesktop`, `Get-Module -ListAvailable
# RemoteDesktop` and a DSC resource's Assert-Module find them, as they find the real ones on Windows.
#
# Each module's .psm1 takes its functions from this table: the emulator's own function script blocks,
# bound under the cmdlet names. A script block keeps the module it was written in, so the functions run
# in the emulator's scope with no wrapper layer in between (one error record per failure, as before).

$script:EmulatorModulesDir = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'modules'))

# Exported name -> the emulator function that implements it, per module.
$script:WindowsModuleCommands = @{
    RemoteDesktop         = $script:RdmsCommands
    RemoteDesktopServices = $script:RdsDriveCommands
}

# Called by the module .psm1 files: name -> script block of each function the module exports.
function Get-RdsWindowsModuleFunctions([string]$ModuleName) {
    $table = [ordered]@{}
    foreach ($entry in $script:WindowsModuleCommands[$ModuleName].GetEnumerator()) {
        $table[$entry.Key] = $ExecutionContext.InvokeCommand.GetCommand($entry.Value, 'Function').ScriptBlock
    }
    $table
}

$modulePaths = @($env:PSModulePath -split [System.IO.Path]::PathSeparator)
if ($modulePaths -notcontains $script:EmulatorModulesDir) {
    $env:PSModulePath = (@($script:EmulatorModulesDir) + $modulePaths | Where-Object { $_ }) -join [System.IO.Path]::PathSeparator
}
Remove-Variable modulePaths
