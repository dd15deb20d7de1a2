/**
 * Pure licensing rules for session hosts: value maps (reference 3.4, 3.6, 5.3), the CAL version vs
 * host OS table (reference 9.5), and the mode-vs-CALs rule (reference 9.4, 10). No I/O: check(),
 * the live pre-flight in create/update, and the RdsLicensing component all call these, so the rule
 * is written once.
 */

import { PRODUCT_VERSIONS, productVersionFromId, type ProductVersion } from "../calPack/schema";

export type Mode = "perUser" | "perDevice";
export type Scope = "sessionHost" | "deployment";

/** CAL versions, oldest first: the one table lives with the CAL pack schema (reference 3.6). */
export const CAL_VERSIONS = PRODUCT_VERSIONS;
export type CalVersion = ProductVersion;

/** Session host OS versions, oldest first. */
export const HOST_OS_VERSIONS = ["2008", "2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025"] as const;
export type HostOsVersion = (typeof HOST_OS_VERSIONS)[number];

/** The oldest CAL version that covers a host OS (reference 9.5: newer CALs cover older hosts). */
const MINIMUM_CAL: Readonly<Record<HostOsVersion, CalVersion>> = {
  "2008": "2008R2",
  "2008R2": "2008R2",
  "2012": "2012",
  "2012R2": "2012",
  "2016": "2016",
  "2019": "2019",
  "2022": "2022",
  "2025": "2025",
};

export function isCalVersion(value: unknown): value is CalVersion {
  return typeof value === "string" && (CAL_VERSIONS as readonly string[]).includes(value);
}

export function isHostOsVersion(value: unknown): value is HostOsVersion {
  return typeof value === "string" && (HOST_OS_VERSIONS as readonly string[]).includes(value);
}

export function isMode(value: unknown): value is Mode {
  return value === "perUser" || value === "perDevice";
}

/** The oldest CAL version that covers `os`. */
export function minimumCalFor(os: HostOsVersion): CalVersion {
  return MINIMUM_CAL[os];
}

/** True when a CAL of version `cal` licenses a session host running `os`. */
export function calCoversHost(cal: CalVersion, os: HostOsVersion): boolean {
  return CAL_VERSIONS.indexOf(cal) >= CAL_VERSIONS.indexOf(MINIMUM_CAL[os]);
}

/** CAL versions that cover `os`, oldest first. */
export function calVersionsCovering(os: HostOsVersion): CalVersion[] {
  return CAL_VERSIONS.filter((cal) => calCoversHost(cal, os));
}

/** Win32_TSLicenseKeyPack.ProductType (reference 3.4) to a CAL type; null for built-in / not valid. */
export function calTypeFromProductType(productType: number | null | undefined): Mode | null {
  if (productType === 0) return "perDevice";
  if (productType === 1) return "perUser";
  return null;
}

/** Win32_TSLicenseKeyPack.ProductVersionID (reference 3.6) to a CAL version; null when not supported. */
export const calVersionFromProductVersionId = productVersionFromId;

/** Win32_TerminalServiceSetting.LicensingType / ChangeMode / GPO LicensingMode value for a mode (reference 5.3). */
export function licensingTypeFor(mode: Mode): 2 | 4 {
  return mode === "perDevice" ? 2 : 4;
}

/** What a LicensingType (or GPO LicensingMode) value means, as reported in `effectiveMode`. */
export function modeFromLicensingType(value: number | null | undefined): string {
  switch (value) {
    case 2:
      return "perDevice";
    case 4:
      return "perUser";
    case 5:
    case null:
    case undefined:
      return "notConfigured";
    case 0:
      return "personalTerminalServer";
    case 1:
      return "remoteDesktopForAdministration";
    case 6:
      return "aadPerUser";
    default:
      return `unknown(${value})`;
  }
}

/** RDMS `Mode` (PerUser / PerDevice / NotConfigured) to the values used in `effectiveMode`. */
export function modeFromRdmsMode(value: string | null | undefined): string {
  const v = (value ?? "").toLowerCase();
  if (v === "peruser") return "perUser";
  if (v === "perdevice") return "perDevice";
  if (v === "" || v === "notconfigured") return "notConfigured";
  return `unknown(${value})`;
}

/** The RDMS `-Mode` argument for a mode. */
export function rdmsModeFor(mode: Mode): "PerUser" | "PerDevice" {
  return mode === "perUser" ? "PerUser" : "PerDevice";
}

/**
 * The session host OS version from Win32_OperatingSystem. The caption names the release
 * ("Microsoft Windows Server 2022 Datacenter", "... 2012 R2 Standard"); when it does not, the
 * version/build number decides (6.0 2008, 6.1 2008 R2, 6.2 2012, 6.3 2012 R2, 10.0.14393 2016,
 * 10.0.17763 2019, 10.0.20348 2022, 10.0.26100 2025). A client OS (Windows 10/11) gives null.
 */
export function osVersionFromWindows(os: {
  caption?: string | null;
  version?: string | null;
  buildNumber?: string | number | null;
}): HostOsVersion | null {
  const caption = os.caption ?? "";
  const named = /Server\s+(2008|2012|2016|2019|2022|2025)(\s*R2)?/i.exec(caption);
  if (named) {
    const year = named[1];
    const r2 = Boolean(named[2]) && (year === "2008" || year === "2012");
    return (r2 ? `${year}R2` : year) as HostOsVersion;
  }
  if (caption !== "" && !/server/i.test(caption)) return null;
  const version = os.version ?? "";
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const build = Number(os.buildNumber ?? m[3] ?? 0);
  if (major === 6) return (["2008", "2008R2", "2012", "2012R2"] as const)[minor] ?? null;
  if (major === 10) {
    if (build >= 26100) return "2025";
    if (build >= 20348) return "2022";
    if (build >= 17763) return "2019";
    return "2016";
  }
  return null;
}

export function modeLabel(mode: Mode): string {
  return mode === "perUser" ? "Per User" : "Per Device";
}

export function osLabel(os: HostOsVersion): string {
  return `Windows Server ${os.replace("R2", " R2")}`;
}

/** What is known about one CAL pack; undefined fields are unknown (preview), never wrong. */
export interface PackFact {
  keyPackId?: number;
  calType?: Mode | null;
  productVersion?: CalVersion | null;
  availableLicenses?: number;
  /** false when the pack was looked up on the license server and is not there. */
  found?: boolean;
  /** The license server the pack is on, for messages. */
  licenseServer?: string;
}

export interface ModeRuleInput {
  /** The session host (or broker) name, for messages. */
  host: string;
  mode: Mode;
  /** The host OS, when known. */
  osVersion?: HostOsVersion | null;
  /** Domain membership, when known. */
  domainJoined?: boolean | null;
  /** The CAL packs that must cover this host; undefined when none were given (not checked). */
  packs?: PackFact[];
}

export interface ModeRuleResult {
  ok: boolean;
  /** One line per problem; empty when ok. */
  problems: string[];
  /** What would fix it, one clause per problem. */
  fixes: string[];
  /** The packs as found, for messages. */
  packsFound: string;
}

export function describePack(p: PackFact): string {
  const id = p.keyPackId === undefined ? "(pack id not known yet)" : `#${p.keyPackId}`;
  const where = p.licenseServer ? ` on ${p.licenseServer}` : "";
  if (p.found === false) return `${id} (not found${where})`;
  const type = p.calType === undefined ? "type not known yet" : p.calType === null ? "not a CAL" : modeLabel(p.calType);
  const version = p.productVersion === undefined ? "version not known yet" : (p.productVersion ?? "unsupported version");
  const avail = p.availableLicenses === undefined ? "" : `, ${p.availableLicenses} available`;
  return `${id} ${type} ${version}${avail}${where}`;
}

/**
 * The rule: Per User needs a domain-joined host; with packs given, at least one pack of the mode's
 * CAL type whose version covers the host OS. Unknown values (preview, host facts not read yet) never
 * fail the rule: only what is known can contradict it.
 */
export function evaluateModeAgainstCals(input: ModeRuleInput): ModeRuleResult {
  const problems: string[] = [];
  const fixes: string[] = [];
  const { mode, osVersion } = input;
  const packs = input.packs;
  const packsFound = packs === undefined ? "(none given)" : packs.length === 0 ? "none" : packs.map(describePack).join(", ");

  if (mode === "perUser" && input.domainJoined === false) {
    problems.push(`Per User licensing needs a domain-joined host and ${input.host} is in a workgroup`);
    fixes.push(`join ${input.host} to a domain, or use mode "perDevice" with Per Device CALs (workgroup hosts must use Per Device)`);
  }

  if (packs !== undefined) {
    const present = packs.filter((p) => p.found !== false);
    const anyUnknown = present.some(
      (p) => p.calType === undefined || (osVersion != null && p.productVersion === undefined),
    );
    const ofType = present.filter((p) => p.calType === mode);
    const covering = ofType.filter(
      (p) => osVersion == null || p.productVersion === undefined || (p.productVersion !== null && calCoversHost(p.productVersion, osVersion)),
    );
    if (covering.length === 0 && !anyUnknown) {
      const need = osVersion != null ? ` that covers ${osLabel(osVersion)}` : "";
      const other: Mode = mode === "perUser" ? "perDevice" : "perUser";
      const otherCovers = present.some(
        (p) =>
          p.calType === other &&
          (osVersion == null || (p.productVersion != null && calCoversHost(p.productVersion, osVersion))),
      );
      if (ofType.length === 0) {
        problems.push(`mode ${mode} needs ${modeLabel(mode)} CALs${need} and no ${modeLabel(mode)} CAL pack was found`);
      } else {
        problems.push(
          `mode ${mode} needs ${modeLabel(mode)} CALs${need} and the ${modeLabel(mode)} packs found are too old for it`,
        );
      }
      const versions = osVersion != null ? ` of version ${calVersionsCovering(osVersion).join(" or ")}` : "";
      let fix = `install a ${modeLabel(mode)} CAL pack${versions} on the license server and list it in calPacks`;
      if (otherCovers && !(other === "perUser" && input.domainJoined === false)) fix += `, or set mode to "${other}" to use the ${modeLabel(other)} CALs`;
      fixes.push(fix);
    }
    const missing = packs.filter((p) => p.found === false);
    if (missing.length > 0 && covering.length === 0 && !anyUnknown) {
      fixes.push(`reinstall or remove the missing pack(s) ${missing.map((p) => `#${p.keyPackId}`).join(", ")} from calPacks`);
    }
  }

  return { ok: problems.length === 0, problems, fixes, packsFound };
}

/** The RDS_MODE_MISMATCH message: names the host, the mode, the packs found and what would fix it. */
export function modeMismatchMessage(input: ModeRuleInput, result: ModeRuleResult): string {
  return (
    `checking licensing mode ${input.mode} on ${input.host}: ${result.problems.join("; ")}` +
    ` (host OS: ${input.osVersion ? osLabel(input.osVersion) : "unknown"}, packs found: ${result.packsFound});` +
    ` to fix: ${result.fixes.join("; ")}`
  );
}

/** Case-insensitive, order-sensitive comparison of license server lists. */
export function sameServerList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name.toLowerCase() === b[i]!.toLowerCase());
}

/** The GPO `LicenseServers` REG_SZ is one comma-separated string (reference 7.1); order kept. */
export function parsePolicyServerList(value: string): string[] {
  return value
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
