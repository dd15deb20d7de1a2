/**
 * The ssh transport's exec channel: how the provider starts the `ssh` client whose remote command is
 * the target's PowerShell, which then serves as the warm session itself (pool/remoteShell.ts):
 *
 *   ssh -T -o StrictHostKeyChecking=yes ... -p PORT -l USER -- ADDRESS <shell> -NoLogo -NoProfile -NonInteractive -Command -
 *
 * No local pwsh and no PowerShell remoting protocol in between: one process here, one login, one
 * PowerShell there. The ssh options are those of the subsystem channel (RdsRemoting/SessionParameters.ps1),
 * built here instead because the client starts from Node: strict host key checking; a pinned
 * `hostKey` in a private known_hosts file under a fixed alias; an inline private key copied to a 0600
 * file; key logins with IdentitiesOnly and BatchMode (no prompt can hang); a password or passphrase
 * through SSH_ASKPASS with a helper that hands it over once from a 0600 file. Those files live in the
 * connect folder the pool makes for the connect and removes right after it (connectDir.ts). The
 * askpass variables are in the ssh client's own environment only (never this process's), and they
 * hold paths, never the secret.
 *
 * Nothing of the connection reaches a local shell: the client is spawned with an argument vector
 * (through RdsRemoting/ssh-watchdog.sh, which ends it with the provider, off Windows). The
 * remote command is one string the target's login shell splits (sh, or cmd.exe on Windows), so `shell`
 * is restricted by the schema (transport.ts) to characters neither treats specially, and quoted when
 * it holds a space; `--` ends ssh's options before the address.
 */
import * as fs from "fs";
import * as path from "path";
import { ErrorCode, RdsError } from "../../errors";
import { providerFile } from "../../paths";
import type { SshConnection } from "../transport";
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, dialAddress } from "./remote";

/** The exec channel's default remote PowerShell. */
export const DEFAULT_SSH_SHELL = "pwsh";
/** The alias pinned host keys are filed under in the private known_hosts file (as the subsystem channel). */
export const PINNED_HOST_ALIAS = "rds-pinned-host";

/** How to start the client: program, arguments, and what to add to its environment (paths only). */
export interface SshExecLaunch {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** Writes text to a new file only this user can read (0600), or run (0700). */
function writePrivateFile(file: string, text: string, executable = false): void {
  fs.writeFileSync(file, text, { mode: executable ? 0o700 : 0o600, flag: "wx" });
}

/** The remote command: the shell, quoted when it holds a space, and its fixed arguments. */
export function remoteShellCommand(shell: string): string {
  const program = /\s/.test(shell) ? `"${shell}"` : shell;
  return `${program} -NoLogo -NoProfile -NonInteractive -Command -`;
}

// The askpass helper (POSIX sh), as the subsystem channel's: prints the secret file once. `mv` is
// atomic, so of two asks only one gets the file; the taken copy is removed right after it is printed.
const ASKPASS_SH = `#!/bin/sh
taken="$RDS_SSH_ASKPASS_FILE.taken.$$"
mv -- "$RDS_SSH_ASKPASS_FILE" "$taken" 2>/dev/null || exit 1
cat -- "$taken"
rm -f -- "$taken"
`;

// The same for Windows (ssh.exe runs a .cmd helper): Windows PowerShell moves, prints and deletes the file.
const ASKPASS_CMD =
  '@"%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoLogo -NoProfile -NonInteractive -Command "$f = $env:RDS_SSH_ASKPASS_FILE; $t = $f + \'.taken\'; try { [IO.File]::Move($f, $t) } catch { exit 1 }; [Console]::Out.Write([IO.File]::ReadAllText($t)); [IO.File]::Delete($t)"\r\n';

/** An ssh_config value on the command line: refused with quotes or control characters (paths come from us or the schema). */
function optionValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/["\u0000-\u001f]/.test(value)) throw new Error("an ssh option value must not contain double quotes or control characters");
  return /\s/.test(value) ? `"${value}"` : value;
}

/**
 * The client's arguments and environment for `c`, writing the login's private files into `workDir`
 * (a private folder the caller removes once the login is over).
 */
export function sshExecLaunch(c: SshConnection, workDir: string): SshExecLaunch {
  const timeoutSeconds = c.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const options: Record<string, string> = {
    StrictHostKeyChecking: "yes",
    UpdateHostKeys: "no",
    CheckHostIP: "no",
    ConnectTimeout: String(timeoutSeconds),
    ServerAliveInterval: "15",
    ServerAliveCountMax: "4",
  };
  const env: Record<string, string> = {};

  const hostKeys = c.hostKey === undefined ? [] : (Array.isArray(c.hostKey) ? c.hostKey : [c.hostKey]).map((k) => k.trim());
  if (hostKeys.length > 0) {
    const knownHosts = path.join(workDir, "known_hosts");
    writePrivateFile(knownHosts, hostKeys.map((key) => `${PINNED_HOST_ALIAS} ${key}\n`).join(""));
    options.UserKnownHostsFile = optionValue(knownHosts);
    options.GlobalKnownHostsFile = optionValue(knownHosts);
    options.HostKeyAlias = PINNED_HOST_ALIAS;
  } else if (c.knownHostsFile !== undefined) {
    options.UserKnownHostsFile = optionValue(path.resolve(c.knownHostsFile));
  }

  let keyFile: string | undefined;
  if (c.privateKey !== undefined) {
    keyFile = path.join(workDir, "identity");
    const text = c.privateKey.replace(/\r\n/g, "\n");
    writePrivateFile(keyFile, text.endsWith("\n") ? text : `${text}\n`);
  } else if (c.privateKeyFile !== undefined) {
    keyFile = path.resolve(c.privateKeyFile);
  }

  let secret: string | undefined;
  if (keyFile !== undefined) {
    options.IdentitiesOnly = "yes";
    options.PreferredAuthentications = "publickey";
    options.PasswordAuthentication = "no";
    options.KbdInteractiveAuthentication = "no";
    if (c.privateKeyPassphrase !== undefined) {
      secret = c.privateKeyPassphrase;
      options.NumberOfPasswordPrompts = "1";
    } else {
      options.BatchMode = "yes";
    }
  } else if (c.password !== undefined) {
    secret = c.password;
    options.PreferredAuthentications = "password,keyboard-interactive";
    options.PubkeyAuthentication = "no";
    options.PasswordAuthentication = "yes";
    options.KbdInteractiveAuthentication = "yes";
    options.NumberOfPasswordPrompts = "1";
  } else {
    // The ssh agent and ~/.ssh/id_* of the user running Pulumi; never a prompt.
    options.BatchMode = "yes";
  }

  if (secret !== undefined) {
    // ssh asks SSH_ASKPASS; the secret sits in a 0600 file the helper takes once (see ASKPASS_SH).
    const secretFile = path.join(workDir, "askpass-secret");
    writePrivateFile(secretFile, `${secret}\n`);
    const helper = path.join(workDir, process.platform === "win32" ? "askpass.cmd" : "askpass");
    writePrivateFile(helper, process.platform === "win32" ? ASKPASS_CMD : ASKPASS_SH, true);
    env.SSH_ASKPASS = helper;
    env.SSH_ASKPASS_REQUIRE = "force";
    if (!process.env.DISPLAY) env.DISPLAY = "rds-askpass:0";
    env.RDS_SSH_ASKPASS_FILE = secretFile;
  }

  const args = ["-T"];
  for (const name of Object.keys(options).sort()) args.push("-o", `${name}=${options[name]}`);
  if (keyFile !== undefined) args.push("-i", keyFile);
  args.push("-p", String(c.port ?? 22), "-l", c.user, "--", dialAddress(c), remoteShellCommand(c.shell ?? DEFAULT_SSH_SHELL));
  if (process.platform === "win32") return { file: "ssh", args, env };
  // Through the watchdog (RdsRemoting/ssh-watchdog.sh): the client ends with this process even when
  // it is killed with SIGKILL in the middle of a login.
  const client = findOnPath("ssh");
  if (client === undefined) {
    throw new RdsError(
      ErrorCode.TransportUnavailable,
      `connecting to ${c.host}: the ssh client (OpenSSH's ssh) is not on this machine's PATH: install it`,
      {
        host: c.host,
        operation: "session.connect",
      },
    );
  }
  env.RDS_SSH_CLIENT = client;
  return { file: "/bin/sh", args: [providerFile("powershell/transports/RdsRemoting/ssh-watchdog.sh"), ...args], env };
}

/** The first executable `name` on PATH. */
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
