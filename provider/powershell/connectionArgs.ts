/**
 * The connection as a Pulumi program gives it: one Args type per transport and their union
 * `RdsConnectionArgs`, shaped like @pulumi/command's `ConnectionArgs`. Every field is a
 * `pulumi.Input`, so a secret from config (`cfg.requireSecret("pw")`, an `Output<string>`) or another
 * resource's output goes straight in. The engine resolves the Inputs before the provider's `check`,
 * which validates the plain values with the zod schemas of transport.ts (the single runtime check);
 * `RdsConnection` is that resolved form, what the resources' `connection` outputs hold.
 *
 * Written out rather than derived from the zod types so that every field carries its doc comment into
 * the user's editor; the guard at the end of this file fails the build if a field is added to (or
 * removed from) a schema without its Args field. Enum-like fields take `OrString<...>`: the listed
 * values, or a string from config, checked at `check`.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { OrString } from "../inputTypes";
import type {
  Connection,
  LabEmulator,
  LocalConnection,
  SimulatorConnection,
  SshChannel,
  SshConnection,
  WinRmConnection,
} from "./transport";

/** A connection with its Inputs resolved, as checked by the provider and returned in the resources' `connection` outputs. */
export type RdsConnection = Connection;

/** The simulator: a local pwsh with the WMI emulator module standing in for Windows. */
export interface SimulatorConnectionArgs {
  /** Selects the transport. A plain value, not an Input: it decides which other fields apply, so TypeScript can check them. */
  transport: "simulator";
  /** The simulated host's name (any name; each gets its own state file). Required. */
  host: pulumi.Input<string>;
  /**
   * Where the emulator keeps its state (one JSON file per host). Default: `$RDS_SIM_STATE_DIR`,
   * else `<cwd>/.rds-sim`, resolved to an absolute path when an operation runs.
   */
  stateDir?: pulumi.Input<string>;
}

/**
 * Lab only: run against the WMI emulator on the far side instead of Windows (the transport tests use
 * it). Never set it for a real target: nothing would be done to Windows.
 */
export interface LabEmulatorArgs {
  /** The emulator's state directory on the machine the scripts run on (absolute there). Required. */
  stateDir: pulumi.Input<string>;
}

/**
 * The machine that runs Pulumi is the target (the license server or session host itself): scripts run
 * in a local shell, like the simulator but against the real cmdlets.
 */
export interface LocalConnectionArgs {
  /** Selects the transport. A plain value, not an Input: it decides which other fields apply, so TypeScript can check them. */
  transport: "local";
  /**
   * The name this machine is known by (the license server name session hosts point at; used in
   * messages and as the resources' identity). Required; nothing is dialled.
   */
  host: pulumi.Input<string>;
  /**
   * The shell: `"pwsh"` (PowerShell 7.2+, found as `$RDS_PWSH`, on PATH, or in ~/.dotnet/tools) or
   * `"powershell"` (Windows PowerShell 5.1, `powershell.exe`; Windows only). A string from config is
   * accepted and checked at `check`. Default: `"pwsh"`.
   */
  shell?: pulumi.Input<OrString<"pwsh" | "powershell">>;
  /** Lab only (see `LabEmulatorArgs`): the scripts run on the emulator in this local shell. Default: none. */
  emulator?: pulumi.Input<LabEmulatorArgs>;
}

/** Connect settings shared by the remote transports (ssh, winrm). */
export interface RemoteConnectionArgs {
  /**
   * The target's name as the resources know it (messages, identity). Also the address dialled unless
   * `address` is set. Required.
   */
  host: pulumi.Input<string>;
  /** Name or IP address to dial when it differs from `host` (e.g. an IP, or a jump-free alias). Default: `host`. */
  address?: pulumi.Input<string>;
  /** Seconds one connection attempt may take. Default: 15 (1..300). */
  connectTimeoutSeconds?: pulumi.Input<number>;
  /**
   * Connection attempts before giving up, for transient failures only (port closed, timed out,
   * connection lost; never for a refused login or a host key mismatch). Backoff between attempts:
   * 1, 2, 4, 8, 8... seconds. Each attempt is logged. Default: 4 (1..10).
   */
  connectAttempts?: pulumi.Input<number>;
}

/**
 * ssh to the target's OpenSSH server. By default (`channel: "exec"`) ssh starts the target's
 * PowerShell (`shell`: pwsh 7.2+, or Windows PowerShell 5.1 with `"powershell"`) and that PowerShell
 * is the warm session; `channel: "subsystem"` uses PowerShell remoting over ssh instead
 * (`New-PSSession -HostName ...`; the target needs pwsh 7 as the `powershell` subsystem). Host key
 * checking is always strict.
 * Authentication: `privateKey`, `privateKeyFile` or `password` (at most one; none: the ssh agent and
 * ~/.ssh/id_* keys of the user running Pulumi). Secrets never reach a command line.
 */
export interface SshConnectionArgs extends RemoteConnectionArgs {
  /** Selects the transport. A plain value, not an Input: it decides which other fields apply, so TypeScript can check them. */
  transport: "ssh";
  /** The ssh port. Default: 22. */
  port?: pulumi.Input<number>;
  /** The account to log in as (e.g. `administrator`, `contoso\\rdsadmin` as `rdsadmin@contoso.com`). Required. */
  user: pulumi.Input<string>;
  /** The password (secret: pass `cfg.requireSecret(...)`). ssh reads one line, so no line breaks. Default: none. */
  password?: pulumi.Input<string>;
  /** A private key, OpenSSH or PEM text (secret); written to a 0600 file only while connecting. Default: none. */
  privateKey?: pulumi.Input<string>;
  /** Path of a private key file on the machine running Pulumi (ssh wants it 0600). Default: none. */
  privateKeyFile?: pulumi.Input<string>;
  /** Passphrase of `privateKey` / `privateKeyFile` (secret). Default: none (an unencrypted key). */
  privateKeyPassphrase?: pulumi.Input<string>;
  /**
   * The target's public host key(s), pinned (`"ssh-ed25519 AAAA... [comment]"`, the content of the
   * host's /etc/ssh/ssh_host_ed25519_key.pub): only these are accepted. Default: none, and then the
   * host must already be in `knownHostsFile` (or ssh's own ~/.ssh/known_hosts): an unknown host is
   * refused (RDS_HOST_KEY_UNKNOWN), a different key too (RDS_HOST_KEY_CHANGED).
   */
  hostKey?: pulumi.Input<string | pulumi.Input<string>[]>;
  /** A known_hosts file to check the host key against (instead of ssh's default ~/.ssh/known_hosts). Default: none. */
  knownHostsFile?: pulumi.Input<string>;
  /**
   * `"exec"`: ssh runs `shell` on the target and it is the session; `"subsystem"`: PowerShell
   * remoting over ssh through the `subsystem`. Default: `"subsystem"` when `subsystem` is set, else `"exec"`.
   */
  channel?: pulumi.Input<SshChannel>;
  /**
   * The exec channel's PowerShell on the target: a command on the account's PATH or a full path
   * (`"pwsh"`, `"powershell"` for Windows PowerShell 5.1, `"C:/Program Files/PowerShell/7/pwsh.exe"`).
   * Letters, digits, spaces and `._:/\()+-` only. Default: `"pwsh"`.
   */
  shell?: pulumi.Input<string>;
  /** The ssh subsystem that runs PowerShell on the target (the subsystem channel). Default: `"powershell"`. */
  subsystem?: pulumi.Input<string>;
  /** Lab only (see `LabEmulatorArgs`): run against the emulator on the far side. Default: none. */
  emulator?: pulumi.Input<LabEmulatorArgs>;
}

/** WinRM authentication mechanisms (`New-PSSession -Authentication`). */
export type WinRmAuthentication = "negotiate" | "kerberos" | "credssp" | "basic";

/**
 * WinRM (`New-PSSession -ComputerName ...`, WS-Management): HTTPS on 5986 by default. The target
 * needs a WinRM HTTPS listener with a certificate this machine trusts (or `skipCertificateChecks` in
 * a lab) and the firewall open. Without `configurationName` the session runs on the target's default
 * endpoint (Windows PowerShell 5.1 on a stock Windows Server).
 */
export interface WinRmConnectionArgs extends RemoteConnectionArgs {
  /** Selects the transport. A plain value, not an Input: it decides which other fields apply, so TypeScript can check them. */
  transport: "winrm";
  /**
   * `"https"` (-UseSSL) or `"http"` (lab or Kerberos-only networks; the payload is still encrypted by
   * negotiate/kerberos, never by basic). A string from config is accepted and checked at `check`.
   * Default: `"https"`.
   */
  scheme?: pulumi.Input<OrString<"https" | "http">>;
  /** The WinRM port. Default: 5986 for https, 5985 for http. */
  port?: pulumi.Input<number>;
  /**
   * How to authenticate: `"negotiate"` (Kerberos, else NTLM), `"kerberos"`, `"credssp"` (needs
   * `user`/`password` and CredSSP enabled on both sides) or `"basic"` (local accounts; https only).
   * A string from config is accepted and checked at `check`. Default: `"negotiate"`.
   */
  authentication?: pulumi.Input<OrString<WinRmAuthentication>>;
  /** The account (`CONTOSO\\rdsadmin` or `rdsadmin@contoso.com`). Default: the identity running Pulumi (negotiate / kerberos only). */
  user?: pulumi.Input<string>;
  /** The account's password (secret: pass `cfg.requireSecret(...)`). Required with `user`. Default: none. */
  password?: pulumi.Input<string>;
  /**
   * Lab certificates: skip the CA, name and revocation checks of the HTTPS listener's certificate.
   * Anyone on the path can then impersonate the target. https only. Default: false.
   */
  skipCertificateChecks?: pulumi.Input<boolean>;
  /**
   * The PowerShell endpoint (session configuration) on the target. `"PowerShell.7"` is registered by
   * `Enable-PSRemoting` run in pwsh 7; `"Microsoft.PowerShell"` is Windows PowerShell 5.1.
   * Default: none (the target's default endpoint, Windows PowerShell 5.1 on a stock server).
   */
  configurationName?: pulumi.Input<string>;
}

/** How to reach a host: one of the four transports, chosen by `transport`. */
export type RdsConnectionArgs = SimulatorConnectionArgs | LocalConnectionArgs | SshConnectionArgs | WinRmConnectionArgs;

// ---- compile-time guard ------------------------------------------------------------------------

/** `true` when A and B are the same union (of field names, or of values). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Fails the build when an Args type and its schema (transport.ts) drift apart: a field the schema
 * accepts must be declarable and a declared field accepted, and the listed values of the enum-like
 * fields must be the schema's.
 */
const ARGS_MATCH_SCHEMAS: [
  Same<keyof SimulatorConnectionArgs, keyof SimulatorConnection>,
  Same<keyof LocalConnectionArgs, keyof LocalConnection>,
  Same<keyof SshConnectionArgs, keyof SshConnection>,
  Same<keyof WinRmConnectionArgs, keyof WinRmConnection>,
  Same<keyof LabEmulatorArgs, keyof LabEmulator>,
  Same<"pwsh" | "powershell", NonNullable<LocalConnection["shell"]>>,
  Same<"https" | "http", NonNullable<WinRmConnection["scheme"]>>,
  Same<SshChannel, NonNullable<SshConnection["channel"]>>,
  Same<WinRmAuthentication, NonNullable<WinRmConnection["authentication"]>>,
] = [true, true, true, true, true, true, true, true, true];
void ARGS_MATCH_SCHEMAS;
