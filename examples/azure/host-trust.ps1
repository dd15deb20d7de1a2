# Runs on each VM after remoting-setup.ps1, as a managed Run Command (Windows PowerShell 5.1, as SYSTEM),
# and prints what the controller must trust, which the Pulumi program reads back through Azure's control
# plane (the run command's instance view), never over the network path it is about to verify:
# -Transport ssh: every public host key of sshd, one "<type> <base64>" line each (pinned as `hostKey`).
# -Transport winrm: the certificate of the WinRM HTTPS listener, PEM (trusted on the controller by
#   trust-winrm-certificates.ps1).
# -SetupDigest is not used here: the program passes a digest of the setup command so that a setup that
# runs again makes this run command run again too.
param([ValidateSet('winrm', 'ssh')][string]$Transport = 'winrm', [string]$SetupDigest = '')
$ErrorActionPreference = 'Stop'
if ($Transport -eq 'ssh') {
    $keys = @(Get-ChildItem -Path 'C:\ProgramData\ssh' -Filter 'ssh_host_*_key.pub')
    if ($keys.Count -eq 0) { throw 'no ssh host key in C:\ProgramData\ssh: has sshd started once (remoting-setup.ps1)?' }
    foreach ($key in $keys) {
        # The type and the key only: the comment (SYSTEM@<name>) is no part of what is pinned.
        $fields = (Get-Content -LiteralPath $key.FullName -TotalCount 1).Trim() -split '\s+'
        "$($fields[0]) $($fields[1])"
    }
} else {
    $listener = Get-ChildItem WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Select-Object -First 1
    if (-not $listener) { throw 'no WinRM HTTPS listener: run remoting-setup.ps1 first' }
    $thumbprint = (Get-ChildItem -Path $listener.PSPath | Where-Object { $_.Name -eq 'CertificateThumbprint' }).Value
    $cert = Get-Item -LiteralPath "Cert:\LocalMachine\My\$thumbprint"
    '-----BEGIN CERTIFICATE-----'
    [Convert]::ToBase64String($cert.RawData, [Base64FormattingOptions]::InsertLineBreaks)
    '-----END CERTIFICATE-----'
}
