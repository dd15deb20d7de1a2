/**
 * The RdsLicensing findings about facts read live beyond the settings: RDS-LIC-009 (the license server
 * in the AD "Terminal Server License Servers" group), 010 (Per User over-allocation), 011 (Per Device
 * licenses expiring within 30 days without spare CALs), 012 (packs of a type no host uses) and 013 (each
 * host's connectivity to its license servers). Each passes, fails, and is not reported when its facts
 * are absent (so callers that do not give them see the eight findings they always saw).
 *
 * Real: component/findings.ts and usageFindings.ts. Stands in: nothing (plain inputs, no host; the
 * clock is the `now` option).
 */
import {
  computeFindings,
  FINDINGS,
  type CalUsageFacts,
  type FindingsInput,
  type LicenseServersGroupFacts,
} from "../../../provider/resources/component/findings";
import type { ConnectivityEntry } from "../../../provider/resources/sessionHostLicensing/connectivity";

const NOW = new Date("2026-06-01T00:00:00Z");
const inDays = (d: number) => new Date(NOW.getTime() + d * 86_400_000).toISOString();

const host = (name: string, over: Partial<FindingsInput["hosts"][number]> = {}): FindingsInput["hosts"][number] => ({
  name,
  serverName: `${name}.contoso.com`,
  effectiveMode: "perUser",
  modeSource: "local",
  effectiveLicenseServers: ["ls01.contoso.com"],
  licenseServersSource: "local",
  gracePeriodDaysLeft: 100,
  osVersion: "2022",
  domainJoined: true,
  ...over,
});

const base: FindingsInput = {
  mode: "perUser",
  licenseServer: { serverName: "ls01.contoso.com", activationStatus: "activated", productId: "00490-92005-99454-AT527", nextStep: "" },
  packs: [{ name: "users", keyPackId: 4, calType: "perUser", productVersion: "2022", availableLicenses: 50, totalLicenses: 50 }],
  hosts: [host("sh1"), host("sh2")],
};

const group = (over: Partial<LicenseServersGroupFacts> = {}): LicenseServersGroupFacts => ({
  domainJoined: true,
  domain: "contoso.com",
  member: true,
  scpRegistered: true,
  ...over,
});

const usage = (over: Partial<CalUsageFacts> = {}): CalUsageFacts => ({
  packs: [{ keyPackId: 4, calType: "perUser", productVersion: "2022", installed: 50, issued: 0, available: 50 }],
  perDevice: { total: 0, listed: [], limit: 50 },
  perUser: { installed: 50, issued: 20, reportAvailable: true, reason: null },
  ...over,
});

const entry = (licenseServer: string, status: number, name: string, ok: boolean): ConnectivityEntry => ({
  licenseServer,
  status,
  name,
  meaning: "as documented",
  ok,
});

const withLs = (extra: Partial<FindingsInput["licenseServer"]>, over: Partial<FindingsInput> = {}): FindingsInput => ({
  ...base,
  ...over,
  licenseServer: { ...base.licenseServer, ...extra },
});

const find = (input: FindingsInput, id: string, options: { now?: Date } = { now: NOW }) =>
  computeFindings(input, options).find((f) => f.id === id);

describe("catalogue", () => {
  test("the new ids carry the severities and titles the contract gives", () => {
    expect(FINDINGS["RDS-LIC-009"]).toEqual({
      severity: "error",
      title: "The license server is in the Terminal Server License Servers group (Per User in a domain)",
    });
    expect(FINDINGS["RDS-LIC-010"]).toEqual({ severity: "error", title: "Per User CALs in use do not exceed those installed" });
    expect(FINDINGS["RDS-LIC-011"]).toEqual({
      severity: "warning",
      title: "Per Device licenses expiring within 30 days can be renewed from spare CALs",
    });
    expect(FINDINGS["RDS-LIC-012"]).toEqual({ severity: "info", title: "Every installed CAL type is used by a session host" });
    expect(FINDINGS["RDS-LIC-013"]).toEqual({
      severity: "error",
      title: "Every session host can reach its license servers, activated, with CALs of its mode",
    });
  });

  test("without the new facts only RDS-LIC-001..008 are reported, as before (the clock given or not)", () => {
    const ids = (now?: Date) => computeFindings(base, { now }).map((f) => f.id);
    const old = ["001", "002", "003", "004", "005", "006", "007", "008"].map((n) => `RDS-LIC-${n}`);
    expect(ids(NOW)).toEqual(old);
    expect(ids()).toEqual(old);
    expect(computeFindings(base).map((f) => f.id)).toEqual(old);
  });

  test("with every fact given the findings come in id order, 001..013", () => {
    const hosts = [host("sh1", { connectivity: [entry("ls01.contoso.com", 11, "LS_CONNECTABLE_VALID_LS", true)] })];
    const ids = computeFindings(withLs({ licenseServersGroup: group(), calUsage: usage() }, { hosts }), { now: NOW }).map((f) => f.id);
    expect(ids).toEqual(Array.from({ length: 13 }, (_, i) => `RDS-LIC-${String(i + 1).padStart(3, "0")}`));
  });
});

describe("RDS-LIC-009: the license server in the Terminal Server License Servers group", () => {
  test("Per User in a domain: a member passes, a non-member fails and the fix names the input", () => {
    expect(find(withLs({ licenseServersGroup: group() }), "RDS-LIC-009")).toMatchObject({ status: "pass", severity: "error" });
    const f = find(withLs({ licenseServersGroup: group({ member: false }) }), "RDS-LIC-009")!;
    expect(f.status).toBe("fail");
    expect(f.detail).toBe(
      "ls01.contoso.com is not in the Terminal Server License Servers group of contoso.com: Per User CALs are not tracked or reported",
    );
    expect(f.fix).toContain("addToLicenseServersGroup: true");
  });

  test("Per Device, or a workgroup server, passes whatever the membership", () => {
    const perDevice = withLs({ licenseServersGroup: group({ member: false }) }, { mode: "perDevice" });
    expect(find(perDevice, "RDS-LIC-009")).toMatchObject({ status: "pass", detail: expect.stringContaining("Per Device") });
    const workgroup = withLs({ licenseServersGroup: group({ domainJoined: false, domain: null, member: null, scpRegistered: null }) });
    expect(find(workgroup, "RDS-LIC-009")).toMatchObject({ status: "pass", detail: expect.stringContaining("workgroup") });
  });

  test("not reported without the group facts, nor when the membership could not be read (member null in a domain)", () => {
    expect(find(base, "RDS-LIC-009")).toBeUndefined();
    expect(find(withLs({ licenseServersGroup: group({ member: null }) }), "RDS-LIC-009")).toBeUndefined();
  });
});

describe("RDS-LIC-010: Per User over-allocation", () => {
  test("in use up to the installed Per User CALs (sum of the Per User packs) passes; above fails with how many over", () => {
    const two = [
      { keyPackId: 4, calType: "perUser", productVersion: "2022", installed: 30, issued: 0, available: 30 },
      { keyPackId: 5, calType: "perUser", productVersion: "2019", installed: 20, issued: 0, available: 20 },
      { keyPackId: 6, calType: "perDevice", productVersion: "2022", installed: 100, issued: 0, available: 100 },
    ];
    const at = (issued: number) =>
      find(
        withLs({ calUsage: usage({ packs: two, perUser: { installed: 50, issued, reportAvailable: true, reason: null } }) }),
        "RDS-LIC-010",
      )!;
    expect(at(50)).toMatchObject({ status: "pass", detail: "50 Per User CALs in use, 50 installed" });
    expect(at(53)).toMatchObject({ status: "fail", detail: "53 Per User CALs in use, 50 installed (3 over)" });
    expect(at(53).fix).toContain("at least 3 more Per User CALs on ls01.contoso.com");
  });

  test("not reported without CAL usage, nor when the per-user report is not available (issued null)", () => {
    expect(find(base, "RDS-LIC-010")).toBeUndefined();
    const noReport = usage({ perUser: { installed: 50, issued: null, reportAvailable: false, reason: "workgroup" } });
    expect(find(withLs({ calUsage: noReport }), "RDS-LIC-010")).toBeUndefined();
  });
});

describe("RDS-LIC-011: Per Device licenses expiring within 30 days", () => {
  const devicePack = (available: number) => ({
    keyPackId: 7,
    calType: "perDevice",
    productVersion: "2022",
    installed: 10,
    issued: 10 - available,
    available,
  });
  const listed = (days: number[]) => days.map((d, i) => ({ device: `PC-${i + 1}`, keyPackId: 7, expires: inDays(d) }));
  const at = (available: number, days: number[], total = days.length) =>
    find(
      withLs(
        { calUsage: usage({ packs: [devicePack(available)], perDevice: { total, listed: listed(days), limit: 50 } }) },
        { mode: "perDevice" },
      ),
      "RDS-LIC-011",
    )!;

  test("more licenses expiring within 30 days of now than spare Per Device CALs fails; enough spares pass", () => {
    expect(at(1, [3, 29, 31, 90])).toMatchObject({ status: "fail", severity: "warning" });
    expect(at(1, [3, 29, 31, 90]).detail).toBe(
      `2 Per Device licenses expire within 30 days, the first PC-1 on ${inDays(3).slice(0, 10)}; 1 Per Device CALs available`,
    );
    expect(at(1, [3, 29, 31, 90]).fix).toContain("at least 1 more Per Device CALs");
    expect(at(2, [3, 29, 31, 90]).status).toBe("pass");
    expect(at(0, [31, 90]).status).toBe("pass"); // nothing in the window
    expect(at(0, [30]).status).toBe("fail"); // the 30th day is in the window
  });

  test("a listing cut at its limit that expires entirely in the window says 'at least'", () => {
    expect(at(0, [1, 2], 40).detail).toMatch(/^at least 2 Per Device licenses expire within 30 days/);
  });

  test("the clock is the caller's: another now gives another answer; without now (or usage) it is not reported", () => {
    const input = withLs({ calUsage: usage({ packs: [devicePack(0)], perDevice: { total: 1, listed: listed([40]), limit: 50 } }) });
    expect(find(input, "RDS-LIC-011", { now: NOW })!.status).toBe("pass");
    expect(find(input, "RDS-LIC-011", { now: new Date(NOW.getTime() + 15 * 86_400_000) })!.status).toBe("fail");
    expect(find(input, "RDS-LIC-011", {})).toBeUndefined();
    expect(find(base, "RDS-LIC-011")).toBeUndefined();
  });
});

describe("RDS-LIC-012: packs of a type no host uses (info)", () => {
  const packs = [
    { keyPackId: 4, calType: "perUser", productVersion: "2022", installed: 50, issued: 0, available: 50 },
    { keyPackId: 9, calType: "perDevice", productVersion: "2019", installed: 25, issued: 0, available: 25 },
  ];

  test("a Per Device pack in a Per User farm where no host runs Per Device fails (info), naming the pack", () => {
    const f = find(withLs({ calUsage: usage({ packs }) }), "RDS-LIC-012")!;
    expect(f).toMatchObject({ status: "fail", severity: "info", detail: "unused: #9 perDevice 2019 (25 CALs)" });
  });

  test("a host whose effective mode is the pack's type uses it; so does the declared mode", () => {
    const hosts = [host("sh1"), host("sh2", { effectiveMode: "perDevice" })];
    expect(find(withLs({ calUsage: usage({ packs }) }, { hosts }), "RDS-LIC-012")!.status).toBe("pass");
    expect(
      find(withLs({ calUsage: usage({ packs: [packs[1]!] }) }, { mode: "perDevice", hosts: [host("sh1")] }), "RDS-LIC-012")!.status,
    ).toBe("pass");
  });

  test("the caller's own packs count too (a usage read from before they were installed), once per KeyPackId", () => {
    const declared = [
      ...base.packs,
      { name: "devices", keyPackId: 9, calType: "perDevice", productVersion: "2019", availableLicenses: 25, totalLicenses: 25 },
    ];
    const stale = usage({ packs: [] });
    expect(find(withLs({ calUsage: stale }, { packs: declared }), "RDS-LIC-012")!.detail).toBe("unused: #9 perDevice 2019 (25 CALs)");
    expect(find(withLs({ calUsage: usage({ packs }) }, { packs: declared }), "RDS-LIC-012")!.detail).toBe(
      "unused: #9 perDevice 2019 (25 CALs)",
    );
  });

  test("not reported without CAL usage", () => {
    expect(find(base, "RDS-LIC-012")).toBeUndefined();
  });
});

describe("RDS-LIC-013: each host reaches its license servers", () => {
  const valid = entry("ls01.contoso.com", 11, "LS_CONNECTABLE_VALID_LS", true);

  test("every entry valid passes; one that is not fails, naming host, server and status", () => {
    const ok = find({ ...base, hosts: [host("sh1", { connectivity: [valid] }), host("sh2", { connectivity: [valid] })] }, "RDS-LIC-013")!;
    expect(ok).toMatchObject({ status: "pass", severity: "error", detail: "2 host-to-server links valid" });
    const hosts = [
      host("sh1", { connectivity: [valid, entry("ls02.contoso.com", 4, "LS_CONNECTABLE_LOWER_VERSION", false)] }),
      host("sh2", { connectivity: [entry("ls01.contoso.com", 6, "LS_NOT_CONNECTABLE", false)] }),
    ];
    const f = find({ ...base, hosts }, "RDS-LIC-013")!;
    expect(f.status).toBe("fail");
    expect(f.detail).toBe("sh1 -> ls02.contoso.com: 4 LS_CONNECTABLE_LOWER_VERSION, sh2 -> ls01.contoso.com: 6 LS_NOT_CONNECTABLE");
  });

  test("a host without the fact is skipped; no host with it: not reported", () => {
    const f = find({ ...base, hosts: [host("sh1", { connectivity: [valid] }), host("sh2")] }, "RDS-LIC-013")!;
    expect(f).toMatchObject({ status: "pass", detail: "1 host-to-server link valid" });
    expect(find(base, "RDS-LIC-013")).toBeUndefined();
  });
});

test("phase 1 of a web activation reports RDS-LIC-001 only, whatever facts are given", () => {
  const input = withLs(
    { activationStatus: "pending", licenseServersGroup: group({ member: false }), calUsage: usage() },
    { deferred: { calPacks: ["farm-users"], sessionHosts: ["farm-sh1"] }, hosts: [host("sh1", { connectivity: [] })] },
  );
  expect(computeFindings(input, { now: NOW }).map((f) => f.id)).toEqual(["RDS-LIC-001"]);
});
