/**
 * `rds-licensing check`: from the facts read to the findings engine's input (mapping.ts), the expected
 * mode, the exit code and the report's shape (report.ts, text.ts). Pure functions over hand-written
 * reads.
 *
 * Real: the mapping, the RdsLicensing component's findings engine (computeFindings), the report and its
 * text rendering. Stands in: the reads are literal objects in the shapes the read scripts return (no
 * pwsh, no host).
 */
import { CheckInputError } from "../../provider/check/errors";
import type { LicenseServerRead, SessionHostRead } from "../../provider/check/facts";
import { decideMode, findingsInputOf, hostInputOf, packsOf } from "../../provider/check/mapping";
import { assembleReport, exitCodeOf, licenseServerView, NOTHING } from "../../provider/check/report";
import { renderText } from "../../provider/check/text";
import { computeFindings } from "../../provider/resources/component/findings";

const server = (activationStatus: number): LicenseServerRead => ({
  roleInstalled: true,
  serviceStatus: "Running",
  classReady: true,
  server: {
    serverName: "ls01.contoso.com",
    productId: "00490-92005-99454-AT527",
    version: "10.0.20348",
    activationStatus,
    licenseServerId: "SECRETLICENSESERVERID",
    serverRole: 0,
    contact: {
      firstName: "Ada",
      lastName: "Lovelace",
      company: "C",
      countryRegion: "UK",
      email: "",
      orgUnit: "",
      address: "",
      city: "",
      state: "",
      postalCode: "",
    },
  },
  licenseServersGroup: null,
  calUsage: null,
});

const usage: NonNullable<LicenseServerRead["calUsage"]> = {
  packs: [
    { keyPackId: 3, calType: "perUser", productVersion: "2022", installed: 50, issued: 12, available: 38 },
    { keyPackId: 4, calType: "perUser", productVersion: "2019", installed: 10, issued: 0, available: 10 },
  ],
  perDevice: { total: 0, listed: [], limit: 50 },
  perUser: { installed: 60, issued: 12, reportAvailable: true, reason: null },
};

function hostRead(over: Partial<SessionHostRead> = {}): SessionHostRead {
  return {
    scope: "sessionHost",
    serverName: "sh1.contoso.com",
    terminalServerMode: 1,
    licensingType: 4,
    rdmsMode: null,
    policySourceLicensingType: 0,
    policySourceConfiguredLicenseServers: 0,
    licenseServers: ["ls01.contoso.com"],
    policy: { licensingMode: null, licenseServers: null },
    gracePeriodDaysLeft: 120,
    os: { caption: "Microsoft Windows Server 2022 Datacenter", version: "10.0.20348", buildNumber: "20348" },
    partOfDomain: true,
    domain: "contoso.com",
    connectivity: [{ licenseServer: "ls01.contoso.com", status: 2, name: "LS_CONNECTABLE_VALID_LS", meaning: "valid", ok: true }],
    ...over,
  };
}

describe("packs", () => {
  it("come from the CAL usage the license server read reports; none when it was not read", () => {
    expect(packsOf({ ...server(0), calUsage: usage })).toEqual([
      { name: "#3", keyPackId: 3, calType: "perUser", productVersion: "2022", availableLicenses: 38, totalLicenses: 50 },
      { name: "#4", keyPackId: 4, calType: "perUser", productVersion: "2019", availableLicenses: 10, totalLicenses: 10 },
    ]);
    expect(packsOf(server(1))).toEqual([]);
  });
});

describe("the expected mode", () => {
  const pack = (calType: string, totalLicenses = 5) => ({
    name: "p",
    keyPackId: 1,
    calType,
    productVersion: "2022",
    availableLicenses: 1,
    totalLicenses,
  });

  it("is the user's when given, else the one CAL type installed", () => {
    expect(decideMode("perDevice", [pack("perUser")], "ls")).toEqual({ mode: "perDevice", origin: "flag or inventory" });
    expect(decideMode(undefined, [pack("perUser"), pack("perUser")], "ls")).toEqual({ mode: "perUser", origin: "installed CAL type" });
    expect(decideMode(undefined, [pack("perDevice"), pack("perUser", 0)], "ls")).toEqual({
      mode: "perDevice",
      origin: "installed CAL type",
    });
  });

  it("cannot be told with both types or none: an input error asking for --mode", () => {
    for (const [packs, found] of [
      [[pack("perUser"), pack("perDevice")], "CALs of perDevice and perUser"],
      [[], "no CAL pack"],
    ] as const) {
      let error: unknown;
      try {
        decideMode(undefined, packs, "ls01");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CheckInputError);
      expect((error as CheckInputError).message).toBe(`the expected licensing mode cannot be told: ls01 has ${found} installed`);
      expect((error as CheckInputError).fix).toBe("give --mode perUser or --mode perDevice (or mode: in the inventory)");
    }
  });
});

describe("the findings input", () => {
  it("maps a host as the resource's outputs do: Group Policy wins, with its source", () => {
    const gpo = hostInputOf("sh9", hostRead({ policy: { licensingMode: 2, licenseServers: "ls02" }, policySourceLicensingType: 1 }));
    expect({ ...gpo, connectivity: undefined }).toEqual({
      connectivity: undefined,
      name: "sh9",
      serverName: "sh1.contoso.com",
      effectiveMode: "perDevice",
      modeSource: "groupPolicy",
      effectiveLicenseServers: ["ls02"],
      licenseServersSource: "groupPolicy",
      gracePeriodDaysLeft: 120,
      osVersion: "2022",
      domainJoined: true,
    });
    const connectivity = [
      { licenseServer: "ls01.contoso.com", status: 6, name: "LS_NOT_CONNECTABLE", meaning: "cannot connect", ok: false },
    ];
    expect(hostInputOf("sh1", hostRead({ connectivity })).connectivity).toEqual(connectivity);
    expect(gpo.connectivity).toEqual(hostRead().connectivity);
  });

  it("passes the issue-17 facts only when read, never the license server id", () => {
    const group = { domainJoined: true, domain: "contoso.com", member: false, scpRegistered: true, readError: null };
    const full = findingsInputOf("perUser", "ls01", { ...server(0), calUsage: usage, licenseServersGroup: group }, [
      { name: "sh1", read: hostRead() },
    ]);
    expect(full.licenseServer).toEqual({
      serverName: "ls01.contoso.com",
      activationStatus: "activated",
      productId: "00490-92005-99454-AT527",
      nextStep: "",
      licenseServersGroup: group,
      calUsage: usage,
    });
    expect(JSON.stringify(full)).not.toContain("SECRETLICENSESERVERID");
    const bare = findingsInputOf("perUser", "ls01", server(1), []);
    expect(Object.keys(bare.licenseServer).sort()).toEqual(["activationStatus", "nextStep", "productId", "serverName"]);
    expect(bare.licenseServer.activationStatus).toBe("notActivated");
  });

  it("names the missing role or stopped service as the next step", () => {
    const noRole = findingsInputOf(
      "perUser",
      "ls01",
      { roleInstalled: false, serviceStatus: "NotFound", classReady: false, server: null, licenseServersGroup: null, calUsage: null },
      [],
    );
    expect(noRole.licenseServer).toMatchObject({ serverName: "ls01", activationStatus: "unknown" });
    expect(noRole.licenseServer.nextStep).toBe("install the RDS-Licensing role on ls01 (RdsLicenseServer installs it), then activate it");
    const stopped = findingsInputOf(
      "perUser",
      "ls01",
      { roleInstalled: true, serviceStatus: "Stopped", classReady: false, server: null, licenseServersGroup: null, calUsage: null },
      [],
    );
    expect(stopped.licenseServer.nextStep).toBe("start the Remote Desktop Licensing service (TermServLicensing) on ls01: it is Stopped");
  });

  it("a healthy farm passes every error finding: exit 0; a wrong-mode host fails RDS-LIC-004: exit 1; a host not read: exit 2", () => {
    const facts: LicenseServerRead = { ...server(0), calUsage: usage };
    const healthy = computeFindings(findingsInputOf("perUser", "ls01", facts, [{ name: "sh1", read: hostRead() }]));
    expect(healthy.filter((f) => f.status === "fail")).toEqual([]);
    expect(exitCodeOf(healthy, [], null)).toBe(0);
    const wrong = computeFindings(findingsInputOf("perUser", "ls01", facts, [{ name: "sh1", read: hostRead({ licensingType: 2 }) }]));
    expect(wrong.filter((f) => f.status === "fail").map((f) => f.id)).toEqual(["RDS-LIC-004", "RDS-LIC-006"]);
    expect(exitCodeOf(wrong, [], null)).toBe(1);
    expect(exitCodeOf(healthy, [{ host: "sh2", role: "sessionHost", code: "RDS_HOST_UNREACHABLE", message: "x" }], null)).toBe(2);
    const warningOnly = healthy.map((f) => (f.id === "RDS-LIC-005" ? { ...f, status: "fail" as const } : f));
    expect(exitCodeOf(warningOnly, [], null)).toBe(0);
  });
});

describe("the report", () => {
  it("without the license server: no finding, the hosts read shown, the server under NOT READ, exit 2", () => {
    const report = assembleReport({
      ...NOTHING,
      mode: "perUser",
      modeOrigin: "flag or inventory",
      hosts: [hostInputOf("sh1.contoso.com", hostRead())],
      unreadable: [
        {
          host: "ls01",
          role: "licenseServer",
          code: "RDS_HOST_UNREACHABLE",
          message: "starting pwsh for ls01: gone [RDS_HOST_UNREACHABLE]",
        },
      ],
    });
    expect(report).toMatchObject({ exitCode: 2, result: "not checked", findings: [], error: null });
    expect(report.facts.licenseServer).toBeNull();
    const text = renderText(report);
    expect(text).not.toContain("FINDINGS");
    expect(text).toContain("\nSESSION HOSTS\n");
    expect(text).toContain("\nNOT READ\n  ls01 (license server): starting pwsh for ls01: gone [RDS_HOST_UNREACHABLE]\n");
    expect(text.endsWith("\nresult: not checked (exit 2): 0 error, 0 warning, 0 info finding(s) fail; 1 host(s) not read\n")).toBe(true);
  });

  it("escapes control characters in names", () => {
    const text = renderText(assembleReport({ ...NOTHING, hosts: [hostInputOf("sh\u001b[31m1", hostRead())] }));
    expect(text).toContain("sh\\u001b[31m1");
    expect(text).not.toContain("\u001b");
  });

  it("lists the soonest Per Device licenses to expire, ten in text, and says how many more", () => {
    const listed = Array.from({ length: 50 }, (_, i) => ({
      device: `PC-${i + 1}`,
      keyPackId: 5,
      expires: `2027-01-${String((i % 28) + 1).padStart(2, "0")}T00:00:00Z`,
    }));
    const read: LicenseServerRead = { ...server(0), calUsage: { ...usage, perDevice: { total: 60, listed, limit: 50 } } };
    const text = renderText(assembleReport({ ...NOTHING, licenseServer: licenseServerView("ls01", read) }));
    expect(text).toContain(
      "CAL USAGE\n  Per Device licenses issued: 60 (the 50 soonest to expire listed)\n    PC-1  pack #5  expires 2027-01-01T00:00:00Z\n",
    );
    expect(text).toContain(
      "    PC-10  pack #5  expires 2027-01-10T00:00:00Z\n    ... 40 more in --json\n  Per User CALs: 60 installed, 12 in use (per-user report)\n",
    );
    expect(text).not.toContain("PC-11 ");
  });
});
