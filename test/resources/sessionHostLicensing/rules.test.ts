/**
 * Pure rules of RdsSessionHostLicensing and the RdsLicensing findings: value maps, the CAL version vs
 * host OS table, the mode-vs-CALs rule, check() and diff() of the provider, the Group Policy
 * decisions, the plan and partial-success decisions, the field table, and the findings catalogue.
 *
 * Real: the rule functions (rules.ts), the messages (messages.ts), the zod schemas and field table,
 * the provider's check/diff (they touch no host), the findings computation, the SDK's registration
 * and closure serializer (for the class's `__provider`).
 * Stands in: nothing runs pwsh here; live states are literal get.ps1 results, packs literal packs.ps1 results.
 */
import { ErrorCode } from "../../../provider/errors";
import { computeFindings, FINDINGS, type FindingsInput } from "../../../provider/resources/component/findings";
import { groupPolicyConflict } from "../../../provider/resources/sessionHostLicensing/messages";
import { provider } from "../../../provider/resources/sessionHostLicensing/provider";
import { RdsSessionHostLicensing } from "../../../provider/resources/sessionHostLicensing/resource";
import {
  applyPlan,
  CAL_VERSIONS,
  calCoversHost,
  changesBetween,
  describePlan,
  evaluateModeAgainstCals,
  HOST_OS_VERSIONS,
  interpret,
  licensingTypeFor,
  modeFromLicensingType,
  modeRuleFromDeclaration,
  osVersionFromWindows,
  packFactsFrom,
  packsByServer,
  parsePolicyServerList,
  planChanges,
  policyConflicts,
  policyShownFor,
} from "../../../provider/resources/sessionHostLicensing/rules";
import { argsSchema, FIELDS, type GetResult } from "../../../provider/resources/sessionHostLicensing/schema";
import { captureProvider } from "../../helpers/captureProvider";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const conn = { transport: "simulator", host: "sh1.contoso.com" };
const ls = { transport: "simulator", host: "ls01.contoso.com" };
const pack = (calType: string, productVersion: string, keyPackId = 3) => ({
  keyPackId,
  calType,
  productVersion,
  licenseServerConnection: ls,
});

describe("CAL version vs session host OS (newer CALs cover older hosts)", () => {
  // Rows: host OS; columns: 2008R2-era, 2012, 2016, 2019, 2022, 2025 CALs.
  const table: Record<string, boolean[]> = {
    "2008": [true, true, true, true, true, true],
    "2008R2": [true, true, true, true, true, true],
    "2012": [false, true, true, true, true, true],
    "2012R2": [false, true, true, true, true, true],
    "2016": [false, false, true, true, true, true],
    "2019": [false, false, false, true, true, true],
    "2022": [false, false, false, false, true, true],
    "2025": [false, false, false, false, false, true],
  };
  it.each(HOST_OS_VERSIONS.map((os) => [os]))("a %s host is covered by exactly the CALs the table says", (os) => {
    expect(CAL_VERSIONS.map((cal) => calCoversHost(cal, os))).toEqual(table[os]);
  });

  it("reads the OS from Win32_OperatingSystem captions, else from the build number; a client OS is unknown", () => {
    expect(osVersionFromWindows({ caption: "Microsoft Windows Server 2022 Standard", version: "10.0.20348" })).toBe("2022");
    expect(osVersionFromWindows({ caption: "Microsoft Windows Server 2012 R2 Standard", version: "6.3.9600" })).toBe("2012R2");
    expect(osVersionFromWindows({ caption: "Microsoft Windows Server 2008 R2 Enterprise" })).toBe("2008R2");
    expect(osVersionFromWindows({ caption: "", version: "10.0.26100", buildNumber: "26100" })).toBe("2025");
    expect(osVersionFromWindows({ caption: "", version: "10.0.17763" })).toBe("2019");
    expect(osVersionFromWindows({ caption: "", version: "6.1.7601" })).toBe("2008R2");
    expect(osVersionFromWindows({ caption: "Microsoft Windows 11 Enterprise multi-session", version: "10.0.22631" })).toBeNull();
  });

  it("maps LicensingType values (docs/windows-facts.md) both ways", () => {
    expect([2, 4, 5, 0, 1, 6, 3].map(modeFromLicensingType)).toEqual([
      "perDevice",
      "perUser",
      "notConfigured",
      "personalTerminalServer",
      "remoteDesktopForAdministration",
      "aadPerUser",
      "unknown(3)",
    ]);
    expect([licensingTypeFor("perDevice"), licensingTypeFor("perUser")]).toEqual([2, 4]);
  });

  it("splits the GPO LicenseServers REG_SZ on commas, keeping order", () => {
    expect(parsePolicyServerList(" ls2.contoso.com, ls1 ,,")).toEqual(["ls2.contoso.com", "ls1"]);
  });
});

describe("the mode-vs-CALs rule", () => {
  it("passes with a pack of the mode's type that covers the OS, even next to other packs", () => {
    const r = evaluateModeAgainstCals({
      host: "sh1",
      mode: "perUser",
      osVersion: "2022",
      domainJoined: true,
      packs: [
        { keyPackId: 3, calType: "perDevice", productVersion: "2022" },
        { keyPackId: 4, calType: "perUser", productVersion: "2025" },
      ],
    });
    expect(r.ok).toBe(true);
  });

  it("tolerates what is not known yet, but not what is known to be wrong", () => {
    expect(evaluateModeAgainstCals({ host: "h", mode: "perUser", packs: [{ calType: undefined, productVersion: undefined }] }).ok).toBe(
      true,
    );
    expect(
      evaluateModeAgainstCals({ host: "h", mode: "perUser", osVersion: "2025", packs: [{ calType: "perUser", productVersion: undefined }] })
        .ok,
    ).toBe(true);
    expect(evaluateModeAgainstCals({ host: "h", mode: "perUser", packs: [{ calType: "perDevice", productVersion: undefined }] }).ok).toBe(
      false,
    );
    expect(evaluateModeAgainstCals({ host: "h", mode: "perUser", packs: undefined }).ok).toBe(true);
    expect(evaluateModeAgainstCals({ host: "h", mode: "perUser", packs: [] }).ok).toBe(false);
  });

  it("refuses Per User on a workgroup host whatever the packs", () => {
    const r = evaluateModeAgainstCals({
      host: "wg",
      mode: "perUser",
      domainJoined: false,
      packs: [{ calType: "perUser", productVersion: "2025" }],
    });
    expect(r.ok).toBe(false);
    expect(r.problems.join()).toContain("wg is in a workgroup");
    // Per Device is what a workgroup host must use.
    expect(
      evaluateModeAgainstCals({
        host: "wg",
        mode: "perDevice",
        domainJoined: false,
        packs: [{ calType: "perDevice", productVersion: "2022" }],
      }).ok,
    ).toBe(true);
  });
});

describe("provider.check", () => {
  const news = (extra: Record<string, unknown>) => ({ connection: conn, mode: "perUser", licenseServers: ["ls01.contoso.com"], ...extra });

  it("fills the defaults and normalises names", async () => {
    const r = await provider.check!({}, news({ licenseServers: [" ls01.contoso.com "], __provider: "x" }));
    expect(r.failures).toBeUndefined();
    expect(r.inputs).toMatchObject({ scope: "sessionHost", resetOnDelete: false, licenseServers: ["ls01.contoso.com"], __provider: "x" });
  });

  it("reports bad inputs as failures, with paths", async () => {
    const r = await provider.check!({}, news({ mode: "perSocket", licenseServers: ["a", "A", "b,c"], scope: "farm", extra: 1 }));
    const byProperty = Object.fromEntries((r.failures ?? []).map((f) => [f.property, f.reason]));
    expect(byProperty.mode).toContain('"perUser" or "perDevice"');
    expect(byProperty.scope).toContain('"sessionHost" or "deployment"');
    expect(byProperty["licenseServers[1]"]).toContain("listed twice");
    expect(byProperty["licenseServers[2]"]).toContain("comma");
    expect(byProperty["(inputs)"]).toContain('unknown field "extra"');
  });

  it("refuses a mode whose CAL type no declared pack has (RDS_MODE_MISMATCH), naming the packs and the fix", async () => {
    const r = await provider.check!({}, news({ calPacks: [pack("perDevice", "2022", 7)] }));
    expect(r.failures).toHaveLength(1);
    expect(r.failures![0].property).toBe("mode");
    expect(r.failures![0].reason).toContain(ErrorCode.ModeMismatch);
    expect(r.failures![0].reason).toContain("sh1.contoso.com");
    expect(r.failures![0].reason).toContain("#7 Per Device 2022");
    expect(r.failures![0].reason).toContain('or set mode to "perDevice"');
  });

  it("at preview, tolerates unknown packs, pack fields, server names and connections", async () => {
    for (const extra of [
      { calPacks: [UNKNOWN] },
      { calPacks: [{ ...pack("perUser", "2022"), keyPackId: UNKNOWN, licenseServerConnection: UNKNOWN }] },
      { calPacks: [{ ...pack("perDevice", "2022"), calType: UNKNOWN }] },
      { licenseServers: [UNKNOWN] },
      { connection: UNKNOWN },
    ]) {
      const r = await provider.check!({}, news(extra));
      expect(r.failures).toBeUndefined();
    }
    // A known wrong type next to an unknown key pack id still fails.
    const r = await provider.check!({}, news({ calPacks: [{ ...pack("perDevice", "2022"), keyPackId: UNKNOWN }] }));
    expect(r.failures?.map((f) => f.property)).toEqual(["mode"]);
  });
});

describe("provider.diff", () => {
  const inputs = argsSchema.parse({
    connection: conn,
    mode: "perUser",
    licenseServers: ["ls01.contoso.com", "ls02.contoso.com"],
    calPacks: [pack("perUser", "2022")],
  });
  const state = {
    ...inputs,
    effectiveMode: "perUser",
    effectiveLicenseServers: ["LS01.contoso.com", "ls02.contoso.com"],
    modeSource: "local",
  };

  it("no change when the live values match (case-insensitively)", async () => {
    expect(await provider.diff!("id", state, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("live drift (mode flipped, list emptied or reordered) is an in-place update", async () => {
    expect(await provider.diff!("id", { ...state, effectiveMode: "perDevice" }, inputs)).toMatchObject({ changes: true, replaces: [] });
    expect(await provider.diff!("id", { ...state, effectiveLicenseServers: [] }, inputs)).toMatchObject({ changes: true, replaces: [] });
    expect(
      await provider.diff!("id", { ...state, effectiveLicenseServers: ["ls02.contoso.com", "ls01.contoso.com"] }, inputs),
    ).toMatchObject({ changes: true });
  });

  it("another host or scope replaces (deleting first when the old one resets on delete); credentials only update", async () => {
    expect(await provider.diff!("id", state, { ...inputs, connection: { ...conn, host: "sh9" } })).toMatchObject({
      changes: true,
      replaces: ["targetHost"],
      deleteBeforeReplace: false,
    });
    expect(
      await provider.diff!("id", { ...state, resetOnDelete: true }, { ...inputs, scope: "deployment", resetOnDelete: true }),
    ).toMatchObject({ replaces: ["scope"], deleteBeforeReplace: true });
    expect(await provider.diff!("id", state, { ...inputs, connection: { ...conn, stateDir: "/tmp/x" } })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(await provider.diff!("id", state, { ...inputs, connection: { ...conn, host: "SH1.CONTOSO.COM" } })).toMatchObject({
      replaces: [],
    });
  });

  it("an unknown value at preview means 'may change', never 'replace'", async () => {
    const r = await provider.diff!("id", state, { ...inputs, licenseServers: [UNKNOWN], calPacks: [UNKNOWN] });
    expect(r).toMatchObject({ changes: true, replaces: [] });
  });
});

/** get.ps1's result for a fresh 2022 session host of contoso.com with the role, `over` changed. */
const raw = (over: Partial<GetResult>): GetResult => ({
  scope: "sessionHost",
  serverName: "sh1.contoso.com",
  terminalServerMode: 1,
  licensingType: 5,
  rdmsMode: null,
  policySourceLicensingType: 0,
  policySourceConfiguredLicenseServers: 0,
  licenseServers: [],
  policy: { licensingMode: null, licenseServers: null },
  gracePeriodDaysLeft: 120,
  os: { caption: "Microsoft Windows Server 2022 Standard", version: "10.0.20348", buildNumber: "20348" },
  partOfDomain: true,
  domain: "contoso.com",
  connectivity: [],
  ...over,
});

describe("Group Policy decisions", () => {
  const args = argsSchema.parse({ connection: conn, mode: "perUser", licenseServers: ["ls01.contoso.com"] });

  it("a policy equal to the desired values: no conflict, nothing to set, source groupPolicy", () => {
    const live = interpret(
      raw({
        licensingType: 4,
        policySourceLicensingType: 1,
        policySourceConfiguredLicenseServers: 1,
        licenseServers: ["ls01.contoso.com"],
        policy: { licensingMode: 4, licenseServers: "ls01.contoso.com" },
      }),
    );
    expect(live).toMatchObject({ modeSource: "groupPolicy", licenseServersSource: "groupPolicy", effectiveMode: "perUser" });
    expect(policyConflicts(args, live)).toEqual([]);
    expect(planChanges(args, live)).toEqual({ mode: null, licenseServers: null });
  });

  it("a policy that contradicts: RDS_GROUP_POLICY_CONFLICT; the planner never targets a policy-controlled value", () => {
    const live = interpret(raw({ licensingType: 2, policySourceLicensingType: 1, policy: { licensingMode: 2, licenseServers: null } }));
    const conflicts = policyConflicts(args, live);
    expect(conflicts).toEqual([{ setting: "mode", policyValue: 2, effective: "perDevice", declared: "perUser" }]);
    const err = groupPolicyConflict(live.serverName, conflicts);
    expect(err.code).toBe(ErrorCode.GroupPolicyConflict);
    expect(err.message).toContain("value LicensingMode = 4 for Per User");
    expect(planChanges(args, live)).toEqual({ mode: null, licenseServers: ["ls01.contoso.com"] });
  });

  it("without policy, sets only what differs", () => {
    expect(planChanges(args, interpret(raw({ licensingType: 4 })))).toEqual({ mode: null, licenseServers: ["ls01.contoso.com"] });
    expect(planChanges(args, interpret(raw({ licenseServers: ["ls01.contoso.com"] })))).toEqual({ mode: "perUser", licenseServers: null });
  });

  it("a policy that contradicts the list, on scope deployment: no conflict (its settings are not policy-controlled)", () => {
    const live = interpret(raw({ policySourceConfiguredLicenseServers: 1, policy: { licensingMode: null, licenseServers: "gp-ls" } }));
    expect(policyConflicts(args, live)).toEqual([{ setting: "licenseServers", effective: ["gp-ls"], declared: ["ls01.contoso.com"] }]);
    expect(policyConflicts({ ...args, scope: "deployment" }, live)).toEqual([]);
  });
});

describe("the RD Session Host role, and a setter's WBEM_E_INVALID_OPERATION", () => {
  it("TerminalServerMode 1 is the role, 0 is Remote Administration; scope deployment does not read it", () => {
    expect(interpret(raw({ terminalServerMode: 1 })).sessionHostRole).toBe(true);
    expect(interpret(raw({ terminalServerMode: 0 })).sessionHostRole).toBe(false);
    expect(interpret(raw({ terminalServerMode: null })).sessionHostRole).toBeNull();
    expect(interpret(raw({ scope: "deployment", terminalServerMode: null, rdmsMode: "PerUser" })).sessionHostRole).toBeNull();
  });

  it("a setter's refusal is a policy conflict only when a read shows the policy source of that setting", () => {
    const plain = interpret(raw({}));
    const modeByPolicy = interpret(raw({ policySourceLicensingType: 1 }));
    const listByKey = interpret(raw({ policy: { licensingMode: null, licenseServers: "ls01" } }));
    expect(policyShownFor("ChangeMode", [plain, undefined])).toBe(false);
    expect(policyShownFor("ChangeMode", [plain, modeByPolicy])).toBe(true);
    expect(policyShownFor("ChangeMode", [listByKey])).toBe(false);
    expect(policyShownFor("SetSpecifiedLicenseServerList", [plain, listByKey])).toBe(true);
    expect(policyShownFor("SetSpecifiedLicenseServerList", [modeByPolicy])).toBe(false);
    expect(policyShownFor(undefined, [modeByPolicy, listByKey])).toBe(false);
  });
});

describe("partial success: what was done", () => {
  const live = interpret({
    scope: "sessionHost",
    serverName: "sh1",
    terminalServerMode: 1,
    licensingType: 2,
    rdmsMode: null,
    policySourceLicensingType: 0,
    policySourceConfiguredLicenseServers: 0,
    licenseServers: ["a"],
    policy: { licensingMode: null, licenseServers: null },
    gracePeriodDaysLeft: 120,
    os: { caption: null, version: null, buildNumber: null },
    partOfDomain: true,
    domain: null,
  });

  it("describes a plan in the user's words, and what changed between two reads", () => {
    expect(describePlan({ mode: "perUser", licenseServers: ["b"] })).toEqual(["mode set to perUser", "license server list set"]);
    expect(describePlan({ mode: null, licenseServers: null })).toEqual([]);
    expect(changesBetween(live, { ...live, effectiveMode: "perUser" })).toEqual(["mode set to perUser"]);
    expect(changesBetween(live, { ...live, effectiveLicenseServers: ["A"] })).toEqual([]);
  });

  it("the state after a plan, without reading the host again", () => {
    expect(applyPlan(live, { mode: "perUser", licenseServers: null })).toMatchObject({
      effectiveMode: "perUser",
      effectiveLicenseServers: ["a"],
    });
  });
});

describe("the live packs", () => {
  const ref = (keyPackId: number, host: string, name = "") => ({ keyPackId, licenseServerConnection: { host }, licenseServerName: name });

  it("groups the packs by license server (one packs.ps1 each), in declaration order", () => {
    const groups = packsByServer([ref(3, "ls1", "LS1"), ref(4, "ls2"), ref(5, "ls1")], (c) => c.host);
    expect(groups.map((g) => [g.connection.host, g.ids, g.name])).toEqual([
      ["ls1", [3, 5], "LS1"],
      ["ls2", [4], ""],
    ]);
  });

  it("turns packs.ps1's answer into facts; a pack not there is 'not found'", () => {
    const found = [{ keyPackId: 3, productType: 1, productVersionId: 7, availableLicenses: 9 }];
    expect(packFactsFrom([3, 4], found, "ls1")).toEqual([
      { keyPackId: 3, found: true, calType: "perUser", productVersion: "2022", availableLicenses: 9, licenseServer: "ls1" },
      { keyPackId: 4, found: false, licenseServer: "ls1" },
    ]);
  });

  it("reads the declared packs for check, tolerating unknowns and leaving wrong values to the schema", () => {
    const declared = { connection: conn, mode: "perUser", calPacks: [pack("perDevice", "2022", 7), UNKNOWN] };
    expect(modeRuleFromDeclaration(declared)).toEqual({
      host: "sh1.contoso.com",
      mode: "perUser",
      packs: [{ keyPackId: 7, calType: "perDevice", productVersion: "2022" }, {}],
    });
    expect(modeRuleFromDeclaration({ ...declared, calPacks: [pack("perSocket", "2022")] })).toBeUndefined();
    expect(modeRuleFromDeclaration({ ...declared, calPacks: undefined })).toBeUndefined();
    expect(modeRuleFromDeclaration({ ...declared, connection: UNKNOWN })?.host).toBe("the session host");
  });
});

describe("the field table", () => {
  it("derives the secrets, the outputs and the comparator spec from one declaration per field", () => {
    expect(FIELDS.secretFields).toEqual(["connection", "calPacks"]);
    expect(Object.keys(FIELDS.inputShape)).toEqual([
      "connection",
      "scope",
      "mode",
      "licenseServers",
      "calPacks",
      "installRole",
      "resetOnDelete",
    ]);
    expect(FIELDS.outputKeys).toEqual([
      ...Object.keys(FIELDS.inputShape),
      "serverName",
      "effectiveMode",
      "effectiveLicenseServers",
      "modeSource",
      "licenseServersSource",
      "gracePeriodDaysLeft",
      "osVersion",
      "domainJoined",
      "sessionHostRole",
      "connectivity",
    ]);
    expect(
      Object.entries(FIELDS.diffSpec)
        .filter(([, r]) => r.replace)
        .map(([k]) => k),
    ).toEqual(["targetHost", "transport", "scope"]);
    expect([...FIELDS.stateOnlyFields]).toEqual(["connection", "calPacks", "installRole", "resetOnDelete"]);
  });
});

describe("findings (Best Practices Analyzer-style)", () => {
  const healthy = (): FindingsInput => ({
    mode: "perUser",
    licenseServer: { serverName: "ls01.contoso.com", activationStatus: "activated", productId: "00490-92005-99454-AT527", nextStep: "" },
    packs: [{ name: "users", keyPackId: 3, calType: "perUser", productVersion: "2022", availableLicenses: 10 }],
    hosts: [
      {
        name: "sh1",
        serverName: "sh1.contoso.com",
        effectiveMode: "perUser",
        modeSource: "local",
        effectiveLicenseServers: ["ls01"],
        licenseServersSource: "local",
        gracePeriodDaysLeft: 120,
        osVersion: "2022",
        domainJoined: true,
      },
    ],
  });
  const status = (input: FindingsInput) => Object.fromEntries(computeFindings(input).map((f) => [f.id, f.status]));

  it("all pass for a healthy environment, in id order, each with severity, title and a one-line fix", () => {
    // Every fact given (the AD group, CAL usage, connectivity, the clock), so every finding is reported.
    const input = healthy();
    input.licenseServer = {
      ...input.licenseServer,
      licenseServersGroup: { domainJoined: true, domain: "contoso.com", member: true, scpRegistered: true },
      calUsage: {
        packs: [{ keyPackId: 3, calType: "perUser", productVersion: "2022", installed: 10, issued: 0, available: 10 }],
        perDevice: { total: 0, listed: [], limit: 50 },
        perUser: { installed: 10, issued: 4, reportAvailable: true, reason: null },
      },
    };
    input.hosts[0].connectivity = [{ licenseServer: "ls01", status: 11, name: "LS_CONNECTABLE_VALID_LS", meaning: "valid", ok: true }];
    const findings = computeFindings(input, { now: new Date("2026-06-01T00:00:00Z") });
    expect(findings.map((f) => f.id)).toEqual(Object.keys(FINDINGS));
    expect(
      findings.every((f) => f.status === "pass" && !f.fix.includes("\n") && f.title === FINDINGS[f.id as keyof typeof FINDINGS].title),
    ).toBe(true);
  });

  it("not activated (001) with the license server's own next step", () => {
    const input = healthy();
    input.licenseServer = { ...input.licenseServer, activationStatus: "pending", nextStep: "open https://activate.microsoft.com ..." };
    const f = computeFindings(input).find((x) => x.id === "RDS-LIC-001")!;
    expect(f).toMatchObject({ status: "fail", severity: "error", fix: "open https://activate.microsoft.com ..." });
    expect(status(input)["RDS-LIC-006"]).toBe("fail");
  });

  it("wrong CAL type (002), used-up CALs (002), too old CALs (003)", () => {
    const wrongType = healthy();
    wrongType.packs[0].calType = "perDevice";
    expect(status(wrongType)["RDS-LIC-002"]).toBe("fail");
    const usedUp = healthy();
    usedUp.packs[0].availableLicenses = 0;
    expect(status(usedUp)["RDS-LIC-002"]).toBe("fail");
    const old = healthy();
    old.hosts[0].osVersion = "2025";
    const f = computeFindings(old).find((x) => x.id === "RDS-LIC-003")!;
    expect(f.status).toBe("fail");
    expect(f.fix).toContain("version 2025");
  });

  it("mode drift or a contrary Group Policy (004, 008), no license server (005), grace period over (006), workgroup (007)", () => {
    const gpo = healthy();
    gpo.hosts[0] = { ...gpo.hosts[0], effectiveMode: "perDevice", modeSource: "groupPolicy" };
    const f = computeFindings(gpo);
    expect(f.find((x) => x.id === "RDS-LIC-004")).toMatchObject({ status: "fail" });
    expect(f.find((x) => x.id === "RDS-LIC-004")!.fix).toContain("Group Policy");
    expect(f.find((x) => x.id === "RDS-LIC-008")).toMatchObject({ status: "fail", severity: "info" });

    const noList = healthy();
    noList.hosts[0] = { ...noList.hosts[0], effectiveLicenseServers: [], gracePeriodDaysLeft: 0 };
    const g = computeFindings(noList);
    expect(g.find((x) => x.id === "RDS-LIC-005")).toMatchObject({ status: "fail", severity: "warning" });
    expect(g.find((x) => x.id === "RDS-LIC-006")!.detail).toContain("grace period OVER");

    const wg = healthy();
    wg.hosts[0].domainJoined = false;
    expect(status(wg)["RDS-LIC-007"]).toBe("fail");
  });
});

describe("the resource class", () => {
  it("registers with the type token, a secret connection, and a small serializable __provider", async () => {
    const reg = await captureProvider(
      () =>
        new RdsSessionHostLicensing("sh1", {
          connection: { transport: "simulator", host: "sh1" },
          mode: "perDevice",
          licenseServers: ["ls01"],
        }),
    );
    expect(reg.type).toBe("pulumi-nodejs:dynamic/rds:SessionHostLicensing");
    expect(JSON.stringify(reg.inputs.connection)).toContain("4dabf18193072939515e22adb298388d");
    expect(reg.provider).toContain("pulumi-rds-licensing/resources/sessionHostLicensing/provider");
    // The shim is serialized, not the implementation (which holds zod schemas and could not be).
    expect(Buffer.byteLength(reg.provider)).toBeLessThan(5000);
    expect(reg.provider).not.toContain("argsSchema");
  });
});
