/**
 * The `ssh` transport, one warm session per target, by one of two channels (`channel`):
 * - exec (the default): the ssh client runs the target's PowerShell as its remote command, and that
 *   PowerShell is the warm session itself (sshExec.ts starts the client, pool/remoteShell.ts runs it);
 * - subsystem: PowerShell SSH remoting from a local warm pwsh (`New-PSSession -HostName ...
 *   -UserName ... -Subsystem powershell`; see remote.ts and RdsRemoting.psm1 for the session's life).
 *
 * Below: the subsystem channel's connect step. The exec channel sets the same ssh options (sshExec.ts).
 *
 * ssh options the connect step always sets: StrictHostKeyChecking=yes (an unknown or changed host key
 * is refused), ConnectTimeout, UpdateHostKeys=no; a pinned `hostKey` goes into a private known_hosts
 * file (with HostKeyAlias, so the pattern does not depend on address or port); key authentication
 * runs with IdentitiesOnly and BatchMode (no prompt can hang), password authentication through
 * SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force) with a helper that hands the password over once from a
 * 0600 file. Those files live in the provider's connect folder (connectDir.ts), and ssh runs under a
 * watchdog that ends it with its pwsh (RdsRemoting/SessionParameters.ps1).
 *
 * The pool key holds a keyed digest of every trust and credential setting (trustDigest.ts): a
 * connection with another host key, known_hosts file, password, key or passphrase never shares a
 * warm session with this one.
 */
import * as path from "path";
import { sshChannel, type RemoteShellSpec, type SshConnection, type Transport } from "../transport";
import {
  DEFAULT_CONNECT_ATTEMPTS,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  classifyConnectError,
  dialAddress,
  remoteInit,
  remotePreamble,
} from "./remote";
import { DEFAULT_SSH_SHELL, sshExecLaunch } from "./sshExec";
import { trustDigest } from "./trustDigest";

/** Default ssh port. */
export const DEFAULT_SSH_PORT = 22;
/** Default subsystem name. */
export const DEFAULT_SSH_SUBSYSTEM = "powershell";

/** `ssh rdstest@10.0.0.5:22 (key)`: what log lines and messages name. No secrets. */
export function describeSsh(c: SshConnection): string {
  const auth =
    c.password !== undefined ? "password" : c.privateKey !== undefined || c.privateKeyFile !== undefined ? "key" : "agent / default keys";
  return `ssh ${c.user}@${dialAddress(c)}:${c.port ?? DEFAULT_SSH_PORT} (${auth})`;
}

/** The connect step's settings, defaults resolved. Secrets included: they travel in the envelope file only. */
export function sshSettings(c: SshConnection): Record<string, unknown> {
  const hostKeys = c.hostKey === undefined ? undefined : (Array.isArray(c.hostKey) ? c.hostKey : [c.hostKey]).map((k) => k.trim());
  return {
    transport: "ssh",
    host: c.host,
    address: dialAddress(c),
    port: c.port ?? DEFAULT_SSH_PORT,
    user: c.user,
    subsystem: c.subsystem ?? DEFAULT_SSH_SUBSYSTEM,
    connectTimeoutSeconds: c.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
    password: c.password ?? null,
    privateKey: c.privateKey ?? null,
    privateKeyFile: c.privateKeyFile !== undefined ? path.resolve(c.privateKeyFile) : null,
    privateKeyPassphrase: c.privateKeyPassphrase ?? null,
    hostKeys: hostKeys ?? null,
    knownHostsFile: c.knownHostsFile !== undefined ? path.resolve(c.knownHostsFile) : null,
    lab: c.emulator ? { stateDir: c.emulator.stateDir } : null,
  };
}

/**
 * The digest (trustDigest.ts) of what the session trusts and logs in with, as the connect step uses
 * it (sshSettings: host keys trimmed, paths resolved): equal settings, equal digest.
 */
export function sshTrustDigest(c: SshConnection): string {
  const settings = sshSettings(c);
  return trustDigest({
    hostKeys: settings.hostKeys,
    knownHostsFile: settings.knownHostsFile,
    password: settings.password,
    privateKey: settings.privateKey,
    privateKeyFile: settings.privateKeyFile,
    privateKeyPassphrase: settings.privateKeyPassphrase,
  });
}

export const sshTransport: Transport<SshConnection> = {
  kind: "ssh",

  targetKey(c: SshConnection): string {
    return JSON.stringify([
      "ssh",
      c.user,
      dialAddress(c).toLowerCase(),
      c.port ?? DEFAULT_SSH_PORT,
      sshChannel(c) === "exec" ? `exec:${c.shell ?? DEFAULT_SSH_SHELL}` : `subsystem:${c.subsystem ?? DEFAULT_SSH_SUBSYSTEM}`,
      c.emulator?.stateDir ?? null,
      sshTrustDigest(c),
    ]);
  },

  remoteShell(c: SshConnection): RemoteShellSpec | undefined {
    if (sshChannel(c) !== "exec") return undefined;
    return { launch: (workDir) => sshExecLaunch(c, workDir), labStateDir: c.emulator?.stateDir };
  },

  preamble(): string[] {
    return remotePreamble();
  },

  initOperation(c: SshConnection) {
    return remoteInit(sshSettings(c));
  },

  connect: {
    attempts: (c) => c.connectAttempts ?? DEFAULT_CONNECT_ATTEMPTS,
    describe: describeSsh,
    classify: (error, stderr, c) => classifyConnectError(error, stderr, c, describeSsh(c)),
  },
};
