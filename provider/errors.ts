/**
 * Typed errors with stable codes. Every error the provider raises is an RdsError, so callers (and
 * tests) branch on `code`, never on message text. Messages read `<doing what> on <host>: <cause>`.
 */

const BRAND = Symbol.for("pulumi-rds-licensing.RdsError");

/** Stable error codes. Never rename one: users match on them and the README maps each to a fix. */
export const ErrorCode = {
  /** Bad input caught before any host is touched. */
  Validation: "RDS_VALIDATION",
  /** The script threw or returned an error that is not a WMI return code. */
  ScriptError: "RDS_SCRIPT_ERROR",
  /** The script did not print exactly one valid JSON result document. */
  InvalidResult: "RDS_INVALID_RESULT",
  /** The operation ran past its timeout; its pwsh was replaced. */
  Timeout: "RDS_TIMEOUT",
  /** pwsh could not be started, or the target host could not be reached. */
  HostUnreachable: "RDS_HOST_UNREACHABLE",
  /** A WMI method returned (or threw) a WBEM error code; `wmiName` holds its name. */
  Wmi: "RDS_WMI_ERROR",
  /** Access denied by the target (not an administrator). */
  AccessDenied: "RDS_ACCESS_DENIED",
  /** The licensing WMI class is not there (role missing, or service not yet running). */
  ClassNotReady: "RDS_CLASS_NOT_READY",
  /** Automatic activation or CAL install could not reach Microsoft's Clearinghouse. */
  ClearinghouseUnreachable: "RDS_CLEARINGHOUSE_UNREACHABLE",
  /** The license server is not activated (BPA rule: activate before installing CALs). */
  NotActivated: "RDS_NOT_ACTIVATED",
  /** The Clearinghouse did not accept an id, code or number. */
  Rejected: "RDS_REJECTED",
  /** The license server version does not accept this CAL version. */
  VersionNotAccepted: "RDS_VERSION_NOT_ACCEPTED",
  /** A Group Policy controls the setting and contradicts the desired value. */
  GroupPolicyConflict: "RDS_GROUP_POLICY_CONFLICT",
  /** Licensing mode and installed CALs do not match. */
  ModeMismatch: "RDS_MODE_MISMATCH",
  /** Per-device licenses are still issued from a pack that would be removed. */
  IssuedLicenses: "RDS_ISSUED_LICENSES",
  /** More than one existing pack could be the one declared; adopt one explicitly. */
  AmbiguousPack: "RDS_AMBIGUOUS_PACK",
  /** An object that must exist was not found. */
  NotFound: "RDS_NOT_FOUND",
  /** A session host lacks the RD Session Host role (TerminalServerMode 0): its licensing settings would mean nothing. */
  SessionHostRoleMissing: "RDS_SESSION_HOST_ROLE_MISSING",
  // Connecting to a remote target (ssh, winrm). Transient ones (port closed, timed out, connection
  // lost) are retried with a bounded backoff before they are reported; the others are not.
  /** The target's name (or `address`) does not resolve to an address. */
  NameNotResolved: "RDS_NAME_NOT_RESOLVED",
  /** Nothing listens on the target's port (connection refused), or the port is filtered. */
  PortClosed: "RDS_PORT_CLOSED",
  /** The connection attempt timed out. */
  ConnectTimeout: "RDS_CONNECT_TIMEOUT",
  /** The target refused the credentials (wrong user, password or key; or the method is not allowed). */
  AuthRefused: "RDS_AUTH_REFUSED",
  /** ssh: the target's host key is not known (not in `hostKey` nor in the known_hosts file used). */
  HostKeyUnknown: "RDS_HOST_KEY_UNKNOWN",
  /** ssh: the target presented a host key other than the one known for it. */
  HostKeyChanged: "RDS_HOST_KEY_CHANGED",
  /** winrm: the certificate of the HTTPS listener is not trusted or does not match the name. */
  CertificateUntrusted: "RDS_CERTIFICATE_UNTRUSTED",
  /** The target accepted the connection but offers no PowerShell remoting (no ssh `powershell` subsystem, no WinRM endpoint). */
  RemotingNotEnabled: "RDS_REMOTING_NOT_ENABLED",
  /** The connection to the target dropped during an operation: the operation may or may not have run. */
  ConnectionLost: "RDS_CONNECTION_LOST",
  /** This machine cannot use the requested transport (no WS-Management client for pwsh here, no Windows PowerShell off Windows). */
  TransportUnavailable: "RDS_TRANSPORT_UNAVAILABLE",
  /** An error the provider did not expect (a bug in this package): the message says what happened. */
  Internal: "RDS_INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Codes the runner raises for any operation script of any resource (provider/powershell/runner.ts,
 * result.ts, the pool): the resource kit rephrases the message and keeps the code.
 */
export const RUNNER_CODES = [
  ErrorCode.ScriptError,
  ErrorCode.InvalidResult,
  ErrorCode.Timeout,
  ErrorCode.HostUnreachable,
  ErrorCode.Wmi,
  ErrorCode.AccessDenied,
  ErrorCode.ClassNotReady,
] as const;

/**
 * Codes of reaching a target over a transport (provider/powershell/CONNECTIONS.md): any resource whose
 * connection is ssh, winrm or local can meet them, whatever the resource.
 */
export const CONNECTION_CODES = [
  ErrorCode.NameNotResolved,
  ErrorCode.PortClosed,
  ErrorCode.ConnectTimeout,
  ErrorCode.AuthRefused,
  ErrorCode.HostKeyUnknown,
  ErrorCode.HostKeyChanged,
  ErrorCode.CertificateUntrusted,
  ErrorCode.RemotingNotEnabled,
  ErrorCode.ConnectionLost,
  ErrorCode.TransportUnavailable,
] as const;

/**
 * Every code a resource passes through unchanged from below it: the runner's, the transports', and
 * RDS_INTERNAL from the kit's guard (an error nobody expected). Each resource's catalogue
 * (provider/resources/<name>/messages.ts) is its own codes plus these, so the three say the same here.
 */
export const PASSED_THROUGH_CODES: readonly ErrorCode[] = [...RUNNER_CODES, ...CONNECTION_CODES, ErrorCode.Internal];

export interface RdsErrorDetails {
  host?: string;
  operation?: string;
  durationMs?: number;
  stderr?: string;
  /** Unsigned WBEM return value, when a WMI call produced one. */
  returnValue?: number;
  /** The WBEM symbol for returnValue, e.g. WBEM_E_INVALID_PARAMETER. */
  wmiName?: string;
  /** The WMI method that failed. */
  method?: string;
  /** The WMI class whose method failed. */
  className?: string;
  /** The code the PowerShell script reported (New-RdsScriptError -Code, or SCRIPT_EXCEPTION, RESULT_COUNT, ...). */
  scriptCode?: string;
  cause?: unknown;
}

export class RdsError extends Error implements RdsErrorDetails {
  readonly code: ErrorCode;
  host?: string;
  operation?: string;
  durationMs?: number;
  stderr?: string;
  returnValue?: number;
  wmiName?: string;
  method?: string;
  className?: string;
  scriptCode?: string;
  override cause?: unknown;

  constructor(code: ErrorCode, message: string, details: RdsErrorDetails = {}) {
    super(message);
    this.name = "RdsError";
    this.code = code;
    Object.assign(this, details);
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }
}

/** The message with its stable code at the end (`... [RDS_REJECTED]`), added once. */
export function withCodeSuffix(message: string, code: ErrorCode): string {
  return message.endsWith(`[${code}]`) ? message : `${message} [${code}]`;
}

const PARTIAL_BRAND = Symbol.for("pulumi-rds-licensing.PartialFailure");

/**
 * A partial success: a step changed the host before a later step failed. The dynamic-provider host
 * turns an error that has `id`, `properties` and `reasons` into ErrorResourceInitFailed, so the engine
 * records the resource with what is live instead of forgetting what was done. One class for every
 * resource; `code` is the code of the failure that stopped the run, and the message ends with it.
 */
export class PartialFailure extends Error {
  readonly code: ErrorCode;

  constructor(
    readonly id: string,
    /** The outputs as they are now, secret fields wrapped, `__provider` included. */
    readonly properties: Record<string, unknown>,
    /** The failure that stopped the run. */
    readonly failure: RdsError,
    /** What was done before it, in the user's words ("set the contact"). */
    readonly done: readonly string[],
  ) {
    // What was done goes before the code, so the message still ends with `[RDS_…]` like every other.
    const suffix = ` [${failure.code}]`;
    const text = failure.message.endsWith(suffix) ? failure.message.slice(0, -suffix.length) : failure.message;
    const message = done.length > 0 ? `${text} (already done: ${done.join("; ")})` : text;
    super(withCodeSuffix(message, failure.code));
    this.name = "PartialFailure";
    this.code = failure.code;
    Object.defineProperty(this, PARTIAL_BRAND, { value: true, enumerable: false });
  }

  /** What the engine shows as the resource's init errors. */
  get reasons(): string[] {
    return [this.message];
  }
}

/** True for a PartialFailure even when it comes from another copy of this module. */
export function isPartialFailure(value: unknown): value is PartialFailure {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PARTIAL_BRAND] === true;
}

/** True for an RdsError even when it comes from another copy of this module. */
export function isRdsError(value: unknown): value is RdsError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The WBEM names live with the other Windows facts (provider/licensing/facts.ts). */
export { WBEM_ERRORS, wbemName } from "./licensing/facts";
