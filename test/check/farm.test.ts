/**
 * Must show (issue 17): `rds-licensing check` on a simulated farm of 1 license server and 40 session
 * hosts with 5 planted problems finds every problem and exits 1; it writes nothing; a host it cannot
 * read and bad input exit 2; after the administrator fixes the network and the policy and a Pulumi
 * program fixes the rest through the real provider host, `check` exits 0.
 *
 * Real: the check's command line (main, in this process: its pool is the process's pool, so its pwsh
 * processes are counted from the pool's own events), the runner and pool, pwsh 7, the read scripts, the
 * findings engine; for the fix, the Pulumi SDK running the program, the dynamic-provider host process
 * and gRPC, the built providers (bin/).
 * Stands in: Windows and Active Directory (the WMI emulator, state in a temp directory); the
 * administrator who built the farm by hand and plants / fixes problems (the emulator's admin functions,
 * test/check/farm.ts); the Pulumi CLI engine (test/helpers/engine.ts).
 *
 * The wall time and the process count are printed (and written to the file $RDS_CHECK_RESULTS names,
 * e.g. bench/results/check-farm.json); only the process count is asserted (bounded by the pool's workers).
 */
import * as fs from "fs";
import * as path from "path";
import { main } from "../../provider/check/main";
import type { CheckReport } from "../../provider/check/report";
import { onPoolEvent, poolOptions } from "../../provider/powershell/pool";
import { RdsCalPack } from "../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../../provider/resources/sessionHostLicensing/resource";
import { createEngine, type Engine } from "../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../helpers/providerHost";
import { runProgram } from "../resources/component/liveProgram";
import { Farm, INSTALLED_CALS, LS, type CallRow, type Planted } from "./farm";

const HOSTS = 40;
const PLANTED: Planted = { wrongMode: "sh07.contoso.com", networkCut: "sh13.contoso.com", groupPolicy: "sh21.contoso.com", usersOver: 80 };

let farm: Farm;

beforeAll(async () => {
  farm = await Farm.build(HOSTS);
  await farm.plant(PLANTED);
}, 900_000);

afterAll(async () => {
  await farm?.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** pwsh processes the pool started during the run (its own "start" events). */
  processes: number;
  /** The operation of each script the pool ran (its "script" events), in order. */
  operations: string[];
  wallMs: number;
}

async function check(args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  let processes = 0;
  const operations: string[] = [];
  const off = onPoolEvent((e) => {
    if (e.type === "start") processes++;
    if (e.type === "script") operations.push(e.operation);
  });
  const started = Date.now();
  try {
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: process.cwd(), env: process.env });
    return { code, stdout, stderr, processes, operations, wallMs: Date.now() - started };
  } finally {
    off();
  }
}

const farmArgs = (hosts: readonly string[]) => [
  "check",
  "--license-server",
  LS,
  "--session-host",
  hosts.join(","),
  "--mode",
  "perUser",
  "--transport",
  "simulator",
  "--state-dir",
  farm.stateDir,
];

const failing = (r: CheckReport) => Object.fromEntries(r.findings.filter((f) => f.status === "fail").map((f) => [f.id, f.detail]));

/**
 * Only reads: the Get-* cmdlets (CIM instances, features, services, registry), and the Get / Is / Fetch
 * methods (check makes no per-user report: it reads those already on the server).
 */
const READ_METHODS = /^(Get|Is|Fetch)/;
function writesIn(rows: readonly CallRow[]): CallRow[] {
  return rows.filter((r) => !(/^Get-/.test(r.cmdlet) || (r.cmdlet === "Invoke-CimMethod" && READ_METHODS.test(r.method))));
}

describe(`rds-licensing check on 1 license server and ${HOSTS} session hosts`, () => {
  let logsBefore: Record<string, CallRow[]>;
  let stateBefore: Record<string, string>;

  it("finds the five planted problems (and only what follows from them), and exits 1", async () => {
    logsBefore = await farm.callLogs();
    stateBefore = await farm.snapshot();
    const run = await check([...farmArgs(farm.hosts), "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as CheckReport;
    expect(Object.keys(report)).toEqual(["exitCode", "result", "mode", "modeOrigin", "findings", "facts", "unreadable", "error"]);
    expect(report).toMatchObject({
      exitCode: 1,
      result: "errors found",
      mode: "perUser",
      modeOrigin: "flag or inventory",
      unreadable: [],
      error: null,
    });

    const { wrongMode, networkCut, groupPolicy } = PLANTED;
    const fails = failing(report);
    expect(Object.keys(fails).sort()).toEqual(["RDS-LIC-004", "RDS-LIC-006", "RDS-LIC-008", "RDS-LIC-009", "RDS-LIC-010", "RDS-LIC-013"]);
    // 1. The license server outside the AD group of a Per User farm.
    expect(fails["RDS-LIC-009"]).toBe(
      `${LS} is not in the Terminal Server License Servers group of contoso.com: Per User CALs are not tracked or reported`,
    );
    // 2. One host that cannot reach the server; the two hosts in the wrong mode ask it for Per Device CALs it has none of.
    expect(fails["RDS-LIC-013"]).toBe(
      `${wrongMode} -> ${LS}: 10 LS_CONNECTABLE_FEATURE_NOT_SUPPORTED, ${networkCut} -> ${LS}: 6 LS_NOT_CONNECTABLE, ${groupPolicy} -> ${LS}: 10 LS_CONNECTABLE_FEATURE_NOT_SUPPORTED`,
    );
    // 3. Per User CALs over-allocated. Outside the group Windows no longer counts the users, so check reads
    //    the usage from the newest report already on the server that still tracked them (the administrator's,
    //    made before the server left the group) and makes none of its own.
    expect(fails["RDS-LIC-010"]).toMatch(
      new RegExp(
        `^${PLANTED.usersOver} Per User CALs in use, ${INSTALLED_CALS} installed \\(${PLANTED.usersOver - INSTALLED_CALS} over\\); the license server is not in the Terminal Server License Servers group: .*; in use when last tracked: the report RDSLicenseReport-\\S+ of \\d{4}-\\d{2}-\\d{2}T\\S+Z$`,
      ),
    );
    expect(report.facts.licenseServer!.calUsage!.perUser).toMatchObject({
      installed: INSTALLED_CALS,
      issued: PLANTED.usersOver,
      reportAvailable: true,
    });
    // Per User CALs are not enforced: all of them in use leaves every host licensed (RDS-LIC-002 passes);
    // only the hosts in the wrong mode depend on the grace period (RDS-LIC-006).
    expect(report.findings.find((f) => f.id === "RDS-LIC-002")!.status).toBe("pass");
    expect(fails["RDS-LIC-006"]).toBe(`${wrongMode}: 120 grace days left, ${groupPolicy}: 120 grace days left`);
    // 4. One host in the wrong mode, 5. one host with a Group Policy override (of the mode).
    expect(fails["RDS-LIC-004"]).toBe(`${wrongMode}: perDevice (local), ${groupPolicy}: perDevice (groupPolicy)`);
    expect(fails["RDS-LIC-008"]).toBe(`${groupPolicy}: mode set by Group Policy`);

    // The facts behind them: every host read, once.
    expect(report.facts.sessionHosts.map((h) => h.host)).toEqual(farm.hosts);
    expect(report.facts.licenseServer).toMatchObject({
      host: LS,
      activationStatus: "activated",
      licenseServersGroup: { member: false, scpRegistered: true },
    });
    expect(JSON.stringify(report)).not.toContain(farm.stateDir);

    // Read once: one read per host, and no other operation (the simulator's session init aside).
    const count = (name: string) => run.operations.filter((o) => o === name).length;
    expect(count("licenseServer.read")).toBe(1);
    expect(count("sessionHostLicensing.read")).toBe(HOSTS);
    expect(run.operations.filter((o) => !/\.read$/.test(o) && !/init/i.test(o))).toEqual([]);
    // Warm sessions: the simulator's shared workers serve all 41 hosts.
    expect(run.processes).toBeGreaterThan(0);
    expect(run.processes).toBeLessThanOrEqual(poolOptions().simulatorWorkers);
    const numbers = {
      hosts: HOSTS + 1,
      wallMs: run.wallMs,
      pwshProcessesStarted: run.processes,
      simulatorWorkers: poolOptions().simulatorWorkers,
      exitCode: run.code,
    };
    console.log(`rds-licensing check, ${HOSTS + 1} simulated hosts: ${JSON.stringify(numbers)}`);
    if (process.env.RDS_CHECK_RESULTS)
      fs.writeFileSync(path.resolve(process.env.RDS_CHECK_RESULTS), JSON.stringify(numbers, null, 2) + "\n");
  }, 900_000);

  it("writes nothing: every host's state is as it was, and its call log gained only reads", async () => {
    expect(await farm.snapshot()).toEqual(stateBefore);
    const after = await farm.callLogs();
    for (const h of [LS, ...farm.hosts]) {
      const added = after[h]!.slice(logsBefore[h]!.length);
      expect(added.length).toBeGreaterThan(0);
      expect(writesIn(added)).toEqual([]);
    }
  }, 300_000);

  it("exits 2 when a host cannot be read, and reports it beside the findings of the others (an inventory, no --mode)", async () => {
    const hosts = farm.hosts.slice(0, 3);
    // The inventory an administrator writes; the mode is left to the installed CAL type (Per User only).
    const inventory = path.join(farm.stateDir, "..", `${path.basename(farm.stateDir)}-farm.yaml`);
    fs.writeFileSync(
      inventory,
      `connection:\n  transport: simulator\n  stateDir: ${JSON.stringify(farm.stateDir)}\nlicenseServer: ${LS}\nsessionHosts:\n${hosts.map((h) => `  - ${h}\n`).join("")}`,
    );
    await farm.fault(hosts[1]!, "accessDenied", true);
    try {
      const run = await check(["check", "--inventory", inventory, "--json"]);
      expect(run.code).toBe(2);
      const report = JSON.parse(run.stdout) as CheckReport;
      expect(report).toMatchObject({ result: "not checked", mode: "perUser", modeOrigin: "installed CAL type" });
      expect(report.unreadable).toEqual([
        {
          host: hosts[1],
          role: "sessionHost",
          code: "RDS_ACCESS_DENIED",
          message: expect.stringMatching(/^running sessionHostLicensing\.read on .*\[RDS_ACCESS_DENIED\]$/),
        },
      ]);
      expect(report.facts.sessionHosts.map((h) => h.host)).toEqual([hosts[0], hosts[2]]);
      expect(report.findings.length).toBeGreaterThan(0);
      const text = await check(["check", "--inventory", inventory]);
      expect(text.code).toBe(2);
      expect(text.stdout).toContain(`NOT READ\n  ${hosts[1]} (session host): running sessionHostLicensing.read on`);
      expect(text.stdout).toMatch(/\nresult: not checked \(exit 2\): .*; 1 host\(s\) not read\n$/);
    } finally {
      await farm.fault(hosts[1]!, "accessDenied");
      fs.rmSync(inventory, { force: true });
    }
  }, 300_000);

  it("exits 2 on bad input before any host is touched", async () => {
    const before = await farm.callLogs();
    const run = await check([...farmArgs(farm.hosts.slice(0, 2)), "--mode", "perSeat"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      'rds-licensing check: flags: mode: Invalid option: expected one of "perUser"|"perDevice" [RDS_VALIDATION]\n' +
        "  fix: the inventory has licenseServer, sessionHosts (a list), and optionally mode (perUser | perDevice) and connection (see docs/check.md)\n" +
        "\nresult: not checked (exit 2): 0 error, 0 warning, 0 info finding(s) fail\n",
    );
    expect(run.processes).toBe(0);
    const json = await check([...farmArgs(farm.hosts.slice(0, 2)), "--password", "hunter2", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      exitCode: 2,
      result: "not checked",
      findings: [],
      error: { code: "RDS_VALIDATION", message: expect.stringMatching(/^--password: /) },
    });
    expect(json.stdout).not.toContain("hunter2");
    expect(await farm.callLogs()).toEqual(before);
  }, 300_000);

  describe("after the fix", () => {
    let host: ProviderHost;
    let engine: Engine;

    beforeAll(async () => {
      assertBuilt(["provider/resources", "provider/shim.ts"]);
      host = await startProviderHost();
      engine = createEngine(host);
    }, 300_000);

    afterAll(async () => {
      await host?.close();
    });

    it("the administrator fixes the network and the policy, a Pulumi program the rest: check exits 0", async () => {
      await farm.fixNetworkAndPolicy(PLANTED);
      const sim = (h: string) => ({ transport: "simulator" as const, host: h, stateDir: farm.stateDir });
      const run = await runProgram(engine, () => {
        const ls = new RdsLicenseServer("ls", {
          connection: sim(LS),
          contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
          activation: { method: "automatic" },
          addToLicenseServersGroup: true,
        });
        // Enough Per User CALs for the 80 users: 60 installed + 30.
        const more = new RdsCalPack("users-more", {
          licenseServer: ls,
          program: "enterpriseAgreement",
          agreementNumber: "7654321",
          productVersion: "2022",
          calType: "perUser",
          quantity: 30,
        });
        const wrong = new RdsSessionHostLicensing(PLANTED.wrongMode.split(".")[0]!, {
          connection: sim(PLANTED.wrongMode),
          mode: "perUser",
          licenseServers: [ls.serverName],
          calPacks: [more],
        });
        return [ls, more, wrong];
      });
      expect(run.errors).toEqual([]);

      const after = await check([...farmArgs(farm.hosts), "--json"]);
      const report = JSON.parse(after.stdout) as CheckReport;
      expect(failing(report)).toEqual({});
      expect(after.code).toBe(0);
      expect(report.result).toBe("healthy");
      expect(report.findings.map((f) => f.id)).toEqual([
        "RDS-LIC-001",
        "RDS-LIC-002",
        "RDS-LIC-003",
        "RDS-LIC-004",
        "RDS-LIC-005",
        "RDS-LIC-006",
        "RDS-LIC-007",
        "RDS-LIC-008",
        "RDS-LIC-009",
        "RDS-LIC-010",
        "RDS-LIC-011",
        "RDS-LIC-012",
        "RDS-LIC-013",
      ]);
      // The 80 users against 90 installed, from the administrator's report (check makes none).
      expect(report.findings.find((f) => f.id === "RDS-LIC-010")!.detail).toMatch(
        new RegExp(
          `^${PLANTED.usersOver} Per User CALs in use, ${INSTALLED_CALS + 30} installed; from the newest per-user report on the server, RDSLicenseReport-\\S+ of \\d{4}-\\d{2}-\\d{2}T\\S+Z \\(this read makes none\\)$`,
        ),
      );
    }, 900_000);
  });
});
