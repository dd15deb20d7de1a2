/**
 * The RdsLicenseServer operation scripts (provider/resources/licenseServer/*.ps1) in the fake world:
 * install, wait, get, set, activate, deactivate, group. Each follows its script step by step (same checks,
 * same order, same messages), over the fake WMI. Verified against the emulator by
 * test/fake/world.contract.test.ts.
 *
 * The Active Directory facts (the Terminal Server License Servers group, the SCP) and the CAL usage the
 * fake's WMI does not model (issued per-device rows, per-user users) live on the host object as
 * `directory` (directoryOf): get.ps1 and group.ps1 read them here with the scripts' words, the admin's
 * config and issue actions (admin.ts) set them.
 */
import { computerSystem, CONTACT_FIELDS, fqdn, os, productIdOf, roleInstalled, serviceStatus, type FakeHost } from "./host";
import { cim, returnValueOf, scriptError, uncaught, wmiCall, type ScriptCtx } from "./script";
import { setContact, WBEM, WmiFault } from "./wmi";
import { CONTACT_FIELDS as INPUT_CONTACT_FIELDS } from "../../provider/resources/licenseServer/schema";

type Args = Record<string, unknown>;
const LS = "Win32_TSLicenseServer";
const NOT_READY = new Set<number>([WBEM.INVALID_CLASS, 0x8004100e, WBEM.NOT_FOUND]);

/** Get-LsInstance: the singleton (with `denied` when its properties are hidden), or null when the class does not answer. */
function lsInstance(c: ScriptCtx): { denied: boolean } | null {
  try {
    return cim(c, LS);
  } catch (e) {
    if (e instanceof WmiFault && NOT_READY.has(e.code)) return null;
    throw e;
  }
}

function activationStatus(c: ScriptCtx): number {
  return Number(wmiCall(c, LS, "GetActivationStatus").ActivationStatus ?? 2);
}

function liveContact(c: ScriptCtx, denied: boolean): Record<string, string> {
  return Object.fromEntries(INPUT_CONTACT_FIELDS.map((f, i) => [f, denied ? "" : (c.h.licenseServer.contact[CONTACT_FIELDS[i]] ?? "")]));
}

const NOT_ANSWERING = "Win32_TSLicenseServer does not answer: the RDS-Licensing role is missing or its service is not running";

/** Assert-RdsLicensingService (RdsCommon.psm1): CLASS_NOT_READY unless TermServLicensing is Running. */
export function assertLicensingService(c: ScriptCtx): void {
  const s = serviceStatus(c.h);
  const status = s === null ? "not installed: install the RDS-Licensing role first" : s;
  if (status === "Running") return;
  throw scriptError(
    "CLASS_NOT_READY",
    `the Remote Desktop Licensing service (TermServLicensing) is ${status}; the licensing ` +
      "classes answer only while it runs: start it (Start-Service -Name TermServLicensing), check the event log, then run again",
  );
}

function install(c: ScriptCtx, a: Args): unknown {
  if (a.requireDomain === true && !computerSystem(c.h).PartOfDomain) throw scriptError("VALIDATION", WORKGROUP_REFUSAL);
  if (roleInstalled(c.h)) return { installedNow: false, restartNeeded: false };
  if (!a.installRole) {
    throw scriptError(
      "CLASS_NOT_READY",
      "the RDS-Licensing role is not installed and installRole is false: install it (Install-WindowsFeature RDS-Licensing -IncludeManagementTools) or set installRole to true",
    );
  }
  if (c.h.faults.accessDenied)
    throw new WmiFault(WBEM.ACCESS_DENIED, "Install-WindowsFeature requires elevation (the caller is not a local administrator)", true);
  c.h.features["RDS-Licensing"] = true;
  c.h.features["RDS-Licensing-UI"] = true;
  c.h.service = "Running";
  return { installedNow: true, restartNeeded: false };
}

/** wait.ps1, on a virtual clock: each poll "sleeps" its interval, so the bound is reached without waiting. */
function wait(c: ScriptCtx, a: Args): unknown {
  const timeoutMs = Number(a.timeoutSeconds) * 1000;
  let poll = Math.max(1, Number(a.firstPollMs));
  const maxPoll = Math.max(poll, Number(a.maxPollMs));
  if (!roleInstalled(c.h))
    throw scriptError("CLASS_NOT_READY", "the RDS-Licensing role is not installed: Win32_TSLicenseServer cannot answer");
  let elapsed = 0;
  let attempts = 0;
  let serviceStarted = false;
  for (;;) {
    attempts++;
    let status = serviceStatus(c.h) ?? "";
    if (status === "Stopped") {
      if (c.h.faults.accessDenied)
        throw new WmiFault(
          WBEM.ACCESS_DENIED,
          "Service 'Remote Desktop Licensing (TermServLicensing)' cannot be started: access is denied",
          true,
        );
      c.h.service = "Running";
      serviceStarted = true;
      status = "Running";
    }
    if (status === "Running" && lsInstance(c) !== null) break;
    const remaining = timeoutMs - elapsed;
    if (remaining <= 0) {
      throw scriptError(
        "CLASS_NOT_READY",
        `Win32_TSLicenseServer did not answer within ${String(a.timeoutSeconds)} s (${attempts} attempts; TermServLicensing service: ${status || "not found"}): ` +
          "check the Remote Desktop Licensing service and the event log, then run again",
      );
    }
    elapsed += Math.max(1, Math.min(poll, remaining));
    poll = Math.min(poll * 2, maxPoll);
  }
  return { attempts, waitedMs: elapsed, serviceStarted };
}

/** What the fake keeps of Active Directory and CAL usage for a host (absent: not in the group, no SCP, nothing issued). */
export interface FakeDirectory {
  member: boolean;
  scpRegistered: boolean;
  /** Active per-device licenses (Win32_TSIssuedLicense rows, status 2). */
  devices: { device: string; keyPackId: number; expires: string }[];
  /** Users holding a per-user CAL (the per-user report's entries). */
  perUserIssued: number;
}

export function directoryOf(h: FakeHost): FakeDirectory {
  const d = h as FakeHost & { directory?: FakeDirectory };
  d.directory ??= { member: false, scpRegistered: false, devices: [], perUserIssued: 0 };
  return d.directory;
}

/** Get-LsLicenseServersGroup (Directory.Common.ps1). */
function licenseServersGroup(c: ScriptCtx) {
  const cs = computerSystem(c.h);
  if (!cs.PartOfDomain) {
    return {
      domainJoined: false,
      domain: null,
      member: null,
      scpRegistered: null,
      readError:
        "the license server is in a workgroup: there is no domain Terminal Server License Servers group or service connection point",
    };
  }
  const d = directoryOf(c.h);
  return { domainJoined: true, domain: cs.Domain, member: d.member, scpRegistered: d.scpRegistered, readError: null };
}

const CAL_VERSION_NAMES: Record<number, string> = { 2: "2008R2", 3: "2008R2", 4: "2012", 5: "2016", 6: "2019", 7: "2022", 8: "2025" };

/** Get-LsCalUsage (Usage.Common.ps1). */
function calUsage(c: ScriptCtx, group: ReturnType<typeof licenseServersGroup>) {
  const packs = c.h.licenseServer.keyPacks
    .filter((p) => (p.ProductType === 0 || p.ProductType === 1) && p.ProductVersionID >= 2 && p.TotalLicenses > 0)
    .map((p) => ({
      keyPackId: p.KeyPackId,
      calType: p.ProductType === 1 ? "perUser" : "perDevice",
      productVersion: CAL_VERSION_NAMES[p.ProductVersionID] ?? String(p.ProductVersionID),
      installed: p.TotalLicenses,
      issued: p.IssuedLicenses,
      available: p.AvailableLicenses,
    }));
  const installed = packs.filter((p) => p.calType === "perUser").reduce((n, p) => n + p.installed, 0);
  const perUser: { installed: number; issued: number | null; reportAvailable: boolean; reason: string | null } = {
    installed,
    issued: null,
    reportAvailable: false,
    reason: null,
  };
  const d = directoryOf(c.h);
  if (!group.domainJoined) {
    perUser.reason = "the license server is in a workgroup: per-user CALs are tracked in Active Directory, so there is no per-user report";
  } else if (!group.member) {
    perUser.reason =
      "the license server is not in the Terminal Server License Servers group: per-user CAL tracking and reporting do not work without it (addToLicenseServersGroup adds it)";
  } else {
    perUser.issued = d.perUserIssued;
    perUser.reportAvailable = true;
  }
  const sorted = [...d.devices].sort((a, b) => (a.expires < b.expires ? -1 : a.expires > b.expires ? 1 : 0));
  return { packs, perDevice: { total: d.devices.length, listed: sorted.slice(0, 50), limit: 50 }, perUser };
}

function get(c: ScriptCtx): unknown {
  const role = roleInstalled(c.h);
  let server = null;
  if (role && serviceStatus(c.h) === "Running") {
    const inst = lsInstance(c);
    if (inst !== null) {
      const status = activationStatus(c);
      const licenseServerId = status === 0 ? String(wmiCall(c, LS, "GetLicenseServerId").sLicenseServerId ?? "") : "";
      server = {
        serverName: fqdn(c.h),
        productId: inst.denied ? "" : productIdOf(c.h),
        version: inst.denied ? "" : os(c.h).version,
        activationStatus: status,
        licenseServerId,
        serverRole: inst.denied ? null : c.h.licenseServer.serverRole,
        contact: liveContact(c, inst.denied),
      };
    }
  }
  const group = server === null ? null : licenseServersGroup(c);
  return {
    roleInstalled: role,
    serviceStatus: serviceStatus(c.h) ?? "",
    classReady: server !== null,
    server,
    licenseServersGroup: group,
    calUsage: group === null ? null : calUsage(c, group),
  };
}

const WORKGROUP_REFUSAL =
  "addToLicenseServersGroup is true but the license server is in a workgroup: the Terminal Server License Servers " +
  "group is a domain group; join the server to a domain, or remove addToLicenseServersGroup";

/** group.ps1: AddLStoTSLSGroup only when not a member; access denied names Domain Admins. */
function group(c: ScriptCtx): unknown {
  assertLicensingService(c);
  if (!computerSystem(c.h).PartOfDomain) throw scriptError("VALIDATION", WORKGROUP_REFUSAL);
  const d = directoryOf(c.h);
  if (d.member) return { added: false, member: true };
  if (c.h.config.callerRights === "localAdmin") {
    throw scriptError(
      "ACCESS_DENIED",
      "AddLStoTSLSGroup was refused (WBEM_E_ACCESS_DENIED, 0x80041003): adding the license server to the domain's " +
        "Terminal Server License Servers group needs a member of Domain Admins; the connection's account is not one: " +
        "run with an account in Domain Admins, have a domain administrator add the server's computer account to the group " +
        "(RD Licensing Manager, Review Configuration, Add to Group), or remove addToLicenseServersGroup",
      { method: "AddLStoTSLSGroup", className: LS },
    );
  }
  d.member = true;
  return { added: true, member: true };
}

/** Assert-LsContactApplied (LicenseServer.Common.ps1): read back; WRITE_NOT_APPLIED names what did not take. */
function assertContactApplied(c: ScriptCtx, written: Record<string, string>): void {
  const inst = lsInstance(c);
  const after = liveContact(c, inst === null || inst.denied);
  const notApplied = INPUT_CONTACT_FIELDS.map((f, i) => [f, CONTACT_FIELDS[i]] as const)
    .filter(([f, wmi]) => after[f] !== written[wmi])
    .map(([, wmi]) => wmi);
  if (notApplied.length > 0) {
    throw scriptError(
      "WRITE_NOT_APPLIED",
      `Set-CimInstance on ${LS} reported success, but reading it back shows ${notApplied.join(", ")} still not holding the value written: ` +
        "the licensing WMI provider did not apply the contact; check the TermServLicensing service and its event log, set the contact in RD Licensing Manager (Properties) if it persists, then run again",
      { className: LS },
    );
  }
}

const ROLE_RIGHTS: Record<number, [string, string]> = { 1: ["domain", "Domain Admins"], 2: ["forest", "Enterprise Admins"] };

/** Assert-LsChangeRoleAllowed (LicenseServer.Common.ps1): ChangeRole refused with access denied names the group. */
function assertChangeRoleAllowed(e: unknown, role: number): void {
  const rights = ROLE_RIGHTS[role];
  if (returnValueOf(e) !== WBEM.ACCESS_DENIED || !rights) return;
  const [scope, group] = rights;
  throw scriptError(
    "ACCESS_DENIED",
    `ChangeRole ${role} was refused (WBEM_E_ACCESS_DENIED, 0x80041003): discoveryScope "${scope}" needs a member of ${group}; ` +
      `the connection's account must be a local administrator on the license server and a member of ${group}: ` +
      `add it to ${group}, or declare a narrower discoveryScope (or none, to leave the scope as it is)`,
    { method: "ChangeRole", className: LS },
  );
}

function set(c: ScriptCtx, a: Args): unknown {
  assertLicensingService(c);
  const inst = lsInstance(c);
  if (inst === null) throw scriptError("CLASS_NOT_READY", NOT_ANSWERING);
  const changed: string[] = [];
  const contact = a.contact as Record<string, unknown> | null;
  if (contact !== null && contact !== undefined) {
    const live = liveContact(c, inst.denied);
    const properties: Record<string, string> = {};
    INPUT_CONTACT_FIELDS.forEach((field, i) => {
      const value = contact[field] !== undefined && contact[field] !== null ? String(contact[field]) : "";
      properties[CONTACT_FIELDS[i]] = value;
      if (live[field] !== value) changed.push(CONTACT_FIELDS[i]);
    });
    if (changed.length > 0) {
      // One Set-CimInstance with all ten properties, then read back (see set.ps1).
      setContact(c.h, properties);
      assertContactApplied(c, properties);
    }
  }
  let roleChanged = false;
  if (a.serverRole !== null && a.serverRole !== undefined) {
    const have = inst.denied ? null : c.h.licenseServer.serverRole;
    if (have === null || have !== Number(a.serverRole)) {
      try {
        wmiCall(c, LS, "ChangeRole", { ServerRole: Number(a.serverRole) });
      } catch (e) {
        assertChangeRoleAllowed(e, Number(a.serverRole));
        throw e;
      }
      roleChanged = true;
    }
  }
  return { changedProperties: changed, roleChanged };
}

const ACTIVATION_CALLS = ["ActivateServerAutomatic", "ActivateServer"];

function activate(c: ScriptCtx, a: Args): unknown {
  const call = String(a.call);
  if (!ACTIVATION_CALLS.includes(call))
    throw scriptError("VALIDATION", `unknown activation call '${call}' (expected one of: ${ACTIVATION_CALLS.join(", ")})`);
  assertLicensingService(c);
  const inst = lsInstance(c);
  if (inst === null) throw scriptError("CLASS_NOT_READY", NOT_ANSWERING);
  const before = activationStatus(c);
  if (before === 0) return { call: "none", activationStatus: 0 };
  if (before !== 1) {
    throw scriptError(
      "ACTIVATION_STATUS_UNKNOWN",
      `GetActivationStatus reports ${before} (the activation state cannot be determined), so ${call} was not attempted: ` +
        "check the license server in RD Licensing Manager and its event log, then run again",
    );
  }
  const productId = inst.denied ? "" : productIdOf(c.h);
  const invoke = (name: string) =>
    wmiCall(c, LS, name, name === "ActivateServer" ? { sLicenseServerId: String(a.licenseServerId ?? "") } : {});
  const typed = (e: unknown, name: string): unknown => {
    const code = returnValueOf(e);
    if (code === WBEM.NOT_AVAILABLE && name.endsWith("Automatic")) {
      return scriptError(
        "CLEARINGHOUSE_UNREACHABLE",
        `${name} could not reach the Microsoft Clearinghouse (WBEM_E_NOT_AVAILABLE, 0x80041009): ` +
          "allow outbound HTTPS (TCP 443) from the license server, or activate without Internet access: " +
          `set activation.method to "web" (https://activate.microsoft.com, from any computer with a browser) or "telephone", with product id ${productId}`,
        { method: name, className: LS },
      );
    }
    if (code === WBEM.INVALID_PARAMETER && !name.endsWith("Automatic")) {
      return scriptError(
        "REJECTED",
        `the Clearinghouse did not accept activation.licenseServerId for product id ${productId} (${name} returned WBEM_E_INVALID_PARAMETER, 0x80041008): ` +
          "check that you copied all 35 characters and that the id was issued for this product id (a rebuilt server has a new product id and needs a new license server id); nothing was changed",
        { method: name, className: LS },
      );
    }
    return e;
  };
  let reported: unknown;
  try {
    reported = invoke(call).ActivationStatus;
  } catch (e) {
    throw typed(e, call);
  }
  const after = activationStatus(c);
  if (after !== 0) {
    throw scriptError(
      "WMI_ERROR",
      `${call} returned success but GetActivationStatus reports ${after} (the method said ${String(reported)})`,
      { method: call, className: LS, returnValue: WBEM.FAILED },
    );
  }
  return { call, activationStatus: after };
}

function deactivate(c: ScriptCtx): unknown {
  if (!roleInstalled(c.h)) return { call: "none", activationStatus: null };
  assertLicensingService(c);
  if (lsInstance(c) === null) {
    throw scriptError(
      "CLASS_NOT_READY",
      "Win32_TSLicenseServer does not answer (is the TermServLicensing service running?), so the server cannot be deactivated",
    );
  }
  const status = activationStatus(c);
  if (status === 2) {
    throw scriptError(
      "ACTIVATION_STATUS_UNKNOWN",
      "GetActivationStatus reports 2 (the activation state cannot be determined), so DeactivateServerAutomatic was not attempted " +
        "and the server may still be activated: check the license server in RD Licensing Manager and its event log, then run destroy again",
    );
  }
  if (status !== 0) return { call: "none", activationStatus: status };
  try {
    wmiCall(c, LS, "DeactivateServerAutomatic");
  } catch (e) {
    if (returnValueOf(e) === WBEM.NOT_AVAILABLE) {
      throw scriptError(
        "CLEARINGHOUSE_UNREACHABLE",
        "DeactivateServerAutomatic could not reach the Microsoft Clearinghouse (WBEM_E_NOT_AVAILABLE, 0x80041009); the server stays activated. " +
          "Deactivation works only automatically (Internet) or by telephone: allow outbound HTTPS (TCP 443) and run destroy again, " +
          "or deactivate by telephone in RD Licensing Manager (the operator gives you a confirmation code), then run destroy again; " +
          "or set deactivateOnDelete to false and run pulumi up first to leave the activation in place",
        { method: "DeactivateServerAutomatic", className: LS },
      );
    }
    throw e;
  }
  return { call: "DeactivateServerAutomatic", activationStatus: activationStatus(c) };
}

/** The scripts by file name (the runner names the operation `licenseServer.<name>`). */
export const LICENSE_SERVER_SCRIPTS: Record<string, (c: ScriptCtx, a: Args) => unknown> = {
  install: (c, a) => guarded(() => install(c, a)),
  wait: (c, a) => guarded(() => wait(c, a)),
  get: (c) => guarded(() => get(c)),
  set: (c, a) => guarded(() => set(c, a)),
  activate: (c, a) => guarded(() => activate(c, a)),
  deactivate: (c) => guarded(() => deactivate(c)),
  group: (c) => guarded(() => group(c)),
};

/** Anything the script did not catch ends as its error document. */
export function guarded(body: () => unknown): unknown {
  try {
    return body();
  } catch (e) {
    throw uncaught(e);
  }
}
