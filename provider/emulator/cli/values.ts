/**
 * Values the emulator accepts and the names it reports, as the CLI validates and prints them. The
 * emulator module (RdsEmulator/Private/Facts.ps1, WmiErrors.ps1, Admin/Faults.ps1) is the source of
 * truth; these mirror its tables. They are kept in this one module so that the Windows facts among
 * them (versions, CAL types, licensing modes, WBEM names) can later come from provider/licensing/facts.ts.
 */

export const OS_VERSIONS = ["2008R2", "2012", "2016", "2019", "2022", "2025"] as const;
export const CAL_TYPES = ["perUser", "perDevice"] as const;
export const PROGRAMS = ["retail", "openLicense", "select", "enterpriseAgreement", "campus", "school", "spla", "otherAgreement"] as const;
export const SERVICE_STATES = ["running", "stopped"] as const;
export const BOOL_FAULTS = ["clearinghouseUnreachable", "accessDenied", "providerFailure", "activationStatusUnknown"] as const;
export const FAULTS = [...BOOL_FAULTS, "latencyMs", "classNotReadyCalls", "failureStyle"] as const;
export const FAILURE_STYLES = ["return", "exception"] as const;
/** Group Policy LicensingMode values (the LicensingMode policy of TerminalServer.admx). */
export const GPO_MODES: Record<string, number> = { perDevice: 2, perUser: 4, aadPerUser: 6 };

export const LICENSING_TYPES: Record<number, string> = {
  0: "Personal Terminal Server",
  1: "Remote Desktop for Administration",
  2: "Per Device",
  4: "Per User",
  5: "Not configured",
  6: "AAD Per User",
};
export const PRODUCT_TYPES: Record<number, string> = { 0: "Per Device", 1: "Per User", 2: "Not valid", 3: "Built-in" };
export const LICENSE_STATUS: Record<number, string> = {
  0: "unknown", 1: "temporary", 2: "active", 3: "upgrade", 4: "revoked", 5: "pending", 6: "concurrent",
};
export const SERVER_ROLES: Record<number, string> = { 0: "workgroup", 1: "domain", 2: "forest" };
export const WBEM_NAMES: Record<number, string> = {
  0x80041001: "WBEM_E_FAILED",
  0x80041002: "WBEM_E_NOT_FOUND",
  0x80041003: "WBEM_E_ACCESS_DENIED",
  0x80041004: "WBEM_E_PROVIDER_FAILURE",
  0x80041005: "WBEM_E_TYPE_MISMATCH",
  0x80041008: "WBEM_E_INVALID_PARAMETER",
  0x80041009: "WBEM_E_NOT_AVAILABLE",
  0x8004100c: "WBEM_E_NOT_SUPPORTED",
  0x8004100e: "WBEM_E_INVALID_NAMESPACE",
  0x80041010: "WBEM_E_INVALID_CLASS",
  0x80041016: "WBEM_E_INVALID_OPERATION",
  0x80041023: "WBEM_E_READ_ONLY",
  0x8004102b: "WBEM_E_VALUE_OUT_OF_RANGE",
  0x8004102e: "WBEM_E_INVALID_METHOD",
  0x8004102f: "WBEM_E_INVALID_METHOD_PARAMETERS",
};

