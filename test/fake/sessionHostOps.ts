/**
 * The RdsSessionHostLicensing operation scripts (provider/resources/sessionHostLicensing/*.ps1) in the
 * fake world: read (get.ps1), set, packs (run on a license server), reset; for scope "sessionHost"
 * (Win32_TerminalServiceSetting and the Group Policy values) and "deployment" (the RDMS cmdlets on a
 * connection broker). Verified against the emulator by test/fake/world.contract.test.ts.
 */
import {
  BUILT_IN_PACK,
  computerSystem,
  effectiveLicensingType,
  fqdn,
  os,
  OS_TABLE,
  packView,
  policyServerList,
  serviceStatus,
  type FakeHost,
} from "./host";
import { assertLicensingService, guarded } from "./licenseServerOps";
import { cim, scriptError, wmiCall, ScriptFailure, type ScriptCtx } from "./script";
import { WBEM, WmiFault } from "./wmi";

type Args = Record<string, unknown>;
const TS = "Win32_TerminalServiceSetting";
const RDMS_MODE: Record<number, string> = { 2: "PerDevice", 4: "PerUser", 5: "NotConfigured" };

/** The RDMS cmdlets' broker check (Assert-RdsBroker): faults first, then "no deployment here". */
function assertBroker(c: ScriptCtx): void {
  if (c.h.faults.providerFailure) throw new WmiFault(WBEM.PROVIDER_FAILURE, "the RD Management Service failed", true);
  if (c.h.faults.accessDenied)
    throw new WmiFault(WBEM.ACCESS_DENIED, "Access denied (the caller is not an administrator of the RD Connection Broker)", true);
  if (!c.h.config.isConnectionBroker) {
    throw new ScriptFailure({
      code: "SCRIPT_EXCEPTION",
      message: `A Remote Desktop Services deployment does not exist on ${c.target}. This operation can be performed after creating a deployment. (The emulated host is not an RD Connection Broker: set isConnectionBroker.)`,
      exceptionType: "System.InvalidOperationException",
    });
  }
}

/** Set-RDLicenseConfiguration -Force. */
function setRdLicenseConfiguration(c: ScriptCtx, mode: string | null, servers: string[] | null): void {
  if (servers !== null && servers.some((n) => n === null || n.trim() === "")) {
    throw new ScriptFailure({
      code: "SCRIPT_EXCEPTION",
      message: "LicenseServer must not contain empty names",
      exceptionType: "System.ArgumentException",
    });
  }
  assertBroker(c);
  const d = c.h.deployment;
  d.useCentralLicensingSettings = true;
  if (mode !== null) d.licensingType = mode === "PerUser" ? 4 : mode === "PerDevice" ? 2 : 5;
  if (servers !== null) d.licenseServers = [...servers];
}

function policy(h: FakeHost): { licensingMode: number | null; licenseServers: string | null } {
  return { licensingMode: h.groupPolicy.LicensingMode, licenseServers: h.groupPolicy.LicenseServers };
}

/** The world's answer to "which host is that name?" (world.ts passes it with every script). */
type PeerCtx = ScriptCtx & { peer?: (name: string) => FakeHost | undefined };

/** TStoLSConnectivityStatus: name and meaning (Connectivity.Common.ps1's table, in the values the emulator answers). */
const CONNECTIVITY: Record<number, [string, string]> = {
  1: ["LS_CONNECTABLE_VALID_WS08R2", "Remote Desktop Services can connect to the Windows Server 2008 R2 license server."],
  4: [
    "LS_CONNECTABLE_LOWER_VERSION",
    "Remote Desktop Services can connect to the license server, but the license server and this session host are incompatible (the license server is older).",
  ],
  6: ["LS_NOT_CONNECTABLE", "Remote Desktop Services cannot connect to the license server."],
  7: ["LS_CONNECTABLE_UNKNOWN_VALIDITY", "The license server can be reached, but the validity of the connection cannot be determined."],
  8: [
    "LS_CONNECTABLE_BUT_ACCESS_DENIED",
    "Remote Desktop Services can connect to the license server, but the account has no administrator rights on it.",
  ],
  10: ["LS_CONNECTABLE_FEATURE_NOT_SUPPORTED", "The license server can be reached, but the feature is not supported."],
  11: ["LS_CONNECTABLE_VALID_LS", "The license server is valid."],
};

/**
 * GetTStoLSConnectivityStatus as the emulator answers it (no network cuts or restarts in the fake world).
 * Reached only after GetSpecifiedLicenseServerList succeeded, so the host's own faults have already spoken.
 */
function connectivityStatus(c: PeerCtx, server: string): number {
  const ls = c.peer?.(server);
  if (!ls || serviceStatus(ls) !== "Running") return 6;
  if (ls.faults.accessDenied) return 8;
  const rank = (v: string) => Object.keys(OS_TABLE).indexOf(v);
  if (rank(ls.config.osVersion) < rank(c.h.config.osVersion)) return 4;
  if (!ls.licenseServer.activated) return 7;
  const mode = effectiveLicensingType(c.h);
  const productType = mode === 2 ? 0 : mode === 4 ? 1 : null;
  if (productType !== null && !ls.licenseServer.keyPacks.some((p) => p.ProductType === productType && p.TotalLicenses > 0)) return 10;
  return c.h.config.osVersion === "2008R2" ? 1 : 11;
}

function connectivity(c: PeerCtx, servers: string[]): unknown[] {
  return servers.map((licenseServer) => {
    const status = connectivityStatus(c, licenseServer);
    const [name, meaning] = CONNECTIVITY[status]!;
    return { licenseServer, status, name, meaning, ok: status === 1 || status === 11 };
  });
}

function read(c: ScriptCtx, a: Args): unknown {
  const scope = String(a.scope ?? "");
  cim(c, "Win32_OperatingSystem");
  const cs = computerSystem(c.h);
  const o = os(c.h);
  const result: Record<string, unknown> = {
    scope,
    serverName: fqdn(c.h),
    terminalServerMode: null,
    licensingType: null,
    rdmsMode: null,
    policySourceLicensingType: null,
    policySourceConfiguredLicenseServers: null,
    licenseServers: [],
    policy: { licensingMode: null, licenseServers: null },
    gracePeriodDaysLeft: null,
    os: { caption: o.caption, version: o.version, buildNumber: o.build },
    partOfDomain: cs.PartOfDomain,
    domain: cs.Domain,
    connectivity: [],
  };
  if (scope === "deployment") {
    assertBroker(c);
    result.rdmsMode = RDMS_MODE[c.h.deployment.licensingType] ?? null;
    result.licenseServers = [...c.h.deployment.licenseServers];
    return result;
  }
  cim(c, TS);
  result.terminalServerMode = c.h.config.sessionHostRole ? 1 : 0;
  result.licensingType = effectiveLicensingType(c.h);
  result.policySourceLicensingType = c.h.groupPolicy.LicensingMode !== null ? 1 : 0;
  result.policySourceConfiguredLicenseServers = c.h.groupPolicy.LicenseServers !== null ? 1 : 0;
  result.licenseServers = [...(wmiCall(c, TS, "GetSpecifiedLicenseServerList").SpecifiedLSList as string[])];
  result.gracePeriodDaysLeft = wmiCall(c, TS, "GetGracePeriodDays").DaysLeft;
  result.policy = policy(c.h);
  const listed = c.h.groupPolicy.LicenseServers !== null ? policyServerList(c.h.groupPolicy.LicenseServers.replace(/;/g, ",")) : null;
  result.connectivity = connectivity(c, listed ?? (result.licenseServers as string[]));
  return result;
}

function set(c: ScriptCtx, a: Args): unknown {
  const mode = a.mode ?? null;
  const servers = (a.licenseServers ?? null) as string[] | null;
  const calls: string[] = [];
  if (mode !== null && mode !== "perUser" && mode !== "perDevice")
    throw scriptError("VALIDATION", `mode must be perUser or perDevice, got '${String(mode)}'`);
  if (a.scope === "deployment") {
    if (mode !== null || servers !== null) {
      setRdLicenseConfiguration(c, mode === null ? null : mode === "perUser" ? "PerUser" : "PerDevice", servers);
      calls.push("Set-RDLicenseConfiguration");
    }
    return { calls };
  }
  cim(c, TS);
  if (mode !== null) {
    wmiCall(c, TS, "ChangeMode", { LicensingType: mode === "perUser" ? 4 : 2 });
    calls.push("ChangeMode");
  }
  if (servers !== null) {
    wmiCall(c, TS, "SetSpecifiedLicenseServerList", { SpecifiedLSList: servers.map(String) });
    calls.push("SetSpecifiedLicenseServerList");
  }
  return { calls };
}

function reset(c: ScriptCtx, a: Args): unknown {
  const calls: string[] = [];
  const skipped: string[] = [];
  if (a.scope === "deployment") {
    setRdLicenseConfiguration(c, "NotConfigured", []);
    calls.push("Set-RDLicenseConfiguration");
    return { calls, skipped };
  }
  const p = policy(c.h);
  cim(c, TS);
  if (p.licenseServers !== null) {
    skipped.push("licenseServers: a Group Policy sets the license server list; it was left alone");
  } else {
    wmiCall(c, TS, "EmptySpecifiedLicenseServerList");
    calls.push("EmptySpecifiedLicenseServerList");
  }
  skipped.push('mode: ChangeMode cannot set "not configured"; the mode was left as it is');
  return { calls, skipped };
}

/** packs.ps1, on a license server: the wanted packs in enumeration order (the built-in one included), and the missing ids. */
function packs(c: ScriptCtx, a: Args): unknown {
  const wanted = ((a.keyPackIds ?? []) as unknown[]).filter((x) => x !== null).map(Number);
  const serverName = computerSystem(c.h).DNSHostName;
  assertLicensingService(c);
  cim(c, "Win32_TSLicenseKeyPack");
  const seen = new Set<number>();
  const found = [];
  for (const p of [BUILT_IN_PACK, ...c.h.licenseServer.keyPacks]) {
    if (!wanted.includes(p.KeyPackId) || seen.has(p.KeyPackId)) continue;
    // A leftover row (TotalLicenses 0) holds no CALs: left out, so its id lands in `missing`.
    if (p.TotalLicenses === 0) continue;
    seen.add(p.KeyPackId);
    const v = packView(p);
    found.push({
      keyPackId: p.KeyPackId,
      productType: p.ProductType,
      productVersionId: p.ProductVersionID,
      productVersion: v.ProductVersion,
      typeAndModel: v.TypeAndModel,
      totalLicenses: p.TotalLicenses,
      issuedLicenses: p.IssuedLicenses,
      availableLicenses: p.AvailableLicenses,
    });
  }
  const missing = [...new Set(wanted.filter((id) => !seen.has(id)))];
  return { serverName, packs: found, missing };
}

/** LastBootUpTime as boot.ps1 and role.ps1 report it (only a change matters to the provider). */
const lastBoot = (h: FakeHost) => `boot-${h.config.restarts}`;

/** role.ps1: Install-WindowsFeature RDS-RD-Server unless the role is there or pending (then a restart finishes it). */
function role(c: ScriptCtx): unknown {
  const h = c.h;
  cim(c, TS);
  if (h.config.sessionHostRole) return { installedNow: false, restartNeeded: false, lastBootUpTime: lastBoot(h) };
  if (h.config.sessionHostRolePending) return { installedNow: false, restartNeeded: true, lastBootUpTime: lastBoot(h) };
  h.config.sessionHostRolePending = true;
  return { installedNow: true, restartNeeded: true, lastBootUpTime: lastBoot(h) };
}

/** restart.ps1: the restart (instant here; a test models the time the host is away around the runner). */
function restart(c: ScriptCtx): unknown {
  const h = c.h;
  if (h.config.sessionHostRolePending) {
    h.config.sessionHostRolePending = false;
    h.config.sessionHostRole = true;
  }
  h.config.restarts += 1;
  return { requested: true };
}

/** boot.ps1: the boot the host is in, and its TerminalServerMode. */
function boot(c: ScriptCtx): unknown {
  cim(c, TS);
  return { lastBootUpTime: lastBoot(c.h), terminalServerMode: c.h.config.sessionHostRole ? 1 : 0 };
}

export const SESSION_HOST_SCRIPTS: Record<string, (c: ScriptCtx, a: Args) => unknown> = {
  role: (c) => guarded(() => role(c)),
  restart: (c) => guarded(() => restart(c)),
  boot: (c) => guarded(() => boot(c)),
  get: (c, a) => guarded(() => read(c, a)),
  set: (c, a) => guarded(() => set(c, a)),
  reset: (c, a) => guarded(() => reset(c, a)),
  packs: (c, a) => guarded(() => packs(c, a)),
};
