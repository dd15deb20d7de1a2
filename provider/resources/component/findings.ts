/**
 * Best Practices Analyzer-style findings for an RDS licensing environment,
 * computed from the resources' outputs. Pure: the RdsLicensing component feeds it the outputs; tests
 * call it directly. The ids are ours (the BPA's own rule ids are not documented).
 */
import {
  calCoversHost,
  calVersionsCovering,
  isCalVersion,
  isHostOsVersion,
  isMode,
  modeLabel,
  osLabel,
  type Mode,
} from "../sessionHostLicensing/rules";
import { isLeftoverPack } from "../../licensing/facts";
import type { ConnectivityEntry } from "../sessionHostLicensing/connectivity";
import { describeDeferred, type Deferred } from "./phase";
import {
  connectivityVerdict,
  licenseServersGroupVerdict,
  perDeviceExpiryVerdict,
  perUserAllocationVerdict,
  unusedCalTypeVerdict,
  type CalUsageFacts,
  type LicenseServersGroupFacts,
  type Verdict,
} from "./usageFindings";

export type { CalUsageFacts, LicenseServersGroupFacts } from "./usageFindings";

export type Severity = "error" | "warning" | "info";
export type Status = "pass" | "fail";

export interface Finding {
  /** Stable id: RDS-LIC-001 ... (see README.md). */
  id: string;
  severity: Severity;
  status: Status;
  /** What the check asks, phrased as the healthy state. */
  title: string;
  /** One line: what to do when it fails (when it passes: what keeps it passing). */
  fix: string;
  /** What was found. */
  detail: string;
}

/** The finding ids, their severity and title (the catalogue README.md documents). */
export const FINDINGS = {
  "RDS-LIC-001": { severity: "error", title: "The license server is activated" },
  "RDS-LIC-002": { severity: "error", title: "CALs of the licensing mode's type are installed and available" },
  "RDS-LIC-003": { severity: "error", title: "The CAL version covers every session host's operating system" },
  "RDS-LIC-004": { severity: "error", title: "The licensing mode is configured on every session host and matches the CALs" },
  "RDS-LIC-005": { severity: "warning", title: "Every session host has the license server specified" },
  "RDS-LIC-006": { severity: "warning", title: "No session host depends on the licensing grace period" },
  "RDS-LIC-007": { severity: "error", title: "Per User licensing is used only on domain-joined hosts" },
  "RDS-LIC-008": { severity: "info", title: "The licensing settings come from this stack, not from Group Policy" },
  "RDS-LIC-009": { severity: "error", title: "The license server is in the Terminal Server License Servers group (Per User in a domain)" },
  "RDS-LIC-010": { severity: "error", title: "Per User CALs in use do not exceed those installed" },
  "RDS-LIC-011": { severity: "warning", title: "Per Device licenses expiring within 30 days can be renewed from spare CALs" },
  "RDS-LIC-012": { severity: "info", title: "Every installed CAL type is used by a session host" },
  "RDS-LIC-013": { severity: "error", title: "Every session host can reach its license servers, activated, with CALs of its mode" },
} as const satisfies Record<string, { severity: Severity; title: string }>;
export type FindingId = keyof typeof FINDINGS;

export interface FindingsInput {
  mode: Mode;
  licenseServer: {
    serverName: string;
    /** "activated" | "pending" | "notActivated" | "unknown" (RdsLicenseServer.activationStatus). */
    activationStatus: string;
    productId: string;
    /** RdsLicenseServer.nextStep ("" when nothing to do); in phase 1 the component's own next step. */
    nextStep: string;
    /** RdsLicenseServer.licenseServersGroup: RDS-LIC-009 is reported only when given. */
    licenseServersGroup?: LicenseServersGroupFacts;
    /** RdsLicenseServer.calUsage: RDS-LIC-010, 011 and 012 are reported only when given. */
    calUsage?: CalUsageFacts;
  };
  /**
   * Phase 1 of a web or telephone activation (phase.ts): the packs and hosts the component did not
   * register. Then only RDS-LIC-001 is reported: every other check is about packs and hosts that do not
   * exist yet, and would pass or fail on nothing.
   */
  deferred?: Deferred;
  packs: {
    name: string;
    keyPackId: number;
    calType: string;
    productVersion: string;
    availableLicenses: number;
    /** TotalLicenses: a pack with none is a leftover row (docs/windows-facts.md#key-pack-type), never counted. */
    totalLicenses?: number;
  }[];
  hosts: {
    /** The declared name (the resource name suffix). */
    name: string;
    serverName: string;
    effectiveMode: string;
    modeSource: string;
    effectiveLicenseServers: string[];
    licenseServersSource: string;
    gracePeriodDaysLeft: number | null;
    osVersion: string;
    domainJoined: boolean | null;
    /** RdsSessionHostLicensing.connectivity: RDS-LIC-013 is reported when some host gives it. */
    connectivity?: ConnectivityEntry[];
  }[];
}

/** One session host's facts, as computeFindings takes them. */
export type FindingsHost = FindingsInput["hosts"][number];

export interface FindingsOptions {
  /** The clock, as data: RDS-LIC-011 (licenses expiring within 30 days) is reported only when given. */
  now?: Date;
}

function finding(id: FindingId, ok: boolean, fix: string, detail: string): Finding {
  const { severity, title } = FINDINGS[id];
  return { id, severity, status: ok ? "pass" : "fail", title, fix, detail };
}

/** "ls01" matches "ls01.contoso.com" (and the reverse): hosts are often listed by their short name. */
function sameServer(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return true;
  const short = (s: string) => s.split(".")[0];
  return (!x.includes(".") || !y.includes(".")) && short(x) === short(y);
}

function list(items: string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}

/** The findings, in id order. A finding whose facts are absent from the input is not reported. */
export function computeFindings(input: FindingsInput, options: FindingsOptions = {}): Finding[] {
  const { mode, licenseServer: ls, hosts } = input;
  // A leftover (no licenses) licenses nobody: it neither supplies CALs (002) nor covers a host (003).
  const packs = input.packs.filter((p) => p.totalLicenses === undefined || !isLeftoverPack({ totalLicenses: p.totalLicenses }));
  const label = modeLabel(mode);
  const out: Finding[] = [];

  // 001: activated (the confirmed BPA rule: activate before installing CALs).
  const activated = ls.activationStatus === "activated";
  const deferred = input.deferred && describeDeferred(input.deferred) !== "nothing" ? input.deferred : undefined;
  out.push(
    finding(
      "RDS-LIC-001",
      activated,
      // In phase 1 the next step says where the id goes even when the server was activated elsewhere.
      (deferred && ls.nextStep) ||
        (activated
          ? "nothing to do; keep the license server activated (refresh shows a deactivation as drift)"
          : ls.nextStep ||
            `activate ${ls.serverName} (product id ${ls.productId}) with activation.method "automatic", or "web"/"telephone" and its licenseServerId, then run pulumi up`),
      `${ls.serverName}: ${ls.activationStatus}` + (deferred ? `; deferred until it is activated: ${describeDeferred(deferred)}` : ""),
    ),
  );
  if (deferred) return out;

  // 002: CALs of the mode's type installed and available. Windows enforces Per Device CALs only: a Per
  // Device host needs one still available; Per User CALs are not enforced (docs/windows-facts.md), so
  // installed ones license the hosts even when all are in use, and usage beyond them is RDS-LIC-010's.
  const ofType = packs.filter((p) => p.calType === mode);
  const available = ofType.reduce((sum, p) => sum + (Number.isFinite(p.availableLicenses) ? p.availableLicenses : 0), 0);
  const installed = ofType.reduce(
    (sum, p) => sum + (p.totalLicenses !== undefined && Number.isFinite(p.totalLicenses) ? p.totalLicenses : p.availableLicenses),
    0,
  );
  const supplied = mode === "perUser" ? installed > 0 : available > 0;
  out.push(
    finding(
      "RDS-LIC-002",
      supplied,
      `install ${label} CALs on ${ls.serverName} (add an RdsCalPack with calType "${mode}") or raise a pack's quantity`,
      ofType.length === 0
        ? `no ${label} pack (packs: ${list(packs.map((p) => `#${p.keyPackId} ${p.calType} ${p.productVersion}`))})`
        : `${available} ${label} CALs available in ${ofType.map((p) => `#${p.keyPackId} (${p.productVersion}, ${p.availableLicenses} available)`).join(", ")}` +
            (mode === "perUser" ? ` (${installed} installed; Per User CALs are not enforced: use beyond them is RDS-LIC-010)` : ""),
    ),
  );

  // 003: CAL version covers the hosts' OS.
  const uncovered: string[] = [];
  const unknownOs: string[] = [];
  let newest: string | undefined;
  for (const h of hosts) {
    if (!isHostOsVersion(h.osVersion)) {
      unknownOs.push(h.name);
      continue;
    }
    const os = h.osVersion;
    const covered = ofType.some((p) => isCalVersion(p.productVersion) && calCoversHost(p.productVersion, os));
    if (!covered) {
      uncovered.push(`${h.name} (${osLabel(os)})`);
      const need = calVersionsCovering(os)[0];
      if (newest === undefined || need > newest) newest = need;
    }
  }
  out.push(
    finding(
      "RDS-LIC-003",
      uncovered.length === 0,
      newest
        ? `install ${label} CALs of version ${newest} or later on ${ls.serverName} (CALs cover hosts of their own version and older)`
        : `keep ${label} CALs at least as new as the newest session host OS`,
      (uncovered.length === 0 ? "every host is covered" : `not covered: ${uncovered.join(", ")}`) +
        (unknownOs.length ? `; OS not known for ${unknownOs.join(", ")}` : ""),
    ),
  );

  // 004: mode configured and matching.
  const wrongMode = hosts.filter((h) => h.effectiveMode !== mode);
  const byPolicy = wrongMode.filter((h) => h.modeSource === "groupPolicy");
  out.push(
    finding(
      "RDS-LIC-004",
      wrongMode.length === 0 && isMode(mode),
      byPolicy.length
        ? `a Group Policy sets another mode on ${byPolicy.map((h) => h.name).join(", ")}: change "Set the Remote Desktop licensing mode" (LicensingMode) to ${label}, or remove it`
        : `run pulumi up to set mode ${mode} on every host (refresh first to see who changed it)`,
      wrongMode.length === 0
        ? `${label} on ${list(hosts.map((h) => h.name))}`
        : wrongMode.map((h) => `${h.name}: ${h.effectiveMode} (${h.modeSource})`).join(", "),
    ),
  );

  // 005: license servers specified (and this one among them).
  const unpointed = hosts.filter(
    (h) => h.effectiveLicenseServers.length === 0 || !h.effectiveLicenseServers.some((s) => sameServer(s, ls.serverName)),
  );
  out.push(
    finding(
      "RDS-LIC-005",
      unpointed.length === 0,
      `run pulumi up to point the hosts at ${ls.serverName}, or fix the Group Policy "Use the specified Remote Desktop license servers" (LicenseServers) where it sets another list`,
      unpointed.length === 0
        ? `every host lists ${ls.serverName}`
        : unpointed.map((h) => `${h.name}: [${h.effectiveLicenseServers.join(", ")}] (${h.licenseServersSource})`).join(", "),
    ),
  );

  // 006: no host relies on the grace period (licensed = mode right, server listed, CALs supplied as 002 says).
  const licensed = (h: FindingsHost) =>
    activated && supplied && h.effectiveMode === mode && !unpointed.includes(h) && !uncovered.some((u) => u.startsWith(`${h.name} `));
  const onGrace = hosts.filter((h) => !licensed(h));
  out.push(
    finding(
      "RDS-LIC-006",
      onGrace.length === 0,
      "fix the failing checks above before the 120-day grace period ends (then connections are refused)",
      onGrace.length === 0
        ? `every host is licensed (grace days left: ${hosts.map((h) => `${h.name} ${h.gracePeriodDaysLeft ?? "n/a"}`).join(", ")})`
        : onGrace
            .map(
              (h) =>
                `${h.name}: ${h.gracePeriodDaysLeft === null ? "grace period not reported" : h.gracePeriodDaysLeft === 0 ? "grace period OVER" : `${h.gracePeriodDaysLeft} grace days left`}`,
            )
            .join(", "),
    ),
  );

  // 007: Per User needs a domain.
  const workgroup = mode === "perUser" ? hosts.filter((h) => h.domainJoined === false) : [];
  out.push(
    finding(
      "RDS-LIC-007",
      workgroup.length === 0,
      `join ${list(workgroup.map((h) => h.name))} to a domain, or use mode "perDevice" with Per Device CALs`,
      mode !== "perUser"
        ? "mode is Per Device"
        : workgroup.length === 0
          ? "every host is domain-joined"
          : `in a workgroup: ${workgroup.map((h) => h.name).join(", ")}`,
    ),
  );

  // 008: Group Policy in control (informational: the values may well match).
  const policy = hosts.filter((h) => h.modeSource === "groupPolicy" || h.licenseServersSource === "groupPolicy");
  out.push(
    finding(
      "RDS-LIC-008",
      policy.length === 0,
      "keep the Group Policy licensing values equal to the stack's, or remove them (Computer Configuration > Administrative Templates > Windows Components > Remote Desktop Services > Remote Desktop Session Host > Licensing)",
      policy.length === 0
        ? "no licensing Group Policy on the hosts"
        : policy
            .map(
              (h) =>
                `${h.name}: ${[h.modeSource === "groupPolicy" ? "mode" : "", h.licenseServersSource === "groupPolicy" ? "license servers" : ""].filter(Boolean).join(" and ")} set by Group Policy`,
            )
            .join(", "),
    ),
  );

  // 009-013: the facts read live beyond the settings (usageFindings.ts), each only when given.
  const later: [FindingId, Verdict | undefined][] = [
    ["RDS-LIC-009", licenseServersGroupVerdict(mode, ls.serverName, ls.licenseServersGroup)],
    ["RDS-LIC-010", perUserAllocationVerdict(ls.serverName, ls.calUsage)],
    ["RDS-LIC-011", perDeviceExpiryVerdict(ls.serverName, ls.calUsage, options.now)],
    [
      "RDS-LIC-012",
      unusedCalTypeVerdict(
        mode,
        ls.calUsage,
        hosts,
        packs.map((p) => ({ ...p, installed: p.totalLicenses ?? p.availableLicenses })),
      ),
    ],
    ["RDS-LIC-013", connectivityVerdict(hosts)],
  ];
  for (const [id, v] of later) if (v !== undefined) out.push(finding(id, v.ok, v.fix, v.detail));

  return out;
}
