/**
 * The `winrm` transport: WinRM remoting from the warm pwsh (`New-PSSession -ComputerName ...`), one
 * persistent session per target (see remote.ts and RdsRemoting.psm1 for the session's life).
 *
 * The connect step (RdsRemoting.psm1, Get-RdsWinRmSessionParameters) builds the New-PSSession
 * parameters inside PowerShell: -UseSSL unless scheme "http", -Port, -Authentication, -ConfigurationName (only when set),
 * a -SessionOption with -OpenTimeout (and -SkipCACheck -SkipCNCheck -SkipRevocationCheck when
 * skipCertificateChecks), and a PSCredential made from the envelope's user and password.
 *
 * pwsh on Linux and macOS has no working WS-Management client: there this transport fails with
 * RDS_TRANSPORT_UNAVAILABLE. Run Pulumi on Windows to use it.
 */
import type { Transport, WinRmConnection } from "../transport";
import {
  DEFAULT_CONNECT_ATTEMPTS,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  classifyConnectError,
  dialAddress,
  remoteInit,
  remotePreamble,
} from "./remote";
import { trustDigest } from "./trustDigest";

/** Default ports per scheme. */
export const DEFAULT_WINRM_PORTS = { https: 5986, http: 5985 } as const;
/**
 * Default endpoint: none, so New-PSSession uses the target's default session configuration
 * ("Microsoft.PowerShell": Windows PowerShell 5.1 on a stock Windows Server, where the RemoteDesktop
 * module is native). `configurationName: "PowerShell.7"` picks pwsh 7 (registered by Enable-PSRemoting run in pwsh 7).
 */
export const DEFAULT_WINRM_CONFIGURATION = null;

/** `winrm https://ls01.contoso.com:5986 (negotiate, CONTOSO\admin)`: what log lines and messages name. No secrets. */
export function describeWinRm(c: WinRmConnection): string {
  const scheme = c.scheme ?? "https";
  return `winrm ${scheme}://${dialAddress(c)}:${c.port ?? DEFAULT_WINRM_PORTS[scheme]} (${c.authentication ?? "negotiate"}, ${c.user ?? "current identity"})`;
}

/** The connect step's settings, defaults resolved. Secrets included: they travel in the envelope file only. */
export function winrmSettings(c: WinRmConnection): Record<string, unknown> {
  const scheme = c.scheme ?? "https";
  return {
    transport: "winrm",
    host: c.host,
    address: dialAddress(c),
    scheme,
    port: c.port ?? DEFAULT_WINRM_PORTS[scheme],
    authentication: c.authentication ?? "negotiate",
    user: c.user ?? null,
    password: c.password ?? null,
    skipCertificateChecks: c.skipCertificateChecks ?? false,
    configurationName: c.configurationName ?? DEFAULT_WINRM_CONFIGURATION,
    connectTimeoutSeconds: c.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
    lab: null,
  };
}

/**
 * The digest (trustDigest.ts) of what the session trusts and logs in with: the credential and the
 * certificate checks (scheme and authentication are in the key as they are).
 */
export function winrmTrustDigest(c: WinRmConnection): string {
  const settings = winrmSettings(c);
  return trustDigest({ user: settings.user, password: settings.password, skipCertificateChecks: settings.skipCertificateChecks });
}

export const winrmTransport: Transport<WinRmConnection> = {
  kind: "winrm",

  targetKey(c: WinRmConnection): string {
    const scheme = c.scheme ?? "https";
    return JSON.stringify([
      "winrm",
      c.user ?? null,
      dialAddress(c).toLowerCase(),
      c.port ?? DEFAULT_WINRM_PORTS[scheme],
      scheme,
      c.authentication ?? "negotiate",
      c.configurationName ?? DEFAULT_WINRM_CONFIGURATION,
      winrmTrustDigest(c),
    ]);
  },

  preamble(): string[] {
    return remotePreamble();
  },

  initOperation(c: WinRmConnection) {
    return remoteInit(winrmSettings(c));
  },

  connect: {
    attempts: (c) => c.connectAttempts ?? DEFAULT_CONNECT_ATTEMPTS,
    describe: describeWinRm,
    classify: (error, stderr, c) => classifyConnectError(error, stderr, c, describeWinRm(c)),
  },
};
