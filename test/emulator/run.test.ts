/**
 * `rds-sim run`, end to end: three admin scripts kept as fixtures (test/fixtures/userScripts/) run
 * UNCHANGED on simulated hosts, each with the end state asserted: a legacy-WMI activation and SPLA CAL
 * install (8-digit agreement number), an activation through the RDS: drive of the RemoteDesktopServices
 * module, and a -ComputerName key-pack report across two simulated hosts (plus an unknown one). Also: a
 * script's exit code and errors come back (rds-sim exits 1), and the arguments after -- reach the script
 * as `pwsh -File` passes them.
 *
 * Real: the built CLI (`node bin/provider/emulator/cli.js`) as a child process, its pwsh running
 * provider/emulator/cli/run-host.ps1, the emulator module (with its RemoteDesktop / RemoteDesktopServices
 * modules) and its state files in a temp directory, the scripts themselves.
 * Stands in: the emulator stands in for the Windows hosts (WMI, ServerManager, the RDS: provider) and for
 * Microsoft's Clearinghouse.
 *
 * Needs the built CLI: run `npx tsc -p tsconfig.json` (or `npm test`, which builds) first.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../../provider/paths";
import type { RunResult } from "../../provider/emulator/cli/runScript";
import type { HostChanges } from "../../provider/emulator/cli/runReport";

const ROOT = packageRoot();
const CLI = path.join(ROOT, "bin", "provider", "emulator", "cli.js");
const SCRIPTS = path.join(ROOT, "test", "fixtures", "userScripts");

let tmp: string;
let stateDir: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-sim-run-"));
  stateDir = path.join(tmp, "state");
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Run {
  const env = { ...process.env };
  delete env.RDS_SIM_STATE_DIR;
  const r = spawnSync(process.execPath, [CLI, "--state-dir", stateDir, ...args], { encoding: "utf8", env, cwd: tmp, timeout: 110_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type RunJson = RunResult & { changes: HostChanges[] };

function runJson(script: string, host: string, extra: string[] = []): { status: number | null; doc: RunJson; stderr: string } {
  const r = cli(["--json", "run", script, "--host", host, ...extra]);
  return { status: r.status, doc: JSON.parse(r.stdout) as RunJson, stderr: r.stderr };
}

const outputLines = (doc: RunJson) => doc.output.filter((o) => o.stream === "output").map((o) => o.text);

describe("three admin scripts, run unchanged", () => {
  test("(a) legacy WMI: Get-WmiObject + .Put(), [wmiclass] ActivateServerAutomatic, an SPLA pack with an 8-digit agreement number, ChangeMode and SetSpecifiedLicenseServerList", () => {
    const { status, doc, stderr } = runJson(path.join(SCRIPTS, "legacyWmiActivation.ps1"), "wmi-ls01", ["--fresh"]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(doc.exitCode).toBe(0);
    expect(doc.errors).toEqual([]);
    const after = doc.hosts["wmi-ls01"]!.after;
    expect(after.activated).toBe(true);
    expect(after.activationMethod).toBe("automatic");
    expect(after.contact).toMatchObject({ FirstName: "Ada", LastName: "Lovelace", Company: "Contoso", CountryRegion: "United Kingdom" });
    // AgreementType 4 is SPLA; its agreement number may have 7 or 8 digits (docs/windows-facts.md).
    expect(after.packs).toEqual([
      expect.objectContaining({ program: "spla", TotalLicenses: 25, IssuedLicenses: 0, TypeAndModel: "RDS Per User CAL" }),
    ]);
    expect(after.licensingType).toBe(4);
    expect(after.licenseServers).toEqual(["wmi-ls01"]);
    expect(outputLines(doc)).toEqual(["ActivationStatus 0", `KeyPackId ${after.packs[0]!.KeyPackId}`, "Servers wmi-ls01", "Packs 1"]);
    expect(doc.calls.filter((c) => c.method === "ActivateServerAutomatic")).toHaveLength(1);
  });

  test("(b) the RDS: drive: Import-Module RemoteDesktop, RemoteDesktopServices; Set-Item Configuration\\<field>; Set-Item ActivationStatus -Value 1 -ConnectionMethod AUTO -Reason 5", () => {
    const { status, doc } = runJson(path.join(SCRIPTS, "rdsDriveActivation.ps1"), "drive-ls01", [
      "--fresh",
      "--",
      "-FirstName",
      "Grace",
      "-Company",
      "Fabrikam",
    ]);
    expect(status).toBe(0);
    expect(doc.errors).toEqual([]);
    const after = doc.hosts["drive-ls01"]!.after;
    expect(after.roleInstalled).toBe(true);
    expect(after.activated).toBe(true);
    expect(after.contact).toMatchObject({ FirstName: "Grace", LastName: "Lovelace", Company: "Fabrikam", CountryRegion: "United Kingdom" });
    expect(outputLines(doc)).toEqual(["ActivationStatus 1", "Pack 2 total 4294967295 issued 0"]);
    // The drive writes through the same object model as WMI: the contact properties, then the method.
    const writes = doc.calls.filter((c) => c.cmdlet === "Set-Item").map((c) => c.method ?? (c.properties ?? []).join(","));
    expect(writes).toEqual(["FirstName", "LastName", "Company", "CountryRegion", "ActivateServerAutomatic"]);
    expect(doc.changes[0]).toMatchObject({ host: "drive-ls01", created: false });
    expect(doc.changes[0]!.changes).toEqual(
      expect.arrayContaining(["licensing role: not installed -> installed", "activation: role not installed -> activated (automatic)"]),
    );
    // Run again on the existing state: already activated, so nothing changes and no activation is sent.
    const again = runJson(path.join(SCRIPTS, "rdsDriveActivation.ps1"), "drive-ls01", [
      "--",
      "-FirstName",
      "Grace",
      "-Company",
      "Fabrikam",
    ]);
    expect(again.status).toBe(0);
    expect(again.doc.changes[0]!.changes).toEqual([]);
    expect(again.doc.calls.filter((c) => c.method === "ActivateServerAutomatic")).toHaveLength(0);
  });

  test("(c) a -ComputerName report across two simulated hosts (short name, FQDN, localhost) and an unknown one, changing nothing", () => {
    // wmi-ls01 (25 SPLA CALs) and drive-ls01 (no purchased pack) come from the tests above.
    const { status, doc } = runJson(path.join(SCRIPTS, "computerNameReport.ps1"), "wmi-ls01", [
      "--",
      "-ComputerName",
      "localhost,DRIVE-LS01.contoso.com,nohost,wmi-ls01",
    ]);
    expect(status).toBe(0);
    expect(outputLines(doc)).toEqual([
      "REPORT localhost packs 1 total 25 issued 0",
      "REPORT DRIVE-LS01.contoso.com packs 0 total 0 issued 0",
      "REPORT nohost unable to connect",
      "REPORT wmi-ls01 packs 1 total 25 issued 0",
    ]);
    expect(doc.changes).toEqual([{ host: "wmi-ls01", created: false, changes: [] }]);
    const byHost = (h: string) => doc.calls.filter((c) => c.host === h).map((c) => c.cmdlet);
    expect(byHost("wmi-ls01")).toEqual(["Get-WindowsFeature", "Get-CimInstance", "Get-WindowsFeature", "Get-CimInstance"]);
    expect(byHost("drive-ls01")).toEqual(["Get-WindowsFeature", "Get-CimInstance"]);
  });
});

describe("the script's exit code, errors and output", () => {
  test("errors and `exit 3` come back; rds-sim exits 1 and says so; the human report shows them", () => {
    const script = path.join(tmp, "fails.ps1");
    fs.writeFileSync(script, "Write-Output 'before'\nWrite-Error 'the pack count is wrong'\nWrite-Warning 'careful'\nexit 3\n");
    const json = runJson(script, "exit-host", ["--fresh"]);
    expect(json.status).toBe(1);
    expect(json.doc.exitCode).toBe(3);
    expect(json.doc.terminated).toBe(false);
    expect(json.doc.errors).toEqual(["the pack count is wrong"]);
    expect(json.doc.output.map((o) => o.stream)).toEqual(["output", "error", "warning"]);
    expect(json.stderr).toBe("rds-sim run: the script exited with code 3\n");
    const human = cli(["run", script, "--host", "exit-host"]);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain("  ERROR: the pack count is wrong\n");
    expect(human.stdout).toContain("Exit code 3, 1 error\n");
  });

  test("a terminating error ends the script with exit code 1", () => {
    const script = path.join(tmp, "throws.ps1");
    fs.writeFileSync(script, "$ErrorActionPreference = 'Stop'\nGet-CimInstance -ClassName Win32_TSLicenseServer\n'not reached'\n");
    const { status, doc } = runJson(script, "throw-host", ["--fresh"]);
    expect(status).toBe(1);
    expect(doc.exitCode).toBe(1);
    expect(doc.terminated).toBe(true);
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0]).toMatch(/WBEM_E_INVALID_CLASS/);
    expect(outputLines(doc)).toEqual([]);
  });

  test("a missing script is a usage error (exit 2)", () => {
    const r = cli(["run", path.join(tmp, "nope.ps1"), "--host", "h"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rds-sim run: no script at /);
  });
});
