/**
 * The facts read (read.ts) to the input of the findings engine the RdsLicensing component uses
 * (resources/component/findings.ts): one rule engine for both. Pure: tests call it with recorded
 * reads. Also decides the expected mode when the user gave none (the installed CAL types, when only
 * one type is installed).
 */
import type { FindingsHost, FindingsInput } from "../resources/component/findings";
import { interpret } from "../resources/sessionHostLicensing/rules";
import { CheckInputError } from "./errors";
import type { LicenseServerRead, SessionHostRead } from "./facts";
import type { CheckMode } from "./inventory";

/** The findings engine's input (with the issue-17 facts: the license server's group and CAL usage, each host's connectivity). */
export type CheckFindingsInput = FindingsInput;

type Pack = FindingsInput["packs"][number];

/** Win32_TSLicenseServer activation (GetActivationStatus: 0 activated, 1 not activated, else unknown). */
export function activationStatusOf(read: LicenseServerRead): string {
  const status = read.server?.activationStatus;
  return status === 0 ? "activated" : status === 1 ? "notActivated" : "unknown";
}

/** What to do when the license server cannot even be asked (the role or its service missing). */
function nextStepOf(read: LicenseServerRead, name: string): string {
  if (!read.roleInstalled) return `install the RDS-Licensing role on ${name} (RdsLicenseServer installs it), then activate it`;
  if (read.serviceStatus !== "Running")
    return `start the Remote Desktop Licensing service (TermServLicensing) on ${name}: it is ${read.serviceStatus}`;
  return "";
}

/** The license server's packs with CALs (no built-in pack, no leftover row), from its CAL usage; none when not read. */
export function packsOf(read: LicenseServerRead): Pack[] {
  return (read.calUsage?.packs ?? []).map((p) => ({
    name: `#${p.keyPackId}`,
    keyPackId: p.keyPackId,
    calType: p.calType,
    productVersion: p.productVersion,
    availableLicenses: p.available,
    totalLicenses: p.installed,
  }));
}

export type ModeOrigin = "flag or inventory" | "installed CAL type";

/**
 * The expected mode: the user's, else the one CAL type installed on the license server. Neither (no
 * pack, or both types) is a CheckInputError (exit 2): the check cannot tell which mode is right.
 */
export function decideMode(
  given: CheckMode | undefined,
  packs: readonly Pack[],
  serverName: string,
): { mode: CheckMode; origin: ModeOrigin } {
  if (given) return { mode: given, origin: "flag or inventory" };
  const types = [...new Set(packs.filter((p) => (p.totalLicenses ?? 1) > 0).map((p) => p.calType))].sort();
  if (types.length === 1 && (types[0] === "perUser" || types[0] === "perDevice")) return { mode: types[0], origin: "installed CAL type" };
  const found = types.length === 0 ? "no CAL pack" : `CALs of ${types.join(" and ")}`;
  throw new CheckInputError(
    `the expected licensing mode cannot be told: ${serverName} has ${found} installed`,
    "give --mode perUser or --mode perDevice (or mode: in the inventory)",
  );
}

/** One session host as the findings see it (the name is the inventory's). */
export function hostInputOf(name: string, raw: SessionHostRead): FindingsHost {
  const live = interpret(raw);
  const host: FindingsHost = {
    name,
    serverName: live.serverName,
    effectiveMode: live.effectiveMode,
    modeSource: live.modeSource,
    effectiveLicenseServers: live.effectiveLicenseServers,
    licenseServersSource: live.licenseServersSource,
    gracePeriodDaysLeft: live.gracePeriodDaysLeft,
    osVersion: live.osVersion,
    domainJoined: live.domainJoined,
    // Scope sessionHost always reads it (an empty list: no license server in effect).
    connectivity: raw.connectivity,
  };
  return host;
}

/** The findings input: the license server, its packs, and the hosts that could be read. */
export function findingsInputOf(
  mode: CheckMode,
  licenseServerName: string,
  read: LicenseServerRead,
  hosts: readonly { name: string; read: SessionHostRead }[],
): CheckFindingsInput {
  const serverName = read.server?.serverName || licenseServerName;
  const licenseServer: CheckFindingsInput["licenseServer"] = {
    serverName,
    activationStatus: activationStatusOf(read),
    productId: read.server?.productId ?? "",
    nextStep: nextStepOf(read, serverName),
  };
  // null: not read (server not answering, or the read refused): the findings about it are then not reported.
  if (read.licenseServersGroup) licenseServer.licenseServersGroup = read.licenseServersGroup;
  if (read.calUsage) licenseServer.calUsage = read.calUsage;
  return {
    mode,
    licenseServer,
    packs: packsOf(read),
    hosts: hosts.map((h) => hostInputOf(h.name, h.read)),
  };
}
