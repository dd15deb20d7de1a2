/**
 * The administrator's side of the fake world: the actions test/reliability/fixtures/RelAdmin.ps1 takes
 * on the emulator (reset, config, faults, Group Policy, the Clearinghouse's ids, preparing a license
 * server, an admin's own WMI calls and contact edits), with the emulator's validation. A refused action
 * throws, as the admin script's call fails. Not modelled (refused loudly, so no test relies on them
 * silently): the call log (`calls`) and `counterStep`.
 */
import {
  CAL_VERSIONS,
  VERSION_NAME_TO_ID,
  alnumId,
  effectiveLicensingType,
  effectiveServerList,
  expectedLicenseServerId,
  newFaults,
  OS_TABLE,
  productIdOf,
  roleInstalled,
  serviceStatus,
  BUILT_IN_PACK,
  type FakeHost,
  type Faults,
  type OsVersion,
} from "./host";
import { directoryOf } from "./licenseServerOps";
import { invokeMethod, setContact, setDeactivated, getInstances, type Clearinghouse } from "./wmi";

type Args = Record<string, unknown>;

export interface AdminWorld {
  host(name: string): FakeHost;
  forget(name: string): void;
  readonly ch: Clearinghouse;
}

function refuse(message: string): never {
  throw new Error(`RdsEmulator: ${message}`);
}

function toBool(v: unknown, name: string): boolean {
  if (typeof v === "boolean") return v;
  const s = String(v).trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(s)) return true;
  if (["false", "0", "no", "off"].includes(s)) return false;
  return refuse(`'${name}' must be true or false`);
}

function toInt(v: unknown, name: string, min: number, max: number): number {
  const n = typeof v === "string" ? Number(v.trim()) : Number(v);
  if (typeof v === "boolean" || v === null || !Number.isInteger(n)) refuse(`'${name}' must be an integer`);
  if (n < min || n > max) refuse(`'${name}' must be between ${min} and ${max}`);
  return n;
}

/** Set-RdsSimHostConfig: validated first, then applied in the order given. */
function config(h: FakeHost, settings: Args): void {
  const known = [
    "osVersion",
    "domain",
    "workgroup",
    "partOfDomain",
    "isConnectionBroker",
    "productId",
    "roleInstalled",
    "serviceStatus",
    "gracePeriodDaysLeft",
    "sessionHostRole",
    "callerRights",
    "licenseServersGroup",
    "scpRegistered",
  ];
  for (const k of Object.keys(settings)) if (!known.includes(k)) refuse(`unknown host setting '${k}'`);
  if (settings.osVersion !== undefined && !(String(settings.osVersion) in OS_TABLE))
    refuse(`osVersion must be one of ${Object.keys(OS_TABLE).join(", ")}`);
  if (settings.serviceStatus !== undefined && !["Running", "Stopped"].includes(String(settings.serviceStatus)))
    refuse("serviceStatus must be Running or Stopped");
  if (settings.serviceStatus !== undefined && settings.roleInstalled !== undefined && !toBool(settings.roleInstalled, "roleInstalled"))
    refuse("serviceStatus needs the role installed");
  for (const [name, value] of Object.entries(settings)) {
    switch (name) {
      case "osVersion":
        h.config.osVersion = String(value) as OsVersion;
        break;
      case "domain":
        h.config.domain = value === null || String(value).trim() === "" ? null : String(value);
        break;
      case "workgroup":
        if (value === null || String(value).trim() === "") refuse("workgroup must not be empty");
        h.config.workgroup = String(value);
        break;
      case "partOfDomain":
        if (!toBool(value, name)) h.config.domain = null;
        else if (!h.config.domain) h.config.domain = "contoso.com";
        break;
      case "isConnectionBroker":
        h.config.isConnectionBroker = toBool(value, name);
        break;
      case "productId": {
        const old = productIdOf(h);
        h.config.productId = value === null || String(value).trim() === "" ? null : String(value);
        // Another product id is a rebuilt server: its activation is gone.
        if (productIdOf(h) !== old) {
          setDeactivated(h);
          h.licenseServer.everActivated = false;
        }
        break;
      }
      case "roleInstalled": {
        const v = toBool(value, name);
        h.features["RDS-Licensing"] = v;
        h.service = v ? "Running" : null;
        break;
      }
      case "serviceStatus":
        if (!roleInstalled(h)) refuse("serviceStatus needs the RDS-Licensing role installed");
        h.service = String(value) as "Running" | "Stopped";
        break;
      case "gracePeriodDaysLeft":
        h.config.graceDaysLeft = toInt(value, name, 0, 120);
        break;
      case "sessionHostRole":
        h.config.sessionHostRole = toBool(value, name);
        break;
      case "callerRights": {
        const rights = ["enterpriseAdmin", "domainAdmin", "localAdmin"] as const;
        const match = rights.find((r) => r.toLowerCase() === String(value).toLowerCase());
        if (!match) refuse("callerRights must be enterpriseAdmin, domainAdmin or localAdmin");
        h.config.callerRights = match;
        break;
      }
      // The Active Directory facts (Set-RdsSimHostConfig; a workgroup host has no domain group to be in).
      case "licenseServersGroup":
      case "scpRegistered": {
        const v = toBool(value, name);
        if (v && !h.config.domain) refuse(`${name} needs a host in a domain ('${h.hostName}' is in a workgroup)`);
        if (name === "licenseServersGroup") directoryOf(h).member = v;
        else directoryOf(h).scpRegistered = v;
        break;
      }
    }
  }
}

const FAULTS = [
  "clearinghouseUnreachable",
  "accessDenied",
  "providerFailure",
  "latencyMs",
  "classNotReadyCalls",
  "activationStatusUnknown",
  "failureStyle",
  "groupPolicy",
];

function policyValues(h: FakeHost, values: Args): void {
  const out: Partial<FakeHost["groupPolicy"]> = {};
  if ("licensingMode" in values || "LicensingMode" in values) {
    const m = values.licensingMode ?? values.LicensingMode ?? null;
    if (m !== null && ![2, 4, 6].includes(toInt(m, "LicensingMode", 0, 4294967295)))
      refuse("the LicensingMode policy value must be 2 (Per Device), 4 (Per User) or 6 (AAD Per User)");
    out.LicensingMode = m === null ? null : Number(m);
  }
  if ("licenseServers" in values || "LicenseServers" in values) {
    const s = values.licenseServers ?? values.LicenseServers ?? null;
    const text = s === null ? null : Array.isArray(s) ? s.map(String).join(",") : String(s);
    if (text !== null && text.trim() === "") refuse("the LicenseServers policy value must name at least one server (clear it instead)");
    out.LicenseServers = text;
  }
  Object.assign(h.groupPolicy, out);
}

function setFault(h: FakeHost, name: string, value: unknown): void {
  if (!FAULTS.includes(name)) refuse(`unknown fault '${name}' (known: ${FAULTS.join(", ")})`);
  const f = h.faults as unknown as Record<string, unknown>;
  if (name === "groupPolicy") policyValues(h, value as Args);
  else if (name === "latencyMs") f[name] = toInt(value, name, 0, 600000);
  else if (name === "classNotReadyCalls") f[name] = toInt(value, name, 0, 1000000);
  else if (name === "failureStyle") {
    if (!["return", "exception"].includes(String(value))) refuse("failureStyle must be 'return' or 'exception'");
    f[name] = String(value);
  } else f[name] = toBool(value, name);
}

/** Arguments of an admin's Invoke-CimMethod: { name: { type, value } } -> values. */
function typedArguments(spec: unknown): Args {
  const out: Args = {};
  for (const [name, v] of Object.entries((spec ?? {}) as Record<string, { type: string; value: unknown }>)) {
    if (v.type === "uint32") out[name] = Number(v.value);
    else if (v.type === "string") out[name] = String(v.value);
    else if (v.type === "string[]") out[name] = (Array.isArray(v.value) ? v.value : [v.value]).map((x) => (x === null ? null : String(x)));
    else refuse(`unknown argument type '${v.type}'`);
  }
  return out;
}

/** Get-RdsSimHost, the parts tests read. */
export function hostView(h: FakeHost) {
  const ls = h.licenseServer;
  return {
    hostName: h.hostName,
    roleInstalled: roleInstalled(h),
    serviceStatus: serviceStatus(h),
    faults: { ...h.faults },
    licenseServer: {
      productId: productIdOf(h),
      activationStatus: ls.activated ? 0 : 1,
      activated: ls.activated,
      licenseServerId: ls.licenseServerId,
      serverRole: ls.serverRole,
      contact: { ...ls.contact },
      keyPacks: [BUILT_IN_PACK, ...ls.keyPacks].map((p) => ({ ...p, ProductVersion: CAL_VERSIONS[p.ProductVersionID].string })),
    },
    sessionHost: {
      licensingType: h.sessionHost.licensingType,
      effectiveLicensingType: effectiveLicensingType(h),
      specifiedLicenseServers: [...h.sessionHost.specifiedLSList],
      effectiveLicenseServers: effectiveServerList(h),
    },
  };
}

/** One RelAdmin.ps1 action on the fake world; its answer, or a throw when the emulator refuses. */
export function adminAction(w: AdminWorld, a: Args): unknown {
  const host = () => w.host(String(a.host));
  switch (String(a.action)) {
    case "reset":
      w.forget(String(a.host));
      return true;
    case "config":
      config(host(), a.settings as Args);
      return true;
    case "fault":
      setFault(host(), String(a.fault), a.value);
      return true;
    case "faults":
      for (const [k, v] of Object.entries(a.faults as Args)) setFault(host(), k, v);
      return true;
    case "clearFaults": {
      const h = host();
      h.faults = newFaults();
      h.groupPolicy = { LicensingMode: null, LicenseServers: null };
      return true;
    }
    case "clearFault": {
      const h = host();
      if (String(a.fault) === "groupPolicy") h.groupPolicy = { LicensingMode: null, LicenseServers: null };
      else (h.faults as unknown as Record<string, unknown>)[String(a.fault)] = newFaults()[String(a.fault) as keyof Faults];
      return true;
    }
    case "groupPolicy":
      policyValues(host(), a);
      return true;
    case "host":
      return hostView(host());
    case "licenseServerId":
      return expectedLicenseServerId(String(a.productId));
    case "keyPackId": {
      const productId = productIdOf(host());
      const seq = ++w.ch.sequence;
      const cal = a.calType === "perUser" ? "perUser" : "perDevice";
      const id = alnumId(
        `rds-sim/key-pack-id/v1/${productId}/${String(a.program)}/${String(a.productVersion)}/${cal}/${Number(a.quantity)}/${seq}`,
        35,
      );
      w.ch.keyPackIds.set(id, {
        productId,
        program: String(a.program),
        productVersionId: VERSION_NAME_TO_ID[String(a.productVersion)],
        calType: cal,
        quantity: Number(a.quantity),
        usedBy: null,
      });
      return id;
    }
    case "retailCode": {
      // A fresh code whose terms follow the retail-code rule (the emulator's is random, the fake's counts up).
      const random = alnumId(`fake-retail/${++w.ch.retailCodesIssued}`, 21);
      const q = Number(a.quantity) % 100;
      const version = ["2008R2", "2012", "2016", "2019", "2022", "2025"].indexOf(String(a.productVersion));
      return `${random.slice(0, 20)}${a.calType === "perUser" ? "1" : "0"}${version}${Math.floor(q / 10)}${q % 10}${random.slice(20, 21)}`;
    }
    case "prepareLicenseServer": {
      const h = host();
      config(h, { roleInstalled: true, osVersion: String(a.osVersion) });
      getInstances(h, "Win32_TSLicenseServer");
      setContact(h, { FirstName: "Ada", LastName: "Lovelace", Company: "Contoso", CountryRegion: "United Kingdom" });
      const activation = invokeMethod(h, w.ch, "Win32_TSLicenseServer", "ActivateServerAutomatic");
      if (activation.returnValue !== 0) throw new Error(`ActivateServerAutomatic returned ${activation.returnValue}`);
      return ((a.packs ?? []) as { productVersion: string; calType: string; count: number }[]).map((p) => {
        const r = invokeMethod(h, w.ch, "Win32_TSLicenseKeyPack", "InstallAgreementLicenseKeyPack", {
          AgreementType: 1,
          sAgreementNumber: "7654321",
          ProductVersion: VERSION_NAME_TO_ID[p.productVersion],
          ProductType: p.calType === "perUser" ? 1 : 0,
          LicenseCount: p.count,
        });
        if (r.returnValue !== 0) throw new Error(`InstallAgreementLicenseKeyPack returned ${r.returnValue}`);
        return r.out.KeyPackId as number;
      });
    }
    case "wmi": {
      const r = invokeMethod(host(), w.ch, String(a.className), String(a.method), typedArguments(a.arguments));
      return { returnValue: r.returnValue, keyPackId: r.out.KeyPackId ?? null };
    }
    case "issue": {
      // Add-RdsSimIssuedLicense: per-device packs are limited by what is available, per-user packs are not
      // (Windows does not enforce per-user CALs); the pack's counters stop at TotalLicenses.
      const h = host();
      const pack = h.licenseServer.keyPacks.find((p) => p.KeyPackId === Number(a.keyPackId));
      if (!pack) return refuse(`host '${h.hostName}' has no installed key pack ${String(a.keyPackId)}`);
      const count = toInt(a.count, "count", 1, 100000);
      if (pack.ProductType !== 1 && pack.AvailableLicenses < count)
        refuse(`key pack ${pack.KeyPackId} has only ${pack.AvailableLicenses} available licenses, ${count} requested`);
      const counted = Math.min(count, pack.AvailableLicenses);
      pack.IssuedLicenses += counted;
      pack.AvailableLicenses -= counted;
      const d = directoryOf(h);
      if (pack.ProductType === 1) d.perUserIssued += count;
      else
        for (let i = 1; i <= count; i++) {
          const n = d.devices.length + 1;
          const device = a.computer
            ? count === 1
              ? String(a.computer)
              : `${String(a.computer)}-${i}`
            : `CLIENT-${String(n).padStart(4, "0")}`;
          d.devices.push({
            device,
            keyPackId: pack.KeyPackId,
            expires: new Date(Date.UTC(2030, 0, 1 + n)).toISOString().replace(/\.\d{3}Z$/, "Z"),
          });
        }
      return { KeyPackId: pack.KeyPackId, count, IssuedLicenses: pack.IssuedLicenses, AvailableLicenses: pack.AvailableLicenses };
    }
    case "setContact": {
      const h = host();
      getInstances(h, "Win32_TSLicenseServer");
      setContact(h, a.properties as Args);
      return true;
    }
    default:
      return refuse(`the fake world does not model the admin action '${String(a.action)}'`);
  }
}
