/**
 * What the remote transports (ssh, winrm) share: the preamble that loads the local side of remoting
 * (RdsRemoting.psm1), the connect operation (RemoteConnect.ps1) and its settings with every default
 * resolved, and the classification of connect failures into typed errors.
 *
 * Classification reads the connect error's message and what the ssh client or WinRM wrote on the warm
 * pwsh's stderr during the attempt (pwsh does not put ssh's own message in its exception: "The SSH
 * transport process has abruptly terminated..."; ssh writes "Permission denied (publickey,password).",
 * "Host key verification failed." etc. to its stderr, which it inherits from the warm pwsh).
 */
import { ErrorCode, RdsError } from "../../errors";
import { providerFile } from "../../paths";
import { quotePowerShellLiteral } from "../envelope";
import { createConnectDir, removeConnectDir } from "./connectDir";
import type { InitOperation, RemoteConnection } from "../transport";

/** Default seconds for one connection attempt. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 15;
/** Default connection attempts (transient failures only). */
export const DEFAULT_CONNECT_ATTEMPTS = 4;

/** Errors worth another attempt: the target may be booting, restarting sshd / WinRM, or briefly overloaded. */
export const TRANSIENT_CONNECT_CODES: ReadonlySet<string> = new Set([
  ErrorCode.PortClosed,
  ErrorCode.ConnectTimeout,
  ErrorCode.ConnectionLost,
]);

/** Backoff before attempt `attempt + 1` (attempt counts from 1): 1, 2, 4, 8, 8... seconds. */
export function connectBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(attempt - 1, 0), 8000);
}

/** The address dialled: `address`, else `host`. */
export function dialAddress(connection: RemoteConnection): string {
  return connection.address ?? connection.host;
}

/** The preamble of every remote transport: the local side of remoting. */
export function remotePreamble(): string[] {
  return [`Import-RdsModule -Path ${quotePowerShellLiteral(providerFile("powershell/transports/RdsRemoting.psm1"))}`];
}

/** The connect operation: its envelope carries the settings (secrets included) and the package's provider folder. */
export function remoteInit(settings: Record<string, unknown>): InitOperation {
  return {
    name: "session.connect",
    script: providerFile("powershell/transports/RemoteConnect.ps1"),
    // workDir: the connect folder (connectDir.ts), filled in by the pool through privateFolder.
    args: { settings, providerDir: providerFile(""), workDir: null },
    privateFolder: { create: createConnectDir, remove: removeConnectDir },
  };
}

/** The last few meaningful lines of what ssh / WinRM wrote (banners and blank lines dropped), for messages. */
export function stderrGist(stderr: string, maxLines = 2): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !/^@+$/.test(line) && !/^pulumi-rds-licensing:/.test(line));
  return lines.slice(-maxLines).join(" / ").slice(0, 400);
}

interface Rule {
  test: RegExp;
  code: ErrorCode;
  cause: (c: RemoteConnection) => string;
}

function where(c: RemoteConnection): string {
  const port = c.port ?? (c.transport === "ssh" ? 22 : (c.scheme ?? "https") === "https" ? 5986 : 5985);
  return `${dialAddress(c)}:${port}`;
}

/** Ordered: the first match wins (a changed key also says "verification failed"). */
const RULES: readonly Rule[] = [
  {
    // The exec channel's remote command did not start: sh / bash, then cmd.exe.
    test: /: (\S*(pwsh|powershell)\S*): (command )?not found|\S*(pwsh|powershell)\S*: No such file or directory|is not recognized as an internal or external command/i,
    code: ErrorCode.RemotingNotEnabled,
    cause: (c) =>
      `the account on ${where(c)} cannot start "${(c as { shell?: string }).shell ?? "pwsh"}": install PowerShell 7 on the target (and put it on PATH), or set shell to what the target has (e.g. "powershell" for Windows PowerShell 5.1, or the full path of pwsh)`,
  },
  {
    test: /requires WSMan, and no supported WSMan client library was found|WSMan is either not installed or unavailable/i,
    code: ErrorCode.TransportUnavailable,
    cause: () =>
      "this machine's pwsh has no WS-Management client (pwsh on Linux and macOS ships none that works): run Pulumi on Windows for winrm, or use the ssh transport",
  },
  {
    test: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed|host key .*does not match/i,
    code: ErrorCode.HostKeyChanged,
    cause: (c) =>
      `the host key ${where(c)} presented is not the one known for it (possible man-in-the-middle); if the target was rebuilt, update hostKey or the known_hosts file`,
  },
  {
    test: /No \S+ host key is known for|Host key verification failed|host key is not known/i,
    code: ErrorCode.HostKeyUnknown,
    cause: (c) =>
      `the host key of ${where(c)} is not known: pin it with hostKey (the content of /etc/ssh/ssh_host_ed25519_key.pub, or C:\\ProgramData\\ssh\\ssh_host_ed25519_key.pub, on the target) or add it to knownHostsFile`,
  },
  {
    test: /Could not resolve hostname|Name or service not known|nodename nor servname|No such host is known|server name cannot be resolved|Temporary failure in name resolution|getaddrinfo/i,
    code: ErrorCode.NameNotResolved,
    cause: (c) => `the name ${dialAddress(c)} does not resolve to an address: check host / address and DNS`,
  },
  {
    test: /subsystem request failed|no such subsystem|session configuration .*(cannot be found|not found)|Cannot find the \S+ session configuration|endpoint .* not (found|available)/i,
    code: ErrorCode.RemotingNotEnabled,
    cause: (c) =>
      c.transport === "ssh"
        ? `sshd on ${where(c)} has no "${c.subsystem ?? "powershell"}" subsystem: add \`Subsystem powershell c:/progra~1/powershell/7/pwsh.exe -sshs -NoLogo -NoProfile\` to sshd_config and restart sshd`
        : c.configurationName
          ? `${where(c)} has no "${c.configurationName}" PowerShell endpoint: run \`Enable-PSRemoting\` in the PowerShell that should serve it on the target, or set configurationName to an endpoint it has`
          : `${where(c)} has no default PowerShell endpoint: run \`Enable-PSRemoting -Force\` on the target (Windows PowerShell 5.1), or set configurationName (e.g. "PowerShell.7")`,
  },
  {
    test: /server certificate|SSL certificate|certificate authority|CN\) that does not match|certificate .*(revoked|expired|not trusted)|revocation/i,
    code: ErrorCode.CertificateUntrusted,
    cause: (c) =>
      `the HTTPS listener's certificate on ${where(c)} is not trusted or does not match the name: trust its CA on this machine and dial the name in the certificate (or, in a lab only, set skipCertificateChecks)`,
  },
  {
    test: /Permission denied|Too many authentication failures|Authentication failed|Access is denied|user name or password is incorrect|logon failure|0x8009030e|0x80090311|0x8009030c|0x80090322|Kerberos|credentials .* (rejected|invalid)|HTTP status code 401|WinRM cannot process the request. The following error with errorcode 0x8009/i,
    code: ErrorCode.AuthRefused,
    cause: (c) =>
      `the target refused the login of ${c.user ?? "the current identity"}: check user and ${c.transport === "ssh" ? "password / key (and that sshd allows that method)" : "password (and the authentication method)"}`,
  },
  {
    test: /Connection refused|actively refused|No connection could be made|firewall exception for the WinRM service/i,
    code: ErrorCode.PortClosed,
    cause: (c) =>
      `nothing accepts connections on ${where(c)}: check that ${c.transport === "ssh" ? "sshd" : "the WinRM listener"} runs there and that the firewall allows the port`,
  },
  {
    test: /timed out|timeout|did not respond|operation has timed out/i,
    code: ErrorCode.ConnectTimeout,
    cause: (c) => `no answer from ${where(c)} in time: check the address, the route and the firewall (filtered ports time out)`,
  },
  {
    test: /Connection reset|Connection closed by|kex_exchange_identification|Broken pipe|No route to host|Network is unreachable|abruptly terminated|remote session might have ended/i,
    code: ErrorCode.ConnectionLost,
    cause: (c) => `the connection to ${where(c)} dropped while it was being set up`,
  },
];

/**
 * The typed error for a failed connect attempt. `error` is what the connect operation reported (its
 * message carries New-PSSession's exception message), `stderr` what the ssh client / WinRM wrote.
 * Errors that are already specific (not the generic script / host-unreachable codes) pass through.
 */
export function classifyConnectError(error: RdsError, stderr: string, connection: RemoteConnection, describe: string): RdsError {
  const generic: string[] = [ErrorCode.ScriptError, ErrorCode.HostUnreachable, ErrorCode.InvalidResult];
  if (!generic.includes(error.code)) return error;
  // "running session.connect on h: CONNECT_FAILED: <what ssh / New-PSSession said> (at RdsRemoting.psm1:12)"
  const raw = error.message
    .replace(/^running [^:]*: /, "")
    .replace(/^[A-Z][A-Z0-9_]*: /, "")
    .replace(/ \(at [^()]+:\d+\)$/, "");
  // ssh's own words first (pwsh's exception text is generic), then the exception message.
  const gist = stderrGist(stderr);
  const doing = `connecting to ${connection.host} over ${describe}`;
  const details = {
    host: connection.host,
    operation: "session.connect",
    durationMs: error.durationMs,
    stderr: stderr || undefined,
    scriptCode: error.scriptCode,
    cause: error,
  };
  for (const text of [stderr, raw]) {
    const rule = RULES.find((r) => r.test.test(text));
    if (rule === undefined) continue;
    const detail = text === stderr ? gist : raw.slice(0, 400);
    return new RdsError(rule.code, `${doing}: ${rule.cause(connection)}${detail ? ` (${detail})` : ""}`, details);
  }
  return new RdsError(ErrorCode.HostUnreachable, `${doing}: ${raw}${gist ? ` (${gist})` : ""}`, details);
}
