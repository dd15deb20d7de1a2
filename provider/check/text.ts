/**
 * The check report for people: the findings table (id, severity, status, title, then each finding's
 * detail and, when it fails, its fix), then the facts behind them (license server, packs, CAL usage,
 * session hosts), the hosts not read, and the result line. Control characters in names are escaped.
 */
import { printable, table } from "../emulator/cli/format";
import type { CheckReport, LicenseServerView, SessionHostView } from "./report";

/** At most this many Per Device licenses are printed (the JSON has every listed one). */
const DEVICES_SHOWN = 10;

function yesNoUnknown(value: boolean | null): string {
  return value === null ? "unknown" : value ? "yes" : "no";
}

function licenseServerLines(ls: LicenseServerView): string[] {
  const out = [`LICENSE SERVER ${printable(ls.host)}`];
  out.push(
    `  role: ${ls.roleInstalled ? "installed" : "not installed"}; service: ${printable(ls.serviceStatus)}; activation: ${ls.activationStatus}` +
      (ls.productId ? ` (product id ${ls.productId})` : "") +
      (ls.version ? `; version ${printable(ls.version)}` : ""),
  );
  const g = ls.licenseServersGroup;
  out.push(
    g === null
      ? "  AD group Terminal Server License Servers: not read"
      : !g.domainJoined
        ? "  AD group Terminal Server License Servers: not in a domain"
        : `  AD group Terminal Server License Servers (${printable(g.domain ?? "")}): member ${yesNoUnknown(g.member)}; SCP registered ${yesNoUnknown(g.scpRegistered)}` +
          (g.readError ? ` (${printable(g.readError)})` : ""),
  );
  return out;
}

function packLines(report: CheckReport): string[] {
  const packs = report.facts.packs;
  if (packs.length === 0) return ["CAL PACKS: none"];
  const usage = report.facts.licenseServer?.calUsage?.packs;
  const issued = (id: number) => {
    const p = usage?.find((u) => u.keyPackId === id);
    return p ? String(p.issued) : "-";
  };
  return [
    "CAL PACKS",
    ...table(
      ["KEY PACK", "TYPE", "VERSION", "INSTALLED", "ISSUED", "AVAILABLE"],
      packs.map((p) => [
        String(p.keyPackId),
        p.calType,
        p.productVersion,
        String(p.totalLicenses ?? "-"),
        issued(p.keyPackId),
        String(p.availableLicenses),
      ]),
    ).map((l) => `  ${l}`),
  ];
}

function usageLines(ls: LicenseServerView | null): string[] {
  const usage = ls?.calUsage;
  if (!usage) return ["CAL USAGE: not read"];
  const d = usage.perDevice;
  const u = usage.perUser;
  const out = ["CAL USAGE"];
  out.push(
    `  Per Device licenses issued: ${d.total}` + (d.total > d.listed.length ? ` (the ${d.listed.length} soonest to expire listed)` : ""),
  );
  for (const l of d.listed.slice(0, DEVICES_SHOWN)) out.push(`    ${printable(l.device)}  pack #${l.keyPackId}  expires ${l.expires}`);
  if (d.listed.length > DEVICES_SHOWN) out.push(`    ... ${d.listed.length - DEVICES_SHOWN} more in --json`);
  out.push(
    `  Per User CALs: ${u.installed} installed, ` +
      (u.issued === null ? `in use not reported (${printable(u.reason ?? "no per-user report")})` : `${u.issued} in use (per-user report)`),
  );
  return out;
}

function connectivityText(h: SessionHostView): string {
  if (h.connectivity === null) return "not read";
  if (h.connectivity.length === 0) return "no license server";
  return h.connectivity.map((c) => `${c.licenseServer}: ${c.name}`).join(", ");
}

function hostLines(hosts: readonly SessionHostView[]): string[] {
  if (hosts.length === 0) return ["SESSION HOSTS: none read"];
  return [
    "SESSION HOSTS",
    ...table(
      ["HOST", "MODE (SOURCE)", "LICENSE SERVERS (SOURCE)", "GRACE DAYS", "OS", "DOMAIN", "CONNECTIVITY"],
      hosts.map((h) => [
        h.host,
        `${h.effectiveMode} (${h.modeSource})`,
        `${h.effectiveLicenseServers.join(", ") || "none"} (${h.licenseServersSource})`,
        h.gracePeriodDaysLeft === null ? "-" : String(h.gracePeriodDaysLeft),
        h.osVersion || "-",
        h.domainJoined === null ? "-" : h.domainJoined ? "yes" : "no",
        connectivityText(h),
      ]),
    ).map((l) => `  ${l}`),
  ];
}

function findingLines(report: CheckReport): string[] {
  if (report.findings.length === 0) return [];
  const out = [
    "FINDINGS",
    ...table(
      ["ID", "SEVERITY", "STATUS", "TITLE"],
      report.findings.map((f) => [f.id, f.severity, f.status, f.title]),
    ).map((l) => `  ${l}`),
  ];
  for (const f of report.findings) {
    out.push(`  ${f.id} ${f.status}: ${printable(f.detail)}`);
    if (f.status === "fail") out.push(`    fix: ${printable(f.fix)}`);
  }
  return out;
}

/** The whole text report, lines joined with "\n" and ending with one. */
export function renderText(report: CheckReport): string {
  const out: string[] = [];
  if (report.error) {
    out.push(`rds-licensing check: ${printable(report.error.message)} [${report.error.code}]`, `  fix: ${printable(report.error.fix)}`);
  }
  if (report.mode) out.push(`mode: ${report.mode} (${report.modeOrigin})`);
  const sections: string[][] = [findingLines(report)];
  if (report.facts.licenseServer) {
    sections.push(licenseServerLines(report.facts.licenseServer), packLines(report), usageLines(report.facts.licenseServer));
  }
  if (report.facts.sessionHosts.length > 0 || report.facts.licenseServer) sections.push(hostLines(report.facts.sessionHosts));
  if (report.unreadable.length > 0) {
    sections.push([
      "NOT READ",
      ...report.unreadable.map(
        (u) => `  ${printable(u.host)} (${u.role === "licenseServer" ? "license server" : "session host"}): ${printable(u.message)}`,
      ),
    ]);
  }
  for (const s of sections.filter((x) => x.length > 0)) out.push("", ...s);
  const failing = report.findings.filter((f) => f.status === "fail");
  const count = (sev: string) => failing.filter((f) => f.severity === sev).length;
  out.push(
    "",
    `result: ${report.result} (exit ${report.exitCode}): ${count("error")} error, ${count("warning")} warning, ${count("info")} info finding(s) fail` +
      (report.unreadable.length ? `; ${report.unreadable.length} host(s) not read` : ""),
  );
  return out.join("\n") + "\n";
}
