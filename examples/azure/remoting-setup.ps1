# Runs once on each VM (Custom Script Extension, as SYSTEM, in Windows PowerShell 5.1): enables the
# remoting transport the pulumi-rds-licensing provider will use. Safe to run again (same listener
# certificate, same sshd configuration).
# -Transport winrm: a WinRM HTTPS listener on 5986 whose certificate names the VM (-ComputerName) and
#   the private address the controller dials (-PrivateAddress), so the controller's certificate check
#   passes once it trusts the certificate (host-trust.ps1 reports it through Azure's control plane).
#   The provider uses the default endpoint (Windows PowerShell 5.1): no PowerShell 7 needed.
# -Transport ssh: PowerShell 7 (remoting over SSH needs it) and OpenSSH Server on 22 with PowerShell 7
#   as its `powershell` subsystem. The host keys sshd generates are what host-trust.ps1 reports.
param(
    [ValidateSet('winrm', 'ssh')][string]$Transport = 'winrm',
    [string]$ComputerName = $env:COMPUTERNAME,
    [string]$PrivateAddress = '',
    [string]$PwshVersion = '7.6.9'
)
$ErrorActionPreference = 'Stop'
if ($Transport -eq 'winrm') {
    # One certificate per VM, kept across runs (found by a friendly name that holds its names), so the
    # certificate the controller was told to trust stays the listener's.
    $friendlyName = "pulumi-rds-licensing WinRM $ComputerName $PrivateAddress".Trim()
    $cert = Get-ChildItem Cert:\LocalMachine\My |
        Where-Object { $_.FriendlyName -eq $friendlyName -and $_.NotAfter -gt (Get-Date).AddDays(30) } |
        Select-Object -First 1
    if (-not $cert) {
        # An end-entity certificate (no CA flag), server authentication only, key not exportable;
        # the IP address entry lets the controller dial the private address and still pass the name check.
        $names = "DNS=$ComputerName"
        if ($PrivateAddress) { $names = "$names&IPAddress=$PrivateAddress" }
        $cert = New-SelfSignedCertificate -Subject "CN=$ComputerName" -FriendlyName $friendlyName `
            -TextExtension @("2.5.29.17={text}$names", '2.5.29.37={text}1.3.6.1.5.5.7.3.1') `
            -KeyExportPolicy NonExportable -NotAfter (Get-Date).AddYears(2) -CertStoreLocation Cert:\LocalMachine\My
    }
    Enable-PSRemoting -Force -SkipNetworkProfileCheck | Out-Null
    Get-ChildItem WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Remove-Item -Recurse -Force
    New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * -CertificateThumbPrint $cert.Thumbprint -Force | Out-Null
    if (-not (Get-NetFirewallRule -Name 'WinRM-HTTPS-In' -ErrorAction SilentlyContinue)) {
        New-NetFirewallRule -Name 'WinRM-HTTPS-In' -DisplayName 'WinRM HTTPS' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null
    }
} else {
    $pwsh = 'C:\Program Files\PowerShell\7\pwsh.exe'
    if (-not (Test-Path $pwsh)) {
        $msi = Join-Path $env:TEMP "PowerShell-$PwshVersion-win-x64.msi"
        Invoke-WebRequest "https://github.com/PowerShell/PowerShell/releases/download/v$PwshVersion/PowerShell-$PwshVersion-win-x64.msi" -OutFile $msi -UseBasicParsing
        Start-Process msiexec.exe -ArgumentList '/i', $msi, '/quiet', '/norestart' -Wait
    }
    Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0 | Out-Null
    # The first start generates the host keys (C:\ProgramData\ssh\ssh_host_*_key.pub).
    Start-Service sshd
    Set-Service sshd -StartupType Automatic
    $config = 'C:\ProgramData\ssh\sshd_config'
    if (-not (Select-String -Path $config -Pattern '^Subsystem\s+powershell' -Quiet)) {
        Add-Content -Path $config -Value 'Subsystem powershell c:/progra~1/powershell/7/pwsh.exe -sshs -NoLogo -NoProfile'
    }
    Restart-Service sshd
    if (-not (Get-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -ErrorAction SilentlyContinue)) {
        New-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -DisplayName 'OpenSSH Server' -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow | Out-Null
    }
}
