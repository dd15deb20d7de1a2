/**
 * The `rds-sim` CLI's own logic, in process: argument parsing and validation, usage errors and exit
 * codes, help text, human and --json output, terminal-safe printing, where the state dir is.
 *
 * Real: the CLI's main() and everything it runs (parse, validate, commands, format, help), called in
 * this process with a captured stdout/stderr.
 * Stands in: the driver call (one pwsh per command, see provider/emulator/cli/driver.ts) is replaced by
 * setEmulatorCaller with answers the REAL emulator gave in a recorded session
 * (test/fixtures/recorded/cli/session.json; how to re-record: test/emulator/cli.record.ts). A replayed
 * command must send the recorded driver actions with the recorded arguments and print exactly what the
 * real run printed. The "without pwsh" test uses the real driver call with a missing pwsh.
 *
 * The real CLI binary through real pwsh, one command per group, is tested in cli.test.ts; `rds-sim run`
 * (a user's script in a real pwsh) in run.test.ts. Here: run's argument checks (what follows `--` goes
 * to the script untouched; other commands refuse extra arguments there) and its change report.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../provider/emulator/cli/main";
import { setEmulatorCaller, type EmulatorCaller } from "../../provider/emulator/cli/driver";
import { CliError } from "../../provider/emulator/cli/errors";
import type { Command, Context } from "../../provider/emulator/cli/command";
import { commands } from "../../provider/emulator/cli/commandTable";
import { runCommand } from "../../provider/emulator/cli/commands/run";
import { synopsis } from "../../provider/emulator/cli/help";
import { parseCommandArgs, resolveCommand } from "../../provider/emulator/cli/parse";
import { RECORDED_STATE_DIR, SESSION_FILE, type RecordedRun, type RecordedStep } from "./cliScenario";
import { changesOf } from "../../provider/emulator/cli/runReport";
import type { HostSummary } from "../../provider/emulator/cli/runScript";

const session = JSON.parse(fs.readFileSync(SESSION_FILE, "utf8")) as RecordedStep[];
const runs = session.filter((s): s is RecordedRun => s.kind === "cli");

let tmp: string;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs main() in process; `env` is the CLI's environment (only what a test passes). */
async function cli(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: (t: string) => void (stdout += t),
    stderr: (t: string) => void (stderr += t),
    cwd: opts.cwd ?? tmp,
    env: opts.env ?? {},
  };
  const status = await main(argv, io);
  return { status, stdout, stderr };
}

function hostSetCommand(): Command {
  return commands.find((c) => c.name === "host set")!;
}

/** A driver stand-in that records what it was asked and answers `{}`. */
function recordingCaller(): { calls: Array<{ ctx: Context; action: string; args: Record<string, unknown> }>; caller: EmulatorCaller } {
  const calls: Array<{ ctx: Context; action: string; args: Record<string, unknown> }> = [];
  return { calls, caller: async (ctx, action, args) => (calls.push({ ctx, action, args }), {}) };
}

/** Replays one recorded run: answers its driver actions in order, and checks each was asked as recorded. */
async function replay(step: RecordedRun): Promise<Run> {
  const pending = [...step.calls];
  setEmulatorCaller(async (ctx, action, args) => {
    const next = pending.shift();
    if (!next) throw new Error(`'${step.name}': unexpected driver action ${action}`);
    expect(ctx.stateDir).toBe(RECORDED_STATE_DIR);
    expect({ action, args }).toEqual({ action: next.action, args: next.args });
    if (!next.ok) throw new CliError(next.error!);
    return next.result;
  });
  const r = await cli(["--state-dir", RECORDED_STATE_DIR, ...step.argv]);
  expect(pending).toEqual([]);
  return r;
}

function recorded(name: string): RecordedRun {
  const step = runs.find((s) => s.name === name);
  if (!step) throw new Error(`no recorded step '${name}'`);
  return step;
}

/** The replayed output of a recorded step that must have succeeded with nothing on stderr. */
async function ok(name: string): Promise<string> {
  const r = await replay(recorded(name));
  expect([r.status, r.stderr]).toEqual([0, ""]);
  return r.stdout;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-sim-cli-fast-"));
});

afterEach(() => setEmulatorCaller());

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("help", () => {
  async function help(argv: string[]): Promise<string> {
    const r = await cli(argv);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    return r.stdout;
  }

  test("--help lists every command and exits 0", async () => {
    const out = await help(["--help"]);
    for (const c of [
      "hosts",
      "show",
      "clearinghouse license-server-id",
      "clearinghouse key-pack-id",
      "host set",
      "issue",
      "leftover-pack",
      "fault set",
      "fault clear",
      "gpo set",
      "gpo clear",
      "reset",
      "log",
    ]) {
      expect(out).toContain(`  ${c} `);
    }
  });

  test("<command> --help, help <command> and a group's --help", async () => {
    const a = await help(["fault", "set", "--help"]);
    expect(a).toMatch(/^usage: rds-sim fault set <host> <fault> \[<value>\]/);
    expect(a).toContain("classNotReadyCalls");
    expect(await help(["help", "fault", "set"])).toBe(a);
    expect(await help(["issue", "-h"])).toContain("usage: rds-sim issue <host> --key-pack <ID> --count <N>");
    expect(await help(["gpo", "--help"])).toContain("gpo clear");
  });
});

describe("bad arguments exit 2, name the argument, and give a usage hint", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["no command", [], /missing command \(accepted: hosts, show, clearinghouse/],
    ["unknown command", ["bogus"], /unknown command 'bogus' \(accepted: hosts, show,/],
    ["unknown subcommand", ["fault", "bogus"], /unknown command 'fault bogus' \(accepted: set, clear\)/],
    ["missing subcommand", ["gpo"], /missing command after 'gpo' \(accepted: set, clear\)/],
    ["missing host", ["show"], /missing argument <host>/],
    ["extra argument", ["show", "ls01", "ls02"], /unexpected argument 'ls02'/],
    ["unknown flag", ["host", "set", "ls01", "--bogus"], /unknown option '--bogus' \(accepted: --os, --domain/],
    ["flag without its value", ["issue", "ls01", "--key-pack"], /option --key-pack needs a value <ID>/],
    ["flag followed by another flag", ["issue", "ls01", "--count", "--key-pack", "3"], /option --count needs a value <N>/],
    ["value for a switch", ["hosts", "--json=yes"], /option --json takes no value/],
    ["missing required flag", ["issue", "ls01", "--key-pack", "3"], /missing option --count <N>/],
    [
      "non-numeric count",
      ["issue", "ls01", "--key-pack", "3", "--count", "many"],
      /--count must be a whole number from 1 to 100000 \(got 'many'\)/,
    ],
    ["zero count", ["issue", "ls01", "--key-pack", "3", "--count", "0"], /--count must be a whole number from 1 to 100000/],
    ["bad os", ["host", "set", "ls01", "--os", "2003"], /--os must be one of 2008R2, 2012, 2016, 2019, 2022, 2025 \(got '2003'\)/],
    ["nothing to set", ["host", "set", "ls01"], /nothing to set: give at least one of --os/],
    ["contradicting flags", ["host", "set", "ls01", "--domain", "contoso.com", "--workgroup"], /--domain and --workgroup contradict/],
    ["grace days out of range", ["host", "set", "ls01", "--grace-days", "121"], /--grace-days must be a whole number from 0 to 120/],
    [
      "contradicting session host role flags",
      ["host", "set", "sh01", "--session-host-role", "--no-session-host-role"],
      /--session-host-role and --no-session-host-role contradict/,
    ],
    [
      "restart seconds out of range",
      ["host", "set", "sh01", "--restart-seconds", "3601"],
      /--restart-seconds must be a whole number from 0 to 3600/,
    ],
    [
      "role install seconds out of range",
      ["host", "set", "ls01", "--role-install-seconds", "3601"],
      /--role-install-seconds must be a whole number from 0 to 3600/,
    ],
    [
      "bad cal type",
      [
        "clearinghouse",
        "key-pack-id",
        "--host",
        "ls01",
        "--program",
        "select",
        "--version",
        "2019",
        "--cal-type",
        "perSeat",
        "--quantity",
        "5",
      ],
      /--cal-type must be one of perUser, perDevice \(got 'perSeat'\)/,
    ],
    [
      "bad program",
      [
        "clearinghouse",
        "key-pack-id",
        "--product-id",
        "1",
        "--program",
        "oem",
        "--version",
        "2019",
        "--cal-type",
        "perUser",
        "--quantity",
        "5",
      ],
      /--program must be one of retail, openLicense, select, enterpriseAgreement/,
    ],
    [
      "missing program",
      ["clearinghouse", "key-pack-id", "--host", "ls01", "--version", "2019", "--cal-type", "perUser", "--quantity", "5"],
      /missing option --program <PROGRAM>/,
    ],
    ["no product id", ["clearinghouse", "license-server-id"], /missing product ID: give <productId> or --host <HOST>/],
    ["product id and host", ["clearinghouse", "license-server-id", "123", "--host", "ls01"], /either a product ID or --host, not both/],
    [
      "unknown fault",
      ["fault", "set", "ls01", "meteorStrike"],
      /<fault> must be one of clearinghouseUnreachable, accessDenied, providerFailure/,
    ],
    ["fault without its value", ["fault", "set", "ls01", "latencyMs"], /missing argument <value> for latencyMs \(a whole number\)/],
    [
      "non-numeric fault value",
      ["fault", "set", "ls01", "latencyMs", "fast"],
      /the value of latencyMs must be a whole number from 0 to 600000 \(got 'fast'\)/,
    ],
    ["bad failure style", ["fault", "set", "ls01", "failureStyle", "loud"], /the value of failureStyle must be one of return, exception/],
    ["bad boolean", ["fault", "set", "ls01", "accessDenied", "maybe"], /the value of accessDenied must be true or false/],
    ["bad gpo mode", ["gpo", "set", "ls01", "--mode", "perSeat"], /--mode must be one of perDevice, perUser, aadPerUser/],
    ["empty server list", ["gpo", "set", "ls01", "--license-servers", " , "], /--license-servers needs at least one server name/],
    ["gpo nothing to set", ["gpo", "set", "ls01"], /nothing to set: give --mode and\/or --license-servers/],
    ["negative --last", ["log", "ls01", "--last", "-1"], /option --last needs a value <N>/],
    ["empty host", ["show", ""], /<host> must not be empty/],
    [
      "an argument after -- for a command that passes none on",
      ["show", "ls01", "--", "-Name", "x"],
      /unexpected argument '-Name' after -- \(expected: <host>; only rds-sim run passes arguments after -- on\)$/,
    ],
    [
      "an argument after -- for a command that takes none",
      ["hosts", "--", "--json"],
      /unexpected argument '--json' after -- \(this command takes no arguments; only rds-sim run passes/,
    ],
    [
      "a script argument before --",
      ["run", "setup.ps1", "extra", "--host", "ls01"],
      /unexpected argument 'extra' \(expected: <script> \[-- <script arguments>\.\.\.\]\)$/,
    ],
    ["the script only after --", ["run", "--host", "ls01", "--", "setup.ps1"], /missing argument <script>/],
  ];

  test.each(cases)("%s", async (_label, args, message) => {
    const dir = path.join(tmp, "never-created");
    const driver = recordingCaller();
    setEmulatorCaller(driver.caller);
    const r = await cli(["--state-dir", dir, ...args]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^rds-sim( [a-z-]+)*: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(/^usage: rds-sim .*\(see 'rds-sim .*--help'\)$/);
    // Rejected before pwsh would start: no driver action, nothing written.
    expect(driver.calls).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

test("without pwsh it says how to install PowerShell 7 and exits 1", async () => {
  // The real driver call: the pwsh lookup reads the process environment.
  const saved = process.env.RDS_PWSH;
  process.env.RDS_PWSH = path.join(tmp, "no-such-pwsh");
  try {
    const r = await cli(["--state-dir", path.join(tmp, "state"), "hosts"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/RDS_PWSH .*not an executable file/);
    expect(r.stderr).toContain("dotnet tool install --global PowerShell --version 7.6.9");
    expect(r.stderr).toContain("~/.dotnet/tools");
  } finally {
    if (saved === undefined) delete process.env.RDS_PWSH;
    else process.env.RDS_PWSH = saved;
  }
});

test("state dir: --state-dir, else RDS_SIM_STATE_DIR, else <cwd>/.rds-sim", async () => {
  const cwd = path.join(tmp, "cwd");
  const fromEnv = path.join(tmp, "from-env");
  const driver = recordingCaller();
  setEmulatorCaller(driver.caller);
  const args = ["host", "set", "ls09", "--os", "2016"];
  for (const r of [
    await cli(["--state-dir", "rel", ...args], { cwd, env: { RDS_SIM_STATE_DIR: fromEnv } }),
    await cli(args, { cwd, env: { RDS_SIM_STATE_DIR: fromEnv } }),
    await cli(args, { cwd }),
  ]) {
    expect([r.status, r.stderr]).toEqual([0, ""]);
  }
  expect(driver.calls.map((c) => c.ctx.stateDir)).toEqual([path.join(cwd, "rel"), fromEnv, path.join(cwd, ".rds-sim")]);
  expect(driver.calls[0]).toMatchObject({ action: "host-set", args: { host: "ls09", settings: { osVersion: "2016" } } });
});

test("host set --no-session-host-role / --session-host-role and --restart-seconds send the host facts sessionHostRole and restartSeconds", async () => {
  const driver = recordingCaller();
  setEmulatorCaller(driver.caller);
  const dir = path.join(tmp, "role-state");
  const without = await cli(["--state-dir", dir, "host", "set", "sh01", "--no-session-host-role", "--restart-seconds", "5"]);
  const back = await cli(["--state-dir", dir, "host", "set", "sh01", "--session-host-role"]);
  for (const r of [without, back]) expect([r.status, r.stderr]).toEqual([0, ""]);
  expect(driver.calls.map((c) => [c.action, c.args])).toEqual([
    ["host-set", { host: "sh01", settings: { sessionHostRole: false, restartSeconds: 5 } }],
    ["host-set", { host: "sh01", settings: { sessionHostRole: true } }],
  ]);
});

describe("the recorded session, replayed: each command prints what the real run printed", () => {
  test.each(runs.map((s) => [s.name, s] as const))("%s", async (_name, step) => {
    const r = await replay(step);
    expect(r).toEqual({ status: step.exitCode, stdout: step.stdout, stderr: step.stderr });
  });
});

describe("output (from the recorded emulator answers)", () => {
  const productId = "00490-92005-99454-AT527";

  test("hosts: JSON as the emulator gave it, and the table", async () => {
    expect(JSON.parse(await ok("hosts, empty"))).toEqual([]);
    const rows = JSON.parse(await ok("hosts --json"));
    expect(rows.map((r: { hostName: string }) => r.hostName)).toEqual(["ls01", "rdsh01"]);
    expect(rows[0]).toMatchObject({ roleInstalled: true, activated: false, keyPacks: 0, licensingType: 5, osVersion: "2019" });
    expect(rows[1]).toMatchObject({ roleInstalled: false, partOfDomain: false, isConnectionBroker: true, osVersion: "2022" });
    const table = (await ok("hosts")).split("\n");
    expect(table[0]).toMatch(/^HOST\s+OS\s+JOINED\s+LICENSING ROLE\s+ACTIVATED\s+PACKS\s+MODE\s+BROKER$/);
    expect(table[1]).toMatch(/^ls01\s+2019\s+domain\s+installed\s+no\s+0\s+Not configured\s+-$/);
    expect(table[2]).toMatch(/^rdsh01\s+2022\s+workgroup\s+-\s+-\s+0\s+Not configured\s+yes$/);
  });

  test("an emulator error exits 1 with one line on stderr", async () => {
    const r = await replay(recorded("show an unknown host"));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^rds-sim show: host 'ghost' has no state in .*state \(hosts are created by /);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    const refused = await replay(recorded("issue from a missing pack"));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe("rds-sim issue: host 'ls01' has no installed key pack 99\n");
  });

  test("host set and clearinghouse print one line", async () => {
    expect(await ok("host set ls01")).toBe(`ls01: os 2019, licensing role installed, product ID ${productId}\n`);
    const lsid = (await ok("license-server-id --host")).trim();
    expect(lsid).toMatch(/^[A-Z0-9]{35}$/);
    expect(JSON.parse(await ok("license-server-id <productId> --json"))).toEqual({ productId, licenseServerId: lsid });
    expect((await ok("key-pack-id")).trim()).toMatch(/^[A-Z0-9]{35}$/);
    expect(JSON.parse(await ok("retail-code --json")).licenseCode).toMatch(/^[A-Z0-9]{25}$/);
    const confirmation = JSON.parse(await ok("confirmation-code --json"));
    expect(confirmation.productId).toBe(productId);
    expect(confirmation.confirmationCode).toMatch(/^[A-Z0-9]{35}$/);
  });

  test("issue, and show (human): every section, the issued licenses, and no license code", async () => {
    const [selectPack, retailPack] = (session.find((s) => s.kind === "activate")!.output as string[]).slice(2).map((l) => l.split(" ")[1]);
    const issued = await ok("issue per device");
    expect(issued).toContain(`ls01: issued 2 licenses from key pack ${selectPack} (now 2 issued, 8 available)`);
    expect(issued).toMatch(/PC-1\s+active/);
    expect(JSON.parse(await ok("issue per user --json"))).toMatchObject({
      KeyPackId: Number(retailPack),
      count: 3,
      IssuedLicenses: 3,
      AvailableLicenses: 2,
      licenses: [],
    });

    const lsid = (await ok("license-server-id --host")).trim();
    const out = await ok("show ls01");
    expect(out.startsWith("Host ls01 (LS01)\n")).toBe(true);
    for (const heading of ["License server", "Key packs", "Issued per-device licenses", "Session host", "Group Policy", "Faults"]) {
      expect(out).toContain(`\n\n${heading}\n`);
    }
    expect(out).toMatch(/Activation:\s+activated .*\(web or telephone, with a license server ID\)/);
    expect(out).toContain(`License server ID:    ${lsid}`);
    expect(out).toMatch(new RegExp(`\\n  ${selectPack}\\s+RDS Per Device CAL\\s+Windows Server 2019\\s+select\\s+10\\s+2\\s+8\\s`));
    expect(out).toMatch(new RegExp(`\\n  ${retailPack}\\s+RDS Per User CAL\\s+Windows Server 2016\\s+retail\\s+5\\s+3\\s+2\\s`));
    expect(out).toMatch(new RegExp(`\\n  1\\s+${selectPack}\\s+PC-1\\s+active\\s`));
    expect(out).toMatch(new RegExp(`\\n  2\\s+${selectPack}\\s+PC-2\\s+active\\s`));
    expect(out).not.toContain((await ok("key-pack-id")).trim());
    expect(out).not.toContain(JSON.parse(await ok("retail-code --json")).licenseCode);
  });

  test("fault set / fault clear", async () => {
    expect(await ok("fault set")).toBe("ls01: clearinghouseUnreachable true\n  active faults: clearinghouseUnreachable true\n");
    expect(JSON.parse(await ok("fault clear one --json"))).toMatchObject({
      latencyMs: 0,
      clearinghouseUnreachable: true,
      failureStyle: "exception",
    });
    expect(await ok("fault clear all")).toBe("ls01: all faults and Group Policy values cleared\n  active faults: none\n");
  });

  test("gpo set / gpo clear", async () => {
    expect(await ok("gpo set")).toBe(
      "rdsh01: Group Policy\n  LicensingMode:  Per User (4)\n  LicenseServers: ls01.contoso.com,ls02.contoso.com\n",
    );
    expect(JSON.parse(await ok("gpo clear --mode --json"))).toEqual({
      LicensingMode: null,
      LicenseServers: "ls01.contoso.com,ls02.contoso.com",
    });
    expect(JSON.parse(await ok("gpo clear --json"))).toEqual({ LicensingMode: null, LicenseServers: null });
  });

  test("log: the table, oldest first, and --last", async () => {
    const out = (await ok("log")).split("\n");
    expect(out[0]).toMatch(/^SEQ\s+TIME \(UTC\)\s+PID\s+CMDLET\s+CLASS\s+METHOD\s+RESULT$/);
    expect(out[1]).toMatch(/^1\s.*Invoke-CimMethod\s+Win32_TSLicenseServer\s+ActivateServer\s+0x80041008 WBEM_E_INVALID_PARAMETER$/);
    expect(out[2]).toMatch(/^2\s.*ActivateServer\s+0$/);
    const last = JSON.parse(await ok("log --last 1 --json"));
    expect(last).toHaveLength(1);
    expect(last[0]).toMatchObject({ seq: 4, cmdlet: "Invoke-CimMethod", method: "InstallRetailPurchaseLicenseKeyPack", result: 0 });
  });

  test("reset", async () => {
    expect(await ok("reset rdsh01")).toBe("rdsh01: reset (state and call log removed)\n");
    expect(await ok("reset rdsh01 again")).toBe("rdsh01: had no state; nothing to reset\n");
    expect(JSON.parse(await ok("reset --json"))).toEqual({ host: null, existed: null, hostsReset: 1, clearinghouseReset: true });
  });

  test("show --json: the host as the emulator gave it after host set, activation, faults and Group Policy", async () => {
    const created = JSON.parse(await ok("show ls01 --json"));
    expect(created.hostName).toBe("ls01");
    expect(created.config.osVersion).toBe("2019");
    expect(created.roleInstalled).toBe(true);
    expect(created.serviceStatus).toBe("Running");
    expect(created.licenseServer.productId).toBe(productId);
    expect(created.licenseServer.activated).toBe(false);

    const [selectPack, retailPack] = (session.find((s) => s.kind === "activate")!.output as string[])
      .slice(2)
      .map((l) => Number(l.split(" ")[1]));
    const activated = JSON.parse(await ok("show ls01 --json, activated"));
    expect(activated.licenseServer.activated).toBe(true);
    expect(activated.licenseServer.licenseServerId).toBe((await ok("license-server-id --host")).trim());
    const packs = activated.licenseServer.keyPacks as Array<Record<string, unknown>>;
    expect(packs.find((p) => p.KeyPackId === selectPack)).toMatchObject({
      program: "select",
      ProductType: 0,
      ProductVersion: "Windows Server 2019",
      TotalLicenses: 10,
    });
    expect(packs.find((p) => p.KeyPackId === retailPack)).toMatchObject({
      program: "retail",
      ProductType: 1,
      ProductVersion: "Windows Server 2016",
      TotalLicenses: 5,
    });

    expect(JSON.parse(await ok("show ls01 --json, faults")).faults).toEqual({
      clearinghouseUnreachable: true,
      accessDenied: false,
      providerFailure: false,
      latencyMs: 15,
      classNotReadyCalls: 2,
      activationStatusUnknown: false,
      failureStyle: "exception",
    });
    // `fault clear <host>` prints one line; the emulator's answer is the faults it left, all cleared.
    expect(recorded("fault clear all").calls[0]!.result).toMatchObject({
      clearinghouseUnreachable: false,
      latencyMs: 0,
      classNotReadyCalls: 0,
      failureStyle: "return",
    });

    const rdsh = JSON.parse(await ok("show rdsh01 --json, gpo"));
    expect(rdsh.groupPolicy).toEqual({ LicensingMode: 4, LicenseServers: "ls01.contoso.com,ls02.contoso.com" });
    expect(rdsh.sessionHost).toMatchObject({
      effectiveLicensingType: 4,
      policySourceLicensingType: 1,
      effectiveLicenseServers: ["ls01.contoso.com", "ls02.contoso.com"],
    });
    // and what `host set rdsh01 --workgroup-name LAB --broker --grace-days 30` gave it
    expect(rdsh.config).toMatchObject({ workgroup: "LAB", partOfDomain: false, isConnectionBroker: true });
    expect(rdsh.sessionHost.graceDaysLeft).toBe(30);

    expect(JSON.parse(await ok("hosts after reset --json"))).toEqual([]);
  });

  test("a hostile host name reaches the driver as data, unchanged, in every command that takes a host", async () => {
    const name = `ls'0"1;$(1>'x')\`whoami\`;touch x&@x\u001b[31m\n#`;
    // Each action is answered with what the emulator answered for ls01 (cli.test.ts runs a hostile name through the real emulator).
    const answers: Record<string, unknown> = {
      "host-set": recorded("host set ls01").calls[0]!.result,
      show: recorded("show ls01 --json").calls[0]!.result,
      "license-server-id": recorded("license-server-id --host").calls[0]!.result,
    };
    const sent: Array<[string, unknown]> = [];
    setEmulatorCaller(async (_ctx, action, args) => (sent.push([action, args.host]), answers[action] as Record<string, unknown>));
    for (const argv of [
      ["host", "set", name, "--role-installed", "--os", "2016"],
      ["show", name],
      ["clearinghouse", "license-server-id", "--host", name],
    ]) {
      const r = await cli(["--state-dir", RECORDED_STATE_DIR, ...argv]);
      expect([r.status, r.stderr]).toEqual([0, ""]);
    }
    expect(sent).toEqual([
      ["host-set", name],
      ["show", name],
      ["license-server-id", name],
    ]);
  });

  test("human output escapes control characters; --json keeps the name as data", async () => {
    // The emulator answers a hostile name back as it was given (cli.test.ts checks that end to end).
    const name = `ls'0"1;$(1>'x')\`whoami\`&@x\u001b[31m\n#`;
    const show = JSON.parse(recorded("show ls01 --json").stdout);
    setEmulatorCaller(async () => ({ ...show, hostName: name, computerName: "LS01\u001b" }));
    const human = await cli(["show", name]);
    expect(human.status).toBe(0);
    expect(human.stdout).not.toContain("\u001b");
    expect(human.stdout.split("\n")[0]).toBe(`Host ${name.replace("\u001b", "\\u001b").replace("\n", "\\n")} (LS01\\u001b)`);
    const json = await cli(["show", name, "--json"]);
    expect(JSON.parse(json.stdout).hostName).toBe(name);
  });
});

describe("rds-sim run: arguments and the change report (no pwsh: the script never runs here)", () => {
  test("a missing --host, a missing script or one that is not .ps1 is a usage error (exit 2); help shows the script-argument slots only in the usage line", async () => {
    const script = path.join(tmp, "setup.ps1");
    fs.writeFileSync(script, "'hello'\n");
    const text = path.join(tmp, "setup.txt");
    fs.writeFileSync(text, "x\n");
    const noHost = await cli(["run", script]);
    expect([noHost.status, noHost.stderr.split("\n")[0]]).toEqual([2, "rds-sim run: missing argument <host>"]);
    const noScript = await cli(["run", path.join(tmp, "absent.ps1"), "--host", "ls01"]);
    expect([noScript.status, noScript.stderr.split("\n")[0]]).toEqual([2, `rds-sim run: no script at '${path.join(tmp, "absent.ps1")}'`]);
    const notPs1 = await cli(["run", text, "--host", "ls01"]);
    expect([notPs1.status, notPs1.stderr.split("\n")[0]]).toEqual([2, `rds-sim run: <script> must be a .ps1 file (got '${text}')`]);
    const help = await cli(["run", "--help"]);
    expect(help.stdout.split("\n")[0]).toBe("usage: rds-sim run <script.ps1> --host <host> [--fresh] [-- <script arguments>...]");
    expect(help.stdout).toContain("  <script>  the PowerShell script to run (run unchanged)\n");
    expect(help.stdout).not.toContain("<arg1>");
  });

  test("everything after the first -- is the script's, untouched: -Name value, --foo, --json, -h, another --", () => {
    const argv = [
      "run",
      "setup.ps1",
      "--host",
      "ls01",
      "--",
      "-Name",
      "x",
      "--foo",
      "--json",
      "-h",
      "--",
      "--host",
      "y",
      "-Switch:$false",
      "",
    ];
    const resolved = resolveCommand(argv);
    expect([resolved.command, resolved.help]).toEqual([runCommand, false]);
    const { parsed, global } = parseCommandArgs(runCommand, resolved.rest);
    expect(parsed.positionals).toEqual({ script: "setup.ps1" });
    expect(parsed.values).toEqual({ host: "ls01" });
    expect(global.json).toBe(false);
    expect(parsed.rest).toEqual(["-Name", "x", "--foo", "--json", "-h", "--", "--host", "y", "-Switch:$false", ""]);
    // Options before -- still count; nothing after it: an empty list.
    const before = parseCommandArgs(runCommand, ["--json", "setup.ps1", "--fresh", "--host=ls01", "--"]);
    expect(before.parsed).toEqual({ values: { json: true, fresh: true, host: "ls01" }, positionals: { script: "setup.ps1" }, rest: [] });
    expect(parseCommandArgs(runCommand, ["setup.ps1", "--host", "ls01"]).parsed.rest).toEqual([]);
  });

  test("a command without arguments to pass on still takes its positionals after -- (a host named -ls09) and gets no rest", async () => {
    const driver = recordingCaller();
    setEmulatorCaller(driver.caller);
    const r = await cli(["--state-dir", path.join(tmp, "dash-host"), "host", "set", "--os", "2016", "--", "-ls09"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(driver.calls.map((c) => [c.action, c.args])).toEqual([["host-set", { host: "-ls09", settings: { osVersion: "2016" } }]]);
    expect(parseCommandArgs(hostSetCommand(), ["--", "-ls09"]).parsed).toEqual({ values: {}, positionals: { host: "-ls09" } });
  });

  test("help: the synopsis and an 'After --' section show the arguments a command passes on", async () => {
    const help = await cli(["run", "--help"]);
    expect(help.stdout).toContain(
      "\nAfter --:\n  <script arguments>...  given to the script untouched (-Name value, -Switch; even --json, -h)\n",
    );
    const passer: Command = { ...runCommand, name: "pass", usage: undefined, positionals: [{ name: "host", help: "h" }], options: {} };
    expect(synopsis(passer)).toBe("rds-sim pass <host> [-- <script arguments>...]");
    const plain = await cli(["show", "--help"]);
    expect(plain.stdout.split("\n")[0]).toBe("usage: rds-sim show <host>");
    expect(plain.stdout).not.toContain("After --");
  });

  test("the change report names what changed: activation, contact, packs, mode, servers; nothing else, and never the license server ID", () => {
    const base: HostSummary = {
      roleInstalled: true,
      serviceStatus: "Running",
      activated: false,
      activationMethod: null,
      reactivations: 0,
      contact: { FirstName: null, Company: "Contoso" },
      packs: [],
      licensingType: 5,
      effectiveLicensingType: 5,
      licenseServers: [],
      effectiveLicenseServers: [],
      isConnectionBroker: false,
      deploymentMode: "NotConfigured",
      deploymentLicenseServers: [],
      sessionHostRole: false,
      sessionHostRolePending: false,
      restarts: 0,
    };
    const after: HostSummary = {
      ...base,
      activated: true,
      activationMethod: "automatic",
      contact: { FirstName: "Ada", Company: "Contoso" },
      packs: [
        {
          KeyPackId: 3,
          TypeAndModel: "RDS Per User CAL",
          ProductVersion: "Windows Server 2022",
          program: "spla",
          TotalLicenses: 25,
          IssuedLicenses: 0,
        },
      ],
      licensingType: 4,
      effectiveLicensingType: 4,
      licenseServers: ["ls01"],
    };
    expect(changesOf(base, base)).toEqual([]);
    expect(changesOf(base, after)).toEqual([
      "activation: not activated -> activated (automatic)",
      "contact FirstName: not set -> Ada",
      "key pack added: 3 RDS Per User CAL Windows Server 2022 (spla): 25 licenses, 0 issued",
      "licensing mode: Not configured (5) -> Per User (4)",
      "license servers: none -> ls01",
    ]);
    expect(changesOf(after, { ...after, packs: [] })).toEqual(["key pack removed: 3 RDS Per User CAL Windows Server 2022"]);
  });
});
