/**
 * Test helper (not a test file): how the codes every resource passes through (PASSED_THROUGH_CODES,
 * provider/errors.ts) are covered through the real provider host.
 *
 * passThroughCodes.test.ts provokes PROVOKED_FOR_EVERY_RESOURCE once per resource (the transports'
 * codes, the runner's that need no emulator fault, RDS_INVALID_RESULT from a broken script). Each
 * resource's codes test (test/resources/<name>/codes.test.ts) provokes the rest with its own emulator
 * faults and states, and checks that its own cases, these and NOT_PROVOKED_ON_THIS_MACHINE together are
 * its whole catalogue.
 */
import { ErrorCode } from "../../provider/errors";

/** The codes passThroughCodes.test.ts provokes through the real host for each of the three resources. */
export const PROVOKED_FOR_EVERY_RESOURCE: readonly ErrorCode[] = [
  ErrorCode.NameNotResolved,
  ErrorCode.PortClosed,
  ErrorCode.ConnectTimeout,
  ErrorCode.AuthRefused,
  ErrorCode.HostKeyUnknown,
  ErrorCode.HostKeyChanged,
  ErrorCode.RemotingNotEnabled,
  ErrorCode.ConnectionLost,
  ErrorCode.TransportUnavailable,
  ErrorCode.HostUnreachable,
  ErrorCode.ScriptError,
  ErrorCode.InvalidResult,
];

/** Pass-through codes nothing on this (Linux) machine can provoke through the host, each with the reason. */
export const NOT_PROVOKED_ON_THIS_MACHINE: Readonly<Partial<Record<ErrorCode, string>>> = {
  [ErrorCode.CertificateUntrusted]:
    "WinRM over HTTPS only: pwsh on Linux has no WS-Management client, so every winrm connection from this machine " +
    "ends in RDS_TRANSPORT_UNAVAILABLE before a certificate is seen; the mapping of the certificate errors to the code " +
    "is covered by test/transports/schema.test.ts",
};
