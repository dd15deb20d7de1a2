/**
 * RdsSessionHostLicensing on a host without the RD Session Host role, through the REAL provider host:
 * (a) without installRole, `up` fails for that host with RDS_SESSION_HOST_ROLE_MISSING (what is missing,
 * how to install it) and the host's emulator call log shows no licensing setter, no feature install and
 * no restart; (b) the same program with installRole: true installs RDS-RD-Server, restarts the host,
 * waits while it is unreachable, reconnects, sees the role and configures the licensing, in one `up`:
 * the call log order, the progress lines (one reconnect), the restart and the final mode.
 *
 * Real: the Pulumi SDK running the program (RdsLicenseServer, RdsCalPack, RdsSessionHostLicensing), the
 * dynamic-provider host process and gRPC, the built providers (bin/), the runner and the pool (one pwsh
 * per simulated host here, RDS_SIM_WORKERS=0, so the session bound before the restart really is dead
 * after it and only a new one reaches the host), pwsh 7, the operation scripts, the progress lines on the
 * host's stderr.
 * Stands in: the Pulumi CLI engine (test/helpers/engine.ts, ../component/liveProgram.ts), Windows (the
 * WMI emulator, state in a temp directory: the host fact sessionHostRole, a restart that keeps the host
 * unreachable for restartSeconds = 2), the administrator (fixtures/SimAdmin.ps1 through the runner in this
 * process). The poll interval is 0.3 s (RDS_RESTART_POLL_SECONDS); nothing asserts on time.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { createEngine, type Engine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { runProgram } from "../component/liveProgram";
import { programFor, SH1, SH1_URN } from "./program";
import { callLog, hostView, setHostConfig, type CallLogRow } from "./simAdmin";

jest.setTimeout(600_000);

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-role-"));
const stderrLines: string[] = [];
let host: ProviderHost;
let engine: Engine;

beforeAll(async () => {
  assertBuilt(["provider/resources/sessionHostLicensing", "provider/powershell", "provider/progress.ts", "provider/resources/kit.ts"]);
  host = await startProviderHost({
    env: { RDS_PROGRESS: "1", RDS_SIM_WORKERS: "0", RDS_RESTART_POLL_SECONDS: "0.3" },
    onStderrLine: (line) => stderrLines.push(line),
  });
  engine = createEngine(host);
  await setHostConfig(stateDir, SH1, { sessionHostRole: false, restartSeconds: 2 });
}, 120_000);

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** What changes a host: the licensing setters, the Group Policy key, the feature install, the restart. */
const CHANGES =
  /^(ChangeMode|SetSpecifiedLicenseServerList|EmptySpecifiedLicenseServerList|Set-ItemProperty|New-ItemProperty|Install-WindowsFeature|Restart-Computer)$/;
const changesIn = (rows: CallLogRow[]) => rows.map((r) => r.method ?? r.cmdlet).filter((name) => CHANGES.test(name));

/** The progress lines of SH1 since `from`, without the host prefix and without the ticker's lines. */
function sh1Progress(from: number): string[] {
  const prefix = `[rds] ${SH1}: `;
  return stderrLines
    .slice(from)
    .filter((l) => l.startsWith(prefix) && !l.includes("still running"))
    .map((l) => l.slice(prefix.length));
}

test("a host without the role: the up fails for it with RDS_SESSION_HOST_ROLE_MISSING, and nothing was written to it", async () => {
  const run = await runProgram(engine, programFor(stateDir, { sessionHosts: [SH1] }));
  expect(run.errors.map((e) => e.urn)).toEqual([SH1_URN]);
  const failure = run.errors[0].error.message;
  // For the report: the error as `pulumi up` shows it.
  console.log(failure);
  expect(failure).toContain(`configuring licensing on ${SH1}: the host does not have the RD Session Host role`);
  expect(failure).toContain("Install-WindowsFeature RDS-RD-Server, then restart the host");
  expect(failure).toContain("installRole: true");
  expect(failure).toContain("nothing was changed; to fix: install it");
  expect(failure).toContain("[RDS_SESSION_HOST_ROLE_MISSING]");
  expect(() => engine.entry(SH1_URN)).toThrow(/no resource/);

  const rows = await callLog(stateDir, SH1);
  expect(rows.some((r) => r.className === "Win32_TerminalServiceSetting")).toBe(true); // it was read...
  expect(changesIn(rows)).toEqual([]); // ...and nothing was written
  expect(await hostView(stateDir, SH1)).toMatchObject({ sessionHostRole: false, restart: { restarts: 0 } });
});

test("installRole: installed, restarted, reconnected, configured in one up", async () => {
  const from = stderrLines.length;
  const logBefore = (await callLog(stateDir, SH1)).length;
  const run = await runProgram(engine, programFor(stateDir, { sessionHosts: [SH1], installRole: true }));
  expect(run.errors).toEqual([]);
  expect(run.steps.find((s) => s.urn === SH1_URN)!.op).toBe("create");

  // What the host received, in order: the install, the restart, then the licensing setters.
  const rows = (await callLog(stateDir, SH1)).slice(logBefore);
  expect(changesIn(rows)).toEqual(["Install-WindowsFeature", "Restart-Computer", "ChangeMode", "SetSpecifiedLicenseServerList"]);

  const lines = sh1Progress(from);
  // For the report: the lines as `pulumi up` shows them.
  console.log(lines.join("\n"));
  const restarting = "restarting to finish the RD Session Host role install: ";
  const order = [
    /^installing the RD Session Host role: started \(Install-WindowsFeature RDS-RD-Server/,
    /^installing the RD Session Host role: done \(Windows asks for a restart\) in /,
    new RegExp(`^${restarting}started$`),
    new RegExp(`^${restarting}back after \\d+ attempts?, reconnected \\(a new session\\) in `),
  ];
  const at = order.map((re) => lines.findIndex((l) => re.test(l)));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  // One reconnect: the session the restart ended was dropped once, and the host was reached again.
  expect(lines.filter((l) => l.includes("reconnected (a new session)"))).toHaveLength(1);
  // Every attempt before the host was back (none when the new session took longer to start than the
  // restart: its pwsh starts first) found it unreachable, as a restarting Windows host is; the emulator's
  // own test (test/emulator/sessionHost.test.ts) shows the unreachable window itself.
  for (const a of lines.filter((l) => l.startsWith(`${restarting}attempt `))) expect(a).toMatch(/not back yet \(RDS_HOST_UNREACHABLE\)$/);

  expect(engine.outputs(SH1_URN)).toMatchObject({
    installRole: true,
    sessionHostRole: true,
    effectiveMode: "perUser",
    modeSource: "local",
  });
  const view = await hostView(stateDir, SH1);
  expect(view).toMatchObject({ sessionHostRole: true, sessionHostRolePending: false, restart: { restarts: 1, secondsLeft: 0 } });
  expect(view.sessionHost).toMatchObject({ licensingType: 4 });
});

test("a second up with installRole changes nothing: no install, no restart, no write", async () => {
  const logBefore = (await callLog(stateDir, SH1)).length;
  const run = await runProgram(engine, programFor(stateDir, { sessionHosts: [SH1], installRole: true }));
  expect(run.errors).toEqual([]);
  expect(run.steps.find((s) => s.urn === SH1_URN)!.op).toBe("same");
  expect(changesIn((await callLog(stateDir, SH1)).slice(logBefore))).toEqual([]);
});
