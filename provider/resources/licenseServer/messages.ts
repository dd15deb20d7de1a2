/**
 * Every user-visible error of RdsLicenseServer that the provider words itself, one function each,
 * and the list of every code the resource can raise. Messages read `<doing> on <host>: <cause>: <fix>`;
 * the kernel (../kit.ts) adds the `[RDS_…]` code at the end when the error leaves the provider.
 * Errors of the operation scripts come through the runner and the kernel's rephrasing, in the same form.
 */
import { ErrorCode, PASSED_THROUGH_CODES, RdsError } from "../../errors";
import { simulatorLicenseServerIdCommand } from "./rules";
import { ACTIVATION_WEB_SITE, type ActivationMethod } from "./schema";

/** What each step does, in messages (tests and the faults suite match on these). */
export const DOING = {
  validate: "validating inputs",
  install: "installing the RDS-Licensing role",
  prepare: "preparing the license server",
  read: "reading license server",
  set: "setting license server properties",
  activate: "activating license server",
  deactivate: "deactivating license server",
  group: "adding the license server to the Terminal Server License Servers group",
} as const;

/** Added to the cause of RDS_ACCESS_DENIED: who must be an administrator where. */
export const ACCESS_DENIED_HINT = "the connection's account must be a local administrator on the license server";

/** The role is missing and installRole is false (or the install did not take). */
export function roleNotInstalled(doing: string, host: string): RdsError {
  return new RdsError(
    ErrorCode.ClassNotReady,
    `${doing} on ${host}: the RDS-Licensing role is not installed: set installRole to true, or install the role`,
    { host },
  );
}

/** The role is there but Win32_TSLicenseServer does not answer (the service is stopped or starting). */
export function classNotAnswering(doing: string, host: string, serviceStatus: string): RdsError {
  return new RdsError(
    ErrorCode.ClassNotReady,
    `${doing} on ${host}: Win32_TSLicenseServer does not answer (TermServLicensing service: ${serviceStatus || "missing"}): ` +
      `start the TermServLicensing service, then run pulumi up again`,
    { host },
  );
}

/**
 * The server was rebuilt (new product id) and the declared license server id was issued for the old
 * one: refused before any WMI call, because the Clearinghouse would refuse it anyway. The fix names the
 * route to a new id that the connection's transport really has (rds-sim only on the simulator).
 */
export function rebuiltServer(
  host: string,
  r: { method: ActivationMethod; oldProductId: string; newProductId: string; transport?: string },
): RdsError {
  const where = r.method === "web" ? `at ${ACTIVATION_WEB_SITE}` : "by telephone, at the number the Activate Server wizard shows";
  const route =
    r.transport === "simulator"
      ? `on the simulator: ${simulatorLicenseServerIdCommand(r.newProductId)}; on a real server: ${where}`
      : where;
  return new RdsError(
    ErrorCode.Rejected,
    `${DOING.activate} on ${host}: the server was rebuilt: its product id changed from ${r.oldProductId} to ${r.newProductId}, ` +
      `and activation.licenseServerId was issued for ${r.oldProductId}; get a new license server id for product id ${r.newProductId} ` +
      `(${route}) and set activation.licenseServerId to it`,
    { host },
  );
}

/** A read of a state that holds no connection (a hand-edited or foreign state): nothing to reach. */
export function noConnectionInState(id: string): RdsError {
  return new RdsError(
    ErrorCode.Validation,
    `${DOING.read} on ${id}: the state holds no connection: import the resource again with its connection, or remove it from the state`,
  );
}

// ---- the codes -------------------------------------------------------------------------------------

/**
 * Codes of this resource's own messages and of its scripts' refusals (RDS_VALIDATION also from the
 * kit's input parse). RDS_CLASS_NOT_READY is worded here too (roleNotInstalled, classNotAnswering);
 * it is listed once, with the runner's codes it also is.
 */
export const OWN_CODES = [ErrorCode.Validation, ErrorCode.Rejected, ErrorCode.ClearinghouseUnreachable] as const;

/**
 * Every code RdsLicenseServer can raise: its own, and those of the runner, the transports and the
 * kit's guard that every resource passes through unchanged (errors.ts PASSED_THROUGH_CODES).
 */
export const ERROR_CODES: readonly ErrorCode[] = [...OWN_CODES, ...PASSED_THROUGH_CODES];
