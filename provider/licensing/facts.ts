/**
 * The domain facts of Windows RD licensing, in one table: CAL versions and their WMI ids, which host
 * OS a CAL version covers, CAL types, key pack types, licensing mode values and the WBEM error names.
 * The schemas, the rules, the CLI, the emulator's TypeScript side and the tests read them from here;
 * docs/windows-facts.md gives the source of each (or says it is unverified).
 * Pure data and lookups: no I/O, no imports.
 */

// ---- CAL versions ------------------------------------------------------------------------------

/** CAL versions, oldest first. "2008R2" is the 2008 R2-era CAL (ProductVersionID 2 or 3). */
export const PRODUCT_VERSIONS = ["2008R2", "2012", "2016", "2019", "2022", "2025"] as const;
export type ProductVersion = (typeof PRODUCT_VERSIONS)[number];

/**
 * The `ProductVersion` argument of InstallAgreementLicenseKeyPack / InstallOpenLicenseKeyPack:
 * 2 = 2008/2008 R2, 4 = 2012, 5 = 2016, 6 = 2019; 7 = 2022 and 8 = 2025 follow the ProductVersionID
 * numbering but no Microsoft source lists them for these methods (unverified).
 */
export const PRODUCT_VERSION_CODE: Readonly<Record<ProductVersion, number>> = {
  "2008R2": 2,
  "2012": 4,
  "2016": 5,
  "2019": 6,
  "2022": 7,
  "2025": 8,
};

/** Win32_TSLicenseKeyPack.ProductVersionID → CAL version (2 and 3 are both 2008 R2-era CALs). */
const VERSION_BY_PRODUCT_VERSION_ID: Readonly<Record<number, ProductVersion>> = {
  2: "2008R2",
  3: "2008R2",
  4: "2012",
  5: "2016",
  6: "2019",
  7: "2022",
  8: "2025",
};

/** Win32_TSLicenseKeyPack.ProductVersionID to a CAL version; null when it is not a CAL version we know. */
export function productVersionFromId(id: number | null | undefined): ProductVersion | null {
  return id === null || id === undefined ? null : (VERSION_BY_PRODUCT_VERSION_ID[id] ?? null);
}

export function isProductVersion(value: unknown): value is ProductVersion {
  return typeof value === "string" && (PRODUCT_VERSIONS as readonly string[]).includes(value);
}

// ---- CAL types ---------------------------------------------------------------------------------

export const CAL_TYPES = ["perUser", "perDevice"] as const;
export type CalType = (typeof CAL_TYPES)[number];

/** The `ProductType` argument and Win32_TSLicenseKeyPack property: 0 = Per Device, 1 = Per User. */
export const PRODUCT_TYPE_CODE: Readonly<Record<CalType, number>> = { perDevice: 0, perUser: 1 };

/** Win32_TSLicenseKeyPack.ProductType to a CAL type; null for the built-in pack or a value we do not know. */
export function calTypeFromProductType(code: number | null | undefined): CalType | null {
  if (code === PRODUCT_TYPE_CODE.perDevice) return "perDevice";
  if (code === PRODUCT_TYPE_CODE.perUser) return "perUser";
  return null;
}

export function isCalType(value: unknown): value is CalType {
  return value === "perUser" || value === "perDevice";
}

export function calTypeLabel(t: CalType): string {
  return t === "perUser" ? "Per User" : "Per Device";
}

// ---- key pack types ----------------------------------------------------------------------------

/**
 * Win32_TSLicenseKeyPack.KeyPackType: 0 unknown, 1 retail, 2 volume (agreements), 3 concurrent,
 * 4 temporary, 5 Open License, 6 built-in; 7 is seen on real servers but undocumented.
 */
export const KEY_PACK_TYPES = {
  unknown: 0,
  retail: 1,
  volume: 2,
  concurrent: 3,
  temporary: 4,
  openLicense: 5,
  builtIn: 6,
  undocumented: 7,
} as const;

/**
 * A leftover pack: one that holds no licenses (TotalLicenses 0). Real servers list such rows (seen with
 * the undocumented KeyPackType 7; why Windows keeps them is not documented). A pack without CALs licenses
 * nobody, so it never matches a declaration, is never adopted and never counted
 * (docs/windows-facts.md#key-pack-type).
 */
export function isLeftoverPack(p: { readonly totalLicenses: number }): boolean {
  return p.totalLicenses === 0;
}

// ---- session host OS versions --------------------------------------------------------------------

/** Session host OS versions, oldest first. */
export const HOST_OS_VERSIONS = ["2008", "2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025"] as const;
export type HostOsVersion = (typeof HOST_OS_VERSIONS)[number];

/** The oldest CAL version that licenses a session host of each OS (newer CALs cover older hosts). */
export const MINIMUM_CAL: Readonly<Record<HostOsVersion, ProductVersion>> = {
  "2008": "2008R2",
  "2008R2": "2008R2",
  "2012": "2012",
  "2012R2": "2012",
  "2016": "2016",
  "2019": "2019",
  "2022": "2022",
  "2025": "2025",
};

export function isHostOsVersion(value: unknown): value is HostOsVersion {
  return typeof value === "string" && (HOST_OS_VERSIONS as readonly string[]).includes(value);
}

/** True when a CAL of version `cal` licenses a session host running `os`. */
export function calCoversHost(cal: ProductVersion, os: HostOsVersion): boolean {
  return PRODUCT_VERSIONS.indexOf(cal) >= PRODUCT_VERSIONS.indexOf(MINIMUM_CAL[os]);
}

// ---- licensing mode values -----------------------------------------------------------------------

/** Win32_TerminalServiceSetting.LicensingType, ChangeMode's argument and the policy's LicensingMode. */
export const LICENSING_TYPE = {
  personalTerminalServer: 0,
  remoteDesktopForAdministration: 1,
  perDevice: 2,
  perUser: 4,
  notConfigured: 5,
  aadPerUser: 6,
} as const;

// ---- WMI error codes ---------------------------------------------------------------------------

/** WBEM error codes the RD licensing WMI providers return, by unsigned return value. */
export const WBEM_ERRORS: Readonly<Record<number, string>> = {
  0x80041001: "WBEM_E_FAILED",
  0x80041002: "WBEM_E_NOT_FOUND",
  0x80041003: "WBEM_E_ACCESS_DENIED",
  0x80041004: "WBEM_E_PROVIDER_FAILURE",
  0x80041005: "WBEM_E_TYPE_MISMATCH",
  0x80041006: "WBEM_E_OUT_OF_MEMORY",
  0x80041008: "WBEM_E_INVALID_PARAMETER",
  0x80041009: "WBEM_E_NOT_AVAILABLE",
  0x8004100c: "WBEM_E_NOT_SUPPORTED",
  0x8004100e: "WBEM_E_INVALID_NAMESPACE",
  0x8004100f: "WBEM_E_INVALID_OBJECT",
  0x80041010: "WBEM_E_INVALID_CLASS",
  0x80041014: "WBEM_E_INITIALIZATION_FAILURE",
  0x80041016: "WBEM_E_INVALID_OPERATION",
  0x80041017: "WBEM_E_INVALID_QUERY",
  0x80041018: "WBEM_E_INVALID_QUERY_TYPE",
  0x80041019: "WBEM_E_ALREADY_EXISTS",
  0x80041021: "WBEM_E_INVALID_SYNTAX",
  0x80041023: "WBEM_E_READ_ONLY",
  0x80041024: "WBEM_E_PROVIDER_NOT_CAPABLE",
  0x80041028: "WBEM_E_ILLEGAL_NULL",
  0x8004102b: "WBEM_E_VALUE_OUT_OF_RANGE",
  0x8004102e: "WBEM_E_INVALID_METHOD",
  0x8004102f: "WBEM_E_INVALID_METHOD_PARAMETERS",
  0x8004103a: "WBEM_E_INVALID_OBJECT_PATH",
};

/** The unsigned WBEM code of a name (`WBEM_E_INVALID_OPERATION` → 0x80041016). */
export const WBEM_CODE: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(WBEM_ERRORS).map(([code, name]) => [name, Number(code)]),
);

/** The WBEM symbol for a return value (signed HRESULTs are accepted and made unsigned). */
export function wbemName(returnValue: number): string {
  const unsigned = returnValue >>> 0;
  return WBEM_ERRORS[unsigned] ?? `0x${unsigned.toString(16).toUpperCase().padStart(8, "0")}`;
}
