/**
 * The fake world's model of one simulated host: the same state the emulator keeps in its host file
 * (features, service, faults, Group Policy, license server, session host, deployment), the facts
 * derived from it (computer name, domain, OS, product id), and the ids the simulated Clearinghouse
 * derives (license server ids, key pack ids). Plain data and pure functions; no I/O.
 *
 * Every derived id is computed exactly as the emulator computes it (the same hash of the same seed),
 * so a recorded document with a product id or a license server id matches the fake without
 * normalisation.
 */
import { createHash } from "crypto";

export const CONTACT_FIELDS = [
  "FirstName",
  "LastName",
  "Company",
  "CountryRegion",
  "eMail",
  "OrgUnit",
  "Address",
  "City",
  "State",
  "PostalCode",
] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

export interface FakePack {
  KeyPackId: number;
  KeyPackType: number;
  ProductType: number;
  ProductVersionID: number;
  TotalLicenses: number;
  IssuedLicenses: number;
  AvailableLicenses: number;
}

export interface Faults {
  clearinghouseUnreachable: boolean;
  accessDenied: boolean;
  providerFailure: boolean;
  latencyMs: number;
  classNotReadyCalls: number;
  activationStatusUnknown: boolean;
  failureStyle: "return" | "exception";
}

export interface FakeHost {
  hostName: string;
  config: {
    osVersion: OsVersion;
    domain: string | null;
    workgroup: string;
    isConnectionBroker: boolean;
    productId: string | null;
    graceDaysLeft: number;
    /** The RD Session Host role (Win32_TerminalServiceSetting.TerminalServerMode 1); the emulator's default: present. */
    sessionHostRole: boolean;
    /** Install-WindowsFeature RDS-RD-Server ran; the role takes effect at the next restart. */
    sessionHostRolePending: boolean;
    /** Restarts so far: the fake's LastBootUpTime is `boot-<n>` (the emulator's is a time; only its change matters). */
    restarts: number;
    /** The groups of the account the scripts run as (the emulator's host fact callerRights; default enterpriseAdmin). */
    callerRights: "enterpriseAdmin" | "domainAdmin" | "localAdmin";
  };
  features: { "RDS-Licensing": boolean; "RDS-Licensing-UI": boolean };
  service: "Running" | "Stopped" | null;
  faults: Faults;
  groupPolicy: { LicensingMode: number | null; LicenseServers: string | null };
  licenseServer: {
    contact: Record<ContactField, string | null>;
    serverRole: number;
    activated: boolean;
    everActivated: boolean;
    licenseServerId: string | null;
    activationMethod: string | null;
    reactivations: number;
    nextKeyPackId: number;
    keyPacks: FakePack[];
  };
  sessionHost: { licensingType: number; specifiedLSList: string[] };
  deployment: { useCentralLicensingSettings: boolean; licenseServers: string[]; licensingType: number };
}

/** Win32_OperatingSystem per emulated OS, and the newest CAL ProductVersionID a license server of it accepts. */
export const OS_TABLE = {
  "2008R2": { caption: "Microsoft Windows Server 2008 R2 Standard", version: "6.1.7601", build: "7601", maxCalVersionId: 3 },
  "2012": { caption: "Microsoft Windows Server 2012 R2 Standard", version: "6.3.9600", build: "9600", maxCalVersionId: 4 },
  "2016": { caption: "Microsoft Windows Server 2016 Standard", version: "10.0.14393", build: "14393", maxCalVersionId: 5 },
  "2019": { caption: "Microsoft Windows Server 2019 Standard", version: "10.0.17763", build: "17763", maxCalVersionId: 6 },
  "2022": { caption: "Microsoft Windows Server 2022 Standard", version: "10.0.20348", build: "20348", maxCalVersionId: 7 },
  "2025": { caption: "Microsoft Windows Server 2025 Standard", version: "10.0.26100", build: "26100", maxCalVersionId: 8 },
} as const;
export type OsVersion = keyof typeof OS_TABLE;

/** ProductVersionID -> the ProductVersion string and the Description part of a key pack. */
export const CAL_VERSIONS: Record<number, { string: string; description: string }> = {
  0: { string: "Windows 2000 Server", description: "5.00" },
  2: { string: "Windows Server 2008 or Windows Server 2008 R2", description: "6.00" },
  3: { string: "Windows Server 7", description: "6.01" },
  4: { string: "Windows Server 2012", description: "6.02" },
  5: { string: "Windows Server 2016", description: "10.00" },
  6: { string: "Windows Server 2019", description: "10.01" },
  7: { string: "Windows Server 2022", description: "10.02" },
  8: { string: "Windows Server 2025", description: "10.03" },
};
export const VERSION_NAME_TO_ID: Record<string, number> = { "2008R2": 2, "2012": 4, "2016": 5, "2019": 6, "2022": 7, "2025": 8 };

export function newFaults(): Faults {
  return {
    clearinghouseUnreachable: false,
    accessDenied: false,
    providerFailure: false,
    latencyMs: 0,
    classNotReadyCalls: 0,
    activationStatusUnknown: false,
    failureStyle: "return",
  };
}

/** A host as the emulator creates it on first use. */
export function newHost(hostName: string): FakeHost {
  const dot = hostName.indexOf(".");
  const domain = dot > 0 && dot < hostName.length - 1 ? hostName.slice(dot + 1).toLowerCase() : "contoso.com";
  const contact = Object.fromEntries(CONTACT_FIELDS.map((f) => [f, null])) as Record<ContactField, string | null>;
  return {
    hostName,
    config: {
      osVersion: "2022",
      domain,
      workgroup: "WORKGROUP",
      isConnectionBroker: false,
      productId: null,
      graceDaysLeft: 120,
      sessionHostRole: true,
      sessionHostRolePending: false,
      restarts: 0,
      callerRights: "enterpriseAdmin",
    },
    features: { "RDS-Licensing": false, "RDS-Licensing-UI": false },
    service: null,
    faults: newFaults(),
    groupPolicy: { LicensingMode: null, LicenseServers: null },
    licenseServer: {
      contact,
      serverRole: 1,
      activated: false,
      everActivated: false,
      licenseServerId: null,
      activationMethod: null,
      reactivations: 0,
      nextKeyPackId: 3,
      keyPacks: [],
    },
    sessionHost: { licensingType: 5, specifiedLSList: [] },
    deployment: { useCentralLicensingSettings: true, licenseServers: [], licensingType: 5 },
  };
}

// ---- derived facts ----------------------------------------------------------------------------------

const ALPHABET36 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** `length` characters A-Z0-9 from SHA-512 of the seed (the emulator's Get-RdsAlnumId). */
export function alnumId(seed: string, length: number): string {
  const bytes = createHash("sha512").update(seed, "utf8").digest();
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET36[bytes[i] % 36];
  return out;
}

/** ddddd-ddddd-ddddd-LLddd from SHA-256 of the lower-cased host name (Get-RdsDerivedProductId). */
export function derivedProductId(lowerHostName: string): string {
  const h = createHash("sha256").update(`rds-sim/product-id/v1/${lowerHostName}`, "utf8").digest();
  let out = "";
  for (let i = 0; i < 15; i++) {
    if (i > 0 && i % 5 === 0) out += "-";
    out += String(h[i] % 10);
  }
  out += "-" + ALPHABET36[h[15] % 26] + ALPHABET36[h[16] % 26];
  for (let i = 17; i < 20; i++) out += String(h[i] % 10);
  return out;
}

export function productIdOf(h: FakeHost): string {
  return h.config.productId ?? derivedProductId(h.hostName.toLowerCase());
}

/** The license server id the simulated Clearinghouse issues (web, telephone) for a product id. */
export function expectedLicenseServerId(productId: string): string {
  return alnumId(`rds-sim/license-server-id/v1/${productId}`, 35);
}

export function roleInstalled(h: FakeHost): boolean {
  return h.features["RDS-Licensing"];
}

export function serviceStatus(h: FakeHost): "Running" | "Stopped" | null {
  return roleInstalled(h) ? h.service : null;
}

/** NetBIOS-style computer name: the first label, upper case. */
export function computerName(h: FakeHost): string {
  const dot = h.hostName.indexOf(".");
  return (dot > 0 ? h.hostName.slice(0, dot) : h.hostName).toUpperCase();
}

export function os(h: FakeHost) {
  return OS_TABLE[h.config.osVersion];
}

/** Win32_ComputerSystem as the scripts read it. */
export function computerSystem(h: FakeHost): { DNSHostName: string; Domain: string; PartOfDomain: boolean } {
  const domain = h.config.domain;
  return { DNSHostName: computerName(h).toLowerCase(), Domain: domain ?? h.config.workgroup, PartOfDomain: !!domain };
}

/** What get.ps1 (both resources) reports as the server name: DNSHostName, plus the domain when joined. */
export function fqdn(h: FakeHost): string {
  const cs = computerSystem(h);
  return cs.PartOfDomain && cs.Domain && !cs.DNSHostName.includes(".") ? `${cs.DNSHostName}.${cs.Domain}` : cs.DNSHostName;
}

export function effectiveLicensingType(h: FakeHost): number {
  return h.groupPolicy.LicensingMode ?? h.sessionHost.licensingType;
}

export function policyServerList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function effectiveServerList(h: FakeHost): string[] {
  return h.groupPolicy.LicenseServers !== null ? policyServerList(h.groupPolicy.LicenseServers) : [...h.sessionHost.specifiedLSList];
}

/** The built-in pack every license server lists first (KeyPackId 2). */
export const BUILT_IN_PACK: FakePack = {
  KeyPackId: 2,
  KeyPackType: 6,
  ProductType: 3,
  ProductVersionID: 0,
  TotalLicenses: 4294967295,
  IssuedLicenses: 0,
  AvailableLicenses: 4294967295,
};

/** Win32_TSLicenseKeyPack's display properties of a pack. */
export function packView(p: FakePack): { ProductVersion: string; TypeAndModel: string; Description: string; ExpirationDate: string } {
  if (p.KeyPackId === 2) {
    return {
      ProductVersion: CAL_VERSIONS[0].string,
      TypeAndModel: "Built-in TS Per Device CAL",
      Description: "A02-5.00-EX",
      ExpirationDate: "2035-12-31T23:00:00.000Z",
    };
  }
  const prefix = p.ProductVersionID === 2 ? "TS or RDS" : "RDS";
  return {
    ProductVersion: CAL_VERSIONS[p.ProductVersionID].string,
    TypeAndModel: `${prefix} Per ${p.ProductType === 1 ? "User" : "Device"} CAL`,
    Description: `${p.ProductType === 1 ? "C50" : "C40"}-${CAL_VERSIONS[p.ProductVersionID].description}-S`,
    // Purchased packs expire 2038-01-01 01:00 UTC (the emulator's fixed DMTF value).
    ExpirationDate: "2038-01-01T01:00:00.000Z",
  };
}
