/**
 * Values the emulator accepts and the names it reports, as the CLI validates and prints them. The
 * emulator module (RdsEmulator/Private/Facts.ps1, WmiErrors.ps1, Admin/Faults.ps1) is the source of
 * truth; these mirror its tables. They are kept in this one module so that the Windows facts among
 * them (versions, CAL types, licensing modes, WBEM names) come from provider/licensing/facts.ts.
 */

import { CAL_TYPES, LICENSING_TYPE, PRODUCT_VERSIONS, WBEM_ERRORS } from "../../licensing/facts";

/** The Windows Server versions the emulator models: one per CAL version (a server takes its own CALs and older). */
export const OS_VERSIONS = PRODUCT_VERSIONS;
export { CAL_TYPES };
export const PROGRAMS = ["retail", "openLicense", "select", "enterpriseAgreement", "campus", "school", "spla", "otherAgreement"] as const;
export const SERVICE_STATES = ["running", "stopped"] as const;
export const BOOL_FAULTS = ["clearinghouseUnreachable", "accessDenied", "providerFailure", "activationStatusUnknown"] as const;
export const FAULTS = [...BOOL_FAULTS, "latencyMs", "classNotReadyCalls", "failureStyle"] as const;
export const FAILURE_STYLES = ["return", "exception"] as const;
/** Group Policy LicensingMode values (the LicensingMode policy of TerminalServer.admx). */
export const GPO_MODES: Record<string, number> = {
  perDevice: LICENSING_TYPE.perDevice,
  perUser: LICENSING_TYPE.perUser,
  aadPerUser: LICENSING_TYPE.aadPerUser,
};

/** How `rds-sim show` names each LicensingType value. */
export const LICENSING_TYPES: Record<number, string> = {
  [LICENSING_TYPE.personalTerminalServer]: "Personal Terminal Server",
  [LICENSING_TYPE.remoteDesktopForAdministration]: "Remote Desktop for Administration",
  [LICENSING_TYPE.perDevice]: "Per Device",
  [LICENSING_TYPE.perUser]: "Per User",
  [LICENSING_TYPE.notConfigured]: "Not configured",
  [LICENSING_TYPE.aadPerUser]: "AAD Per User",
};
export const LICENSE_STATUS: Record<number, string> = {
  0: "unknown",
  1: "temporary",
  2: "active",
  3: "upgrade",
  4: "revoked",
  5: "pending",
  6: "concurrent",
};
export const SERVER_ROLES: Record<number, string> = { 0: "workgroup", 1: "domain", 2: "forest" };
/** WBEM names, from the one table of Windows facts. */
export const WBEM_NAMES: Readonly<Record<number, string>> = WBEM_ERRORS;
