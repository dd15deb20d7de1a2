/**
 * The `rds-sim` CLI, end to end: one real run per command group (host set, clearinghouse
 * license-server-id / key-pack-id / retail-code / confirmation-code, issue, fault, gpo, show, hosts,
 * log, reset), the pwsh round trip (activation and CAL installs with the codes the CLI gave), an
 * emulator error coming back as exit 1, a hostile host name, and no pwsh left behind: 16 CLI runs.
 *
 * Real: the built CLI (`node bin/provider/emulator/cli.js`) run as a child process, its pwsh (one per
 * command, through provider/emulator/cli-driver.ps1), the emulator module and its state files in a
 * temp directory, and (for the round trips) pwsh calling the emulated WMI methods the operation
 * scripts call.
 * Stands in: the emulator stands in for Windows WMI and for Microsoft's Clearinghouse.
 *
 * The CLI's own logic (parsing, validation, usage errors and exit codes, help, human and --json output,
 * escaping, the state dir) is tested in process, with recorded emulator answers, in cli.fast.test.ts.
 *
 * Needs the built CLI: run `npx tsc -p tsconfig.json` (or `npm test`, which builds) first.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../../provider/paths";
import { findPwsh } from "../../provider/emulator/cli";
import type { EmulatorView } from "../../provider/emulator/cli/driver";

const ROOT = packageRoot();
const CLI = path.join(ROOT, "bin", "provider", "emulator", "cli.js");
const MODULE = path.join(ROOT, "provider", "emulator", "RdsEmulator.psm1");
const DRIVER = path.join(ROOT, "provider", "emulator", "cli-driver.ps1");

let tmp: string;
let stateDir: string;
let pwsh: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without RDS_SIM_STATE_DIR, so only what a test passes decides the state dir. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!("RDS_SIM_STATE_DIR" in extra)) delete env.RDS_SIM_STATE_DIR;
  return env;
}

function cli(args: string[], opts: { stateDir?: string | null; env?: Record<string, string>; cwd?: string } = {}): Run {
  const dir = opts.stateDir === undefined ? stateDir : opts.stateDir;
  const argv = dir === null ? args : ["--state-dir", dir, ...args];
  const r = spawnSync(process.execPath, [CLI, ...argv], {
    encoding: "utf8",
    env: baseEnv(opts.env),
    cwd: opts.cwd ?? tmp,
    timeout: 110_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed with --json and returns the parsed output. */
function cliJson<T = EmulatorView>(args: string[]): T {
  const r = cli([...args, "--json"]);
  if (r.status !== 0) throw new Error(`rds-sim ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function ok(args: string[]): string {
  const r = cli(args);
  if (r.status !== 0) throw new Error(`rds-sim ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe("");
  return r.stdout;
}

function show(host: string): EmulatorView {
  return cliJson(["show", host]);
}

/** Runs a .ps1 (written to the temp dir) in pwsh with the emulator imported; arguments are -File values. */
function pwshScript(name: string, body: string, args: string[]): string[] {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, body);
  const r = spawnSync(pwsh, ["-NoLogo", "-NoProfile", "-NonInteractive", "-File", file, ...args], { encoding: "utf8", timeout: 110_000 });
  if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  return r.stdout.split(/\r?\n/).filter((l) => l.length > 0);
}

/** The parent pid of every running process (Linux /proc); processes that end while we look are skipped. */
function parentsByPid(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  return parents;
}

/** Running descendants of `root` (children, grandchildren, ...), by walking the parent links. */
function descendantsOf(root: number): number[] {
  const parents = parentsByPid();
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parents.get(p), hops++) {
      if (p === root) return true;
    }
    return false;
  };
  return [...parents.keys()].filter(isDescendant);
}

/** True while `pid` still runs the CLI driver (a pid reused by another program does not count; a zombie has an empty cmdline). */
function runsDriver(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(DRIVER);
  } catch {
    return false;
  }
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-sim-cli-"));
  stateDir = path.join(tmp, "state");
  pwsh = findPwsh();
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("one run per command group against the emulator (one shared state dir, in order)", () => {
  // Each CLI command is a node process and a pwsh start (a second or more): one run per command group,
  // and each run checks what reached the emulator. Every other argv, output form and refusal of these
  // commands is replayed in process in cli.fast.test.ts.
  const productId = "00490-92005-99454-AT527";
  let lsid: string;
  let keyPackCode: string;
  let retailCode: string;
  let selectPack: number;
  let retailPack: number;

  test("host set creates a host; its --json answer is the host as the emulator now has it", () => {
    const ls = cliJson(["host", "set", "ls01", "--os", "2019", "--role-installed", "--product-id", productId]);
    expect(ls.hostName).toBe("ls01");
    expect(ls.config.osVersion).toBe("2019");
    expect(ls.roleInstalled).toBe(true);
    expect(ls.serviceStatus).toBe("Running");
    expect(ls.licenseServer.productId).toBe(productId);
    expect(ls.licenseServer.activated).toBe(false);
  });

  test("clearinghouse license-server-id, key-pack-id and retail-code give codes of the right shape", () => {
    lsid = ok(["clearinghouse", "license-server-id", "--host", "ls01"]).trim();
    expect(lsid).toMatch(/^[A-Z0-9]{35}$/);
    const keyPackArgs = ["--program", "select", "--version", "2019", "--cal-type", "perDevice", "--quantity", "10"];
    keyPackCode = ok(["clearinghouse", "key-pack-id", "--host", "ls01", ...keyPackArgs]).trim();
    expect(keyPackCode).toMatch(/^[A-Z0-9]{35}$/);
    retailCode = ok(["clearinghouse", "retail-code", "--version", "2016", "--cal-type", "perUser", "--quantity", "5"]).trim();
    expect(retailCode).toMatch(/^[A-Z0-9]{25}$/);
  });

  test("pwsh round trip: the license server id the CLI gave activates, and both CAL codes install", () => {
    // What a web/telephone activation and the CAL installs do on Windows, through the emulator.
    const out = pwshScript(
      "activate.ps1",
      [
        "param($ModulePath, $StateDir, $HostName, $Lsid, $KeyPackCode, $RetailCode)",
        "$ErrorActionPreference = 'Stop'",
        "Import-Module $ModulePath -DisableNameChecking",
        "Set-RdsEmulatorContext -StateDir $StateDir -HostName $HostName",
        "$wrong = 'A' * 35",
        "(Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServer -Arguments @{ sLicenseServerId = $wrong }).ReturnValue",
        "(Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServer -Arguments @{ sLicenseServerId = $Lsid }).ReturnValue",
        "$r = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallLicenseKeyPack -Arguments @{ sLicenseKeyPackId = $KeyPackCode }",
        "'{0} {1}' -f $r.ReturnValue, $r.KeyPackId",
        "$r = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $RetailCode }",
        "'{0} {1}' -f $r.ReturnValue, $r.KeyPackId",
      ].join("\n"),
      [MODULE, stateDir, "ls01", lsid, keyPackCode, retailCode],
    );
    expect(Number(out[0])).not.toBe(0); // an id the Clearinghouse did not give is rejected
    expect(out[1]).toBe("0");
    const [rv1, kp1] = out[2]!.split(" ").map(Number);
    const [rv2, kp2] = out[3]!.split(" ").map(Number);
    expect([rv1, rv2]).toEqual([0, 0]);
    selectPack = kp1!;
    retailPack = kp2!;
  });

  test("clearinghouse confirmation-code gives a code for telephone deactivation", () => {
    const r = cliJson(["clearinghouse", "confirmation-code", "--host", "ls01"]);
    expect(r.productId).toBe(productId);
    expect(r.confirmationCode).toMatch(/^[A-Z0-9]{35}$/);
  });

  test("issue, fault set and gpo set change the host; show --json has it all, with the activation and the packs", () => {
    const issued = ok(["issue", "ls01", "--key-pack", String(selectPack), "--count", "2", "--computer", "PC"]);
    expect(issued).toContain(`ls01: issued 2 licenses from key pack ${selectPack} (now 2 issued, 8 available)`);
    expect(issued).toMatch(/PC-1\s+active/);
    expect(ok(["fault", "set", "ls01", "clearinghouseUnreachable"])).toBe(
      "ls01: clearinghouseUnreachable true\n  active faults: clearinghouseUnreachable true\n",
    );
    expect(ok(["gpo", "set", "ls01", "--mode", "perUser", "--license-servers", "ls01.contoso.com, ls02.contoso.com"])).toBe(
      "ls01: Group Policy\n  LicensingMode:  Per User (4)\n  LicenseServers: ls01.contoso.com,ls02.contoso.com\n",
    );

    const h = show("ls01");
    expect(h.licenseServer.activated).toBe(true);
    expect(h.licenseServer.licenseServerId).toBe(lsid);
    const packs = h.licenseServer.keyPacks;
    expect(packs.find((p: EmulatorView) => p.KeyPackId === selectPack)).toMatchObject({
      program: "select",
      ProductType: 0,
      ProductVersion: "Windows Server 2019",
      TotalLicenses: 10,
      IssuedLicenses: 2,
      AvailableLicenses: 8,
    });
    expect(packs.find((p: EmulatorView) => p.KeyPackId === retailPack)).toMatchObject({
      program: "retail",
      ProductType: 1,
      ProductVersion: "Windows Server 2016",
      TotalLicenses: 5,
    });
    expect(h.licenseServer.issuedLicenses.map((l: EmulatorView) => [l.KeyPackId, l.sIssuedToComputer])).toEqual([
      [selectPack, "PC-1"],
      [selectPack, "PC-2"],
    ]);
    expect(h.faults).toMatchObject({ clearinghouseUnreachable: true, latencyMs: 0, failureStyle: "return" });
    expect(h.groupPolicy).toEqual({ LicensingMode: 4, LicenseServers: "ls01.contoso.com,ls02.contoso.com" });
    expect(h.sessionHost).toMatchObject({
      effectiveLicensingType: 4,
      policySourceLicensingType: 1,
      effectiveLicenseServers: ["ls01.contoso.com", "ls02.contoso.com"],
    });
  });

  test("hosts lists the host as the emulator has it", () => {
    const rows = cliJson<EmulatorView[]>(["hosts"]);
    expect(rows.map((r) => r.hostName)).toEqual(["ls01"]);
    expect(rows[0]).toMatchObject({ roleInstalled: true, activated: true, productId, osVersion: "2019" });
  });

  test("log shows the emulated calls, oldest first", () => {
    const out = ok(["log", "ls01"]).split("\n");
    expect(out[0]).toMatch(/^SEQ\s+TIME \(UTC\)\s+PID\s+CMDLET\s+CLASS\s+METHOD\s+RESULT$/);
    expect(out[1]).toMatch(/^1\s.*Invoke-CimMethod\s+Win32_TSLicenseServer\s+ActivateServer\s+0x80041008 WBEM_E_INVALID_PARAMETER$/);
    expect(out[2]).toMatch(/^2\s.*ActivateServer\s+0$/);
    expect(out[4]).toMatch(/^4\s.*InstallRetailPurchaseLicenseKeyPack\s+0$/);
  });

  test("leftover-pack plants a KeyPackType 7 row without licenses on ls01, logged as no method call", () => {
    const before = ok(["log", "ls01"]);
    const out = ok(["leftover-pack", "ls01", "--version", "2016", "--cal-type", "perDevice"]);
    const m = /^ls01: planted leftover key pack (\d+) \(KeyPackType 7, perDevice 2016, no licenses\)\n$/.exec(out);
    expect(m).not.toBeNull();
    const pack = show("ls01").licenseServer.keyPacks.find((p: EmulatorView) => p.KeyPackId === Number(m![1]));
    expect(pack).toMatchObject({ KeyPackType: 7, ProductType: 0, TotalLicenses: 0, IssuedLicenses: 0, AvailableLicenses: 0 });
    expect(ok(["log", "ls01"])).toBe(before);
    const bad = cli(["leftover-pack", "ls01", "--cal-type", "perSocket"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--cal-type");
  });

  test("reset forgets everything; an emulator error (show of a host with no state) exits 1 with one line", () => {
    expect(cliJson(["reset"])).toEqual({ host: null, existed: null, hostsReset: 1, clearinghouseReset: true });
    expect(fs.readdirSync(path.join(stateDir, "hosts")).filter((f) => f.endsWith(".json") || f.endsWith(".jsonl"))).toEqual([]);
    const r = cli(["show", "ls01"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^rds-sim show: host 'ls01' has no state in .*state \(hosts are created by /);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});

test("a hostile host name is data, end to end", () => {
  // PowerShell subexpression and redirection, sh command separators and substitution, quotes, a
  // terminal escape sequence and a newline. Were any of it run, a canary file would appear.
  const canary = path.join(tmp, "c");
  const name = `ls'0"1;$(1>'${canary}')\`whoami\`;touch ${canary}&@x\u001b[31m\n#`;
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(100);
  const set = cliJson(["host", "set", name, "--role-installed", "--os", "2016"]);
  expect(set.hostName).toBe(name);
  expect(set.config.osVersion).toBe("2016");
  // Found again by the name (a second pwsh reads the state the first wrote). Human output shows control
  // characters escaped: no raw escape sequence or newline reaches the terminal.
  const human = ok(["show", name]);
  expect(human).not.toContain("\u001b");
  const shown = (s: string) => s.replace("\u001b", "\\u001b").replace("\n", "\\n");
  expect(human.split("\n")[0]).toBe(`Host ${shown(name)} (${shown(set.computerName)})`);
  expect(fs.existsSync(canary)).toBe(false);
});

test("stopping the CLI stops its pwsh, and no pwsh is left running", async () => {
  if (process.platform !== "linux") return; // finds processes through /proc
  const child = spawn(process.execPath, [CLI, "--state-dir", stateDir, "hosts"], { env: baseEnv(), stdio: "ignore" });
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  // Wait until the CLI's own pwsh is running (a descendant of this CLI running the driver: other test
  // files running at the same time have CLIs and pwsh of their own), then stop the CLI.
  let driver: number[] = [];
  const deadline = Date.now() + 30_000;
  while (driver.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    driver = descendantsOf(child.pid!).filter(runsDriver);
  }
  expect(driver.length).toBeGreaterThan(0);
  // Everything the CLI started: once it is stopped these are orphans, no longer found under it, so they are
  // followed by pid.
  const started = descendantsOf(child.pid!);
  child.kill("SIGTERM");
  await closed;
  const stillRunning = () => started.filter((pid) => running(pid) && (runsDriver(pid) || /pwsh/.test(commOf(pid))));
  const gone = Date.now() + 10_000;
  while (stillRunning().length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
  expect(stillRunning()).toEqual([]);
});

/** A process's command name (/proc/<pid>/comm), "" once it is gone. */
function commOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** True while `pid` exists and is not a zombie (an exited process its parent has not reaped yet). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
