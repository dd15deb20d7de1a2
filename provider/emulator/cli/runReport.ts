/**
 * What `rds-sim run` reports: the changes a script made to each simulated host (activation, contact,
 * CAL packs, licensing mode, license servers, role and restarts), as lines, and the human report
 * (output, errors, exit code, changes, calls).
 */
import { modeName, printable, table, wbem } from "./format";
import type { HostSummary, RunResult } from "./runScript";

export interface HostChanges {
  host: string;
  created: boolean;
  changes: string[];
}

const list = (xs: string[] | undefined): string => (xs && xs.length > 0 ? xs.map(printable).join(", ") : "none");
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function activation(s: HostSummary): string {
  if (!s.roleInstalled) return "role not installed";
  return s.activated ? `activated${s.activationMethod ? ` (${s.activationMethod})` : ""}` : "not activated";
}

/** The changes on one host, one line each; none when nothing the report follows changed. */
export function changesOf(before: HostSummary | null, after: HostSummary): string[] {
  const out: string[] = [];
  const b = before;
  if (b === null || b.roleInstalled !== after.roleInstalled || b.serviceStatus !== after.serviceStatus) {
    if (b === null || b.roleInstalled !== after.roleInstalled)
      out.push(
        `licensing role: ${b ? (b.roleInstalled ? "installed" : "not installed") : "-"} -> ${after.roleInstalled ? "installed" : "not installed"}`,
      );
    if (b !== null && b.serviceStatus !== after.serviceStatus)
      out.push(`TermServLicensing: ${b.serviceStatus ?? "absent"} -> ${after.serviceStatus ?? "absent"}`);
  }
  if (
    b === null ||
    b.activated !== after.activated ||
    b.activationMethod !== after.activationMethod ||
    b.reactivations !== after.reactivations
  ) {
    if (b === null || activation(b) !== activation(after)) out.push(`activation: ${b ? activation(b) : "-"} -> ${activation(after)}`);
    if (b !== null && after.reactivations !== b.reactivations) out.push(`reactivations: ${b.reactivations} -> ${after.reactivations}`);
  }
  for (const field of Object.keys(after.contact ?? {})) {
    const was = b?.contact?.[field] ?? null;
    const now = after.contact[field] ?? null;
    if (was !== now)
      out.push(`contact ${field}: ${was === null ? "not set" : printable(was)} -> ${now === null ? "not set" : printable(now)}`);
  }
  const packsBefore = new Map((b?.packs ?? []).map((p) => [p.KeyPackId, p]));
  const packsAfter = new Map(after.packs.map((p) => [p.KeyPackId, p]));
  for (const [id, p] of packsAfter) {
    const was = packsBefore.get(id);
    const text = `${id} ${p.TypeAndModel} ${p.ProductVersion} (${p.program}): ${p.TotalLicenses} licenses, ${p.IssuedLicenses} issued`;
    if (!was) out.push(`key pack added: ${text}`);
    else if (!same(was, p)) out.push(`key pack changed: ${text} (was ${was.TotalLicenses} licenses, ${was.IssuedLicenses} issued)`);
  }
  for (const [id, p] of packsBefore) if (!packsAfter.has(id)) out.push(`key pack removed: ${id} ${p.TypeAndModel} ${p.ProductVersion}`);
  if (b === null || b.licensingType !== after.licensingType)
    out.push(`licensing mode: ${b ? modeName(b.licensingType) : "-"} -> ${modeName(after.licensingType)}`);
  if (after.effectiveLicensingType !== after.licensingType && (b === null || b.effectiveLicensingType !== after.effectiveLicensingType)) {
    out.push(`effective licensing mode (Group Policy): ${modeName(after.effectiveLicensingType)}`);
  }
  if (b === null || !same(b.licenseServers, after.licenseServers))
    out.push(`license servers: ${b ? list(b.licenseServers) : "-"} -> ${list(after.licenseServers)}`);
  if (
    after.isConnectionBroker &&
    (b === null || b.deploymentMode !== after.deploymentMode || !same(b.deploymentLicenseServers, after.deploymentLicenseServers))
  ) {
    out.push(
      `deployment: ${b ? `${b.deploymentMode}, ${list(b.deploymentLicenseServers)}` : "-"} -> ${after.deploymentMode}, ${list(after.deploymentLicenseServers)}`,
    );
  }
  if (b !== null && (b.sessionHostRole !== after.sessionHostRole || b.sessionHostRolePending !== after.sessionHostRolePending)) {
    const role = (s: HostSummary) =>
      s.sessionHostRole ? "installed" : s.sessionHostRolePending ? "install pending (restart)" : "not installed";
    out.push(`RD Session Host role: ${role(b)} -> ${role(after)}`);
  }
  if (b !== null && b.restarts !== after.restarts) out.push(`restarts: ${after.restarts - b.restarts}`);
  return out;
}

/** The selected host first, then every other host the script changed (or created). */
export function hostChanges(r: RunResult): HostChanges[] {
  const names = [r.host, ...Object.keys(r.hosts).filter((h) => h !== r.host)];
  const out: HostChanges[] = [];
  for (const name of names) {
    const h = r.hosts[name];
    if (!h) continue;
    const changes = changesOf(h.before, h.after);
    if (name === r.host || changes.length > 0) out.push({ host: name, created: h.before === null, changes });
  }
  return out;
}

export function formatRun(r: RunResult, scriptName: string): string[] {
  const lines: string[] = [];
  lines.push(`Ran ${printable(scriptName)} on ${printable(r.host)}${r.fresh ? " (fresh state)" : ""}`);
  lines.push("", "Output");
  if (r.output.length === 0) lines.push("  none");
  for (const rec of r.output) {
    const prefix = rec.stream === "output" || rec.stream === "information" ? "" : `${rec.stream.toUpperCase()}: `;
    for (const l of rec.text.split(/\r?\n/)) lines.push(`  ${prefix}${printable(l)}`);
  }
  lines.push(
    "",
    `Exit code ${r.exitCode}${r.terminated ? " (stopped by a terminating error)" : ""}, ${r.errors.length} error${r.errors.length === 1 ? "" : "s"}`,
  );
  for (const change of hostChanges(r)) {
    lines.push("", `Changes on ${printable(change.host)}${change.created ? " (created)" : ""}`);
    lines.push(...(change.changes.length > 0 ? change.changes.map((c) => `  ${c}`) : ["  none"]));
  }
  lines.push("", `Calls (${r.calls.length})`);
  if (r.calls.length === 0) lines.push("  none");
  else
    lines.push(
      ...table(
        ["HOST", "CMDLET", "CLASS", "METHOD", "RESULT"],
        r.calls.map((c) => [
          c.host,
          c.cmdlet ?? "-",
          c.className ?? "-",
          (c.method ?? "-") + (Array.isArray(c.properties) && c.properties.length ? ` (${c.properties.join(", ")})` : ""),
          typeof c.result === "number" ? wbem(c.result) : String(c.result ?? "-"),
        ]),
      ).map((l) => `  ${l}`),
    );
  return lines;
}
