/**
 * Records what the operation scripts answer over the emulator, for the in-process fake world
 * (test/fake/): each scenario is a few administrator setup actions on a fresh simulated host, then
 * ONE operation with its arguments, run through the REAL runner (runOperation, one warm pwsh per
 * host, the real script, the WMI emulator). What it writes, per resource:
 *
 *   test/fixtures/recorded/<resource>.json   [{ name, host, setup: [{ action..., result? }],
 *                                               operation, args, outcome: { ok, result | error } }]
 *
 * test/fake/world.contract.test.ts replays every scenario against the FakeWorld in process and asserts
 * the same outcome, so the fake cannot drift from the emulator silently.
 *
 * Re-record (after a script or emulator change): `npx tsc -p tsconfig.json && node bin/scripts/record-fake-fixtures.js`
 * (about a minute; needs pwsh on PATH). Setup actions run through test/reliability/fixtures/RelAdmin.ps1
 * (run by path as data, like bench/runner.ts runs its echo script; nothing is imported from test/).
 *
 * Normalised (the same function is applied to the fake's answers): `waitedMs` of licenseServer.wait (a
 * duration) becomes 0, and the `(at <script>.ps1:<line>)` position of an unexpected script exception is
 * cut from messages (a line number, which moves with every edit of a script and which nothing branches
 * on). Product ids, license server ids and KeyPackIds are NOT normalised: the emulator derives them
 * deterministically (hashes of the host name, a per-host counter) and the fake derives them the same way.
 * Retail license codes are random, but they are arguments: the recorded value is what the fake replays.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { isRdsError } from "../provider/errors";
import { packageRoot, providerFile } from "../provider/paths";
import { closeAll } from "../provider/powershell/pool";
import { runOperation } from "../provider/powershell/runner";
import type { Connection } from "../provider/powershell/transport";

/** One administrator action (RelAdmin.ps1's args: { action, host, ... }), and its answer when recorded. */
export type SetupAction = Record<string, unknown> & { action: string };

/** Setup on a fresh host, then one operation. `host` is the operation's target. */
export interface Scenario {
  name: string;
  host: string;
  setup: SetupAction[];
  operation: string;
  args: Record<string, unknown>;
}

/** The outcome of one operation: its validated-as-unknown result, or the typed error's stable fields. */
export type Outcome =
  | { ok: true; result: unknown }
  | {
      ok: false;
      error: {
        code: string;
        message: string;
        scriptCode?: string;
        method?: string;
        className?: string;
        returnValue?: number;
        wmiName?: string;
      };
    };

export interface RecordedScenario extends Scenario {
  outcome: Outcome;
}

/** Operation name -> its script (sessionHostLicensing.read runs get.ps1, as the provider names it). */
export function scriptFor(operation: string): string {
  const [resource, name] = operation.split(".");
  const file = resource === "sessionHostLicensing" && name === "read" ? "get" : name;
  return providerFile(`resources/${resource}/${file}.ps1`);
}

/** What the recorder and the contract test both take out of an error. */
export function outcomeOfError(e: unknown): Outcome {
  if (!isRdsError(e)) throw e;
  const error: Extract<Outcome, { ok: false }>["error"] = { code: e.code, message: e.message };
  if (e.scriptCode !== undefined) error.scriptCode = e.scriptCode;
  if (e.method !== undefined) error.method = e.method;
  if (e.className !== undefined) error.className = e.className;
  if (e.returnValue !== undefined) error.returnValue = e.returnValue;
  if (e.wmiName !== undefined) error.wmiName = e.wmiName;
  return { ok: false, error };
}

/** See the header: the only normalisations. */
export function normalise(operation: string, outcome: Outcome): Outcome {
  if (outcome.ok) {
    if (operation === "licenseServer.wait" && outcome.result && typeof outcome.result === "object") {
      return { ok: true, result: { ...(outcome.result as Record<string, unknown>), waitedMs: 0 } };
    }
    return outcome;
  }
  return { ok: false, error: { ...outcome.error, message: outcome.error.message.replace(/ \(at [^()]*\.ps1:\d+\)/g, "") } };
}

// ---- the scenarios ---------------------------------------------------------------------------------

const ADA = { FirstName: "Ada", LastName: "Lovelace", Company: "Contoso", CountryRegion: "United Kingdom" };
const CONTACT = {
  firstName: "Ada",
  lastName: "Lovelace",
  company: `O'Brien & "Sons" $(x) \`n`,
  countryRegion: "Éire",
  email: "",
  orgUnit: "",
  address: "",
  city: "",
  state: "",
  postalCode: "",
};
const u32 = (value: unknown) => ({ type: "uint32", value });
const LS = { className: "Win32_TSLicenseServer" };
const KP = { className: "Win32_TSLicenseKeyPack" };
const TS = { className: "Win32_TerminalServiceSetting", namespace: "root/cimv2/TerminalServices", instance: true };

const role = (host: string): SetupAction => ({ action: "config", host, settings: { roleInstalled: true } });
const contactOf = (host: string, properties: Record<string, string> = ADA): SetupAction => ({ action: "setContact", host, properties });
const wmi = (host: string, call: Record<string, unknown>): SetupAction => ({ action: "wmi", host, ...call });
const activated = (host: string): SetupAction[] => [role(host), contactOf(host), wmi(host, { ...LS, method: "ActivateServerAutomatic" })];
const fault = (host: string, f: string, value: unknown): SetupAction => ({ action: "fault", host, fault: f, value });
const config = (host: string, settings: Record<string, unknown>): SetupAction => ({ action: "config", host, settings });
const prepare = (
  host: string,
  packs: { productVersion: string; calType: string; count: number }[] = [],
  osVersion = "2022",
): SetupAction => ({
  action: "prepareLicenseServer",
  host,
  packs,
  osVersion,
});
const agreementArgs = (program: string, agreementType: number, calType = 1, count = 10, versionCode = 7, productVersion = "2022") => ({
  program,
  productVersion,
  activationMethod: "automatic",
  agreementType,
  agreementNumber: "2718281",
  productVersionCode: versionCode,
  productTypeCode: calType,
  licenseCount: count,
});

let counter = 0;
/** A fresh host name per scenario: every scenario starts from the emulator's defaults. */
function fresh(kind: string, domain = "contoso.com"): string {
  counter++;
  return domain ? `${kind}-${counter}.${domain}` : `${kind}-${counter}`;
}

function licenseServerScenarios(): Scenario[] {
  const out: Scenario[] = [];
  const add = (name: string, host: string, setup: SetupAction[], op: string, args: Record<string, unknown> = {}) =>
    out.push({ name, host, setup, operation: `licenseServer.${op}`, args });
  let h: string;
  h = fresh("ls");
  add("install: role missing, installRole true", h, [], "install", { installRole: true });
  h = fresh("ls");
  add("install: role present", h, [role(h)], "install", { installRole: true });
  h = fresh("ls");
  add("install: role missing, installRole false", h, [], "install", { installRole: false });
  const wait = { timeoutSeconds: 5, firstPollMs: 1, maxPollMs: 2 };
  h = fresh("ls");
  add("wait: running", h, [role(h)], "wait", wait);
  h = fresh("ls");
  add("wait: service stopped", h, [role(h), config(h, { serviceStatus: "Stopped" })], "wait", wait);
  h = fresh("ls");
  add("wait: role missing", h, [], "wait", wait);
  h = fresh("ls");
  add("wait: class not ready for 2 calls", h, [role(h), fault(h, "classNotReadyCalls", 2)], "wait", wait);
  h = fresh("ls");
  add("get: fresh host", h, [], "get");
  h = fresh("ls");
  add("get: role, not activated, no contact", h, [role(h)], "get");
  h = fresh("ls");
  add("get: activated", h, activated(h), "get");
  h = fresh("ls");
  add("get: service stopped", h, [role(h), config(h, { serviceStatus: "Stopped" })], "get");
  h = fresh("ls");
  add("get: access denied", h, [role(h), fault(h, "accessDenied", true)], "get");
  h = fresh("ls");
  add("get: provider failure", h, [role(h), fault(h, "providerFailure", true)], "get");
  h = fresh("ls");
  add("get: activation status unknown", h, [...activated(h), fault(h, "activationStatusUnknown", true)], "get");
  h = fresh("ls", "");
  add("get: workgroup host", h, [role(h), config(h, { domain: "" })], "get");
  h = fresh("ls");
  add(
    "get: forest role, os 2019",
    h,
    [role(h), config(h, { osVersion: "2019" }), wmi(h, { ...LS, method: "ChangeRole", arguments: { ServerRole: u32(2) } })],
    "get",
  );
  h = fresh("ls");
  add("get: deactivated out of band", h, [...activated(h), wmi(h, { ...LS, method: "DeactivateServerAutomatic" })], "get");
  h = fresh("ls");
  add("get: rebuilt (new product id)", h, [...activated(h), config(h, { productId: "00490-92005-99454-AT527" })], "get");
  h = fresh("ls");
  add("set: whole contact, unicode and quotes", h, [role(h), contactOf(h)], "set", { contact: CONTACT, serverRole: null });
  h = fresh("ls");
  add("set: same contact", h, [role(h), contactOf(h)], "set", {
    contact: { ...CONTACT, company: "Contoso", countryRegion: "United Kingdom" },
    serverRole: null,
  });
  h = fresh("ls");
  add("set: role to forest", h, [role(h)], "set", { contact: null, serverRole: 2 });
  h = fresh("ls");
  add("set: same role", h, [role(h)], "set", { contact: null, serverRole: 1 });
  h = fresh("ls", "");
  add("set: forest role on a workgroup host", h, [role(h), config(h, { domain: "" })], "set", { contact: null, serverRole: 2 });
  h = fresh("ls");
  add("set: forest role without Enterprise Admins", h, [role(h), config(h, { callerRights: "domainAdmin" })], "set", {
    contact: null,
    serverRole: 2,
  });
  h = fresh("ls");
  add("set: service stopped", h, [role(h), config(h, { serviceStatus: "Stopped" })], "set", { contact: CONTACT, serverRole: null });
  h = fresh("ls");
  add("set: access denied", h, [role(h), fault(h, "accessDenied", true)], "set", { contact: CONTACT, serverRole: null });
  const act = (call: string, licenseServerId: string | null = null) => ({ call, licenseServerId });
  h = fresh("ls");
  add("activate: automatic", h, [role(h), contactOf(h)], "activate", act("ActivateServerAutomatic"));
  h = fresh("ls");
  add("activate: already activated", h, activated(h), "activate", act("ActivateServerAutomatic"));
  h = fresh("ls");
  add("activate: automatic without a contact", h, [role(h)], "activate", act("ActivateServerAutomatic"));
  h = fresh("ls");
  add(
    "activate: clearinghouse unreachable",
    h,
    [role(h), contactOf(h), fault(h, "clearinghouseUnreachable", true)],
    "activate",
    act("ActivateServerAutomatic"),
  );
  h = fresh("ls");
  add("activate: with the license server id", h, [role(h)], "activate", act("ActivateServer", "$licenseServerId"));
  h = fresh("ls");
  add("activate: with a wrong license server id", h, [role(h)], "activate", act("ActivateServer", "A".repeat(35)));
  h = fresh("ls");
  add(
    "activate: automatic after a deactivation",
    h,
    [...activated(h), wmi(h, { ...LS, method: "DeactivateServerAutomatic" })],
    "activate",
    act("ActivateServerAutomatic"),
  );
  h = fresh("ls");
  add(
    "activate: with the id after a deactivation",
    h,
    [...activated(h), wmi(h, { ...LS, method: "DeactivateServerAutomatic" })],
    "activate",
    act("ActivateServer", "$licenseServerId"),
  );
  h = fresh("ls");
  add("activate: a reactivation call is refused", h, [role(h), contactOf(h)], "activate", act("ReactivateServerAutomatic"));
  h = fresh("ls");
  add(
    "activate: status unknown",
    h,
    [role(h), contactOf(h), fault(h, "activationStatusUnknown", true)],
    "activate",
    act("ActivateServerAutomatic"),
  );
  h = fresh("ls");
  add("activate: unknown call", h, [role(h)], "activate", act("ActivateServerSometime"));
  h = fresh("ls");
  add("activate: service stopped", h, [role(h), config(h, { serviceStatus: "Stopped" })], "activate", act("ActivateServerAutomatic"));
  h = fresh("ls");
  add(
    "activate: failure style exception",
    h,
    [role(h), contactOf(h), fault(h, "clearinghouseUnreachable", true), fault(h, "failureStyle", "exception")],
    "activate",
    act("ActivateServerAutomatic"),
  );
  h = fresh("ls");
  add("deactivate: no role", h, [], "deactivate");
  h = fresh("ls");
  add("deactivate: not activated", h, [role(h)], "deactivate");
  h = fresh("ls");
  add("deactivate: activated", h, activated(h), "deactivate");
  h = fresh("ls");
  add("deactivate: clearinghouse unreachable", h, [...activated(h), fault(h, "clearinghouseUnreachable", true)], "deactivate");
  h = fresh("ls");
  add("deactivate: service stopped", h, [...activated(h), config(h, { serviceStatus: "Stopped" })], "deactivate");
  h = fresh("ls");
  add("deactivate: status unknown", h, [...activated(h), fault(h, "activationStatusUnknown", true)], "deactivate");
  return out;
}

function calPackScenarios(): Scenario[] {
  const out: Scenario[] = [];
  const add = (name: string, host: string, setup: SetupAction[], op: string, args: Record<string, unknown> = {}) =>
    out.push({ name, host, setup, operation: `calPack.${op}`, args });
  const two = [
    { productVersion: "2022", calType: "perUser", count: 50 },
    { productVersion: "2019", calType: "perDevice", count: 20 },
  ];
  const manual = {
    ...KP,
    method: "InstallAgreementLicenseKeyPack",
    arguments: {
      AgreementType: u32(2),
      sAgreementNumber: { type: "string", value: "9999999" },
      ProductVersion: u32(5),
      ProductType: u32(0),
      LicenseCount: u32(3),
    },
  };
  let h: string;
  h = fresh("cp");
  add("inspect: activated, no packs", h, [prepare(h)], "inspect", { productVersion: "2022", activationMethod: "automatic" });
  h = fresh("cp");
  add("inspect: two packs", h, [prepare(h, two)], "inspect", { productVersion: "2019", activationMethod: "automatic" });
  h = fresh("cp");
  add("inspect: not activated (automatic)", h, [role(h)], "inspect", { productVersion: "2022", activationMethod: "automatic" });
  h = fresh("cp");
  add("inspect: not activated (web)", h, [role(h)], "inspect", { productVersion: "2022", activationMethod: "web" });
  h = fresh("cp");
  add("inspect: not activated (telephone)", h, [role(h)], "inspect", { productVersion: "2022", activationMethod: "telephone" });
  h = fresh("cp");
  add("inspect: not activated (unknown method)", h, [role(h)], "inspect", { productVersion: "2022", activationMethod: "" });
  h = fresh("cp");
  add("inspect: 2025 CALs on a 2022 server", h, [prepare(h)], "inspect", { productVersion: "2025", activationMethod: "automatic" });
  h = fresh("cp");
  add("inspect: 2012 CALs on a 2012 server", h, [prepare(h, [], "2012")], "inspect", {
    productVersion: "2012",
    activationMethod: "automatic",
  });
  h = fresh("cp");
  add("inspect: role missing", h, [], "inspect", { productVersion: "2022", activationMethod: "automatic" });
  h = fresh("cp");
  add("inspect: status unknown", h, [prepare(h), fault(h, "activationStatusUnknown", true)], "inspect", {
    productVersion: "2022",
    activationMethod: "automatic",
  });
  h = fresh("cp");
  add("install: enterprise agreement", h, [prepare(h)], "install", agreementArgs("enterpriseAgreement", 1));
  h = fresh("cp");
  add("install: select, per device, 2019", h, [prepare(h, two)], "install", agreementArgs("select", 0, 0, 5, 6, "2019"));
  h = fresh("cp");
  add("install: campus after a manual pack", h, [prepare(h), wmi(h, manual)], "install", agreementArgs("campus", 2, 1, 7));
  h = fresh("cp");
  add("install: open license", h, [prepare(h)], "install", {
    program: "openLicense",
    productVersion: "2022",
    activationMethod: "automatic",
    licenseNumber: "14142135",
    authorizationNumber: "AB12CD34EF56GH7",
    productVersionCode: 7,
    productTypeCode: 0,
    licenseCount: 20,
  });
  h = fresh("cp");
  add("install: retail", h, [prepare(h), { action: "retailCode", productVersion: "2019", calType: "perUser", quantity: 15 }], "install", {
    program: "retail",
    productVersion: "2019",
    activationMethod: "automatic",
    licenseCode: "$setup[1]",
  });
  h = fresh("cp");
  add("install: malformed agreement number", h, [prepare(h)], "install", {
    ...agreementArgs("enterpriseAgreement", 1),
    agreementNumber: "12-34",
  });
  h = fresh("cp");
  add("install: spla with an 8-digit agreement number", h, [prepare(h)], "install", {
    ...agreementArgs("spla", 4),
    agreementNumber: "27182818",
  });
  h = fresh("cp");
  add("install: agreement type of another program", h, [prepare(h)], "install", agreementArgs("enterpriseAgreement", 0));
  h = fresh("cp");
  add("install: unknown program", h, [prepare(h)], "install", { ...agreementArgs("enterpriseAgreement", 1), program: "barter" });
  h = fresh("cp");
  add("install: missing license count", h, [prepare(h)], "install", { ...agreementArgs("enterpriseAgreement", 1), licenseCount: null });
  h = fresh("cp");
  add("install: not activated", h, [role(h)], "install", agreementArgs("enterpriseAgreement", 1));
  h = fresh("cp");
  add("install: version not accepted", h, [prepare(h, [], "2019")], "install", agreementArgs("enterpriseAgreement", 1));
  h = fresh("cp");
  add(
    "install: clearinghouse unreachable",
    h,
    [prepare(h), fault(h, "clearinghouseUnreachable", true)],
    "install",
    agreementArgs("enterpriseAgreement", 1),
  );
  h = fresh("cp");
  add("get: a pack", h, [prepare(h, two)], "get", { keyPackId: 4 });
  h = fresh("cp");
  add("get: absent", h, [prepare(h, two)], "get", { keyPackId: 77 });
  h = fresh("cp");
  add("get: the built-in pack", h, [prepare(h, two)], "get", { keyPackId: 2 });
  h = fresh("cp");
  add("get: not activated, no packs", h, [role(h)], "get", { keyPackId: 3 });
  h = fresh("cp");
  add("get: batch", h, [prepare(h, two)], "get", { keyPackIds: [4, 77, 2, 3, 4] });
  h = fresh("cp");
  add("get: batch, empty", h, [prepare(h)], "get", { keyPackIds: [] });
  h = fresh("cp");
  add(
    "get: after an uninstall and a shrink by hand",
    h,
    [
      prepare(h, two),
      wmi(h, { ...KP, method: "UninstallLicenseKeyPackWithId", arguments: { KeyPackId: u32(3) } }),
      wmi(h, { ...KP, method: "RemoveLicensesWithIdCount", arguments: { KeyPackId: u32(4), LicenseCount: u32(6) } }),
      wmi(h, { ...KP, method: "RemoveLicensesWithIdCount", arguments: { KeyPackId: u32(4), LicenseCount: u32(60) } }),
      wmi(h, { ...KP, method: "UninstallLicenseKeyPackWithId", arguments: { KeyPackId: u32(3) } }),
      wmi(h, manual),
    ],
    "get",
    { keyPackIds: [3, 4, 5] },
  );
  h = fresh("cp");
  add("get: service stopped", h, [prepare(h, two), config(h, { serviceStatus: "Stopped" })], "get", { keyPackId: 3 });
  h = fresh("cp");
  add("get: provider failure", h, [prepare(h, two), fault(h, "providerFailure", true)], "get", { keyPackId: 3 });
  h = fresh("cp");
  add("resize: shrink", h, [prepare(h, two)], "resize", { keyPackId: 3, quantity: 20, allowRemovingIssuedLicenses: false });
  h = fresh("cp");
  add("resize: same size", h, [prepare(h, two)], "resize", { keyPackId: 3, quantity: 50, allowRemovingIssuedLicenses: false });
  h = fresh("cp");
  add("resize: grow", h, [prepare(h, two)], "resize", { keyPackId: 3, quantity: 51, allowRemovingIssuedLicenses: false });
  h = fresh("cp");
  add("resize: absent", h, [prepare(h, two)], "resize", { keyPackId: 9, quantity: 5, allowRemovingIssuedLicenses: false });
  h = fresh("cp");
  add("remove: a pack", h, [prepare(h, two)], "remove", {
    keyPackId: 4,
    productVersionId: 6,
    productType: 0,
    allowRemovingIssuedLicenses: false,
  });
  h = fresh("cp");
  add("remove: absent", h, [prepare(h, two)], "remove", {
    keyPackId: 9,
    productVersionId: 6,
    productType: 0,
    allowRemovingIssuedLicenses: false,
  });
  h = fresh("cp");
  add("remove: another pack under that id", h, [prepare(h, two)], "remove", {
    keyPackId: 4,
    productVersionId: 7,
    productType: 0,
    allowRemovingIssuedLicenses: false,
  });
  h = fresh("cp");
  add("remove: access denied", h, [prepare(h, two), fault(h, "accessDenied", true)], "remove", {
    keyPackId: 4,
    productVersionId: 6,
    productType: 0,
    allowRemovingIssuedLicenses: false,
  });
  return out;
}

function sessionHostScenarios(): Scenario[] {
  const out: Scenario[] = [];
  const add = (name: string, host: string, setup: SetupAction[], op: string, args: Record<string, unknown>) =>
    out.push({ name, host, setup, operation: `sessionHostLicensing.${op}`, args });
  const gp = (host: string, licensingMode: number | null, licenseServers: string | null): SetupAction => ({
    action: "groupPolicy",
    host,
    licensingMode,
    licenseServers,
  });
  const sh = { scope: "sessionHost" };
  const setList = (host: string, list: string[]) =>
    wmi(host, { ...TS, method: "SetSpecifiedLicenseServerList", arguments: { SpecifiedLSList: { type: "string[]", value: list } } });
  let h: string;
  h = fresh("sh");
  add("read: fresh host", h, [], "read", sh);
  h = fresh("sh");
  add("read: no session host role", h, [config(h, { sessionHostRole: false })], "read", sh);
  h = fresh("sh");
  add(
    "read: mode and list set by hand",
    h,
    [
      wmi(h, { ...TS, method: "ChangeMode", arguments: { LicensingType: u32(2) } }),
      setList(h, ["ls-a.contoso.com", "LS-B", "ls-a.CONTOSO.com", "ls-c"]),
    ],
    "read",
    sh,
  );
  h = fresh("sh");
  add("read: list emptied by hand", h, [setList(h, ["ls-a"]), wmi(h, { ...TS, method: "EmptySpecifiedLicenseServerList" })], "read", sh);
  h = fresh("sh");
  add("read: group policy", h, [gp(h, 4, " ls-x , ls-y,,"), setList(h, ["ls-a"])], "read", sh);
  h = fresh("sh");
  add("read: group policy mode only", h, [gp(h, 2, null)], "read", sh);
  h = fresh("sh", "");
  add("read: workgroup host, 2016", h, [config(h, { domain: "", osVersion: "2016" })], "read", sh);
  h = fresh("sh");
  add("read: grace period over", h, [config(h, { gracePeriodDaysLeft: 0 })], "read", sh);
  h = fresh("sh");
  add("read: access denied", h, [fault(h, "accessDenied", true)], "read", sh);
  h = fresh("sh");
  add("read: provider failure", h, [fault(h, "providerFailure", true)], "read", sh);
  h = fresh("cb");
  add("read: deployment, not a broker", h, [], "read", { scope: "deployment" });
  h = fresh("cb");
  add("read: deployment", h, [config(h, { isConnectionBroker: true })], "read", { scope: "deployment" });
  h = fresh("sh");
  add("set: mode and list", h, [], "set", { scope: "sessionHost", mode: "perUser", licenseServers: ["ls-a.contoso.com", "LS-B"] });
  h = fresh("sh");
  add("set: list only", h, [], "set", { scope: "sessionHost", mode: null, licenseServers: ["ls-a"] });
  h = fresh("sh");
  add("set: nothing", h, [], "set", { scope: "sessionHost", mode: null, licenseServers: null });
  h = fresh("sh");
  add("set: per device", h, [], "set", { scope: "sessionHost", mode: "perDevice", licenseServers: null });
  h = fresh("sh");
  add("set: mode under group policy", h, [gp(h, 2, null)], "set", { scope: "sessionHost", mode: "perUser", licenseServers: ["ls-a"] });
  h = fresh("sh");
  add("set: list under group policy", h, [gp(h, null, "ls-x")], "set", { scope: "sessionHost", mode: "perUser", licenseServers: ["ls-a"] });
  h = fresh("sh");
  add("set: invalid mode", h, [], "set", { scope: "sessionHost", mode: "perSocket", licenseServers: null });
  h = fresh("sh");
  add("set: access denied", h, [fault(h, "accessDenied", true)], "set", { scope: "sessionHost", mode: "perUser", licenseServers: null });
  h = fresh("cb");
  add("set: deployment", h, [config(h, { isConnectionBroker: true })], "set", {
    scope: "deployment",
    mode: "perDevice",
    licenseServers: ["ls-a.contoso.com"],
  });
  h = fresh("cb");
  add("set: deployment, nothing", h, [config(h, { isConnectionBroker: true })], "set", {
    scope: "deployment",
    mode: null,
    licenseServers: null,
  });
  h = fresh("ls");
  add(
    "packs: found and missing",
    h,
    [
      prepare(h, [
        { productVersion: "2022", calType: "perUser", count: 50 },
        { productVersion: "2016", calType: "perDevice", count: 5 },
      ]),
    ],
    "packs",
    { keyPackIds: [4, 3, 9, 4, 2] },
  );
  h = fresh("ls");
  add("packs: no role", h, [], "packs", { keyPackIds: [3] });
  h = fresh("ls");
  add("packs: none asked", h, [prepare(h)], "packs", { keyPackIds: [] });
  h = fresh("sh");
  add("reset: list emptied", h, [setList(h, ["ls-a"])], "reset", sh);
  h = fresh("sh");
  add("reset: list under group policy", h, [gp(h, null, "ls-x")], "reset", sh);
  h = fresh("cb");
  add("reset: deployment", h, [config(h, { isConnectionBroker: true })], "reset", { scope: "deployment" });
  h = fresh("cb");
  add("reset: deployment, not a broker", h, [], "reset", { scope: "deployment" });
  return out;
}

export const SCENARIOS: Scenario[] = [...licenseServerScenarios(), ...calPackScenarios(), ...sessionHostScenarios()];

const REL_ADMIN = path.join(packageRoot(), "test", "reliability", "fixtures", "RelAdmin.ps1");

async function admin(stateDir: string, args: Record<string, unknown>): Promise<unknown> {
  return runOperation(
    { transport: "simulator", host: "recorder-admin.invalid", stateDir },
    {
      name: `record.admin.${String(args.action)}`,
      script: REL_ADMIN,
      args,
      result: z.any(),
      timeoutMs: 120_000,
    },
  );
}

/** Setup actions whose answer the fake must reproduce too (the rest answer `true` or a host view). */
const RECORDED_ADMIN_RESULTS = new Set(["wmi", "prepareLicenseServer", "licenseServerId", "retailCode", "keyPackId"]);

/**
 * Placeholders in args, resolved against the emulator before the operation runs (the recorded args
 * hold the resolved value): "$licenseServerId" (the id the Clearinghouse issues for the host's product
 * id) and "$setup[<i>]" (the recorded answer of setup action i, e.g. a retail code).
 */
async function resolveArgs(stateDir: string, s: Scenario, setupResults: unknown[], value: unknown): Promise<unknown> {
  if (value === "$licenseServerId") {
    const view = (await admin(stateDir, { action: "host", host: s.host })) as { licenseServer: { productId: string } };
    return admin(stateDir, { action: "licenseServerId", productId: view.licenseServer.productId });
  }
  if (typeof value === "string") {
    const m = /^\$setup\[(\d+)\]$/.exec(value);
    if (m) return setupResults[Number(m[1])];
    return value;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveArgs(stateDir, s, setupResults, v)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveArgs(stateDir, s, setupResults, v);
    return out;
  }
  return value;
}

async function record(stateDir: string, s: Scenario): Promise<RecordedScenario> {
  const setup: SetupAction[] = [];
  const results: unknown[] = [];
  for (const step of s.setup) {
    const resolved = (await resolveArgs(stateDir, s, results, step)) as SetupAction;
    const result = await admin(stateDir, resolved);
    results.push(result);
    setup.push(RECORDED_ADMIN_RESULTS.has(String(step.action)) ? { ...resolved, result } : resolved);
  }
  const args = (await resolveArgs(stateDir, s, results, s.args)) as Record<string, unknown>;
  const connection: Connection = { transport: "simulator", host: s.host, stateDir };
  let outcome: Outcome;
  try {
    const result = await runOperation(connection, {
      name: s.operation,
      script: scriptFor(s.operation),
      args,
      result: z.unknown(),
      timeoutMs: 120_000,
    });
    outcome = { ok: true, result };
  } catch (e) {
    outcome = outcomeOfError(e);
  }
  return { ...s, setup, args, outcome: normalise(s.operation, outcome) };
}

async function main(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "record-fake-"));
  const outDir = path.join(packageRoot(), "test", "fixtures", "recorded");
  fs.mkdirSync(outDir, { recursive: true });
  const only = process.argv[2];
  try {
    const byResource = new Map<string, RecordedScenario[]>();
    for (const s of SCENARIOS) {
      const resource = s.operation.split(".")[0];
      if (only && resource !== only) continue;
      const r = await record(stateDir, s);
      byResource.set(resource, [...(byResource.get(resource) ?? []), r]);
      process.stdout.write(`${r.outcome.ok ? "ok   " : "error"} ${s.name}\n`);
    }
    for (const [resource, list] of byResource) {
      fs.writeFileSync(path.join(outDir, `${resource}.json`), JSON.stringify(list, null, 2) + "\n");
    }
  } finally {
    await closeAll();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
