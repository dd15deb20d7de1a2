/**
 * `rds-sim network cut` / `network restore`, end to end: the cut reaches the emulator (a session host's
 * GetTStoLSConnectivityStatus answers LS_NOT_CONNECTABLE, both ways), restore from either host repairs
 * it, `--json` gives the emulator's fault view, and a cut of a host from itself is a usage error (exit 2).
 *
 * Real: the built CLI (`node bin/provider/emulator/cli.js`) as a child process, its pwsh per command
 * (cli-driver.ps1), the emulator module and its state files in a temp directory, and a pwsh calling the
 * emulated GetTStoLSConnectivityStatus as a script on the session host would.
 * Stands in: the emulator stands in for Windows WMI and for the network between the hosts.
 *
 * Needs the built CLI: run `npx tsc -p tsconfig.json` (or `npm test`, which builds) first.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../../provider/paths";
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, PS_ACTIVATED, PS_INSTALL_AGREEMENT } from "./emulatorKit";

const CLI = path.join(packageRoot(), "bin", "provider", "emulator", "cli.js");
const SH = "rdsh-net.contoso.com";
const LS = "ls-net.contoso.com";

let fx: EmulatorFixture;
let tmp: string;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.RDS_SIM_STATE_DIR;
  const r = spawnSync(process.execPath, [CLI, "--state-dir", fx.stateDir, ...args], { encoding: "utf8", env, cwd: tmp, timeout: 110_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What the session host's GetTStoLSConnectivityStatus answers for the license server, and the reverse. */
async function statuses(): Promise<[number, number]> {
  const ask = (from: string, to: string) =>
    fx.on<number>(
      from,
      `$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
       (Invoke-CimMethod -InputObject $ts -MethodName GetTStoLSConnectivityStatus -Arguments @{ ServerName = $data.to }).TStoLSConnectivityStatus`,
      { to },
    );
  return [await ask(SH, LS), await ask(LS, SH)];
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-cli-net-"));
  fx = await EmulatorFixture.start("clinet");
  // Both hosts are license servers with Per User CALs and run Per User: each can ask about the other.
  for (const host of [LS, SH]) {
    await fx.on(
      host,
      `${PS_ACTIVATED}$null = ${PS_INSTALL_AGREEMENT}
       $ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting
       $null = Invoke-CimMethod -InputObject $ts -MethodName ChangeMode -Arguments @{ LicensingType = [uint32]4 }`,
      { pt: 1 },
    );
  }
}, 120_000);

afterAll(async () => {
  await fx.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(liveSessionCount()).toBe(0);
});

test("cut: both directions answer LS_NOT_CONNECTABLE; restore from the other host repairs both", async () => {
  expect(await statuses()).toEqual([11, 11]);
  const cut = cli(["network", "cut", SH, LS]);
  expect(cut).toEqual({ status: 0, stderr: "", stdout: `${SH} <-> ${LS}: network cut\n  cut from ${SH}: ${LS}\n` });
  expect(await statuses()).toEqual([6, 6]);
  const restore = cli(["network", "restore", LS, SH.split(".")[0]!, "--json"]);
  expect(restore.status).toBe(0);
  expect(JSON.parse(restore.stdout)).toMatchObject({ accessDenied: false, failureStyle: "return" });
  expect(JSON.parse(restore.stdout).networkCuts).toBeUndefined();
  expect(await statuses()).toEqual([11, 11]);
});

test("restore without <to> lifts every cut set on the host; a host cut from itself is a usage error", async () => {
  expect(JSON.parse(cli(["network", "cut", SH, LS, "--json"]).stdout).networkCuts).toEqual([LS]);
  expect(cli(["network", "restore", SH])).toEqual({
    status: 0,
    stderr: "",
    stdout: `${SH}: every network cut set on it restored\n  cut from ${SH}: none\n`,
  });
  expect(await statuses()).toEqual([11, 11]);
  const self = cli(["network", "cut", SH, SH.toUpperCase()]);
  expect(self.status).toBe(2);
  expect(self.stderr).toContain("<from> and <to> must be two different hosts");
});
