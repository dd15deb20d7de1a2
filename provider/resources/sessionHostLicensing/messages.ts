/**
 * Every user-visible error of RdsSessionHostLicensing, in one place: one function per message, each
 * returning an RdsError with its stable code. Messages read `<doing> on <host>: <cause>: <fix>`; the
 * kit (provider/resources/kit.ts) puts the code at the end when the error leaves the provider.
 * The errors of a step (a script on a host) come from the runner, rephrased by the kit; their codes
 * are in ERROR_CODES. README.md's "Errors" table says when each code occurs and what to do.
 */
import { ErrorCode, PASSED_THROUGH_CODES, RdsError } from "../../errors";
import { licensingTypeFor, modeLabel, osLabel, type ModeRuleInput, type ModeRuleResult, type PolicyConflict } from "./rules";

/** The operation named by errors found by the pre-flight check (between the read and the set). */
export const CHECK_OPERATION = "sessionHostLicensing.check";

/** Where the licensing policies live in the registry (what a GPO writes). */
export const POLICY_REGISTRY_KEY = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services";
/** Where the licensing policies are in the Group Policy editor. */
export const POLICY_GPO_PATH =
  "Computer Configuration > Administrative Templates > Windows Components > Remote Desktop Services > Remote Desktop Session Host > Licensing";

// ---- RDS_MODE_MISMATCH ---------------------------------------------------------------------------

/** The mode-vs-CALs text: the host, the mode, the packs found and what would fix it. */
export function modeMismatchText(input: ModeRuleInput, result: ModeRuleResult): string {
  return (
    `checking licensing mode ${input.mode} on ${input.host}: ${result.problems.join("; ")}` +
    ` (host OS: ${input.osVersion ? osLabel(input.osVersion) : "unknown"}, packs found: ${result.packsFound});` +
    ` to fix: ${result.fixes.join("; ")}`
  );
}

/** The same, as a check failure's reason (check reports data, so the code leads). */
export function modeMismatchReason(input: ModeRuleInput, result: ModeRuleResult): string {
  return `${ErrorCode.ModeMismatch}: ${modeMismatchText(input, result)}`;
}

/** The live pre-flight found the mode does not match the CALs or the host: nothing was changed. */
export function modeMismatch(input: ModeRuleInput, result: ModeRuleResult): RdsError {
  return new RdsError(ErrorCode.ModeMismatch, modeMismatchText(input, result), { host: input.host, operation: CHECK_OPERATION });
}

// ---- RDS_GROUP_POLICY_CONFLICT -------------------------------------------------------------------

function conflictCause(c: PolicyConflict): string {
  return c.setting === "mode"
    ? `a Group Policy controls the licensing mode and sets ${c.effective} (LicensingMode = ${c.policyValue}) while mode ${c.declared} is declared`
    : `a Group Policy controls the license server list and sets [${c.effective.join(", ")}] while [${c.declared.join(", ")}] is declared`;
}

function conflictFix(c: PolicyConflict): string {
  if (c.setting === "mode") {
    const policy = `change or remove the policy "Set the Remote Desktop licensing mode" (${POLICY_GPO_PATH}; registry ${POLICY_REGISTRY_KEY}, value LicensingMode = ${licensingTypeFor(c.declared)} for ${modeLabel(c.declared)})`;
    return c.effective === "perUser" || c.effective === "perDevice" ? `${policy}, or declare mode "${c.effective}" to match it` : policy;
  }
  return `change or remove the policy "Use the specified Remote Desktop license servers" (${POLICY_GPO_PATH}; registry ${POLICY_REGISTRY_KEY}, value LicenseServers = "${c.declared.join(",")}"), or declare licenseServers to match it`;
}

/** The pre-flight found a policy that contradicts the declaration: nothing was changed. */
export function groupPolicyConflict(host: string, conflicts: readonly PolicyConflict[]): RdsError {
  return new RdsError(
    ErrorCode.GroupPolicyConflict,
    `configuring licensing on ${host}: ${conflicts.map(conflictCause).join("; ")}; Group Policy wins over WMI, so nothing was changed (this provider never writes policy keys); to fix: ${conflicts.map(conflictFix).join("; ")}`,
    { host, operation: CHECK_OPERATION },
  );
}

/**
 * A setter returned WBEM_E_INVALID_OPERATION and the read before it showed a Group Policy source for that
 * setting (rules.ts policyShownFor): the policy took it.
 */
export function policyTookSetting(host: string, refused: RdsError): RdsError {
  return new RdsError(
    ErrorCode.GroupPolicyConflict,
    `configuring licensing on ${host}: ${refused.method ?? "the WMI setter"} returned WBEM_E_INVALID_OPERATION, which means a Group Policy controls the setting (${POLICY_GPO_PATH}; registry ${POLICY_REGISTRY_KEY}): change or remove the policy, or declare its values`,
    { host, operation: "sessionHostLicensing.set", returnValue: refused.returnValue, method: refused.method, cause: refused },
  );
}

// ---- RDS_SESSION_HOST_ROLE_MISSING -----------------------------------------------------------------

/** How to give a host the role, for every message that finds it missing. */
const ROLE_FIX =
  "install it (Install-WindowsFeature RDS-RD-Server, then restart the host), or set installRole: true to let the provider install it and restart the host";

/**
 * The host has no RD Session Host role (TerminalServerMode 0, Remote Administration): its licensing
 * settings would configure nothing. Found before any change: nothing was changed.
 */
export function sessionHostRoleMissing(host: string): RdsError {
  return new RdsError(
    ErrorCode.SessionHostRoleMissing,
    `configuring licensing on ${host}: the host does not have the RD Session Host role (Win32_TerminalServiceSetting.TerminalServerMode is 0, Remote Administration), so a licensing mode and license server list would mean nothing there; nothing was changed; to fix: ${ROLE_FIX}`,
    { host, operation: CHECK_OPERATION },
  );
}

/** installRole: the host came back from its restart and still has no role. */
export function sessionHostRoleStillMissing(host: string): RdsError {
  return new RdsError(
    ErrorCode.SessionHostRoleMissing,
    `installing the RD Session Host role on ${host}: RDS-RD-Server was installed and the host restarted, but TerminalServerMode is still 0 (Remote Administration); nothing else was changed; look at the host's Server Manager for the install's result, then run again`,
    { host, operation: ROLE_OPERATION },
  );
}

/** installRole: the host did not come back from its restart in time. */
export function restartTimedOut(host: string, waitedMs: number, lastCause: string): RdsError {
  return new RdsError(
    ErrorCode.Timeout,
    `restarting ${host} to finish the RD Session Host role install: the host did not come back within ${Math.round(waitedMs / 1000)} s (last answer: ${lastCause}); the role is installed and takes effect once the host is up; check the host, then run again (the licensing settings are made then)`,
    { host, operation: ROLE_OPERATION },
  );
}

/** The operation named by errors of the role install (install, restart, wait). */
export const ROLE_OPERATION = "sessionHostLicensing.installRole";

// ---- the codes -----------------------------------------------------------------------------------

/**
 * The codes of this resource's own messages (RDS_VALIDATION also from the kit's input parse) and of its
 * scripts' refusals: RDS_NOT_FOUND when get, set or reset find no Win32_TerminalServiceSetting instance
 * (SessionHost.Common.ps1); RDS_SESSION_HOST_ROLE_MISSING when the host has no RD Session Host role.
 */
export const OWN_CODES = [
  ErrorCode.Validation,
  ErrorCode.ModeMismatch,
  ErrorCode.GroupPolicyConflict,
  ErrorCode.NotFound,
  ErrorCode.SessionHostRoleMissing,
] as const;

/**
 * Every code an error of this resource can carry: its own, and those of the runner (from get, set,
 * reset on the session host or broker, packs on each pack's license server), the transports and the
 * kit's guard, which every resource passes through unchanged (errors.ts PASSED_THROUGH_CODES).
 */
export const ERROR_CODES: readonly ErrorCode[] = [...OWN_CODES, ...PASSED_THROUGH_CODES];
