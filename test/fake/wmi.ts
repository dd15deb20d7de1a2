/**
 * The fake world's WMI: what Get-CimInstance, Set-CimInstance and Invoke-CimMethod do on a simulated
 * host, with the emulator's rules for when a class answers, which faults apply where, and what each
 * method checks and changes. Failures are `WmiFault`s carrying the WBEM code; `infra` marks the ones
 * the CIM infrastructure raises (always an exception), the others are the provider's return value
 * (an exception only when the host's failureStyle is "exception").
 */
import {
  CONTACT_FIELDS,
  OS_TABLE,
  effectiveServerList,
  expectedLicenseServerId,
  productIdOf,
  roleInstalled,
  serviceStatus,
  type FakeHost,
  type FakePack,
} from "./host";

export const WBEM = {
  FAILED: 0x80041001,
  NOT_FOUND: 0x80041002,
  ACCESS_DENIED: 0x80041003,
  PROVIDER_FAILURE: 0x80041004,
  INVALID_PARAMETER: 0x80041008,
  NOT_AVAILABLE: 0x80041009,
  NOT_SUPPORTED: 0x8004100c,
  INVALID_CLASS: 0x80041010,
  INVALID_OPERATION: 0x80041016,
  INVALID_METHOD: 0x8004102e,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(WBEM).map(([k, v]) => [v, `WBEM_E_${k}`]));

export function hex(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/** The emulator's failure: its message reads `WBEM_E_X (0x8004....): <what>`. */
export class WmiFault extends Error {
  constructor(
    readonly code: number,
    readonly what: string,
    readonly infra: boolean,
  ) {
    super(`${NAMES[code] ?? hex(code)} (${hex(code)}): ${what}`);
  }
}

/** The shared Clearinghouse of one fake world (retail codes are single use; key pack ids it issued). */
export interface Clearinghouse {
  sequence: number;
  /** Retail codes handed out by the admin's retailCode (the fake derives them from this count). */
  retailCodesIssued: number;
  usedRetailCodes: Set<string>;
  keyPackIds: Map<
    string,
    { productId: string; program: string; productVersionId: number; calType: string; quantity: number; usedBy: string | null }
  >;
}

type Kind = "LicenseServer" | "SessionHost" | "Deployment" | "System";
const CLASSES: Record<string, Kind> = {
  Win32_TSLicenseServer: "LicenseServer",
  Win32_TSLicenseKeyPack: "LicenseServer",
  Win32_TSIssuedLicense: "LicenseServer",
  Win32_TerminalServiceSetting: "SessionHost",
  Win32_OperatingSystem: "System",
  Win32_ComputerSystem: "System",
};

/** Infrastructure errors when the class does not exist on the host right now (counts classNotReadyCalls down). */
function assertClassAvailable(h: FakeHost, className: string): void {
  const kind = CLASSES[className];
  if (kind === undefined) throw new WmiFault(WBEM.INVALID_CLASS, `Invalid class '${className}'`, true);
  if (kind !== "LicenseServer") return;
  if (h.faults.classNotReadyCalls > 0) {
    h.faults.classNotReadyCalls--;
    throw new WmiFault(WBEM.INVALID_CLASS, `Invalid class '${className}' (the license server WMI provider is not registered yet)`, true);
  }
  if (!roleInstalled(h))
    throw new WmiFault(WBEM.INVALID_CLASS, `Invalid class '${className}' (the RDS-Licensing role is not installed)`, true);
  // The emulator's choice for a stopped service (undocumented on Windows): a provider failure, not an invalid class.
  if (serviceStatus(h) !== "Running")
    throw new WmiFault(
      WBEM.PROVIDER_FAILURE,
      `the licensing WMI provider for '${className}' failed: the TermServLicensing service is not running`,
      true,
    );
}

const isLicensingClass = (className: string) => CLASSES[className] !== "System";

/**
 * Get-CimInstance: throws what the emulator throws, else returns whether the instance's properties
 * are hidden (Win32_TSLicenseServer answers with empty properties to a caller that is not an administrator).
 */
export function getInstances(h: FakeHost, className: string): { denied: boolean } {
  assertClassAvailable(h, className);
  if (isLicensingClass(className)) {
    if (h.faults.providerFailure) throw new WmiFault(WBEM.PROVIDER_FAILURE, `the WMI provider for ${className} failed`, true);
    if (h.faults.accessDenied && className !== "Win32_TSLicenseServer") throw new WmiFault(WBEM.ACCESS_DENIED, "Access denied", true);
  }
  return { denied: h.faults.accessDenied && className === "Win32_TSLicenseServer" };
}

/** Set-CimInstance of Win32_TSLicenseServer's contact properties (all given ones written). */
export function setContact(h: FakeHost, properties: Record<string, unknown>): void {
  assertClassAvailable(h, "Win32_TSLicenseServer");
  if (h.faults.providerFailure) throw new WmiFault(WBEM.PROVIDER_FAILURE, "the WMI provider for Win32_TSLicenseServer failed", true);
  if (h.faults.accessDenied) throw new WmiFault(WBEM.ACCESS_DENIED, "Access denied", true);
  for (const name of Object.keys(properties)) {
    if (!(CONTACT_FIELDS as readonly string[]).includes(name))
      throw new WmiFault(0x80041023, `property '${name}' of Win32_TSLicenseServer is read-only`, true);
  }
  for (const [name, value] of Object.entries(properties)) {
    (h.licenseServer.contact as Record<string, string | null>)[name] = value === null || value === undefined ? null : String(value);
  }
}

// ---- methods ------------------------------------------------------------------------------------

type Args = Record<string, unknown>;
type Out = Record<string, unknown>;
interface Ctx {
  h: FakeHost;
  ch: Clearinghouse;
}

const fail = (code: number, what: string): never => {
  throw new WmiFault(code, what, false);
};
const blank = (v: string | null) => v === null || v.trim() === "";
const alnum35 = (v: unknown) => typeof v === "string" && /^[A-Za-z0-9]{35}$/.test(v);

function assertContact(h: FakeHost, fields: string[], what: string): void {
  const missing = fields.filter((f) => blank((h.licenseServer.contact as Record<string, string | null>)[f]));
  if (missing.length > 0)
    fail(WBEM.INVALID_PARAMETER, `${what} requires the contact properties ${missing.join(", ")} to be set (Set-CimInstance) first`);
}

function assertReachable(h: FakeHost, what: string): void {
  if (h.faults.clearinghouseUnreachable)
    fail(WBEM.NOT_AVAILABLE, `${what} could not reach the Microsoft Clearinghouse (outbound TCP 443 blocked or no Internet access)`);
}

function assertLicenseServerId(h: FakeHost, id: unknown, param: string): void {
  if (!alnum35(id)) fail(WBEM.INVALID_PARAMETER, `${param} must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces`);
  const productId = productIdOf(h);
  if ((id as string).toUpperCase() !== expectedLicenseServerId(productId).toUpperCase()) {
    fail(WBEM.INVALID_PARAMETER, `the Clearinghouse did not issue this license server ID for product ID ${productId}`);
  }
}

function setActivated(h: FakeHost, method: string): void {
  const ls = h.licenseServer;
  ls.activated = true;
  ls.everActivated = true;
  ls.licenseServerId = expectedLicenseServerId(productIdOf(h));
  ls.activationMethod = method;
}

export function setDeactivated(h: FakeHost): void {
  const ls = h.licenseServer;
  ls.activated = false;
  ls.licenseServerId = null;
  ls.activationMethod = null;
}

function addPack(h: FakeHost, keyPackType: number, productType: number, versionId: number, count: number): Out {
  const id = h.licenseServer.nextKeyPackId++;
  h.licenseServer.keyPacks.push({
    KeyPackId: id,
    KeyPackType: keyPackType,
    ProductType: productType,
    ProductVersionID: versionId,
    TotalLicenses: count,
    IssuedLicenses: 0,
    AvailableLicenses: count,
  });
  return { KeyPackId: id };
}

function assertVersionTypeCount(a: Args): void {
  if (![2, 4, 5, 6, 7, 8].includes(Number(a.ProductVersion)))
    fail(WBEM.INVALID_PARAMETER, "ProductVersion must be 2 (2008/2008 R2), 4 (2012), 5 (2016), 6 (2019), 7 (2022) or 8 (2025)");
  if (Number(a.ProductType) > 1) fail(WBEM.INVALID_PARAMETER, "ProductType must be 0 (Per Device) or 1 (Per User)");
  if (Number(a.LicenseCount) < 1) fail(WBEM.INVALID_PARAMETER, "LicenseCount must be at least 1");
}

function assertActivatedForInstall(h: FakeHost): void {
  if (!h.licenseServer.activated)
    fail(
      WBEM.INVALID_OPERATION,
      `the license server must be activated before you can install RDS CALs onto it (product ID ${productIdOf(h)})`,
    );
}

function assertAcceptsVersion(h: FakeHost, versionId: number): void {
  if (versionId > OS_TABLE[h.config.osVersion].maxCalVersionId)
    fail(WBEM.NOT_SUPPORTED, `a Windows Server ${h.config.osVersion} license server cannot install these CALs`);
}

function findPack(h: FakeHost, id: number): FakePack {
  if (id === 2) fail(WBEM.INVALID_OPERATION, "the built-in key pack (KeyPackId 2) cannot be changed");
  const p = h.licenseServer.keyPacks.find((k) => k.KeyPackId === id);
  return p ?? fail(WBEM.NOT_FOUND, `no key pack with KeyPackId ${id}`);
}

/** The retail-code rule: [20] type (odd = Per User), [21] version, [22][23] quantity (0 = 100), base-36 digits. */
export function retailTerms(code: string): { productType: number; versionId: number; count: number } {
  const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const v = (i: number) => digits.indexOf(code.toUpperCase()[i]);
  const qty = (v(22) % 10) * 10 + (v(23) % 10);
  return { productType: v(20) % 2, versionId: [2, 4, 5, 6, 7, 8][v(21) % 6], count: qty === 0 ? 100 : qty };
}

const PROGRAM_KEY_PACK_TYPE: Record<string, number> = {
  retail: 1,
  openLicense: 5,
  select: 2,
  enterpriseAgreement: 2,
  campus: 2,
  school: 2,
  spla: 2,
  otherAgreement: 2,
};

const notPolicyList = (h: FakeHost) => {
  if (h.groupPolicy.LicenseServers !== null)
    fail(WBEM.INVALID_OPERATION, "the license server list is set by Group Policy (PolicySourceConfiguredLicenseServers = 1)");
};

const METHODS: Record<string, Record<string, { params: string[]; impl: (c: Ctx, a: Args) => Out }>> = {
  Win32_TSLicenseServer: {
    ActivateServer: {
      params: ["sLicenseServerId"],
      impl: ({ h }, a) => (
        assertLicenseServerId(h, a.sLicenseServerId, "sLicenseServerId"),
        h.licenseServer.activated || setActivated(h, "licenseServerId"),
        { ActivationStatus: 0 }
      ),
    },
    ActivateServerAutomatic: {
      params: [],
      impl: ({ h }) => {
        assertContact(h, ["FirstName", "LastName", "Company", "CountryRegion"], "ActivateServerAutomatic");
        assertReachable(h, "ActivateServerAutomatic");
        if (!h.licenseServer.activated) setActivated(h, "automatic");
        return { ActivationStatus: 0 };
      },
    },
    DeactivateServerAutomatic: {
      params: [],
      impl: ({ h }) => {
        if (!h.licenseServer.activated) fail(WBEM.INVALID_OPERATION, "the license server is not activated");
        assertContact(h, ["FirstName", "LastName"], "DeactivateServerAutomatic");
        assertReachable(h, "DeactivateServerAutomatic");
        setDeactivated(h);
        return { ActivationStatus: 1 };
      },
    },
    ReactivateServer: {
      params: ["sNewLicenseServerId"],
      impl: ({ h }, a) => {
        if (!alnum35(a.sNewLicenseServerId))
          fail(WBEM.INVALID_PARAMETER, "sNewLicenseServerId must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces");
        if (!h.licenseServer.activated)
          fail(WBEM.INVALID_OPERATION, "the license server is not activated: use ActivateServer (Reactivate* is for an activated server)");
        assertLicenseServerId(h, a.sNewLicenseServerId, "sNewLicenseServerId");
        setActivated(h, "licenseServerId");
        h.licenseServer.reactivations++;
        return { ActivationStatus: 0 };
      },
    },
    ReactivateServerAutomatic: {
      params: ["Reason"],
      impl: ({ h }, a) => {
        if (Number(a.Reason) > 4) fail(WBEM.INVALID_PARAMETER, "Reason must be 0..4");
        if (!h.licenseServer.activated)
          fail(
            WBEM.INVALID_OPERATION,
            "the license server is not activated: use ActivateServerAutomatic (Reactivate* is for an activated server)",
          );
        assertContact(h, ["FirstName", "LastName"], "ReactivateServerAutomatic");
        assertReachable(h, "ReactivateServerAutomatic");
        setActivated(h, "automatic");
        h.licenseServer.reactivations++;
        return { ActivationStatus: 0 };
      },
    },
    GetActivationStatus: {
      params: [],
      impl: ({ h }) => ({ ActivationStatus: h.faults.activationStatusUnknown ? 2 : h.licenseServer.activated ? 0 : 1 }),
    },
    GetLicenseServerId: {
      params: [],
      impl: ({ h }) =>
        h.licenseServer.activated
          ? { sLicenseServerId: h.licenseServer.licenseServerId }
          : fail(WBEM.INVALID_OPERATION, "the license server is not activated, so it has no license server ID"),
    },
    ChangeRole: {
      params: ["ServerRole"],
      impl: ({ h }, a) => {
        const role = Number(a.ServerRole);
        if (role > 2) fail(WBEM.INVALID_PARAMETER, "ServerRole must be 0 (workgroup), 1 (domain) or 2 (forest)");
        if (role > 0 && !h.config.domain)
          fail(WBEM.INVALID_OPERATION, "a license server in a workgroup can only use the workgroup discovery scope (0)");
        // The group each scope needs (docs/windows-facts.md#server-role), held by the calling account's rights.
        const need =
          role === 1
            ? { group: "Domain Admins", rights: ["domainAdmin", "enterpriseAdmin"] }
            : { group: "Enterprise Admins", rights: ["enterpriseAdmin"] };
        if (role > 0 && !need.rights.includes(h.config.callerRights))
          fail(WBEM.ACCESS_DENIED, `ChangeRole ${role} needs a member of ${need.group} (the calling account: ${h.config.callerRights})`);
        h.licenseServer.serverRole = role;
        return {};
      },
    },
  },
  Win32_TSLicenseKeyPack: {
    InstallRetailPurchaseLicenseKeyPack: {
      params: ["sLicenseCode"],
      impl: ({ h, ch }, a) => {
        const code = String(a.sLicenseCode);
        if (!/^[A-Za-z0-9]{25}$/.test(code))
          fail(WBEM.INVALID_PARAMETER, "sLicenseCode must be 25 alphanumeric characters (A-Z, 0-9) without hyphens or spaces");
        assertActivatedForInstall(h);
        const t = retailTerms(code);
        assertAcceptsVersion(h, t.versionId);
        assertReachable(h, "InstallRetailPurchaseLicenseKeyPack");
        if (ch.usedRetailCodes.has(code.toUpperCase()))
          fail(WBEM.INVALID_PARAMETER, "the Clearinghouse rejected this license code: it was already used");
        ch.usedRetailCodes.add(code.toUpperCase());
        return addPack(h, 1, t.productType, t.versionId, t.count);
      },
    },
    InstallOpenLicenseKeyPack: {
      params: ["sLicenseNumber", "sAuthorizationNumber", "ProductVersion", "ProductType", "LicenseCount"],
      impl: ({ h }, a) => {
        if (!/^[0-9]{8}$/.test(String(a.sLicenseNumber)))
          fail(WBEM.INVALID_PARAMETER, "sLicenseNumber must be 8 digits without hyphens or spaces");
        if (!/^[A-Za-z0-9]{15}$/.test(String(a.sAuthorizationNumber)))
          fail(WBEM.INVALID_PARAMETER, "sAuthorizationNumber must be 15 alphanumeric characters without hyphens or spaces");
        assertVersionTypeCount(a);
        assertActivatedForInstall(h);
        assertAcceptsVersion(h, Number(a.ProductVersion));
        assertReachable(h, "InstallOpenLicenseKeyPack");
        return addPack(h, 5, Number(a.ProductType), Number(a.ProductVersion), Number(a.LicenseCount));
      },
    },
    InstallAgreementLicenseKeyPack: {
      params: ["AgreementType", "sAgreementNumber", "ProductVersion", "ProductType", "LicenseCount"],
      impl: ({ h }, a) => {
        const type = Number(a.AgreementType);
        if (type > 5) fail(WBEM.INVALID_PARAMETER, "AgreementType must be 0..5");
        if (!(type === 4 ? /^[0-9]{7,8}$/ : type === 5 ? /^[A-Za-z0-9]{1,15}$/ : /^[0-9]{7}$/).test(String(a.sAgreementNumber)))
          fail(WBEM.INVALID_PARAMETER, "sAgreementNumber is malformed");
        assertVersionTypeCount(a);
        assertActivatedForInstall(h);
        assertAcceptsVersion(h, Number(a.ProductVersion));
        assertReachable(h, "InstallAgreementLicenseKeyPack");
        return addPack(h, 2, Number(a.ProductType), Number(a.ProductVersion), Number(a.LicenseCount));
      },
    },
    InstallLicenseKeyPack: {
      params: ["sLicenseKeyPackId"],
      impl: ({ h, ch }, a) => {
        const id = String(a.sLicenseKeyPackId);
        if (!alnum35(id))
          fail(WBEM.INVALID_PARAMETER, "sLicenseKeyPackId must be 35 alphanumeric characters (A-Z, 0-9) without hyphens or spaces");
        assertActivatedForInstall(h);
        const productId = productIdOf(h);
        const r = ch.keyPackIds.get(id.toUpperCase());
        if (!r || r.productId !== productId)
          fail(WBEM.INVALID_PARAMETER, `the Clearinghouse did not issue this license key pack ID for product ID ${productId}`);
        if (r!.usedBy !== null) fail(WBEM.INVALID_PARAMETER, "this license key pack ID was already used");
        assertAcceptsVersion(h, r!.productVersionId);
        r!.usedBy = h.hostName;
        return addPack(h, PROGRAM_KEY_PACK_TYPE[r!.program], r!.calType === "perUser" ? 1 : 0, r!.productVersionId, r!.quantity);
      },
    },
    UninstallLicenseKeyPackWithId: {
      params: ["KeyPackId"],
      impl: ({ h }, a) => {
        const p = findPack(h, Number(a.KeyPackId));
        h.licenseServer.keyPacks = h.licenseServer.keyPacks.filter((k) => k !== p);
        return {};
      },
    },
    RemoveLicensesWithIdCount: {
      params: ["KeyPackId", "LicenseCount"],
      impl: ({ h }, a) => {
        const p = findPack(h, Number(a.KeyPackId));
        const n = Number(a.LicenseCount);
        if (n < 1) fail(WBEM.INVALID_PARAMETER, "LicenseCount must be at least 1");
        if (n > p.AvailableLicenses)
          fail(
            WBEM.INVALID_PARAMETER,
            `LicenseCount is larger than the ${p.AvailableLicenses} available (not issued) licenses of key pack ${p.KeyPackId}`,
          );
        p.TotalLicenses -= n;
        p.AvailableLicenses -= n;
        return {};
      },
    },
  },
  Win32_TerminalServiceSetting: {
    ChangeMode: {
      params: ["LicensingType"],
      impl: ({ h }, a) => {
        const t = Number(a.LicensingType);
        if (![0, 1, 2, 4].includes(t)) fail(WBEM.INVALID_PARAMETER, "LicensingType must be 0, 1, 2 (Per Device) or 4 (Per User)");
        if (h.groupPolicy.LicensingMode !== null)
          fail(WBEM.INVALID_OPERATION, "the licensing mode is set by Group Policy (PolicySourceLicensingType = 1)");
        h.sessionHost.licensingType = t;
        return {};
      },
    },
    GetSpecifiedLicenseServerList: { params: [], impl: ({ h }) => ({ SpecifiedLSList: effectiveServerList(h) }) },
    SetSpecifiedLicenseServerList: {
      params: ["SpecifiedLSList"],
      impl: ({ h }, a) => {
        notPolicyList(h);
        const seen = new Set<string>();
        const list: string[] = [];
        for (const name of a.SpecifiedLSList as (string | null)[]) {
          if (name === null || name.trim() === "") fail(WBEM.INVALID_PARAMETER, "SpecifiedLSList must not contain empty names");
          // Case-insensitive de-duplication keeps the first spelling (OrdinalIgnoreCase).
          if (!seen.has(name!.toUpperCase())) {
            seen.add(name!.toUpperCase());
            list.push(name!);
          }
        }
        h.sessionHost.specifiedLSList = list;
        return {};
      },
    },
    EmptySpecifiedLicenseServerList: { params: [], impl: ({ h }) => (notPolicyList(h), (h.sessionHost.specifiedLSList = []), {}) },
    GetGracePeriodDays: { params: [], impl: ({ h }) => ({ DaysLeft: h.config.graceDaysLeft }) },
  },
};

/** Invoke-CimMethod: the method's outputs and ReturnValue, or a thrown WmiFault (infra, or failureStyle "exception"). */
export function invokeMethod(
  h: FakeHost,
  ch: Clearinghouse,
  className: string,
  method: string,
  args: Args = {},
): { returnValue: number; out: Out } {
  assertClassAvailable(h, className);
  const spec = METHODS[className]?.[method];
  if (!spec) throw new WmiFault(WBEM.INVALID_METHOD, `Method '${method}' not found on class ${className}`, true);
  try {
    if (h.faults.providerFailure) fail(WBEM.PROVIDER_FAILURE, `the WMI provider for ${className} failed`);
    if (h.faults.accessDenied) fail(WBEM.ACCESS_DENIED, "Access denied (the caller is not a local administrator)");
    for (const p of spec.params)
      if (args[p] === undefined || args[p] === null) fail(WBEM.INVALID_PARAMETER, `${className}.${method} requires parameter '${p}'`);
    return { returnValue: 0, out: spec.impl({ h, ch }, args) };
  } catch (e) {
    if (!(e instanceof WmiFault) || e.infra || h.faults.failureStyle === "exception") throw e;
    return { returnValue: e.code, out: {} };
  }
}
