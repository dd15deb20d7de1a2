# Admin functions: what the Microsoft Clearinghouse would hand out (license server IDs, confirmation
# codes, offline key pack IDs, retail license codes).

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
    <# A fresh 25-character retail license code whose terms (provider/emulator/README.md: the retail-code
       rule) are the ones asked for. Not a Clearinghouse record: any well-formed code is accepted once. #>
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
