/**
 * The check's result as one document: the findings, the facts behind them, the hosts that could not
 * be read, and the exit code. `--json` prints it as it is; text.ts renders it for people. Pure.
 *
 * Never in it: the license server id, the contact, any connection setting (a secret, or a path).
 */
import type { Finding, FindingsHost } from "../resources/component/findings";
import { EXIT_FINDINGS, EXIT_HEALTHY, EXIT_NOT_CHECKED } from "./errors";
import type { CalUsage, Connectivity, LicenseServerRead, LicenseServersGroup } from "./facts";
import { activationStatusOf, type CheckFindingsInput, type ModeOrigin } from "./mapping";
import type { ReadFailure } from "./read";

export interface LicenseServerView {
  host: string;
  serverName: string | null;
  roleInstalled: boolean;
  serviceStatus: string;
  activationStatus: string;
  productId: string | null;
  version: string | null;
  /** null: not read (the read script does not report it). */
  licenseServersGroup: LicenseServersGroup | null;
  calUsage: CalUsage | null;
}

/** A session host's facts as the findings engine takes them, named by the host read (not a resource name). */
export type SessionHostView = Omit<FindingsHost, "name" | "connectivity"> & {
  host: string;
  /** null: not read. */
  connectivity: Connectivity[] | null;
};

export interface Unreadable {
  host: string;
  role: "licenseServer" | "sessionHost";
  code: string;
  message: string;
}

export interface CheckReport {
  /** 0 healthy, 1 error-severity findings fail, 2 could not check. */
  exitCode: number;
  /** "healthy" | "errors found" | "not checked". */
  result: string;
  mode: string | null;
  modeOrigin: ModeOrigin | null;
  findings: Finding[];
  facts: {
    licenseServer: LicenseServerView | null;
    packs: CheckFindingsInput["packs"];
    sessionHosts: SessionHostView[];
  };
  unreadable: Unreadable[];
  /** Bad input or an undecidable mode: nothing (or not everything) was checked. */
  error: { code: string; message: string; fix: string } | null;
}

export function licenseServerView(host: string, read: LicenseServerRead): LicenseServerView {
  return {
    host,
    serverName: read.server?.serverName ?? null,
    roleInstalled: read.roleInstalled,
    serviceStatus: read.serviceStatus,
    activationStatus: activationStatusOf(read),
    productId: read.server?.productId ?? null,
    version: read.server?.version ?? null,
    licenseServersGroup: read.licenseServersGroup ?? null,
    calUsage: read.calUsage ?? null,
  };
}

function sessionHostViews(hosts: readonly FindingsHost[]): SessionHostView[] {
  return hosts.map((h) => ({
    host: h.name,
    serverName: h.serverName,
    effectiveMode: h.effectiveMode,
    modeSource: h.modeSource,
    effectiveLicenseServers: h.effectiveLicenseServers,
    licenseServersSource: h.licenseServersSource,
    gracePeriodDaysLeft: h.gracePeriodDaysLeft,
    osVersion: h.osVersion,
    domainJoined: h.domainJoined,
    connectivity: h.connectivity ?? null,
  }));
}

/** 2 when anything could not be checked; else 1 when an error-severity finding fails; else 0. */
export function exitCodeOf(findings: readonly Finding[], unreadable: readonly Unreadable[], error: CheckReport["error"]): number {
  if (error || unreadable.length > 0) return EXIT_NOT_CHECKED;
  return findings.some((f) => f.severity === "error" && f.status === "fail") ? EXIT_FINDINGS : EXIT_HEALTHY;
}

function resultOf(exitCode: number): string {
  return exitCode === EXIT_HEALTHY ? "healthy" : exitCode === EXIT_FINDINGS ? "errors found" : "not checked";
}

/** What a report is made of; the exit code and the result follow from it. */
export interface ReportParts {
  mode: string | null;
  modeOrigin: ModeOrigin | null;
  findings: Finding[];
  licenseServer: LicenseServerView | null;
  packs: CheckFindingsInput["packs"];
  hosts: CheckFindingsInput["hosts"];
  unreadable: Unreadable[];
  error: CheckReport["error"];
}

/** Nothing checked (bad input): the parts every report has, empty. */
export const NOTHING: ReportParts = {
  mode: null,
  modeOrigin: null,
  findings: [],
  licenseServer: null,
  packs: [],
  hosts: [],
  unreadable: [],
  error: null,
};

export function assembleReport(p: ReportParts): CheckReport {
  const exitCode = exitCodeOf(p.findings, p.unreadable, p.error);
  return {
    exitCode,
    result: resultOf(exitCode),
    mode: p.mode,
    modeOrigin: p.modeOrigin,
    findings: p.findings,
    facts: { licenseServer: p.licenseServer, packs: p.packs, sessionHosts: sessionHostViews(p.hosts) },
    unreadable: p.unreadable,
    error: p.error,
  };
}

export function unreadableOf(host: string, role: Unreadable["role"], error: ReadFailure): Unreadable {
  return { host, role, code: error.code, message: error.message };
}
