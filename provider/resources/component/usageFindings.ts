/**
 * The findings about what the resources read live beyond the licensing settings: the license server's
 * place in Active Directory (RDS-LIC-009), its CAL usage (010 over-allocation, 011 expiring Per Device
 * licenses, 012 packs of a type no host uses) and each session host's connectivity to its license
 * servers (013). Pure functions of the input: each returns its verdict, or undefined when the facts it
 * needs are absent (an older caller, a read that could not tell), so such a finding is not reported.
 * The clock is data (`now`): nothing here reads the wall clock.
 */
import type { Mode } from "../sessionHostLicensing/rules";
import type { ConnectivityEntry } from "../sessionHostLicensing/connectivity";

/** The license server's membership of its domain's "Terminal Server License Servers" group (RdsLicenseServer.licenseServersGroup). */
export interface LicenseServersGroupFacts {
  domainJoined: boolean;
  domain: string | null;
  /** null: not in a domain, or the read was refused. */
  member: boolean | null;
  scpRegistered: boolean | null;
}

/** CAL usage on the license server (RdsLicenseServer.calUsage). */
export interface CalUsageFacts {
  /** Packs with CALs (leftover rows are not listed). */
  packs: { keyPackId: number; calType: string; productVersion: string; installed: number; issued: number; available: number }[];
  /** Active Per Device licenses: `total` of them, the `limit` soonest to expire `listed` (ISO 8601 UTC expiry). */
  perDevice: { total: number; listed: { device: string; keyPackId: number; expires: string }[]; limit: number };
  /** Per User CALs in use from the per-user report; `issued` null (with `reason`) where the domain does not allow it. */
  perUser: { installed: number; issued: number | null; reportAvailable: boolean; reason: string | null };
}

/** What one check concluded: pass or fail, the fix, the detail. */
export interface Verdict {
  ok: boolean;
  fix: string;
  detail: string;
}

/** A host as these checks need it. */
interface HostFacts {
  name: string;
  effectiveMode: string;
  connectivity?: ConnectivityEntry[];
}

/** Per Device licenses renewed within this many days of expiry are RDS-LIC-011's concern. */
export const EXPIRY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

function sum(values: number[]): number {
  return values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
}

/**
 * RDS-LIC-009: Per User CALs are tracked in Active Directory, which works only while the license server
 * is in its domain's "Terminal Server License Servers" group. Not reported without the group facts, nor
 * when the membership could not be read (member null in a domain): the check cannot tell.
 */
export function licenseServersGroupVerdict(
  mode: Mode,
  serverName: string,
  group: LicenseServersGroupFacts | undefined,
): Verdict | undefined {
  if (group === undefined) return undefined;
  const fix = `add ${serverName} to the group: RdsLicenseServer addToLicenseServersGroup: true (needs Domain Admins), or RD Licensing Manager's "Add to Group"`;
  if (mode !== "perUser") return { ok: true, fix, detail: "mode is Per Device: the group matters only for Per User tracking" };
  if (!group.domainJoined) {
    return { ok: true, fix, detail: `${serverName} is in a workgroup: there is no group (Per User needs a domain, RDS-LIC-007)` };
  }
  if (group.member === null) return undefined;
  const where = `the Terminal Server License Servers group of ${group.domain ?? "its domain"}`;
  return group.member
    ? { ok: true, fix: "nothing to do; keep it in the group (refresh shows a removal)", detail: `${serverName} is in ${where}` }
    : { ok: false, fix, detail: `${serverName} is not in ${where}: Per User CALs are not tracked or reported` };
}

/** RDS-LIC-010: Per User CALs in use (the per-user report) do not exceed the Per User CALs installed. */
export function perUserAllocationVerdict(serverName: string, usage: CalUsageFacts | undefined): Verdict | undefined {
  if (usage === undefined || usage.perUser.issued === null) return undefined;
  const installed = sum(usage.packs.filter((p) => p.calType === "perUser").map((p) => p.installed));
  const issued = usage.perUser.issued;
  const over = issued - installed;
  return {
    ok: over <= 0,
    fix:
      over > 0
        ? `install at least ${over} more Per User CALs on ${serverName} (an RdsCalPack with calType "perUser", or a larger quantity): the licence agreement requires one per user`
        : "nothing to do; keep Per User CALs installed for every user",
    // The reason says where the count comes from when it is not a report made now (the last tracked one).
    detail: `${issued} Per User CALs in use, ${installed} installed${over > 0 ? ` (${over} over)` : ""}${usage.perUser.reason ? `; ${usage.perUser.reason}` : ""}`,
  };
}

/**
 * RDS-LIC-011: the Per Device licenses expiring within 30 days of `now` can be renewed from the
 * available Per Device CALs. Not reported without the usage facts or without `now`.
 */
export function perDeviceExpiryVerdict(serverName: string, usage: CalUsageFacts | undefined, now: Date | undefined): Verdict | undefined {
  if (usage === undefined || now === undefined) return undefined;
  const horizon = now.getTime() + EXPIRY_WINDOW_DAYS * DAY_MS;
  const expiring = usage.perDevice.listed.filter((l) => Date.parse(l.expires) <= horizon);
  // The listing is the soonest `limit` of `total`: when all of it expires in the window, more may.
  const truncated = expiring.length === usage.perDevice.listed.length && usage.perDevice.total > usage.perDevice.listed.length;
  const available = sum(usage.packs.filter((p) => p.calType === "perDevice").map((p) => p.available));
  const count = `${truncated ? "at least " : ""}${expiring.length}`;
  const ok = expiring.length <= available;
  const soonest = expiring.length ? `, the first ${expiring[0]!.device} on ${expiring[0]!.expires.slice(0, 10)}` : "";
  return {
    ok,
    fix: ok
      ? "nothing to do; keep spare Per Device CALs for the licenses that come up for renewal"
      : `install at least ${expiring.length - available} more Per Device CALs on ${serverName} before the licenses expire (an RdsCalPack with calType "perDevice", or a larger quantity)`,
    detail: `${count} Per Device licenses expire within ${EXPIRY_WINDOW_DAYS} days${soonest}; ${available} Per Device CALs available`,
  };
}

/** A pack as RDS-LIC-012 sees it. */
type PackFacts = { keyPackId: number; calType: string; productVersion: string; installed: number };

/**
 * RDS-LIC-012 (info): every installed CAL type is the declared mode or some host's effective mode.
 * Reported when CAL usage is given; the packs are those of the usage read plus `knownPacks` (the
 * caller's own, e.g. the component's RdsCalPack outputs, fresher than a usage read taken when the
 * license server was created), once per KeyPackId.
 */
export function unusedCalTypeVerdict(
  mode: Mode,
  usage: CalUsageFacts | undefined,
  hosts: readonly HostFacts[],
  knownPacks: readonly PackFacts[] = [],
): Verdict | undefined {
  if (usage === undefined) return undefined;
  const used = new Set<string>([mode, ...hosts.map((h) => h.effectiveMode)]);
  const packs = new Map<number, PackFacts>();
  for (const p of [...usage.packs, ...knownPacks]) if (!packs.has(p.keyPackId)) packs.set(p.keyPackId, p);
  const all = [...packs.values()];
  const unused = all.filter((p) => !used.has(p.calType));
  return {
    ok: unused.length === 0,
    fix:
      unused.length === 0
        ? "nothing to do"
        : "no host uses these CALs: set a host's mode to their type, or leave them for hosts to come (they cost nothing where they are)",
    detail:
      unused.length === 0
        ? `installed CAL types: ${[...new Set(all.map((p) => p.calType))].join(", ") || "none"}; in use: ${[...used].join(", ")}`
        : `unused: ${unused.map((p) => `#${p.keyPackId} ${p.calType} ${p.productVersion} (${p.installed} CALs)`).join(", ")}`,
  };
}

/** RDS-LIC-013: each host reaches each license server in effect, and the server can license it. */
export function connectivityVerdict(hosts: readonly HostFacts[]): Verdict | undefined {
  const read = hosts.filter((h) => h.connectivity !== undefined);
  if (read.length === 0) return undefined;
  const bad = read.flatMap((h) => (h.connectivity ?? []).filter((e) => !e.ok).map((e) => ({ host: h.name, e })));
  const checked = read.reduce((n, h) => n + (h.connectivity ?? []).length, 0);
  return {
    ok: bad.length === 0,
    fix:
      bad.length === 0
        ? "nothing to do; refresh shows a license server the hosts lose"
        : "LS_NOT_CONNECTABLE: check the network (RPC) from the host to the server and that the Remote Desktop Licensing service runs there; LS_CONNECTABLE_LOWER_VERSION: use a license server at least as new as the host; otherwise: activate the server and install CALs of the host's mode (RD Licensing Diagnoser on the host tells more)",
    detail:
      bad.length === 0
        ? `${checked} host-to-server link${checked === 1 ? "" : "s"} valid`
        : bad.map(({ host, e }) => `${host} -> ${e.licenseServer}: ${e.status} ${e.name}`).join(", "),
  };
}
