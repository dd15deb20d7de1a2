/**
 * The RdsLicensing component as a Pulumi program, under `pulumi.runtime.setMocks`.
 *
 * Real: the Pulumi Node SDK (resource registration, dependency tracking, input serialization, the
 * serialized `__provider`), the component and the three resource classes, the validation rules and the
 * findings computation.
 * Stands in: the engine's resource monitor (the SDK's MockMonitor, wrapped here to record each
 * RegisterResourceRequest's dependency URNs), and the providers: the mock answers each registration
 * with plausible outputs (no provider method runs here; e2e.test.ts runs them for real). The
 * component's warning goes to console.warn (no engine under mocks), where the phase tests capture it.
 */
import * as pulumi from "@pulumi/pulumi";
import { ErrorCode, isRdsError } from "../../../provider/errors";
import { RdsLicensing, validateRdsLicensingArgs, type RdsLicensingArgs } from "../../../provider/resources/component/rdsLicensing";
import type { Finding } from "../../../provider/resources/component/findings";
import { withWarnings } from "../../helpers/warnings";
import { unconfirmedVersionWarning } from "../../../provider/resources/calPack/rules";

const SIG = "4dabf18193072939515e22adb298388d";
type Props = Record<string, unknown>;

function unwrap(v: unknown): unknown {
  if (v !== null && typeof v === "object" && SIG in (v as Props)) return unwrap((v as Props).value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

interface Registered {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  inputs: Props;
}

/** Plausible outputs per type, so the component's findings have something to compute from. */
function mockOutputs(type: string, inputs: Props, seq: number): Props {
  const plain = unwrap(inputs) as Props;
  if (type.endsWith(":LicenseServer")) {
    const host = (plain.connection as Props).host as string;
    const activation = plain.activation as Props;
    // A web/telephone declaration without its license server id stays pending, as the provider leaves it.
    const pending = activation.method !== "automatic" && !activation.licenseServerId;
    return {
      ...inputs,
      serverName: host,
      productId: "00490-92005-99454-AT527",
      activationStatus: pending ? "pending" : "activated",
      activationMethod: pending ? "" : activation.method,
      nextStep: pending ? "(the license server's own next step)" : "",
      version: "10.0.20348",
    };
  }
  if (type.endsWith(":CalPack")) {
    return {
      ...inputs,
      keyPackId: 100 + seq,
      totalLicenses: plain.quantity,
      issuedLicenses: 0,
      availableLicenses: plain.quantity,
      typeAndModel: "RDS CAL",
    };
  }
  if (type.endsWith(":SessionHostLicensing")) {
    const host = (plain.connection as Props).host as string;
    return {
      ...inputs,
      scope: plain.scope ?? "sessionHost",
      serverName: host,
      effectiveMode: plain.mode,
      effectiveLicenseServers: plain.licenseServers,
      modeSource: "local",
      licenseServersSource: "local",
      gracePeriodDaysLeft: 120,
      osVersion: "2022",
      domainJoined: true,
    };
  }
  return inputs;
}

/** The parts of the SDK's RegisterResourceRequest/Response (gRPC objects) this wrapper reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (v: { getUrnsList(): string[] }, k: string) => void): void };
}
interface RegisterResponse {
  getUrn(): string;
}

/** Runs `build` under mocks; returns every registration with the dependency URNs the SDK computed. */
async function run(build: () => pulumi.Resource | void, preview = false): Promise<{ regs: Registered[]; built: pulumi.Resource | void }> {
  const regs: Registered[] = [];
  let seq = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: args.custom ? `${args.name}_id` : undefined, state: mockOutputs(args.type, args.inputs, seq++) }),
      call: (args) => args.inputs,
    },
    "proj",
    "stack",
    preview,
  );
  // Wrap the mock monitor to see what the engine would see: the dependencies of each registration.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, callback: (err: unknown, resp: RegisterResponse | undefined) => void) => {
    const propDeps: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v: { getUrnsList(): string[] }, k: string) => (propDeps[k] = v.getUrnsList()));
    regs.push({
      type: req.getType(),
      name: req.getName(),
      urn: "",
      custom: req.getCustom(),
      dependencies: req.getDependenciesList(),
      propertyDependencies: propDeps,
      inputs: {},
    });
    return original(req, (err: unknown, resp: RegisterResponse | undefined) => {
      if (resp) regs.find((r) => r.type === req.getType() && r.name === req.getName())!.urn = resp.getUrn();
      callback(err, resp);
    });
  };
  const built = build();
  if (built instanceof RdsLicensing) {
    const all = [built, built.licenseServer, ...built.calPacks, ...built.sessionHosts];
    await Promise.all(all.map((r) => new Promise((res) => r.urn.apply(res))));
    await new Promise((res) => built.findings.apply(res));
  }
  // Let the SDK finish registering everything it started.
  await new Promise((res) => setTimeout(res, 50));
  return { regs, built };
}

const nameOf = (regs: Registered[], urn: string) => regs.find((r) => r.urn === urn)?.name ?? urn;

function environment(mode: "perUser" | "perDevice", overrides: Partial<RdsLicensingArgs> = {}): RdsLicensingArgs {
  return {
    licenseServer: {
      connection: { transport: "simulator", host: "ls01.contoso.com" },
      contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
      activation: { method: "automatic" },
    },
    calPacks: [
      {
        name: "users-2022",
        program: "enterpriseAgreement",
        agreementNumber: "1234567",
        productVersion: "2022",
        calType: "perUser",
        quantity: 50,
      },
      {
        name: "users-2025",
        program: "enterpriseAgreement",
        agreementNumber: "1234567",
        productVersion: "2025",
        calType: "perUser",
        quantity: 10,
      },
    ],
    mode,
    sessionHosts: [
      { name: "sh1", connection: { transport: "simulator", host: "sh1.contoso.com" }, osVersion: "2022", domainJoined: true },
      { name: "sh2", connection: { transport: "simulator", host: "sh2.contoso.com" }, osVersion: "2025" },
    ],
    ...overrides,
  };
}

describe("RdsLicensing registration graph", () => {
  it("registers packs that depend on the license server and hosts that depend on every pack", async () => {
    const { regs, built } = await run(() => new RdsLicensing("env", environment("perUser")));
    const env = built as RdsLicensing;
    const byName = (n: string) => regs.find((r) => r.name === n)!;

    expect(regs.map((r) => [r.type, r.name])).toEqual(
      expect.arrayContaining([
        ["rds:index:RdsLicensing", "env"],
        ["pulumi-nodejs:dynamic/rds:LicenseServer", "env-ls"],
        ["pulumi-nodejs:dynamic/rds:CalPack", "env-users-2022"],
        ["pulumi-nodejs:dynamic/rds:CalPack", "env-users-2025"],
        ["pulumi-nodejs:dynamic/rds:SessionHostLicensing", "env-sh1"],
        ["pulumi-nodejs:dynamic/rds:SessionHostLicensing", "env-sh2"],
      ]),
    );
    expect(regs).toHaveLength(6);

    const ls = byName("env-ls");
    for (const pack of ["env-users-2022", "env-users-2025"]) {
      const r = byName(pack);
      expect(r.dependencies.map((u) => nameOf(regs, u))).toContain("env-ls");
      // The dependency comes through the data the pack reads (its connection), not an explicit dependsOn.
      expect(r.propertyDependencies.connection).toEqual([ls.urn]);
    }
    for (const host of ["env-sh1", "env-sh2"]) {
      const r = byName(host);
      expect(r.dependencies.map((u) => nameOf(regs, u)).sort()).toEqual(expect.arrayContaining(["env-users-2022", "env-users-2025"]));
      expect(r.propertyDependencies.calPacks.map((u) => nameOf(regs, u)).sort()).toEqual(["env-users-2022", "env-users-2025"]);
      // licenseServers defaults to [licenseServer.serverName]: the host also reads the license server.
      expect(r.propertyDependencies.licenseServers.map((u) => nameOf(regs, u))).toEqual(["env-ls"]);
    }
    // Registration order follows the data: server, then packs, then hosts.
    const order = regs.map((r) => r.name);
    expect(order.indexOf("env-ls")).toBeLessThan(order.indexOf("env-users-2022"));
    expect(Math.max(order.indexOf("env-users-2022"), order.indexOf("env-users-2025"))).toBeLessThan(
      Math.min(order.indexOf("env-sh1"), order.indexOf("env-sh2")),
    );
    // Children of the component.
    expect(env.sessionHosts).toHaveLength(2);
    expect(env.calPacks).toHaveLength(2);
  });

  it("a deployment registers one SessionHostLicensing with scope deployment", async () => {
    const { regs, built } = await run(
      () =>
        new RdsLicensing(
          "dep",
          environment("perUser", {
            sessionHosts: undefined,
            deployment: { connection: { transport: "simulator", host: "cb01.contoso.com" } },
          }),
        ),
    );
    const hosts = regs.filter((r) => r.type.endsWith(":SessionHostLicensing"));
    expect(hosts.map((h) => h.name)).toEqual(["dep-deployment"]);
    const scope = await new Promise((res) => (built as RdsLicensing).sessionHosts[0].scope.apply(res));
    expect(scope).toBe("deployment");
  });

  it("exposes findings computed from the resources' outputs", async () => {
    const { built } = await run(() => new RdsLicensing("env", environment("perUser")));
    const findings = await new Promise<Finding[]>((res) => (built as RdsLicensing).findings.apply(res));
    expect(findings.map((f) => f.id)).toEqual([
      "RDS-LIC-001",
      "RDS-LIC-002",
      "RDS-LIC-003",
      "RDS-LIC-004",
      "RDS-LIC-005",
      "RDS-LIC-006",
      "RDS-LIC-007",
      "RDS-LIC-008",
    ]);
    expect(findings.every((f) => f.status === "pass")).toBe(true);
    expect(findings.find((f) => f.id === "RDS-LIC-002")!.detail).toContain("60 Per User CALs available");
    for (const f of findings) {
      expect(["error", "warning", "info"]).toContain(f.severity);
      expect(f.fix).not.toContain("\n");
      expect(f.title.length).toBeGreaterThan(0);
    }
  });
});

describe("RdsLicensing phases of a web or telephone activation", () => {
  const winrm = (host: string) => ({
    transport: "winrm" as const,
    host,
    user: "CONTOSO\\admin",
    password: pulumi.secret("Winrm-Secret-42"),
  });
  const LICENSE_SERVER_ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";

  const value = <T>(o: pulumi.Output<T>) => new Promise<T>((res) => o.apply(res));

  function overWinrm(activation: RdsLicensingArgs["licenseServer"]["activation"]): RdsLicensingArgs {
    const env = environment("perUser", {
      sessionHosts: [{ name: "sh1", connection: winrm("sh1.contoso.com"), osVersion: "2022", domainJoined: true }],
    });
    return { ...env, licenseServer: { ...env.licenseServer, connection: winrm("ls01.contoso.com"), activation } };
  }

  it("phase 1 (telephone over winrm, no id): only the license server is registered; the warning names the telephone route, never rds-sim", async () => {
    const { result, warnings } = await withWarnings(async () => {
      const r = await run(() => new RdsLicensing("env", overWinrm({ method: "telephone" })));
      await value((r.built as RdsLicensing).nextStep);
      return r;
    });
    const env = result.built as RdsLicensing;
    expect(result.regs.map((r) => r.name)).toEqual(["env", "env-ls"]);
    expect(env.calPacks).toEqual([]);
    expect(env.sessionHosts).toEqual([]);
    expect(await value(env.deferred)).toEqual(["env-users-2022", "env-users-2025", "env-sh1"]);
    expect(await value(env.activationStatus)).toBe("pending");

    const next = await value(env.nextStep);
    expect(warnings).toEqual([`warning: [runtime] ${next}`]);
    expect(next).toContain("phase 1 of telephone activation done: license server ls01.contoso.com (product id 00490-92005-99454-AT527)");
    expect(next).toContain(
      "the telephone number RD Licensing Manager's Activate Server wizard shows for your country/region (United Kingdom)",
    );
    expect(next).toContain('activation: { method: "telephone", licenseServerId: cfg.getSecret("licenseServerId") }');
    expect(next).not.toContain("rds-sim");
    expect(next).not.toContain("Winrm-Secret-42");

    const findings = await value(env.findings);
    expect(findings.map((f) => [f.id, f.status])).toEqual([["RDS-LIC-001", "fail"]]);
    expect(findings[0].detail).toBe(
      "ls01.contoso.com: pending; deferred until it is activated: CAL packs env-users-2022, env-users-2025 and session host env-sh1",
    );
  });

  it("phase 2 (the id declared as a secret Input): every resource is registered in the usual order, and no warning but the packs' version ones", async () => {
    const { result, warnings } = await withWarnings(() =>
      run(() => new RdsLicensing("env", overWinrm({ method: "telephone", licenseServerId: pulumi.secret(LICENSE_SERVER_ID) }))),
    );
    const env = result.built as RdsLicensing;
    const order = result.regs.map((r) => r.name);
    expect(order).toEqual(expect.arrayContaining(["env", "env-ls", "env-users-2022", "env-users-2025", "env-sh1"]));
    expect(order).toHaveLength(5);
    expect(order.indexOf("env-ls")).toBeLessThan(order.indexOf("env-users-2022"));
    expect(Math.max(order.indexOf("env-users-2022"), order.indexOf("env-users-2025"))).toBeLessThan(order.indexOf("env-sh1"));
    expect(await value(env.deferred)).toEqual([]);
    expect(await value(env.activationStatus)).toBe("activated");
    expect(await value(env.nextStep)).toBe("");
    // No phase warning; only the two packs' own: their 2022 and 2025 ProductVersion codes are unconfirmed.
    expect(warnings).toEqual([
      `warning: [runtime] ${unconfirmedVersionWarning("enterpriseAgreement", "2022")}`,
      `warning: [runtime] ${unconfirmedVersionWarning("enterpriseAgreement", "2025")}`,
    ]);
    expect((await value(env.findings)).map((f) => f.id)).toHaveLength(8);
  });

  it("an activation given whole as an Output cannot be read at construction: everything is registered", async () => {
    const { result } = await withWarnings(() => run(() => new RdsLicensing("env", overWinrm(pulumi.output({ method: "web" as const })))));
    expect(result.regs.map((r) => r.name)).toHaveLength(5);
    expect(await value((result.built as RdsLicensing).deferred)).toEqual([]);
  });
});

describe("RdsLicensing validation before anything is registered", () => {
  async function refused(args: RdsLicensingArgs) {
    const seen: string[] = [];
    await pulumi.runtime.setMocks(
      { newResource: (a) => (seen.push(a.name), { id: `${a.name}_id`, state: a.inputs }), call: (a) => a.inputs },
      "proj",
      "stack",
      false,
    );
    let error: unknown;
    try {
      new RdsLicensing("env", args);
    } catch (e) {
      error = e;
    }
    await new Promise((res) => setTimeout(res, 50));
    expect(seen).toEqual([]);
    if (!isRdsError(error)) throw new Error(`expected an RdsError, got ${String(error)}`);
    return error;
  }

  it("refuses Per User over Per Device packs, registering no resource at all", async () => {
    const err = await refused(
      environment("perUser", {
        calPacks: [
          { name: "devices", program: "select", agreementNumber: "7654321", productVersion: "2022", calType: "perDevice", quantity: 40 },
          {
            name: "devices-2025",
            program: "select",
            agreementNumber: "7654321",
            productVersion: "2025",
            calType: "perDevice",
            quantity: 5,
          },
        ],
      }),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain('validating RdsLicensing "env"');
    expect(err.message).toContain("mode perUser needs Per User CALs");
    expect(err.message).toContain("devices (perDevice 2022)");
    expect(err.message).toContain('or set mode to "perDevice"');
    expect(err.message.endsWith(`[${ErrorCode.ModeMismatch}]`)).toBe(true);
  });

  it("refuses CALs older than a declared host OS", async () => {
    const err = await refused(
      environment("perUser", {
        calPacks: [
          {
            name: "users-2019",
            program: "enterpriseAgreement",
            agreementNumber: "1234567",
            productVersion: "2019",
            calType: "perUser",
            quantity: 50,
          },
        ],
      }),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain("sh1 (Windows Server 2022)");
    expect(err.message).toContain("sh2 (Windows Server 2025)");
    expect(err.message).toContain("too old");
  });

  it("refuses Per User on a host declared as not domain-joined", async () => {
    const err = await refused(
      environment("perUser", {
        sessionHosts: [{ name: "wg1", connection: { transport: "simulator", host: "wg1" }, osVersion: "2022", domainJoined: false }],
      }),
    );
    expect(err.code).toBe(ErrorCode.ModeMismatch);
    expect(err.message).toContain("wg1 is in a workgroup");
  });

  it("refuses duplicate packs, duplicate hosts, and both or neither of sessionHosts/deployment", async () => {
    const dup = await refused(
      environment("perUser", {
        calPacks: [
          {
            name: "a",
            program: "enterpriseAgreement",
            agreementNumber: "1234567",
            productVersion: "2025",
            calType: "perUser",
            quantity: 50,
          },
          {
            name: "b",
            program: "enterpriseAgreement",
            agreementNumber: "123-4567",
            productVersion: "2025",
            calType: "perUser",
            quantity: 20,
          },
        ],
      }),
    );
    expect(dup.code).toBe(ErrorCode.Validation);
    expect(dup.message).toContain('CAL packs "a" and "b" are the same pack');

    const hosts = await refused(
      environment("perUser", {
        sessionHosts: [
          { name: "one", connection: { transport: "simulator", host: "SH1.contoso.com" } },
          { name: "two", connection: { transport: "simulator", host: "sh1.contoso.com" } },
          { name: "two", connection: { transport: "simulator", host: "sh3.contoso.com" } },
        ],
      }),
    );
    expect(hosts.message).toContain('session hosts "one" and "two" both target host sh1.contoso.com');
    expect(hosts.message).toContain('session host name "two" is used twice');

    const both = await refused(environment("perUser", { deployment: { connection: { transport: "simulator", host: "cb01" } } }));
    expect(both.message).toContain("give either sessionHosts");
    const neither = await refused(environment("perUser", { sessionHosts: undefined }));
    expect(neither.message).toContain("give either sessionHosts");
  });

  it("tolerates values not known at program time (Outputs) and leaves them to the resources' checks", async () => {
    const args = environment("perUser", {
      calPacks: [
        {
          name: "users",
          program: "enterpriseAgreement",
          agreementNumber: pulumi.secret("1234567"),
          productVersion: pulumi.output("2025") as pulumi.Output<"2025">,
          calType: pulumi.output("perUser") as pulumi.Output<"perUser">,
          quantity: 5,
        },
      ],
    });
    expect(validateRdsLicensingArgs(args)).toEqual({ modeProblems: [], otherProblems: [] });
  });
});
