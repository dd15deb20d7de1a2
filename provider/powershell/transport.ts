/**
 * Transports: how a warm pwsh reaches a target. The connection schema (a zod discriminated union on
 * `transport`) and the `Transport` interface every transport implements.
 *
 * | transport   | where the scripts run                                                      | file                    |
 * |-------------|----------------------------------------------------------------------------|-------------------------|
 * | `simulator` | the local pwsh, on the WMI emulator (provider/emulator)                    | transports/simulator.ts |
 * | `local`     | the local pwsh (or Windows PowerShell 5.1): the machine running Pulumi     | transports/local.ts     |
 * | `ssh`       | the target's PowerShell, started by one ssh client per target (exec channel), or one PowerShell SSH remoting session from a warm pwsh (subsystem channel) | transports/ssh.ts |
 * | `winrm`     | one persistent WinRM (WS-Management) PSSession per target, from the warm pwsh | transports/winrm.ts  |
 *
 * The runner, the pool and the resources do not depend on the transport; resources never look inside
 * a connection except `host`. Every field is documented where it is declared, with its default
 * (provider/powershell/CONNECTIONS.md is the user-facing reference).
 *
 * ssh's exec channel (its default) has no local pwsh: `remoteShell` says how to start the ssh client,
 * and pool/remoteShell.ts opens the session, ships the scripts and runs each operation there. The rest
 * of this comment is about the PSSession of winrm and ssh's subsystem channel.
 *
 * Remote transports (ssh, winrm; transports/remote.ts):
 * - `preamble`: imports transports/RdsRemoting.psm1 (the local side of remoting) into the warm pwsh.
 * - `initOperation` (transports/RemoteConnect.ps1) is the connect step. Its envelope carries the
 *   connection, secrets included; inside PowerShell it builds the credential (winrm) or the askpass
 *   environment (ssh password) and opens ONE persistent PSSession, ships the package's scripts to the
 *   target (a folder per content hash, only .ps1/.psm1), dot-sources Bootstrap.ps1 there (which
 *   imports RdsCommon.psm1) and installs an invoker that runs each operation with
 *   `Invoke-Command -Session` (script folder, file name and the base64 envelope as arguments). The
 *   remote side classifies the script's output and catches its errors itself, so the document that
 *   comes back is exactly what a local run prints (New-RdsScriptError codes included).
 * - `connect`: the pool runs the init operation with bounded retries (transient errors only: port
 *   closed, timed out, connection lost), logging each attempt (connectLog.ts), and runs it again when
 *   the invoker reports the session lost (reconnect; the operation is re-run only when it provably
 *   never started on the target).
 * - `targetKey`: transport + user + address + port (+ subsystem / scheme, authentication, endpoint,
 *   lab state dir) + a digest of every trust and credential setting (transports/trustDigest.ts: host
 *   keys, known_hosts file, password, key, passphrase, certificate checks). Never a secret in clear,
 *   and not the host: resources that reach one endpoint with the same trust share its session;
 *   connections that trust differently never do (each opens, and fails or succeeds, on its own).
 */
import { z } from "zod";
import type { RdsError } from "../errors";
import type { PwshLookup } from "./executable";
import { localTransport } from "./transports/local";
import { simulatorTransport } from "./transports/simulator";
import { sshTransport } from "./transports/ssh";
import { winrmTransport } from "./transports/winrm";

/** What ends or cuts the one line ssh reads a secret from: line breaks, and NUL (a C string's end). */
// eslint-disable-next-line no-control-regex -- NUL is exactly the character this pattern must find
const ONE_LINE_BREAKERS = /[\r\n\u0000]/;
export { resolveStateDir } from "./transports/simulator";
export { quotePowerShellLiteral } from "./envelope";

/** Host names as Windows knows them: 1..253 characters, no control characters. */
export const hostSchema = z
  .string()
  .min(1, "host must not be empty")
  .max(253, "host must be at most 253 characters")
  // eslint-disable-next-line no-control-regex
  .refine((value) => !/[\u0000-\u001f\u007f-\u009f]/.test(value), "host must not contain control characters");

/** The simulator: a local pwsh with the WMI emulator module standing in for Windows. */
export const simulatorConnectionSchema = z
  .object({
    transport: z.literal("simulator"),
    /** The simulated host's name (any name; each gets its own state file). */
    host: hostSchema,
    /**
     * Where the emulator keeps its state (one JSON file per host). Default: `$RDS_SIM_STATE_DIR`,
     * else `<cwd>/.rds-sim`, resolved to an absolute path when an operation runs.
     */
    stateDir: z.string().min(1, "stateDir must not be empty").optional(),
  })
  .strict();

/** A TCP port. */
const portSchema = z.number().int("port must be a whole number").min(1, "port must be 1..65535").max(65535, "port must be 1..65535");

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Text without control characters (user names, addresses, paths). */
function plainText(field: string, max = 1024) {
  return z
    .string()
    .min(1, `${field} must not be empty`)
    .max(max, `${field} must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), `${field} must not contain control characters`);
}

/**
 * Lab only: run against the WMI emulator on the far side instead of Windows. The far side imports
 * provider/emulator/RdsEmulator.psm1 (shipped with the scripts) and every operation runs against the
 * emulated host named by `host`, kept in `stateDir` ON THE FAR SIDE. Never set it for a real target:
 * nothing would be done to Windows. Used by the transport tests (a real sshd on 127.0.0.1).
 */
export const labEmulatorSchema = z
  .object({
    /** The emulator's state directory on the machine the scripts run on (absolute there). Required. */
    stateDir: plainText("emulator.stateDir", 4096),
  })
  .strict();

/**
 * The machine that runs Pulumi is the target (the license server or session host itself): scripts run
 * in a local shell, like the simulator but against the real cmdlets.
 */
export const localConnectionSchema = z
  .object({
    transport: z.literal("local"),
    /**
     * The name this machine is known by (the license server name session hosts point at; used in
     * messages and as the resources' identity). Required; nothing is dialled.
     */
    host: hostSchema,
    /**
     * The shell: `"pwsh"` (PowerShell 7.2+, found as `$RDS_PWSH`, on PATH, in ~/.dotnet/tools or in the project's .tools/pwsh) or
     * `"powershell"` (Windows PowerShell 5.1, `powershell.exe`; Windows only). Default: `"pwsh"`.
     */
    shell: z.enum(["pwsh", "powershell"]).optional(),
    /** Lab only (see `labEmulatorSchema`): the scripts run on the emulator in this local shell. Default: none. */
    emulator: labEmulatorSchema.optional(),
  })
  .strict();

/** `ssh-ed25519 AAAA... [comment]`: a public host key as in a .pub file or after the host field of a known_hosts line. */
const HOST_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com|rsa-sha2-256|rsa-sha2-512) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const hostKeySchema = z
  .string()
  .max(16384, "hostKey must be at most 16384 characters")
  .refine(
    (value) => HOST_KEY.test(value.trim()),
    'hostKey must be a public key such as "ssh-ed25519 AAAAC3Nz... [comment]" (the content of the host\'s /etc/ssh/ssh_host_ed25519_key.pub)',
  );

/** The two ways an ssh session reaches PowerShell (sshConnectionSchema `channel`). */
export const SSH_CHANNELS = ["exec", "subsystem"] as const;
export type SshChannel = (typeof SSH_CHANNELS)[number];

/** A remote shell command or path: no quotes, no shell metacharacters (it is part of ssh's remote command). */
const SSH_SHELL = /^(?![- ])[A-Za-z0-9 ._:/\\()+-]{1,260}$/;

/** The channel a connection uses: `channel`, else `"subsystem"` when a subsystem is named, else `"exec"`. */
export function sshChannel(c: { channel?: SshChannel; subsystem?: string }): SshChannel {
  return c.channel ?? (c.subsystem !== undefined ? "subsystem" : "exec");
}

/** Connect settings shared by the remote transports. */
const remoteCommon = {
  /**
   * The target's name as the resources know it (messages, identity). Also the address dialled unless
   * `address` is set. Required.
   */
  host: hostSchema,
  /** Name or IP address to dial when it differs from `host` (e.g. an IP, or a jump-free alias). Default: `host`. */
  address: plainText("address", 253).optional(),
  /** Seconds one connection attempt may take. Default: 15 (1..300). */
  connectTimeoutSeconds: z
    .number()
    .int("connectTimeoutSeconds must be a whole number")
    .min(1, "connectTimeoutSeconds must be 1..300")
    .max(300, "connectTimeoutSeconds must be 1..300")
    .optional(),
  /**
   * Connection attempts before giving up, for transient failures only (port closed, timed out,
   * connection lost; never for a refused login or a host key mismatch). Backoff between attempts:
   * 1, 2, 4, 8, 8... seconds. Each attempt is logged (connectLog.ts). Default: 4 (1..10).
   */
  connectAttempts: z
    .number()
    .int("connectAttempts must be a whole number")
    .min(1, "connectAttempts must be 1..10")
    .max(10, "connectAttempts must be 1..10")
    .optional(),
};

/**
 * PowerShell SSH remoting (`New-PSSession -HostName ... -UserName ...`): the target runs OpenSSH
 * server with a `powershell` subsystem (pwsh 7 `-sshs`). Host key checking is always strict.
 * Authentication: `privateKey`, `privateKeyFile` or `password` (at most one; none: the ssh agent and
 * ~/.ssh/id_* keys of the user running Pulumi). Secrets travel in the envelope file, never on a command
 * line; the password and passphrase reach ssh through an SSH_ASKPASS helper that hands them over once
 * from a 0600 file in the provider's connect folder (never an environment variable).
 */
export const sshConnectionSchema = z
  .object({
    transport: z.literal("ssh"),
    ...remoteCommon,
    /** The ssh port. Default: 22. */
    port: portSchema.optional(),
    /** The account to log in as (e.g. `administrator`, `contoso\\rdsadmin` as `rdsadmin@contoso.com`). Required. */
    user: plainText("user", 256),
    /** The password (secret). ssh reads one line, so no line breaks. Default: none. */
    password: z
      .string()
      .min(1, "password must not be empty")
      .max(1024, "password must be at most 1024 characters")
      .refine((value) => !ONE_LINE_BREAKERS.test(value), "password must not contain line breaks or NUL (ssh reads one line)")
      .optional(),
    /** A private key, OpenSSH or PEM text (secret); written to a 0600 file only while connecting. Default: none. */
    privateKey: z.string().min(1, "privateKey must not be empty").max(65536, "privateKey must be at most 65536 characters").optional(),
    /** Path of a private key file on the machine running Pulumi (ssh wants it 0600). Default: none. */
    privateKeyFile: plainText("privateKeyFile", 4096).optional(),
    /** Passphrase of `privateKey` / `privateKeyFile` (secret). Default: none (an unencrypted key). */
    privateKeyPassphrase: z
      .string()
      .min(1, "privateKeyPassphrase must not be empty")
      .max(1024, "privateKeyPassphrase must be at most 1024 characters")
      .refine((value) => !ONE_LINE_BREAKERS.test(value), "privateKeyPassphrase must not contain line breaks or NUL")
      .optional(),
    /**
     * The target's public host key(s), pinned: only these are accepted (ssh runs with a private
     * known_hosts file holding them and StrictHostKeyChecking=yes). Default: none, and then the host
     * must already be in `knownHostsFile` (or ssh's own ~/.ssh/known_hosts): an unknown host is refused
     * (RDS_HOST_KEY_UNKNOWN), a different key too (RDS_HOST_KEY_CHANGED).
     */
    hostKey: z
      .union([hostKeySchema, z.array(hostKeySchema).min(1, "hostKey must list at least one key").max(16, "hostKey lists at most 16 keys")])
      .optional(),
    /** A known_hosts file to check the host key against (instead of ssh's default ~/.ssh/known_hosts). Default: none. */
    knownHostsFile: plainText("knownHostsFile", 4096).optional(),
    /**
     * How the session reaches PowerShell on the target:
     * - `"exec"`: ssh runs `shell` on the target (`<shell> -NoLogo -NoProfile -NonInteractive -Command -`),
     *   and that PowerShell is the warm session itself, fed one command per line. Needs only a
     *   PowerShell the account can start: pwsh 7.2+, or Windows PowerShell 5.1 with `shell: "powershell"`.
     * - `"subsystem"`: PowerShell remoting over ssh (`New-PSSession -HostName ... -Subsystem`) from a
     *   local pwsh; needs pwsh 7 registered as an sshd subsystem on the target.
     * Default: `"subsystem"` when `subsystem` is set, else `"exec"` (measured: README, "Over ssh").
     */
    channel: z.enum(SSH_CHANNELS).optional(),
    /**
     * The exec channel's PowerShell on the target: a command on the account's PATH or a full path,
     * e.g. `"pwsh"`, `"powershell"` (Windows PowerShell 5.1), `"C:/Program Files/PowerShell/7/pwsh.exe"`.
     * It becomes part of the command ssh sends, so only letters, digits, spaces and `._:/\()+-` are allowed.
     * Default: `"pwsh"`.
     */
    shell: z
      .string()
      .regex(
        SSH_SHELL,
        "shell must be 1..260 letters, digits, spaces or ._:/\\()+- characters (a command name or a path), not starting with - or a space",
      )
      .optional(),
    /** The ssh subsystem that runs PowerShell on the target (the subsystem channel). Default: `"powershell"`. */
    subsystem: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, "subsystem must be 1..64 letters, digits, dots, dashes or underscores")
      .optional(),
    /** Lab only (see `labEmulatorSchema`): run against the emulator on the far side. Default: none. */
    emulator: labEmulatorSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const auth = (["password", "privateKey", "privateKeyFile"] as const).filter((k) => c[k] !== undefined);
    if (auth.length > 1) {
      for (const field of auth.slice(1)) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `${field} cannot be combined with ${auth[0]}: give one of password, privateKey, privateKeyFile`,
        });
      }
    }
    if (c.channel === "exec" && c.subsystem !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["subsystem"],
        message: 'subsystem applies to channel "subsystem" only: remove it, or set channel: "subsystem"',
      });
    }
    if (c.shell !== undefined && sshChannel(c) === "subsystem") {
      ctx.addIssue({
        code: "custom",
        path: ["shell"],
        message:
          'shell applies to channel "exec" only (the subsystem channel runs what sshd_config names): remove it, or set channel: "exec"',
      });
    }
    if (c.privateKeyPassphrase !== undefined && c.privateKey === undefined && c.privateKeyFile === undefined) {
      ctx.addIssue({ code: "custom", path: ["privateKeyPassphrase"], message: "privateKeyPassphrase needs privateKey or privateKeyFile" });
    }
    if (c.hostKey !== undefined && c.knownHostsFile !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["knownHostsFile"],
        message: "knownHostsFile cannot be combined with hostKey: pin the key with hostKey, or trust a known_hosts file",
      });
    }
  });

/** WinRM authentication mechanisms (New-PSSession -Authentication). */
export const WINRM_AUTHENTICATION = ["negotiate", "kerberos", "credssp", "basic"] as const;

/**
 * WinRM (`New-PSSession -ComputerName ...`, WS-Management): HTTPS on 5986 by default. The target
 * needs a WinRM HTTPS listener with a certificate this machine trusts (or `skipCertificateChecks` in
 * a lab) and the firewall open. Without `configurationName` the session runs on the target's default
 * endpoint (Windows PowerShell 5.1 on a stock Windows Server).
 * The credential is built inside PowerShell from the envelope (never a command line, never a log).
 */
export const winrmConnectionSchema = z
  .object({
    transport: z.literal("winrm"),
    ...remoteCommon,
    /** `"https"` (-UseSSL) or `"http"` (lab or Kerberos-only networks; the payload is still encrypted by negotiate/kerberos, never by basic). Default: `"https"`. */
    scheme: z.enum(["https", "http"]).optional(),
    /** The WinRM port. Default: 5986 for https, 5985 for http. */
    port: portSchema.optional(),
    /**
     * How to authenticate: `"negotiate"` (Kerberos, else NTLM), `"kerberos"`, `"credssp"` (needs
     * `user`/`password`, CredSSP enabled on both sides, and `scheme: "https"`) or `"basic"` (local
     * accounts; https only).
     * Default: `"negotiate"`.
     */
    authentication: z.enum(WINRM_AUTHENTICATION).optional(),
    /** The account (`CONTOSO\\rdsadmin` or `rdsadmin@contoso.com`). Default: the identity running Pulumi (negotiate / kerberos only). */
    user: plainText("user", 256).optional(),
    /** The account's password (secret). Required with `user`. Default: none. */
    password: z.string().min(1, "password must not be empty").max(1024, "password must be at most 1024 characters").optional(),
    /**
     * Lab certificates: skip the CA, name and revocation checks of the HTTPS listener's certificate
     * (`New-PSSessionOption -SkipCACheck -SkipCNCheck -SkipRevocationCheck`). Anyone on the path can then
     * impersonate the target. https only. Default: false.
     */
    skipCertificateChecks: z.boolean().optional(),
    /**
     * The PowerShell endpoint (session configuration) on the target. `"PowerShell.7"` is registered by
     * `Enable-PSRemoting` run in pwsh 7; `"Microsoft.PowerShell"` is Windows PowerShell 5.1.
     * Default: none (the target's default endpoint, Windows PowerShell 5.1 on a stock server).
     */
    configurationName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/, "configurationName must be 1..128 letters, digits, dots, dashes or underscores")
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const scheme = c.scheme ?? "https";
    const authentication = c.authentication ?? "negotiate";
    if (authentication === "basic" && scheme !== "https") {
      ctx.addIssue({
        code: "custom",
        path: ["authentication"],
        message: 'authentication "basic" sends the password readably: it is allowed only with scheme "https"',
      });
    }
    if (authentication === "credssp" && scheme !== "https") {
      // CredSSP hands the target a reusable copy of the password: over http, anyone who can make this
      // machine talk to an impostor (a workgroup has no Kerberos to prove the target) gets it.
      ctx.addIssue({
        code: "custom",
        path: ["authentication"],
        message:
          'authentication "credssp" delegates the password to the target: it is allowed only with scheme "https" (set scheme: "https", the default, or use authentication "negotiate" / "kerberos")',
      });
    }
    if ((authentication === "basic" || authentication === "credssp") && c.user === undefined) {
      ctx.addIssue({ code: "custom", path: ["user"], message: `authentication "${authentication}" needs user and password` });
    }
    if (c.user !== undefined && c.password === undefined) {
      ctx.addIssue({ code: "custom", path: ["password"], message: "password is required with user" });
    }
    if (c.password !== undefined && c.user === undefined) {
      ctx.addIssue({ code: "custom", path: ["user"], message: "user is required with password" });
    }
    if (c.skipCertificateChecks === true && scheme !== "https") {
      ctx.addIssue({ code: "custom", path: ["skipCertificateChecks"], message: 'skipCertificateChecks applies to scheme "https" only' });
    }
  });

/** Every way to reach a target; discriminated on `transport`. */
export const connectionSchema = z.discriminatedUnion("transport", [
  simulatorConnectionSchema,
  localConnectionSchema,
  sshConnectionSchema,
  winrmConnectionSchema,
]);

export type SimulatorConnection = z.infer<typeof simulatorConnectionSchema>;
export type LocalConnection = z.infer<typeof localConnectionSchema>;
export type SshConnection = z.infer<typeof sshConnectionSchema>;
export type WinRmConnection = z.infer<typeof winrmConnectionSchema>;
export type RemoteConnection = SshConnection | WinRmConnection;
export type LabEmulator = z.infer<typeof labEmulatorSchema>;
export type Connection = z.infer<typeof connectionSchema>;

/** An operation the pool runs once in a fresh pwsh, through Invoke-RdsOperation like any other. */
export interface InitOperation {
  name: string;
  /** Absolute path of the init script. */
  script: string;
  /** Travels in the envelope file: user values (host names, credentials) go here, never into commands. */
  args: Record<string, unknown>;
  /**
   * The operation writes secrets to disk (an ssh key copy, the askpass secret): the pool makes this
   * private folder before it runs, hands its path over as `args.workDir`, and removes it when the
   * operation has ended (after every attempt of a connect), whatever happened.
   */
  privateFolder?: { create(): string; remove(dir: string): void };
}

export interface Transport<C extends Connection = Connection> {
  readonly kind: C["transport"];
  /**
   * Operations with equal keys share one warm pwsh and one FIFO queue. Built from what identifies
   * the target (transport, host, state dir / user / port) and, for remote transports, a keyed digest
   * of its trust and credential settings: a secret never appears in it, but a different secret gives
   * a different key.
   */
  targetKey(connection: C): string;
  /**
   * Commands to run once in a fresh pwsh after Bootstrap.ps1 is loaded, each printing one result
   * document (use `Import-RdsModule -Path '<path>'`). Only package paths may appear in them, quoted
   * with `quotePowerShellLiteral` (envelope.ts); never a user value.
   */
  preamble(connection: C): string[];
  /** The operation that binds the fresh pwsh to its target (selects the simulated host, opens the PSSession). */
  initOperation(connection: C): InitOperation | undefined;
  /**
   * When the warm session is the target's own PowerShell, reached through a process started here
   * (the ssh exec channel, pool/remoteShell.ts): how to start that process. Undefined (the default):
   * the session is a local pwsh, bound by `preamble` and `initOperation`.
   */
  remoteShell?(connection: C): RemoteShellSpec | undefined;
  /** The shell to start (pwsh, or Windows PowerShell for `local`). Default: `findPwsh()` (executable.ts). */
  executable?(connection: C): PwshLookup;
  /**
   * Remote transports: the init operation is a connect step. The pool retries it for transient
   * failures, logs each attempt, and runs it again to reconnect when the session is lost.
   */
  connect?: ConnectPolicy<C>;
  /**
   * Targets whose scripts may run in a shared pwsh: the key of their worker group. Only for a
   * transport whose per-target binding is cheap and travels with each operation (the simulator:
   * the host is the envelope's `host`). The pool then serves the group's targets from a few shared
   * pwsh workers (pool option `simulatorWorkers`) instead of one pwsh per target; the per-target
   * FIFO stays. Remote transports keep one pwsh per target: it holds that target's PSSession.
   */
  workerGroup?(connection: C): string;
  /** The init operation of a shared worker: binds what the group has in common; each operation binds its own target. */
  workerInitOperation?(connection: C): InitOperation;
}

/** A session on the target's own PowerShell (Transport.remoteShell). */
export interface RemoteShellSpec {
  /**
   * The process to start (the ssh client and its arguments, with what to add to its environment:
   * paths, never a secret), writing the login's private files into `workDir`, a 0700 folder the pool
   * removes as soon as the session answers or the attempt fails.
   */
  launch(workDir: string): { file: string; args: string[]; env: Record<string, string> };
  /** Lab only: the far side's emulator state folder (the emulator is shipped and imported there). */
  labStateDir?: string;
}

/** How the pool connects a remote transport (transports/remote.ts). */
export interface ConnectPolicy<C extends Connection = Connection> {
  /** Attempts for transient failures (at least 1). */
  attempts(connection: C): number;
  /** The target for log lines and messages, e.g. `ssh rdstest@10.0.0.5:22`: never a secret. */
  describe(connection: C): string;
  /** The typed error of a failed attempt, from the init's error and what ssh / WinRM wrote on stderr. */
  classify(error: RdsError, stderr: string, connection: C): RdsError;
}

/** The transport that serves a (validated) connection. */
export function transportFor(connection: Connection): Transport {
  switch (connection.transport) {
    case "simulator":
      return simulatorTransport as Transport;
    case "local":
      return localTransport as Transport;
    case "ssh":
      return sshTransport as Transport;
    case "winrm":
      return winrmTransport as Transport;
  }
}

/** The pool key of a connection: one warm pwsh and one queue per key. */
export function targetKey(connection: Connection): string {
  return transportFor(connection).targetKey(connection);
}
