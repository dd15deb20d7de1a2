/**
 * Records the `rds-sim` session that test/emulator/cli.fast.test.ts replays in process.
 *
 * Real: everything. The CLI's main() runs in process with its real driver call (one fresh pwsh per
 * command running cli-driver.ps1 with the emulator module, as the built CLI does); this file only
 * wraps that call to write down each driver action and the emulator's answer, and what the CLI printed.
 * The activation between commands is pwsh calling the emulated WMI methods, as the operation scripts do.
 *
 * Re-record (after a change to the emulator's views or to the CLI's output), about a minute, needs pwsh:
 *   npx jest --runInBand --testMatch '<rootDir>/test/emulator/cli.record.ts'
 * It rewrites test/fixtures/recorded/cli/session.json; review the diff before committing it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../../provider/paths";
import { main } from "../../provider/emulator/cli/main";
import { callDriverInPwsh, findPwsh, setEmulatorCaller } from "../../provider/emulator/cli/driver";
import { RECORDED_STATE_DIR, SESSION_FILE, type RecordedCall, type RecordedStep } from "./cliScenario";

const MODULE = path.join(packageRoot(), "provider", "emulator", "RdsEmulator.psm1");
const PRODUCT_ID = "00490-92005-99454-AT527";

test("record the rds-sim session", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-sim-record-"));
  const stateDir = path.join(tmp, "state");
  const normalise = <T>(value: T): T => JSON.parse(JSON.stringify(value).split(stateDir).join(RECORDED_STATE_DIR)) as T;
  const steps: RecordedStep[] = [];
  let calls: RecordedCall[] = [];
  setEmulatorCaller(async (ctx, action, args) => {
    try {
      const result = await callDriverInPwsh(ctx, action, args);
      calls.push({ action, args, ok: true, result });
      return result;
    } catch (e) {
      calls.push({ action, args, ok: false, error: (e as Error).message });
      throw e;
    }
  });

  async function run(name: string, argv: string[]): Promise<string> {
    calls = [];
    let stdout = "";
    let stderr = "";
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), cwd: tmp, env: {} };
    const exitCode = await main(["--state-dir", stateDir, ...argv], io);
    steps.push(normalise({ kind: "cli" as const, name, argv, calls, exitCode, stdout, stderr }));
    return stdout;
  }
  const codeOf = (out: string) => (JSON.parse(out) as Record<string, string>)[Object.keys(JSON.parse(out))[0]!]!;

  try {
    await run("hosts, empty", ["hosts", "--json"]);
    await run("show an unknown host", ["show", "ghost"]);
    await run("host set ls01", ["host", "set", "ls01", "--os", "2019", "--role-installed", "--product-id", PRODUCT_ID]);
    await run("host set rdsh01", ["host", "set", "rdsh01", "--workgroup-name", "LAB", "--broker", "--grace-days", "30", "--os", "2022"]);
    await run("show ls01 --json", ["show", "ls01", "--json"]);
    await run("hosts --json", ["hosts", "--json"]);
    await run("hosts", ["hosts"]);
    const lsid = (await run("license-server-id --host", ["clearinghouse", "license-server-id", "--host", "ls01"])).trim();
    await run("license-server-id <productId> --json", ["clearinghouse", "license-server-id", PRODUCT_ID, "--json"]);
    const kpArgs = ["--program", "select", "--version", "2019", "--cal-type", "perDevice", "--quantity", "10"];
    const keyPackCode = (await run("key-pack-id", ["clearinghouse", "key-pack-id", "--host", "ls01", ...kpArgs])).trim();
    const retailArgs = ["--version", "2016", "--cal-type", "perUser", "--quantity", "5"];
    const retailCode = codeOf(await run("retail-code --json", ["clearinghouse", "retail-code", ...retailArgs, "--json"]));
    steps.push({
      kind: "activate",
      name: "activate ls01 and install both packs",
      output: activate(stateDir, lsid, keyPackCode, retailCode),
    });
    const [selectPack, retailPack] = (steps.at(-1) as { output: string[] }).output.slice(2).map((l) => l.split(" ")[1]!);
    await run("confirmation-code --json", ["clearinghouse", "confirmation-code", "--host", "ls01", "--json"]);
    await run("issue per device", ["issue", "ls01", "--key-pack", selectPack!, "--count", "2", "--computer", "PC"]);
    await run("issue per user --json", ["issue", "ls01", "--key-pack", retailPack!, "--count", "3", "--json"]);
    await run("issue from a missing pack", ["issue", "ls01", "--key-pack", "99", "--count", "1"]);
    await run("show ls01", ["show", "ls01"]);
    await run("show ls01 --json, activated", ["show", "ls01", "--json"]);
    await run("fault set", ["fault", "set", "ls01", "clearinghouseUnreachable"]);
    await run("fault set latencyMs", ["fault", "set", "ls01", "latencyMs", "15"]);
    await run("fault set failureStyle", ["fault", "set", "ls01", "failureStyle", "EXCEPTION"]);
    await run("fault set classNotReadyCalls", ["fault", "set", "ls01", "classNotReadyCalls", "2"]);
    await run("show ls01 --json, faults", ["show", "ls01", "--json"]);
    await run("fault clear one --json", ["fault", "clear", "ls01", "latencyMs", "--json"]);
    await run("fault clear all", ["fault", "clear", "ls01"]);
    await run("gpo set", ["gpo", "set", "rdsh01", "--mode", "perUser", "--license-servers", "ls01.contoso.com, ls02.contoso.com"]);
    await run("show rdsh01 --json, gpo", ["show", "rdsh01", "--json"]);
    await run("show rdsh01", ["show", "rdsh01"]);
    await run("gpo clear --mode --json", ["gpo", "clear", "rdsh01", "--mode", "--json"]);
    await run("gpo clear --json", ["gpo", "clear", "rdsh01", "--json"]);
    await run("log", ["log", "ls01"]);
    await run("log --last 1 --json", ["log", "ls01", "--last", "1", "--json"]);
    await run("reset rdsh01", ["reset", "rdsh01"]);
    await run("reset rdsh01 again", ["reset", "rdsh01"]);
    await run("reset --json", ["reset", "--json"]);
    await run("hosts after reset --json", ["hosts", "--json"]);
    for (const step of steps)
      if (step.kind === "cli" && step.calls.some((c) => !c.ok && !/host 'ghost'|key pack 99/.test(c.error ?? ""))) {
        throw new Error(`step '${step.name}' failed unexpectedly: ${step.stderr}`);
      }
    fs.writeFileSync(SESSION_FILE, JSON.stringify(steps, null, 2) + "\n");
  } finally {
    setEmulatorCaller();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** Web/telephone activation with the Clearinghouse's id, then both CAL installs, through the emulated WMI. */
function activate(stateDir: string, lsid: string, keyPackCode: string, retailCode: string): string[] {
  const script = [
    "param($ModulePath, $StateDir, $Lsid, $KeyPackCode, $RetailCode)",
    "$ErrorActionPreference = 'Stop'",
    "Import-Module $ModulePath -DisableNameChecking",
    "Set-RdsEmulatorContext -StateDir $StateDir -HostName ls01",
    "(Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServer -Arguments @{ sLicenseServerId = ('A' * 35) }).ReturnValue",
    "(Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServer -Arguments @{ sLicenseServerId = $Lsid }).ReturnValue",
    "$r = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallLicenseKeyPack -Arguments @{ sLicenseKeyPackId = $KeyPackCode }",
    "'{0} {1}' -f $r.ReturnValue, $r.KeyPackId",
    "$r = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $RetailCode }",
    "'{0} {1}' -f $r.ReturnValue, $r.KeyPackId",
  ].join("\n");
  const file = path.join(path.dirname(stateDir), "activate.ps1");
  fs.writeFileSync(file, script);
  const args = ["-NoLogo", "-NoProfile", "-NonInteractive", "-File", file, MODULE, stateDir, lsid, keyPackCode, retailCode];
  const r = spawnSync(findPwsh(), args, { encoding: "utf8", timeout: 110_000 });
  if (r.status !== 0) throw new Error(`activation exited ${r.status}: ${r.stderr}`);
  return r.stdout.split(/\r?\n/).filter((l) => l.length > 0);
}
