/**
 * The RdsCalPack operation scripts (provider/resources/calPack/*.ps1) in the fake world: inspect,
 * install, get (one id, or a coalesced batch), resize, remove. Each follows its script and
 * CalPack.Common.ps1 step by step (the same WMI reads in the same order, so the same fault surfaces
 * with the same class name). Verified against the emulator by test/fake/world.contract.test.ts.
 */
import { BUILT_IN_PACK, OS_TABLE, packView, productIdOf, type FakePack } from "./host";
import { assertLicensingService, guarded } from "./licenseServerOps";
import { cim, scriptError, wmiCall, type ScriptCtx } from "./script";

type Args = Record<string, unknown>;
const KP = "Win32_TSLicenseKeyPack";
const VERSIONS = ["2008R2", "2012", "2016", "2019", "2022", "2025"];
const NEWEST_ACCEPTED: Record<string, string> = {
  "2008": "2008R2",
  "2008R2": "2008R2",
  "2012": "2012",
  "2012R2": "2012",
  "2016": "2016",
  "2019": "2019",
  "2022": "2022",
  "2025": "2025",
};

function allPacks(c: ScriptCtx): FakePack[] {
  cim(c, KP);
  return [BUILT_IN_PACK, ...c.h.licenseServer.keyPacks];
}

const isBuiltIn = (p: FakePack) => p.ProductType === 3 || p.ProductVersionID < 2 || packView(p).TypeAndModel.startsWith("Built-in");
/** Test-CalPackLeftover: a row without licenses is treated as absent. */
const isLeftover = (p: FakePack) => p.TotalLicenses === 0;
/** Built-in or leftover: never matched to a declaration (inspect's list). */
const notOurs = (p: FakePack) => isBuiltIn(p) || isLeftover(p);

/** Win32_TSIssuedLicense per pack: the fake issues no per-device licenses, but the class is read (and can fail) as in the script. */
function issuedCounts(c: ScriptCtx): Map<number, number> {
  cim(c, "Win32_TSIssuedLicense");
  return new Map();
}

function facts(p: FakePack, issued: Map<number, number>) {
  const v = packView(p);
  return {
    keyPackId: p.KeyPackId,
    keyPackType: p.KeyPackType,
    productType: p.ProductType,
    productVersion: v.ProductVersion,
    productVersionId: p.ProductVersionID,
    totalLicenses: p.TotalLicenses,
    issuedLicenses: p.IssuedLicenses,
    availableLicenses: p.AvailableLicenses,
    typeAndModel: v.TypeAndModel,
    description: v.Description,
    expirationDate: v.ExpirationDate,
    issuedPerDevice: issued.get(p.KeyPackId) ?? 0,
  };
}
type Facts = ReturnType<typeof facts>;

function packList(c: ScriptCtx): Facts[] {
  const issued = issuedCounts(c);
  return allPacks(c)
    .filter((p) => !notOurs(p))
    .map((p) => facts(p, issued));
}

function packById(c: ScriptCtx, id: number): Facts | null {
  const p = allPacks(c).find((k) => k.KeyPackId === id);
  // Read by id, a row without licenses is the resource's own pack, emptied: returned as it is.
  if (!p || isBuiltIn(p)) return null;
  return facts(p, issuedCounts(c));
}

function packsByIds(c: ScriptCtx, ids: number[]): (Facts | null)[] {
  const byId = new Map<number, Facts | null>();
  let issued: Map<number, number> | undefined;
  for (const p of allPacks(c)) {
    if (byId.has(p.KeyPackId) || !ids.includes(p.KeyPackId)) continue;
    if (isBuiltIn(p)) {
      byId.set(p.KeyPackId, null);
      continue;
    }
    issued ??= issuedCounts(c);
    byId.set(p.KeyPackId, facts(p, issued));
  }
  return ids.map((id) => byId.get(id) ?? null);
}

function serverVersion(c: ScriptCtx): string {
  const m = /Server\s+(2008\s*R2|2012\s*R2|2008|2012|2016|2019|2022|2025)\b/.exec(OS_TABLE[c.h.config.osVersion].caption);
  return m ? m[1].replace(/\s/g, "") : "";
}

function nextStep(method: string, productId: string): string {
  const pid = productId || "(unknown)";
  switch (method) {
    case "automatic":
      return "run pulumi up so the RdsLicenseServer activates it automatically again (it needs the contact fields and outbound TCP 443 to the Microsoft Clearinghouse; run pulumi refresh first if it was deactivated outside Pulumi)";
    case "web":
      return `open https://activate.microsoft.com, activate a license server with product id ${pid}, set activation.licenseServerId of the RdsLicenseServer to the 35-character license server id the site gives you, and run pulumi up`;
    case "telephone":
      return `call the Microsoft Clearinghouse at the number RD Licensing Manager shows for your country or region, read them product id ${pid}, set activation.licenseServerId of the RdsLicenseServer to the license server id they give you, and run pulumi up`;
    default:
      return `activate it first: give the RdsLicenseServer activation { method: "automatic" }, or use method "web" (https://activate.microsoft.com) or "telephone" with product id ${pid} and set activation.licenseServerId; then run pulumi up`;
  }
}

/** Assert-CalPackInstallable: refuses (NOT_ACTIVATED, VERSION_NOT_ACCEPTED) before anything is installed. */
function assertInstallable(c: ScriptCtx, productVersion: string, activationMethod: string) {
  const activation = Number(wmiCall(c, "Win32_TSLicenseServer", "GetActivationStatus").ActivationStatus ?? 2);
  const productId = cim(c, "Win32_TSLicenseServer").denied ? "" : productIdOf(c.h);
  if (activation !== 0) {
    const state = activation === 1 ? "not activated" : `cannot be determined (ActivationStatus ${activation})`;
    throw scriptError(
      "NOT_ACTIVATED",
      `the license server must be activated before you can install RDS CALs: its activation status is ${state} (product id ${productId}); nothing was installed; next step: ${nextStep(activationMethod, productId)}`,
    );
  }
  const version = serverVersion(c);
  if (version !== "" && NEWEST_ACCEPTED[version] !== undefined) {
    const newest = NEWEST_ACCEPTED[version];
    if (VERSIONS.indexOf(productVersion) > VERSIONS.indexOf(newest)) {
      const label = version.replace(/R2$/, " R2");
      throw scriptError(
        "VERSION_NOT_ACCEPTED",
        `a Windows Server ${label} license server accepts RDS CALs up to version ${newest}, and this pack is version ${productVersion}; nothing was installed: install ${productVersion} CALs on a license server running Windows Server ${productVersion} or later (a license server takes CALs of its own version and older)`,
      );
    }
  }
  return { activationStatus: activation, productId, serverVersion: version };
}

function inspect(c: ScriptCtx, a: Args): unknown {
  assertLicensingService(c);
  const f = assertInstallable(c, String(a.productVersion ?? ""), String(a.activationMethod ?? ""));
  return { ...f, packs: packList(c) };
}

const AGREEMENT_TYPES: Record<string, number> = { select: 0, enterpriseAgreement: 1, campus: 2, school: 3, spla: 4, otherAgreement: 5 };
/** install.ps1's $agreementNumberFormats: [min, max, digitsOnly] per AgreementType. */
const AGREEMENT_NUMBER_FORMATS: Record<number, [number, number, boolean]> = {
  0: [7, 7, true],
  1: [7, 7, true],
  2: [7, 7, true],
  3: [7, 7, true],
  4: [7, 8, true],
  5: [1, 15, false],
};

function install(c: ScriptCtx, a: Args): unknown {
  const program = String(a.program ?? "");
  const arg = (name: string) => {
    if (a[name] !== undefined && a[name] !== null) return a[name];
    throw scriptError("VALIDATION", `install needs argument ${name} for program ${program}`);
  };
  const code = (name: string, length: number, digitsOnly: boolean, what: string, maxLength = 0) => {
    const value = String(arg(name)).replace(/[-\s]/g, "").toUpperCase();
    const max = maxLength > length ? maxLength : length;
    if (!(digitsOnly ? new RegExp(`^[0-9]{${length},${max}}$`) : new RegExp(`^[A-Z0-9]{${length},${max}}$`)).test(value)) {
      const count = max === length ? `${length}` : `${length} to ${max}`;
      throw scriptError(
        "VALIDATION",
        `${name} is malformed: ${what} must be ${count} ${digitsOnly ? "digits" : "letters and digits"} (got ${value.length} characters); nothing was installed`,
      );
    }
    return value;
  };
  const uint = (name: string, min: number, max: number) => {
    const raw = arg(name);
    const text = String(raw);
    if (!/^[+-]?\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
      throw scriptError("VALIDATION", `${name} must be a whole number from ${min} to ${max}, got ${text}; nothing was installed`);
    }
    return Number(text);
  };
  let method: string;
  let args: Record<string, unknown>;
  if (program === "retail") {
    method = "InstallRetailPurchaseLicenseKeyPack";
    args = { sLicenseCode: code("licenseCode", 25, false, "the retail license code") };
  } else if (program === "openLicense") {
    method = "InstallOpenLicenseKeyPack";
    args = {
      sLicenseNumber: code("licenseNumber", 8, true, "the Open License number"),
      sAuthorizationNumber: code("authorizationNumber", 15, false, "the Open License authorization number"),
      ProductVersion: uint("productVersionCode", 2, 8),
      ProductType: uint("productTypeCode", 0, 1),
      LicenseCount: uint("licenseCount", 1, 4294967295),
    };
  } else if (AGREEMENT_TYPES[program] !== undefined) {
    method = "InstallAgreementLicenseKeyPack";
    const type = uint("agreementType", 0, 5);
    if (type !== AGREEMENT_TYPES[program]) {
      throw scriptError(
        "VALIDATION",
        `agreementType ${type} is not the code of program ${program} (${AGREEMENT_TYPES[program]}); nothing was installed`,
      );
    }
    args = {
      AgreementType: type,
      sAgreementNumber: code(
        "agreementNumber",
        AGREEMENT_NUMBER_FORMATS[type][0],
        AGREEMENT_NUMBER_FORMATS[type][2],
        "the agreement or enrollment number",
        AGREEMENT_NUMBER_FORMATS[type][1],
      ),
      ProductVersion: uint("productVersionCode", 2, 8),
      ProductType: uint("productTypeCode", 0, 1),
      LicenseCount: uint("licenseCount", 1, 4294967295),
    };
  } else if (program === "keyPackId") {
    method = "InstallLicenseKeyPack";
    args = { sLicenseKeyPackId: code("licenseKeyPackId", 35, false, "the license key pack id") };
  } else {
    throw scriptError("VALIDATION", `unknown license program ${program}; nothing was installed`);
  }
  assertLicensingService(c);
  assertInstallable(c, String(a.productVersion ?? ""), String(a.activationMethod ?? ""));
  const out = wmiCall(c, KP, method, args);
  const keyPackId = Number(out.KeyPackId ?? -1);
  if (keyPackId < 0) throw scriptError("SCRIPT_ERROR", `${method} succeeded but returned no KeyPackId`);
  return { method, keyPackId, pack: packById(c, keyPackId) };
}

function get(c: ScriptCtx, a: Args): unknown {
  assertLicensingService(c);
  if (a.keyPackIds !== undefined) return { packs: packsByIds(c, (a.keyPackIds as unknown[]).map(Number)) };
  return { pack: packById(c, Number(a.keyPackId)) };
}

function resize(c: ScriptCtx, a: Args): unknown {
  assertLicensingService(c);
  const id = Number(a.keyPackId);
  const quantity = Number(a.quantity);
  const pack = packById(c, id);
  if (pack === null) {
    throw scriptError(
      "NOT_FOUND",
      `key pack ${id} is not on the license server (removed outside Pulumi?): run pulumi refresh, then pulumi up to install it again`,
    );
  }
  const total = pack.totalLicenses;
  if (quantity > total) {
    throw scriptError(
      "VALIDATION",
      `key pack ${id} holds ${total} CALs and cannot grow to ${quantity} in place (RemoveLicensesWithIdCount only removes): the pack must be replaced`,
    );
  }
  const remove = total - quantity;
  if (remove === 0) return { removed: 0, pack };
  const available = pack.availableLicenses;
  if (remove > available && !a.allowRemovingIssuedLicenses) {
    throw scriptError(
      "ISSUED_LICENSES",
      `shrinking key pack ${id} from ${total} to ${quantity} CALs would remove ${remove}, but only ${available} are available (${total - available} are issued); set allowRemovingIssuedLicenses: true to remove issued ones, or keep quantity at ${total - available} or more`,
    );
  }
  wmiCall(c, KP, "RemoveLicensesWithIdCount", { KeyPackId: id, LicenseCount: remove });
  const after = packById(c, id);
  if (after === null) throw scriptError("NOT_FOUND", `key pack ${id} disappeared after RemoveLicensesWithIdCount removed ${remove} CALs`);
  return { removed: remove, pack: after };
}

function remove(c: ScriptCtx, a: Args): unknown {
  assertLicensingService(c);
  const id = Number(a.keyPackId);
  const pack = packById(c, id);
  if (pack === null) return { removed: false, reason: "absent" };
  const sameVersion =
    a.productVersionId === undefined || a.productVersionId === null || Number(a.productVersionId) === pack.productVersionId;
  const sameType = a.productType === undefined || a.productType === null || Number(a.productType) === pack.productType;
  if (!(sameVersion && sameType)) return { removed: false, reason: "replaced" };
  let issued = pack.issuedPerDevice;
  if (pack.productType === 0 && pack.issuedLicenses > issued) issued = pack.issuedLicenses;
  if (issued > 0 && !a.allowRemovingIssuedLicenses) {
    throw scriptError(
      "ISSUED_LICENSES",
      `key pack ${id} still has ${issued} per-device license${issued === 1 ? "" : "s"} issued from it; removing it would take them from the devices that hold them; nothing was removed: set allowRemovingIssuedLicenses: true to remove it anyway`,
    );
  }
  wmiCall(c, KP, "UninstallLicenseKeyPackWithId", { KeyPackId: id });
  return { removed: true, reason: "removed" };
}

export const CAL_PACK_SCRIPTS: Record<string, (c: ScriptCtx, a: Args) => unknown> = {
  inspect: (c, a) => guarded(() => inspect(c, a)),
  install: (c, a) => guarded(() => install(c, a)),
  get: (c, a) => guarded(() => get(c, a)),
  resize: (c, a) => guarded(() => resize(c, a)),
  remove: (c, a) => guarded(() => remove(c, a)),
};
