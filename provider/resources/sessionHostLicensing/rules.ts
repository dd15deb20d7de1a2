/**
 * The pure decisions of RdsSessionHostLicensing, free of I/O: value maps, the mode-vs-CALs rule, how
 * get.ps1's result is read (Group Policy wins over WMI), what set.ps1 must change, which declared
 * values a policy contradicts, and the flat view the comparator compares. check(), the live pre-flight
 * in create/update and the RdsLicensing component all call these, so each rule is written once. The
 * Windows values behind them (CAL versions, LicensingType, which CAL covers which OS) come from
 * provider/licensing/facts.ts; docs/windows-facts.md gives their sources.
 */

import { UNKNOWN, containsUnknown } from "../../check";
import {
  HOST_OS_VERSIONS,
  LICENSING_TYPE,
  MINIMUM_CAL,
  PRODUCT_VERSIONS,
  calCoversHost,
  calTypeFromProductType as calTypeOf,
  isHostOsVersion,
  productVersionFromId,
  type HostOsVersion,
  type ProductVersion,
} from "../../licensing/facts";
import type { GetResult, SessionHostLicensingInputs, Source } from "./schema";

export { HOST_OS_VERSIONS, calCoversHost, isHostOsVersion, type HostOsVersion };

export type Mode = "perUser" | "perDevice";
export type Scope = "sessionHost" | "deployment";

/** CAL versions, oldest first (the one table is in provider/licensing/facts.ts). */
export const CAL_VERSIONS = PRODUCT_VERSIONS;
export type CalVersion = ProductVersion;

export function isCalVersion(value: unknown): value is CalVersion {
  return typeof value === "string" && (CAL_VERSIONS as readonly string[]).includes(value);
}

export function isMode(value: unknown): value is Mode {
  return value === "perUser" || value === "perDevice";
}

/** The oldest CAL version that covers `os`. */
export function minimumCalFor(os: HostOsVersion): CalVersion {
  return MINIMUM_CAL[os];
}

/** CAL versions that cover `os`, oldest first. */
export function calVersionsCovering(os: HostOsVersion): CalVersion[] {
  return CAL_VERSIONS.filter((cal) => calCoversHost(cal, os));
}

/** Win32_TSLicenseKeyPack.ProductType to a CAL type; null for built-in / not valid. */
export function calTypeFromProductType(productType: number | null | undefined): Mode | null {
  return calTypeOf(productType);
}

/** Win32_TSLicenseKeyPack.ProductVersionID to a CAL version; null when not supported. */
export const calVersionFromProductVersionId = productVersionFromId;

/** Win32_TerminalServiceSetting.LicensingType / ChangeMode / GPO LicensingMode value for a mode. */
export function licensingTypeFor(mode: Mode): number {
  return LICENSING_TYPE[mode];
}

/** What a LicensingType (or GPO LicensingMode) value means, as reported in `effectiveMode`. */
export function modeFromLicensingType(value: number | null | undefined): string {
  if (value === null || value === undefined) return "notConfigured";
  const name = (Object.keys(LICENSING_TYPE) as (keyof typeof LICENSING_TYPE)[]).find((k) => LICENSING_TYPE[k] === value);
  return name ?? `unknown(${value})`;
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
    const anyUnknown = present.some((p) => p.calType === undefined || (osVersion != null && p.productVersion === undefined));
    const ofType = present.filter((p) => p.calType === mode);
    const covering = ofType.filter(
      (p) =>
        osVersion == null || p.productVersion === undefined || (p.productVersion !== null && calCoversHost(p.productVersion, osVersion)),
    );
    if (covering.length === 0 && !anyUnknown) {
      const need = osVersion != null ? ` that covers ${osLabel(osVersion)}` : "";
      const other: Mode = mode === "perUser" ? "perDevice" : "perUser";
      const otherCovers = present.some(
        (p) => p.calType === other && (osVersion == null || (p.productVersion != null && calCoversHost(p.productVersion, osVersion))),
      );
      if (ofType.length === 0) {
        problems.push(`mode ${mode} needs ${modeLabel(mode)} CALs${need} and no ${modeLabel(mode)} CAL pack was found`);
      } else {
        problems.push(`mode ${mode} needs ${modeLabel(mode)} CALs${need} and the ${modeLabel(mode)} packs found are too old for it`);
      }
      const versions = osVersion != null ? ` of version ${calVersionsCovering(osVersion).join(" or ")}` : "";
      let fix = `install a ${modeLabel(mode)} CAL pack${versions} on the license server and list it in calPacks`;
      if (otherCovers && !(other === "perUser" && input.domainJoined === false))
        fix += `, or set mode to "${other}" to use the ${modeLabel(other)} CALs`;
      fixes.push(fix);
    }
    const missing = packs.filter((p) => p.found === false);
    if (missing.length > 0 && covering.length === 0 && !anyUnknown) {
      fixes.push(`reinstall or remove the missing pack(s) ${missing.map((p) => `#${p.keyPackId}`).join(", ")} from calPacks`);
    }
  }

  return { ok: problems.length === 0, problems, fixes, packsFound };
}

/** Case-insensitive, order-sensitive comparison of license server lists. */
export function sameServerList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name.toLowerCase() === b[i]!.toLowerCase());
}

/** The GPO `LicenseServers` REG_SZ is one comma-separated string; order kept. */
export function parsePolicyServerList(value: string): string[] {
  return value
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

// ---- the live state, read ------------------------------------------------------------------------

/**
 * A read of get.ps1 as interpret takes it: `connectivity` may be absent (a read recorded before the field
 * existed, or a caller that did not ask for it); it is then [].
 */
export type GetRead = Omit<GetResult, "connectivity"> & Partial<Pick<GetResult, "connectivity">>;

/** get.ps1's result as the outputs see it. */
export interface LiveState {
  raw: GetRead;
  serverName: string;
  effectiveMode: string;
  effectiveLicenseServers: string[];
  modeSource: Source;
  licenseServersSource: Source;
  /** The policy's own values, when a policy sets them. */
  policyMode: number | null;
  policyLicenseServers: string[] | null;
  gracePeriodDaysLeft: number | null;
  osVersion: string;
  domainJoined: boolean | null;
  /** TerminalServerMode 1 (the RD Session Host role); null when not read (scope deployment) or not reported. */
  sessionHostRole: boolean | null;
  /** GetTStoLSConnectivityStatus per license server in effect ([] for scope deployment). */
  connectivity: GetResult["connectivity"];
}

/** TerminalServerMode: 1 = Application Server (the RD Session Host role), 0 = Remote Administration. */
export function sessionHostRoleFrom(terminalServerMode: number | null): boolean | null {
  return terminalServerMode === null ? null : terminalServerMode === 1;
}

/** get.ps1's result as the outputs see it: Group Policy wins over the local (WMI) values. */
export function interpret(raw: GetRead): LiveState {
  const osVersion = osVersionFromWindows(raw.os) ?? "";
  const common = {
    raw,
    serverName: raw.serverName,
    gracePeriodDaysLeft: raw.gracePeriodDaysLeft,
    osVersion,
    domainJoined: raw.partOfDomain,
    sessionHostRole: raw.scope === "deployment" ? null : sessionHostRoleFrom(raw.terminalServerMode),
    connectivity: raw.connectivity ?? [],
  };
  if (raw.scope === "deployment") {
    return {
      ...common,
      effectiveMode: modeFromRdmsMode(raw.rdmsMode),
      effectiveLicenseServers: raw.licenseServers,
      modeSource: "deployment",
      licenseServersSource: "deployment",
      policyMode: null,
      policyLicenseServers: null,
    };
  }
  const policyMode = raw.policy.licensingMode;
  const policyList = raw.policy.licenseServers === null ? null : parsePolicyServerList(raw.policy.licenseServers);
  const modeByPolicy = policyMode !== null || raw.policySourceLicensingType === 1;
  const listByPolicy = policyList !== null || raw.policySourceConfiguredLicenseServers === 1;
  return {
    ...common,
    effectiveMode: modeFromLicensingType(policyMode ?? raw.licensingType),
    effectiveLicenseServers: policyList ?? raw.licenseServers,
    modeSource: modeByPolicy ? "groupPolicy" : "local",
    licenseServersSource: listByPolicy ? "groupPolicy" : "local",
    policyMode,
    policyLicenseServers: policyList,
  };
}

// ---- what to change ------------------------------------------------------------------------------

/** What set.ps1 must change (null: leave it). */
export interface Plan {
  mode: Mode | null;
  licenseServers: string[] | null;
}

/** Only what differs and is not controlled by Group Policy (a policy-controlled value is never written). */
export function planChanges(args: SessionHostLicensingInputs, live: LiveState): Plan {
  const mode = live.effectiveMode === args.mode || live.modeSource === "groupPolicy" ? null : args.mode;
  const list =
    sameServerList(live.effectiveLicenseServers, args.licenseServers) || live.licenseServersSource === "groupPolicy"
      ? null
      : args.licenseServers;
  return { mode, licenseServers: list };
}

/** What a plan does, in the user's words, for the "already done" part of a partial success. */
export function describePlan(plan: { mode: string | null; licenseServers: readonly string[] | null }): string[] {
  const done: string[] = [];
  if (plan.mode !== null) done.push(`mode set to ${plan.mode}`);
  if (plan.licenseServers !== null) done.push("license server list set");
  return done;
}

/** What changed on the host between two reads (after a set that failed half way). */
export function changesBetween(before: LiveState, after: LiveState): string[] {
  return describePlan({
    mode: after.effectiveMode !== before.effectiveMode ? after.effectiveMode : null,
    licenseServers: sameServerList(after.effectiveLicenseServers, before.effectiveLicenseServers) ? null : after.effectiveLicenseServers,
  });
}

/** The live state once a plan is applied, as far as it is known without reading the host again. */
export function applyPlan(live: LiveState, plan: Plan): LiveState {
  return {
    ...live,
    effectiveMode: plan.mode ?? live.effectiveMode,
    effectiveLicenseServers: plan.licenseServers ?? live.effectiveLicenseServers,
  };
}

// ---- Group Policy --------------------------------------------------------------------------------

/** A declared value a Group Policy contradicts. */
export type PolicyConflict =
  | { setting: "mode"; policyValue: number | null; effective: string; declared: Mode }
  | { setting: "licenseServers"; effective: string[]; declared: string[] };

/** The declared values a policy sets otherwise (none for scope deployment: its settings are not policy-controlled). */
export function policyConflicts(args: SessionHostLicensingInputs, live: LiveState): PolicyConflict[] {
  if (args.scope === "deployment") return [];
  const out: PolicyConflict[] = [];
  if (live.modeSource === "groupPolicy" && live.effectiveMode !== args.mode) {
    out.push({
      setting: "mode",
      policyValue: live.policyMode ?? live.raw.licensingType,
      effective: live.effectiveMode,
      declared: args.mode,
    });
  }
  if (live.licenseServersSource === "groupPolicy" && !sameServerList(live.effectiveLicenseServers, args.licenseServers)) {
    out.push({ setting: "licenseServers", effective: live.effectiveLicenseServers, declared: args.licenseServers });
  }
  return out;
}

/**
 * Whether any of these reads shows a Group Policy source for the setting the failed WMI method writes:
 * ChangeMode the mode, SetSpecifiedLicenseServerList the list (by PolicySourceLicensingType /
 * PolicySourceConfiguredLicenseServers or the policy key's value). Any other method: no.
 */
export function policyShownFor(method: string | undefined, reads: readonly (LiveState | undefined)[]): boolean {
  const shown = reads.filter((r): r is LiveState => r !== undefined);
  if (method === "ChangeMode") return shown.some((r) => r.modeSource === "groupPolicy");
  if (method === "SetSpecifiedLicenseServerList") return shown.some((r) => r.licenseServersSource === "groupPolicy");
  return false;
}

// ---- the mode rule with what the program declares (check) ----------------------------------------

/**
 * The mode rule's input from the declared packs (check, preview included): each pack's calType and
 * productVersion when known, unknowns tolerated. Undefined when there is nothing to check yet, or
 * when a value is wrong in a way the schema reports.
 */
export function modeRuleFromDeclaration(raw: Record<string, unknown>): ModeRuleInput | undefined {
  const mode = raw.mode;
  if (!isMode(mode)) return undefined;
  const packsRaw = raw.calPacks;
  if (packsRaw === undefined || packsRaw === null || !Array.isArray(packsRaw)) return undefined;
  const packs: PackFact[] = [];
  for (const entry of packsRaw) {
    if (entry === UNKNOWN) {
      packs.push({});
      continue;
    }
    if (entry === null || typeof entry !== "object") return undefined; // the schema reports it
    const e = entry as Record<string, unknown>;
    const fact: PackFact = {};
    if (typeof e.keyPackId === "number") fact.keyPackId = e.keyPackId;
    if (isMode(e.calType)) fact.calType = e.calType;
    else if (!containsUnknown(e.calType)) return undefined;
    if (isCalVersion(e.productVersion)) fact.productVersion = e.productVersion;
    else if (!containsUnknown(e.productVersion)) return undefined;
    if (typeof e.licenseServerName === "string" && e.licenseServerName !== "") fact.licenseServer = e.licenseServerName;
    packs.push(fact);
  }
  const conn = raw.connection as Record<string, unknown> | undefined;
  const host = conn && typeof conn.host === "string" && conn.host !== UNKNOWN ? conn.host : "the session host";
  return { host, mode, packs };
}

// ---- the comparator's view -----------------------------------------------------------------------

/**
 * The flat view the comparator compares (schema.ts FIELDS): inputs on one side, state on the other.
 * The host and transport are pulled out of the connection (identity); on the state side, mode and
 * licenseServers are the LIVE values, so a refresh shows drift and the next up repairs it.
 */
export function diffView(o: Record<string, unknown>, live: boolean): Record<string, unknown> {
  const conn = o.connection;
  const connObj = conn !== null && typeof conn === "object" ? (conn as Record<string, unknown>) : undefined;
  return {
    targetHost: conn === UNKNOWN ? UNKNOWN : connObj?.host,
    transport: conn === UNKNOWN ? UNKNOWN : connObj?.transport,
    scope: o.scope ?? "sessionHost",
    connection: conn,
    mode: live ? o.effectiveMode : o.mode,
    licenseServers: live ? o.effectiveLicenseServers : o.licenseServers,
    calPacks: o.calPacks,
    installRole: o.installRole ?? false,
    resetOnDelete: o.resetOnDelete ?? false,
  };
}

/** The packs grouped by license server (one packs.ps1 per server), in declaration order. */
export function packsByServer<C>(
  refs: readonly { keyPackId: number; licenseServerConnection: C; licenseServerName: string }[],
  keyOf: (connection: C) => string,
): { connection: C; ids: number[]; name: string }[] {
  const byServer = new Map<string, { connection: C; ids: number[]; name: string }>();
  for (const ref of refs) {
    const key = keyOf(ref.licenseServerConnection);
    const group = byServer.get(key) ?? { connection: ref.licenseServerConnection, ids: [], name: ref.licenseServerName };
    group.ids.push(ref.keyPackId);
    byServer.set(key, group);
  }
  return [...byServer.values()];
}

/** The packs packs.ps1 found (or did not) on one license server, as facts of the mode rule. */
export function packFactsFrom(
  ids: readonly number[],
  found: readonly { keyPackId: number; productType: number; productVersionId: number; availableLicenses: number }[],
  licenseServer: string,
): PackFact[] {
  return ids.map((id) => {
    const pack = found.find((p) => p.keyPackId === id);
    if (!pack) return { keyPackId: id, found: false, licenseServer };
    return {
      keyPackId: id,
      found: true,
      calType: calTypeFromProductType(pack.productType),
      productVersion: calVersionFromProductVersionId(pack.productVersionId),
      availableLicenses: pack.availableLicenses,
      licenseServer,
    };
  });
}
