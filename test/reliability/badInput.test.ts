/**
 * Reliability: bad input, across the four public types.
 *
 * Every case is either REJECTED (check fails naming the field, with a reason that says what to do and
 * never echoes a secret value; zod's generic texts are a failure of this test), PREVIEW (unknown
 * values: check passes), or DATA (legitimately data, e.g. quotes and injection text in a company name:
 * carried byte for byte to the emulator and back). For every rejected and preview case the emulator's
 * whole state directory (host state, Clearinghouse, call logs) is byte-identical before and after, and
 * it changes once valid input arrives.
 *
 * Real: the three providers (TypeScript sources, in process) with the real runner, pool, pwsh 7 and
 * the emulator (RdsEmulator.psm1); the RdsLicensing component's constructor and validation.
 * Stands in: the Pulumi engine (engine/engine.ts for one resource, ResourceUnderTest in support.ts, over
 * the in-process host: check -> diff -> create/update, the rejected cases stop at check as the engine does); Windows (the emulator). The component is constructed
 * outside a Pulumi program: its validation throws before anything is registered.
 */
import * as fs from "fs";
import { ErrorCode, isRdsError } from "../../provider/errors";
import { closeAll } from "../../provider/powershell/pool";
import { CONTACT_FIELDS, CONTACT_MAX_LENGTH } from "../../provider/resources/licenseServer/schema";
import {
  RdsLicensing,
  validateRdsLicensingArgs,
  type RdsLicensingArgs,
  type RdsLicensingSessionHostArgs,
} from "../../provider/resources/component/rdsLicensing";
import { CheckFailed, ResourceUnderTest, providers, Sim, snapshotDir, strip, tempDir, type Props } from "./support";

jest.setTimeout(300_000);

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const stateDir = tempDir("badinput");
const journalDir = tempDir("badinput-journal");
const sim = new Sim(stateDir);
const P = providers();
const LS_HOST = "ls-bad.contoso.com";
const SH_HOST = "sh-bad.contoso.com";
const conn = sim.conn(LS_HOST);
const shConn = sim.conn(SH_HOST);
const SECRET_PASSWORD = "Pa55w0rd-Never-Echo-9731";

/** Strings an attacker (or an unlucky copy-paste) puts in a field. */
const INJECTIONS = [
  "'; Remove-Item -Recurse -Force C:\\ #",
  "$(Stop-Computer -Force)",
  "`whoami`; & calc.exe",
  '"; exit 1; "',
  "@{ a = $(Get-Date) } | Out-File x",
  "$env:PATH ${env:USERPROFILE}",
  "Robert'); DROP TABLE Students;--",
  "<script>alert(1)</script>",
  "Zoë Ørsted 東京 🚀 \u202Eevil",
  "' + (Invoke-Expression 'rm') + '",
];

const LS_BASE: Props = {
  connection: conn,
  contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
  activation: { method: "automatic" },
};
const CP_BASE: Props = {
  connection: conn,
  program: "enterpriseAgreement",
  agreementNumber: "1234567",
  productVersion: "2022",
  calType: "perUser",
  quantity: 10,
};
const SH_BASE: Props = { connection: shConn, mode: "perDevice", licenseServers: [LS_HOST] };
const PACK_REF = { keyPackId: 3, calType: "perDevice", productVersion: "2022", licenseServerConnection: conn, licenseServerName: LS_HOST };

type ResourceType = "RdsLicenseServer" | "RdsCalPack" | "RdsSessionHostLicensing";
interface ResourceCase {
  type: ResourceType;
  name: string;
  kind: "rejected" | "preview";
  news: Props;
  /** The field the failure must name (property path, or named in the reason). */
  field?: string;
  /** A value that must not appear in any reason. */
  secret?: string;
}

function set(base: Props, path: string, value: unknown): Props {
  const copy = JSON.parse(JSON.stringify(base)) as Props;
  const parts = path.split(".");
  let cur = copy as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
  if (value === undefined) delete cur[parts[parts.length - 1]];
  else cur[parts[parts.length - 1]] = value;
  return copy;
}

const ls = (name: string, path: string, value: unknown, field = path, secret?: string): ResourceCase => ({
  type: "RdsLicenseServer",
  name,
  kind: "rejected",
  news: set(LS_BASE, path, value),
  field,
  secret,
});
const cp = (name: string, news: Props, field: string, secret?: string): ResourceCase => ({
  type: "RdsCalPack",
  name,
  kind: "rejected",
  news,
  field,
  secret,
});
const cpSet = (name: string, path: string, value: unknown, field = path, secret?: string) =>
  cp(name, set(CP_BASE, path, value), field, secret);
const sh = (name: string, path: string, value: unknown, field = path): ResourceCase => ({
  type: "RdsSessionHostLicensing",
  name,
  kind: "rejected",
  news: set(SH_BASE, path, value),
  field,
});

const LONG_ID = "A".repeat(100_000);
const HUGE_NUMBER = "1".repeat(1_000_000);

const RESOURCE_CASES: ResourceCase[] = [
  // ---- RdsLicenseServer: missing, extra, wrong types, empty, enums, formats, injection, huge
  ls("missing connection", "connection", undefined),
  ls("missing contact", "contact", undefined),
  ls("missing activation", "activation", undefined),
  ls("missing contact.firstName", "contact.firstName", undefined),
  ls("missing contact.lastName", "contact.lastName", undefined),
  ls("missing contact.company", "contact.company", undefined),
  ls("missing contact.countryRegion", "contact.countryRegion", undefined),
  ls("missing connection.host", "connection.host", undefined),
  ls("missing connection.transport", "connection.transport", undefined),
  ls("missing activation.method", "activation.method", undefined),
  ls("extra top-level field", "licenceServerId", "ABC", "licenceServerId"),
  ls("extra contact field", "contact.phone", "+44 20 7946 0000", "contact.phone"),
  ls("extra activation field", "activation.priority", 1, "activation.priority"),
  ls(
    "a password in an unknown connection field is rejected, never echoed",
    "connection.password",
    SECRET_PASSWORD,
    "connection.password",
    SECRET_PASSWORD,
  ),
  ls("connection as a string", "connection", "ls01", "connection"),
  ls("contact as a string", "contact", "Ada Lovelace", "contact"),
  ls("activation as a list", "activation", ["automatic"], "activation"),
  ls("firstName as a number", "contact.firstName", 42),
  ls("email as a number", "contact.email", 7),
  ls("installRole as text", "installRole", "yes"),
  ls("deactivateOnDelete as a number", "deactivateOnDelete", 1),
  ls("connection.host as a number", "connection.host", 5),
  ls("empty firstName", "contact.firstName", ""),
  ls("blank company", "contact.company", "   \t "),
  ls("empty host", "connection.host", ""),
  ls("empty stateDir", "connection.stateDir", ""),
  ls("unknown activation method", "activation.method", "email"),
  ls("null activation method", "activation.method", null),
  ls("injection as activation method", "activation.method", INJECTIONS[1]),
  ls("unknown discovery scope", "discoveryScope", "galaxy"),
  ls("injection as discovery scope", "discoveryScope", INJECTIONS[0]),
  ls("unknown transport", "connection.transport", "telnet"),
  ls("injection as transport", "connection.transport", INJECTIONS[2]),
  ls(
    "licenseServerId with automatic",
    "activation",
    { method: "automatic", licenseServerId: "A".repeat(35) },
    "activation.licenseServerId",
  ),
  ls("licenseServerId of 34 characters", "activation", { method: "web", licenseServerId: "B".repeat(34) }, "activation.licenseServerId"),
  ls(
    "licenseServerId of 36 characters",
    "activation",
    { method: "telephone", licenseServerId: "C".repeat(36) },
    "activation.licenseServerId",
  ),
  ls(
    "licenseServerId with injection characters",
    "activation",
    { method: "web", licenseServerId: "ABCDE-FGHIJ-$(rm)-KLMNO-PQRST-UVWXY-Z1234" },
    "activation.licenseServerId",
  ),
  ls("licenseServerId as a number", "activation", { method: "web", licenseServerId: 12345 }, "activation.licenseServerId"),
  ls("huge licenseServerId", "activation", { method: "web", licenseServerId: LONG_ID }, "activation.licenseServerId"),
  ls("host with a newline", "connection.host", "ls01\nRemove-Item x"),
  ls("host with NUL", "connection.host", "ls01\u0000evil"),
  ls("unpaired surrogate in a contact field (not Unicode: cannot be carried back)", "contact.email", "lone \ud800 surrogate"),
  ls("unpaired surrogate in the host name", "connection.host", "ls\udc00x"),
  ls("host of 254 characters", "connection.host", `${"h".repeat(250)}.com`),

  // ---- RdsCalPack: exactly the program's data, formats, ranges, enums
  cpSet("missing program", "program", undefined),
  cpSet("missing productVersion", "productVersion", undefined),
  cpSet("missing calType", "calType", undefined),
  cpSet("missing quantity (agreement)", "quantity", undefined),
  cpSet("missing agreementNumber", "agreementNumber", undefined),
  cp(
    "missing licenseNumber (openLicense)",
    { ...CP_BASE, program: "openLicense", agreementNumber: undefined, authorizationNumber: "M3N4B5V6C7X8Z9L" },
    "licenseNumber",
  ),
  cp(
    "missing authorizationNumber (openLicense)",
    { ...CP_BASE, program: "openLicense", agreementNumber: undefined, licenseNumber: "88127734" },
    "authorizationNumber",
  ),
  cp("missing licenseCode (retail)", { connection: conn, program: "retail", productVersion: "2022", calType: "perUser" }, "licenseCode"),
  cp(
    "missing licenseKeyPackId (keyPackId)",
    { connection: conn, program: "keyPackId", productVersion: "2022", calType: "perUser" },
    "licenseKeyPackId",
  ),
  cpSet("extra field", "agreementType", 1, "agreementType"),
  cp(
    "quantity with retail",
    { connection: conn, program: "retail", licenseCode: "A".repeat(25), productVersion: "2022", calType: "perUser", quantity: 5 },
    "quantity",
  ),
  cp("another program's field (licenseCode with an agreement)", { ...CP_BASE, licenseCode: "B".repeat(25) }, "licenseCode"),
  cp(
    "another program's field (agreementNumber with retail)",
    {
      connection: conn,
      program: "retail",
      licenseCode: "C".repeat(25),
      agreementNumber: "1234567",
      productVersion: "2022",
      calType: "perUser",
    },
    "agreementNumber",
  ),
  cpSet("unknown program", "program", "volumeLicense"),
  cpSet("injection as program", "program", INJECTIONS[3]),
  cpSet("unknown productVersion", "productVersion", "2030"),
  cpSet("productVersion as a number", "productVersion", 2022),
  cpSet("unknown calType", "calType", "perCore"),
  cpSet("injection as calType", "calType", INJECTIONS[4]),
  cpSet("quantity 0", "quantity", 0),
  cpSet("quantity negative", "quantity", -5),
  cpSet("quantity fractional", "quantity", 1.5),
  cpSet("quantity over the maximum", "quantity", 100_001),
  cpSet("quantity huge", "quantity", 1e300),
  cpSet("quantity as text", "quantity", "10"),
  cpSet("agreementNumber of 6 digits", "agreementNumber", "123456", "agreementNumber", "123456"),
  cpSet("agreementNumber of 8 digits", "agreementNumber", "12345678", "agreementNumber", "12345678"),
  cpSet("agreementNumber with letters", "agreementNumber", "12A4567", "agreementNumber", "12A4567"),
  cpSet("agreementNumber with injection", "agreementNumber", "1'; rm -rf / #", "agreementNumber", "1'; rm -rf / #"),
  cpSet("agreementNumber empty", "agreementNumber", ""),
  cpSet("agreementNumber as a number", "agreementNumber", 1234567),
  cpSet("agreementNumber huge", "agreementNumber", HUGE_NUMBER, "agreementNumber", HUGE_NUMBER),
  cp(
    "licenseNumber with letters",
    { ...CP_BASE, program: "openLicense", agreementNumber: undefined, licenseNumber: "8812773X", authorizationNumber: "M3N4B5V6C7X8Z9L" },
    "licenseNumber",
    "8812773X",
  ),
  cp(
    "licenseNumber of 7 digits",
    { ...CP_BASE, program: "openLicense", agreementNumber: undefined, licenseNumber: "8812773", authorizationNumber: "M3N4B5V6C7X8Z9L" },
    "licenseNumber",
    "8812773",
  ),
  cp(
    "authorizationNumber of 14 characters",
    { ...CP_BASE, program: "openLicense", agreementNumber: undefined, licenseNumber: "88127734", authorizationNumber: "M3N4B5V6C7X8Z9" },
    "authorizationNumber",
    "M3N4B5V6C7X8Z9",
  ),
  cp(
    "authorizationNumber with $()",
    { ...CP_BASE, program: "openLicense", agreementNumber: undefined, licenseNumber: "88127734", authorizationNumber: "M3N4B5V$(calc)L" },
    "authorizationNumber",
    "M3N4B5V$(calc)L",
  ),
  cp(
    "licenseCode of 24 characters",
    { connection: conn, program: "retail", licenseCode: "ABCDE-FGHIJ-KLMNO-PQRST-UVWX", productVersion: "2022", calType: "perUser" },
    "licenseCode",
    "ABCDEFGHIJKLMNOPQRSTUVWX",
  ),
  cp(
    "licenseCode with injection",
    { connection: conn, program: "retail", licenseCode: "ABCDE-FGHIJ-`whoami`-PQRST-UVWXY", productVersion: "2022", calType: "perUser" },
    "licenseCode",
    "`whoami`",
  ),
  cp(
    "licenseKeyPackId of 34 characters",
    { connection: conn, program: "keyPackId", licenseKeyPackId: "K".repeat(34), productVersion: "2022", calType: "perUser" },
    "licenseKeyPackId",
    "K".repeat(34),
  ),
  cpSet("adoptKeyPackId 0", "adoptKeyPackId", 0, "adoptKeyPackId"),
  cpSet("adoptKeyPackId fractional", "adoptKeyPackId", 3.5, "adoptKeyPackId"),
  cpSet("adoptKeyPackId over 32 bits", "adoptKeyPackId", 2 ** 32, "adoptKeyPackId"),
  cpSet("adoptKeyPackId as text", "adoptKeyPackId", "3", "adoptKeyPackId"),
  cpSet("knownOtherPacks as text", "knownOtherPacks", "3,4", "knownOtherPacks"),
  cpSet("knownOtherPacks with 0", "knownOtherPacks", [0], "knownOtherPacks[0]"),
  cp("knownOtherPacks lists the adopted pack", { ...CP_BASE, adoptKeyPackId: 4, knownOtherPacks: [4] }, "knownOtherPacks"),
  cpSet("allowRemovingIssuedLicenses as text", "allowRemovingIssuedLicenses", "true"),
  cpSet("journalKey as a number", "journalKey", 7),
  cpSet("connection with an unknown transport", "connection", { transport: "telnet", host: LS_HOST }, "connection.transport"),

  // ---- RdsSessionHostLicensing
  sh("missing connection", "connection", undefined),
  sh("missing mode", "mode", undefined),
  sh("missing licenseServers", "licenseServers", undefined),
  sh("extra field", "licenseServer", LS_HOST, "licenseServer"),
  sh("unknown mode", "mode", "perCore"),
  sh("injection as mode", "mode", INJECTIONS[5]),
  sh("unknown scope", "scope", "farm"),
  sh("licenseServers empty", "licenseServers", []),
  sh("licenseServers as text", "licenseServers", LS_HOST),
  sh("licenseServers with an empty name", "licenseServers", [LS_HOST, ""], "licenseServers[1]"),
  sh("licenseServers with a space", "licenseServers", ["ls01 ls02"], "licenseServers[0]"),
  sh("licenseServers with a comma", "licenseServers", ["ls01,ls02"], "licenseServers[0]"),
  sh("licenseServers with a semicolon (injection)", "licenseServers", ["ls01;Remove-Item"], "licenseServers[0]"),
  sh("licenseServers listed twice (any case)", "licenseServers", [LS_HOST, LS_HOST.toUpperCase()], "licenseServers[1]"),
  sh("licenseServers with a number", "licenseServers", [5], "licenseServers[0]"),
  sh("licenseServers with an unpaired surrogate", "licenseServers", ["ls\ud83d.contoso.com"], "licenseServers[0]"),
  sh("calPacks as text", "calPacks", "users", "calPacks"),
  sh("calPacks entry with an extra field", "calPacks", [{ ...PACK_REF, quantity: 5 }], "calPacks[0]"),
  sh("calPacks keyPackId negative", "calPacks", [{ ...PACK_REF, keyPackId: -1 }], "calPacks[0].keyPackId"),
  sh("calPacks keyPackId fractional", "calPacks", [{ ...PACK_REF, keyPackId: 3.5 }], "calPacks[0].keyPackId"),
  sh("calPacks unknown calType", "calPacks", [{ ...PACK_REF, calType: "perCore" }], "calPacks[0].calType"),
  sh("calPacks unknown productVersion", "calPacks", [{ ...PACK_REF, productVersion: "2030" }], "calPacks[0].productVersion"),
  sh(
    "calPacks without the license server's connection",
    "calPacks",
    [{ ...PACK_REF, licenseServerConnection: undefined }],
    "calPacks[0].licenseServerConnection",
  ),
  sh(
    "calPacks license server with an unknown field",
    "calPacks",
    [{ ...PACK_REF, licenseServerConnection: { ...conn, password: SECRET_PASSWORD } }],
    "calPacks[0].licenseServerConnection.password",
  ),
  {
    type: "RdsSessionHostLicensing",
    name: "mode that the declared packs do not cover",
    kind: "rejected",
    news: { ...SH_BASE, mode: "perUser", calPacks: [PACK_REF] },
    field: "mode",
  },
  sh("resetOnDelete as text", "resetOnDelete", "no"),
  sh("host as a list", "connection.host", ["sh1", "sh2"]),

  // ---- preview: unknown values pass check, anywhere
  {
    type: "RdsLicenseServer",
    name: "every input unknown",
    kind: "preview",
    news: { connection: UNKNOWN, contact: UNKNOWN, activation: UNKNOWN },
  },
  {
    type: "RdsLicenseServer",
    name: "nested unknowns",
    kind: "preview",
    news: set(set(LS_BASE, "contact.firstName", UNKNOWN), "activation", { method: UNKNOWN, licenseServerId: UNKNOWN }),
  },
  { type: "RdsLicenseServer", name: "unknown host", kind: "preview", news: set(LS_BASE, "connection.host", UNKNOWN) },
  {
    type: "RdsCalPack",
    name: "unknown program and codes",
    kind: "preview",
    news: { ...CP_BASE, program: UNKNOWN, agreementNumber: UNKNOWN, quantity: UNKNOWN },
  },
  {
    type: "RdsCalPack",
    name: "unknown connection (the license server is being updated)",
    kind: "preview",
    news: { ...CP_BASE, connection: UNKNOWN, licenseServerName: UNKNOWN, licenseServerActivationMethod: UNKNOWN },
  },
  {
    type: "RdsSessionHostLicensing",
    name: "unknown connection and packs",
    kind: "preview",
    news: { ...SH_BASE, connection: UNKNOWN, calPacks: [UNKNOWN] },
  },
  {
    type: "RdsSessionHostLicensing",
    name: "pack being created (KeyPackId unknown, type known)",
    kind: "preview",
    news: { ...SH_BASE, calPacks: [{ ...PACK_REF, keyPackId: UNKNOWN }] },
  },
  {
    type: "RdsSessionHostLicensing",
    name: "unknown license server name",
    kind: "preview",
    news: { ...SH_BASE, licenseServers: [UNKNOWN] },
  },
];

const GENERIC_ZOD = /^(Invalid input|Unrecognized key|Invalid discriminator|Invalid option|Too (small|big)|Expected )/;
const FIX_IT = /\b(give|remove|set|must|is required|at least|at most|copy|declare|list|use|join|install|one of|only)\b/i;

function providerOf(type: ResourceType) {
  return type === "RdsLicenseServer" ? P.licenseServer : type === "RdsCalPack" ? P.calPack : P.sessionHost;
}

/** The names a field may go by in a failure: its path, and its last segment quoted in the reason. */
function namesField(f: { property: string; reason: string }, field: string): boolean {
  if (f.property === field) return true;
  if (f.reason.includes(field)) return true;
  const last = field
    .replace(/\[\d+\]$/, "")
    .split(".")
    .pop()!;
  return f.property.startsWith(field.split("[")[0]) && f.reason.includes(last);
}

let lsEngine: ResourceUnderTest;
let shEngine: ResourceUnderTest;

beforeAll(async () => {
  process.env.RDS_JOURNAL_DIR = journalDir;
  // A live license server (and session host) whose state the bad input must never touch.
  lsEngine = new ResourceUnderTest(P.licenseServer);
  expect(await lsEngine.up(LS_BASE)).toBe("create");
  shEngine = new ResourceUnderTest(P.sessionHost);
  expect(await shEngine.up(SH_BASE)).toBe("create");
});

afterAll(async () => {
  await closeAll();
  delete process.env.RDS_JOURNAL_DIR;
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });
});

const counts = { rejected: 0, preview: 0, component: 0, data: 0 };

describe("resource check: rejected with the field named, or passed at preview; the emulator untouched", () => {
  test("there are at least 80 cases over the three resources", () => {
    expect(RESOURCE_CASES.length).toBeGreaterThanOrEqual(80);
    const types = new Set(RESOURCE_CASES.map((c) => c.type));
    expect(types.size).toBe(3);
  });

  test.each(RESOURCE_CASES.map((c) => [`${c.type}: ${c.name}`, c] as const))("%s", async (_label, c) => {
    const before = snapshotDir(stateDir);
    const provider = providerOf(c.type);
    if (c.kind === "preview") {
      const res = await provider.check({}, JSON.parse(JSON.stringify(c.news)));
      expect(res.failures ?? []).toEqual([]);
      counts.preview++;
    } else {
      // As the engine does: check first; a failure stops the run before any other call.
      const engine = new ResourceUnderTest(provider);
      let failure: unknown;
      try {
        await engine.up(JSON.parse(JSON.stringify(c.news)));
      } catch (e) {
        failure = e;
      }
      expect(failure).toBeInstanceOf(CheckFailed);
      const failures = (failure as CheckFailed).failures;
      expect(failures.length).toBeGreaterThan(0);
      const named = failures.filter((f) => namesField(f, c.field!));
      if (named.length === 0) throw new Error(`no failure names ${c.field}: ${JSON.stringify(failures)}`);
      for (const f of failures) {
        expect(f.reason).not.toMatch(GENERIC_ZOD);
        expect(f.reason).toMatch(FIX_IT);
        expect(f.reason.length).toBeLessThan(2000);
        if (c.secret) expect(f.reason.includes(c.secret) || f.property.includes(c.secret)).toBe(false);
      }
      expect(engine.entry).toBeUndefined();
      counts.rejected++;
    }
    expect(snapshotDir(stateDir)).toEqual(before);
  });
});

// ---- the component -----------------------------------------------------------------------------------

const COMPONENT_BASE: RdsLicensingArgs = {
  licenseServer: LS_BASE as unknown as RdsLicensingArgs["licenseServer"],
  calPacks: [
    { name: "users", program: "enterpriseAgreement", agreementNumber: "1234567", productVersion: "2022", calType: "perUser", quantity: 10 },
  ],
  mode: "perUser",
  sessionHosts: [{ name: "sh1", connection: shConn, osVersion: "2022", domainJoined: true }],
};

function comp(
  name: string,
  change: (a: RdsLicensingArgs) => void,
  field: string,
  code: string = ErrorCode.Validation,
): { name: string; args: RdsLicensingArgs; field: string; code: string } {
  const args = JSON.parse(JSON.stringify(COMPONENT_BASE)) as RdsLicensingArgs;
  change(args);
  return { name, args, field, code };
}

const sh2 = { name: "sh2", connection: sim.conn("sh2.contoso.com") };
const COMPONENT_CASES = [
  comp("missing mode", (a) => delete (a as Partial<RdsLicensingArgs>).mode, "mode"),
  comp("unknown mode", (a) => ((a as { mode: string }).mode = "perCore"), "mode"),
  comp("injection as mode", (a) => ((a as { mode: string }).mode = INJECTIONS[6]), "mode"),
  comp("missing licenseServer", (a) => delete (a as Partial<RdsLicensingArgs>).licenseServer, "licenseServer"),
  comp("licenseServer as text", (a) => ((a as { licenseServer: unknown }).licenseServer = "ls01"), "licenseServer"),
  comp("both sessionHosts and deployment", (a) => (a.deployment = { connection: shConn }), "deployment"),
  comp("neither sessionHosts nor deployment", (a) => delete a.sessionHosts, "sessionHosts"),
  comp("sessionHosts empty", (a) => (a.sessionHosts = []), "sessionHosts"),
  comp("sessionHosts as text", (a) => ((a as { sessionHosts: unknown }).sessionHosts = "sh1"), "sessionHosts"),
  comp("sessionHosts entry null", (a) => ((a as { sessionHosts: unknown[] }).sessionHosts = [null]), "sessionHosts[0]"),
  comp(
    "session host without connection",
    (a) => delete (a.sessionHosts![0] as Partial<RdsLicensingSessionHostArgs>).connection,
    "sessionHosts[0].connection",
  ),
  comp("session host name with a space", (a) => (a.sessionHosts![0].name = "sh 1"), "sessionHosts[0].name"),
  comp("session host name with injection", (a) => (a.sessionHosts![0].name = INJECTIONS[0]), "sessionHosts[0].name"),
  comp("session host name empty", (a) => (a.sessionHosts![0].name = ""), "sessionHosts[0].name"),
  comp("session host names used twice", (a) => a.sessionHosts!.push({ ...sh2, name: "SH1" }), "sessionHosts[1].name"),
  comp(
    "two session hosts on one host",
    (a) => a.sessionHosts!.push({ name: "other", connection: { ...shConn, host: SH_HOST.toUpperCase() } }),
    "sessionHosts[1].connection.host",
  ),
  comp("unknown osVersion", (a) => ((a.sessionHosts![0] as { osVersion: string }).osVersion = "2030"), "sessionHosts[0].osVersion"),
  comp(
    "deployment without connection",
    (a) => {
      delete a.sessionHosts;
      (a as { deployment: unknown }).deployment = { name: "farm" };
    },
    "deployment.connection",
  ),
  comp("calPacks empty", (a) => (a.calPacks = []), "calPacks", ErrorCode.ModeMismatch),
  comp("calPacks as text", (a) => ((a as { calPacks: unknown }).calPacks = "users"), "calPacks"),
  comp("calPacks entry null", (a) => ((a as { calPacks: unknown[] }).calPacks = [null]), "calPacks[0]"),
  comp("pack name with injection", (a) => (a.calPacks[0].name = INJECTIONS[2]), "calPacks[0].name"),
  comp("pack names used twice", (a) => a.calPacks.push({ ...a.calPacks[0], agreementNumber: "7654321" }), "calPacks[1].name"),
  comp(
    "the same pack twice (hyphens and case ignored)",
    (a) => a.calPacks.push({ ...a.calPacks[0], name: "again", agreementNumber: "123-4567" }),
    "calPacks[1]",
  ),
  comp("mode not covered by the packs' CAL type", (a) => (a.calPacks[0].calType = "perDevice"), "mode", ErrorCode.ModeMismatch),
  comp("CALs older than a host's OS", (a) => (a.sessionHosts![0].osVersion = "2025"), "mode", ErrorCode.ModeMismatch),
  comp("Per User on a workgroup host", (a) => (a.sessionHosts![0].domainJoined = false), "mode", ErrorCode.ModeMismatch),
  comp("licenseServers as text", (a) => ((a as { licenseServers: unknown }).licenseServers = LS_HOST), "licenseServers"),
  comp("resetOnDelete as text", (a) => ((a as { resetOnDelete: unknown }).resetOnDelete = "yes"), "resetOnDelete"),
];

describe("RdsLicensing validation: rejected before anything is registered, naming the argument", () => {
  test.each(COMPONENT_CASES.map((c) => [c.name, c] as const))("%s", (_label, c) => {
    const before = snapshotDir(stateDir);
    let thrown: unknown;
    try {
      new RdsLicensing("env", c.args);
    } catch (e) {
      thrown = e;
    }
    expect(isRdsError(thrown)).toBe(true);
    const err = thrown as Error & { code: string };
    expect(err.code).toBe(c.code);
    expect(err.message).toContain('validating RdsLicensing "env"');
    expect(err.message).toContain(c.field);
    expect(err.message).toMatch(FIX_IT);
    expect(snapshotDir(stateDir)).toEqual(before);
    counts.component++;
  });

  test("injection text, quotes and unicode in the component's data fields are data: no problem reported", () => {
    for (const text of INJECTIONS) {
      const args = JSON.parse(JSON.stringify(COMPONENT_BASE)) as RdsLicensingArgs;
      args.licenseServer.contact = { firstName: text, lastName: text, company: text, countryRegion: text };
      args.sessionHosts![0].connection = { ...shConn, host: `sh-${text}` };
      expect(validateRdsLicensingArgs(args)).toEqual({ modeProblems: [], otherProblems: [] });
      counts.component++;
    }
  });
});

// ---- data: carried byte for byte --------------------------------------------------------------------

describe("legitimate data is carried byte for byte to the emulator and back", () => {
  const WMI = ["FirstName", "LastName", "Company", "CountryRegion", "eMail", "OrgUnit", "Address", "City", "State", "PostalCode"];

  test.each([
    ["injection strings", (i: number) => INJECTIONS[i]],
    [
      "quotes, emoji, invisible and right-to-left characters",
      (i: number) =>
        [
          `O'Brien "Ltd"`,
          "non\u00a0breaking space",
          "zero\u200bwidth joiner",
          "right-to-left \u202eoverride",
          "emoji 👩‍💻 with ZWJ",
          "‘curly’ “quotes”",
          "back`tick",
          "100% $x",
          "a\\b\\\\c",
          "€£¥",
        ][i],
    ],
    // The longest each field accepts (256 characters; eMail 254): a value at the limit arrives whole.
    ["values at the longest accepted", (i: number) => `${INJECTIONS[i]}${"x".repeat(300)}`.slice(0, CONTACT_MAX_LENGTH[CONTACT_FIELDS[i]])],
  ])("contact fields: %s", async (_label, valueOf) => {
    const contact = Object.fromEntries(CONTACT_FIELDS.map((f, i) => [f, valueOf(i)]));
    const before = snapshotDir(stateDir);
    const op = await lsEngine.up({ ...LS_BASE, contact });
    expect(op).toBe("update");
    expect(snapshotDir(stateDir)).not.toEqual(before); // valid input arrived: now the state changes
    // Back in the outputs, exactly.
    expect(lsEngine.entry!.outputs.contact).toEqual(contact);
    // In the emulator, exactly.
    const live = await sim.host(LS_HOST);
    WMI.forEach((prop, i) => expect(live.licenseServer.contact[prop]).toBe(contact[CONTACT_FIELDS[i]]));
    // And a second up changes nothing, a refresh shows no drift.
    expect(await lsEngine.up({ ...LS_BASE, contact })).toBe("same");
    expect((await lsEngine.refresh()).op).toBe("same");
    counts.data += CONTACT_FIELDS.length;
  });

  test.each([
    ["a line break", "line1\nline2"],
    ["a tab", "tab\there"],
    ["NUL", "nul\u0000byte"],
    ["a C1 control", "c1\u0085next"],
    ["one character over the limit", "x".repeat(CONTACT_MAX_LENGTH.firstName + 1)],
  ])("contact fields: %s is refused at check, before any host is touched", async (_label, bad) => {
    const before = snapshotDir(stateDir);
    const contact = { ...(LS_BASE.contact as Record<string, string>), firstName: bad };
    await expect(lsEngine.up({ ...LS_BASE, contact })).rejects.toBeInstanceOf(CheckFailed);
    expect(snapshotDir(stateDir)).toEqual(before);
  });

  test("license server names and a host name with injection characters are data: carried exactly", async () => {
    const names = ["$(Stop-Computer)", "ls'01.contoso.com", "`whoami`", "東京.contoso.com", '"quoted"', "${env:PATH}"];
    const host = "sh-'$(x)`y`.contoso.com";
    const engine = new ResourceUnderTest(P.sessionHost);
    const before = snapshotDir(stateDir);
    expect(await engine.up({ ...SH_BASE, connection: sim.conn(host), licenseServers: names })).toBe("create");
    expect(snapshotDir(stateDir)).not.toEqual(before);
    expect(engine.entry!.outputs.effectiveLicenseServers).toEqual(names);
    const live = await sim.host(host);
    expect(live.hostName).toBe(host);
    expect(live.sessionHost.specifiedLicenseServers).toEqual(names);
    expect(await engine.up({ ...SH_BASE, connection: sim.conn(host), licenseServers: names })).toBe("same");
    expect((await engine.refresh()).op).toBe("same");
    counts.data += names.length + 1;
  });

  test("the state stays untouched through rejected input until the valid input arrives (session host)", async () => {
    const before = snapshotDir(stateDir);
    for (const bad of ["perCore", "", null, 4]) {
      await expect(shEngine.up({ ...SH_BASE, mode: bad })).rejects.toBeInstanceOf(CheckFailed);
    }
    expect(snapshotDir(stateDir)).toEqual(before);
    expect(await shEngine.up({ ...SH_BASE, licenseServers: [LS_HOST, "ls02.contoso.com"] })).toBe("update");
    expect(strip(shEngine.entry!.outputs).effectiveLicenseServers).toEqual([LS_HOST, "ls02.contoso.com"]);
    expect(snapshotDir(stateDir)).not.toEqual(before);
  });

  afterAll(() => {
    // The counts for the report (visible with --verbose).

    console.log(
      `bad input: ${counts.rejected} rejected, ${counts.preview} preview, ${counts.component} component, ${counts.data} data fields carried`,
    );
  });
});
