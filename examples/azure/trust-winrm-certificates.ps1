<#
.SYNOPSIS
    On the Windows machine that runs `pulumi up`: trusts the WinRM listener certificates of this stack's
    VMs, as reported by Azure's control plane (the `winrmCertificates` stack output), for the current user.
.DESCRIPTION
    Reads `pulumi stack output winrmCertificates --json` (run it in examples/azure, on the stack), checks
    that each certificate's SHA-1 thumbprint is the one the program computed, and imports it into
    Cert:\CurrentUser\Root (Windows asks to confirm each one: compare the thumbprint it shows with the
    one printed here). The certificates are self-signed end-entity certificates (no CA flag), so each
    vouches only for its own VM. -Remove takes them out again (after `pulumi destroy`).
    Runs in Windows PowerShell 5.1 or PowerShell 7 on Windows.
#>
param([switch]$Remove)
$ErrorActionPreference = 'Stop'
$json = pulumi stack output winrmCertificates --json
if ($LASTEXITCODE -ne 0) { throw 'pulumi stack output winrmCertificates failed: run this in examples/azure, on the stack' }
# Assigned first: Windows PowerShell 5.1 writes a JSON array as one object, PowerShell 7 enumerates it.
$entries = $json | Out-String | ConvertFrom-Json
foreach ($entry in $entries) {
    $base64 = ($entry.pem -replace '-----(BEGIN|END) CERTIFICATE-----', '') -replace '\s', ''
    $cert = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 (, [Convert]::FromBase64String($base64))
    if ($cert.Thumbprint -ne $entry.thumbprint) {
        throw "$($entry.host): the certificate's thumbprint $($cert.Thumbprint) is not the reported $($entry.thumbprint); nothing imported for it"
    }
    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store 'Root', 'CurrentUser'
    $store.Open('ReadWrite')
    try {
        if ($Remove) { $store.Remove($cert) } else { $store.Add($cert) }
    } finally {
        $store.Close()
    }
    $verb = 'trusted'
    if ($Remove) { $verb = 'removed' }
    "$verb $($entry.host) ($($entry.address)): $($cert.Subject), thumbprint $($cert.Thumbprint), valid until $($cert.NotAfter.ToString('yyyy-MM-dd'))"
}
