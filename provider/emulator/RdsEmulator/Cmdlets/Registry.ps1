# Cmdlet stand-in: Get-ItemProperty for the Terminal Services Group Policy key.

# The key is shared by every Remote Desktop policy, so on a managed host it holds values unrelated to
# licensing. Every emulated host starts with one (the emulator's choice: a GPO that allows Remote Desktop
# connections, as RD Session Hosts have), so scripts meet a key that exists without licensing values and
# never mistake "the key exists" for "policy sets licensing". Set-RdsSimGroupPolicy -OtherValues changes them.
function New-RdsPolicyKeyOtherValues { [ordered]@{ fDenyTSConnections = 0 } }

# The unrelated values of a host's key as the registry provider types them: REG_DWORD Int32, REG_SZ String.
# A state file written before the key had them gets the defaults.
function Get-RdsPolicyKeyOtherValues($S) {
    $stored = if ($S.Contains('policyKeyOtherValues')) { $S.policyKeyOtherValues } else { New-RdsPolicyKeyOtherValues }
    $values = [ordered]@{}
    if ($null -eq $stored) { return $values }
    foreach ($name in $stored.Keys) {
        $v = $stored[$name]
        if ($null -eq $v) { continue }
        if (Test-RdsIntegral $v) { $values[$name] = [int]$v } else { $values[$name] = [string](ConvertFrom-RdsStored $v) }
    }
    $values
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
    <# Emulated only for HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services: the unrelated values
       (fDenyTSConnections REG_DWORD by default) plus LicensingMode REG_DWORD and LicenseServers REG_SZ, set with
       Set-RdsSimGroupPolicy. Everything else goes to Microsoft.PowerShell.Management\Get-ItemProperty. #>
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
                        [ordered]@{ LicensingMode = $S.groupPolicy.LicensingMode; LicenseServers = (ConvertFrom-RdsStored $S.groupPolicy.LicenseServers); Other = (Get-RdsPolicyKeyOtherValues $S) }
                    }
                })
            if (-not $r.ok) { Write-RdsSimError $PSCmdlet $r.err 'Get-ItemProperty' $p; continue }
            $gp = $r.value
            # Every value of the key, as Get-ItemProperty returns them; clearing the licensing values leaves the rest.
            $values = [ordered]@{}
            foreach ($valueName in $gp.Other.Keys) { $values[$valueName] = $gp.Other[$valueName] }
            if ($null -ne $gp.LicensingMode) { $values.LicensingMode = [int]$gp.LicensingMode }
            if ($null -ne $gp.LicenseServers) { $values.LicenseServers = [string]$gp.LicenseServers }
            # The key is gone only when it holds no value at all (a host whose other values were removed).
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
