# Cmdlet stand-in: Get-ItemProperty for the Terminal Services Group Policy key.

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
