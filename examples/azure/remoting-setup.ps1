# Runs once on each VM (Custom Script Extension, as SYSTEM, in Windows PowerShell): installs PowerShell 7
# and enables the remoting transport the pulumi-rds-licensing provider will use.
# -Transport winrm: a WinRM HTTPS listener on 5986 (self-signed certificate) and the PowerShell 7 endpoint.
# -Transport ssh: OpenSSH Server on 22 with PowerShell 7 as its `powershell` subsystem.
param([ValidateSet('winrm', 'ssh')][string]$Transport = 'winrm', [string]$PwshVersion = '7.6.9')
$ErrorActionPreference = 'Stop'
$pwsh = 'C:\Program Files\PowerShell\7\pwsh.exe'
if (-not (Test-Path $pwsh)) {
    $msi = Join-Path $env:TEMP "PowerShell-$PwshVersion-win-x64.msi"
    Invoke-WebRequest "https://github.com/PowerShell/PowerShell/releases/download/v$PwshVersion/PowerShell-$PwshVersion-win-x64.msi" -OutFile $msi -UseBasicParsing
    Start-Process msiexec.exe -ArgumentList '/i', $msi, '/quiet', '/norestart' -Wait
}
if ($Transport -eq 'winrm') {
    # The PowerShell 7 endpoint (PowerShell.7) next to Windows PowerShell's.
    & $pwsh -NoProfile -Command 'Enable-PSRemoting -Force -SkipNetworkProfileCheck | Out-Null'
    $cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME -CertStoreLocation Cert:\LocalMachine\My
    Get-ChildItem WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Remove-Item -Recurse -Force
    New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * -CertificateThumbPrint $cert.Thumbprint -Force | Out-Null
    if (-not (Get-NetFirewallRule -Name 'WinRM-HTTPS-In' -ErrorAction SilentlyContinue)) {
        New-NetFirewallRule -Name 'WinRM-HTTPS-In' -DisplayName 'WinRM HTTPS' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null
    }
} else {
    Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0 | Out-Null
    Start-Service sshd
    Set-Service sshd -StartupType Automatic
    $config = 'C:\ProgramData\ssh\sshd_config'
    if (-not (Select-String -Path $config -Pattern '^Subsystem\s+powershell' -Quiet)) {
        Add-Content -Path $config -Value 'Subsystem powershell c:/progra~1/powershell/7/pwsh.exe -sshs -NoLogo'
    }
    Restart-Service sshd
    if (-not (Get-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -ErrorAction SilentlyContinue)) {
        New-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -DisplayName 'OpenSSH Server' -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow | Out-Null
    }
}
