/**
 * RdsSessionHostLicensing and the RD Session Host role, in process: a host without the role stops create
 * before any change (RDS_SESSION_HOST_ROLE_MISSING); with installRole the role is installed, the host
 * restarted, the session reconnected (once), the host polled until it answers from a new boot, and the
 * licensing set, in one create; an installRole on a host that has the role changes nothing; a setter's
 * WBEM_E_INVALID_OPERATION with no Group Policy in sight passes through as RDS_WMI_ERROR with its code.
 * provider.test.ts shows the same through the real provider host, pwsh and the emulator.
 *
 * Real: the provider (provider.ts, roleInstall.ts, rules, messages, the resource kit), the runner's
 * validation and result typing, the progress lines (captured by the progress sink).
 * Stands in: pwsh, the scripts and Windows (the FakeWorld behind the FakeRunner, test/fake/); the time a
 * restarting host is away (the runner core below fails the first boot probes as an unreachable host
 * does, RDS_HOST_UNREACHABLE); the pool's session drop (a counter given to setOperationRunner); the
 * poll interval (RDS_RESTART_POLL_SECONDS=0.05, so the test does not wait 5 s per attempt).
 */
import { ErrorCode, RdsError, isRdsError } from "../../../provider/errors";
import { setProgressSink } from "../../../provider/progress";
import { resetOperationRunner, setOperationRunner, type OperationRunner } from "../../../provider/powershell/runner";
import { provider } from "../../../provider/resources/sessionHostLicensing/provider";
import { FakeRunner } from "../../fake/runner";

const SH = "sh-role.contoso.com";
const connection = { transport: "simulator", host: SH };
const inputs = (extra: Record<string, unknown> = {}) => ({ connection, mode: "perUser", licenseServers: ["ls01.contoso.com"], ...extra });

let runner: FakeRunner;
/** The scripts each operation ran, in order (`<script>` or `<script>:unreachable`). */
let ran: string[];
let reconnects: number;
let unreachableProbes: number;
/** set.ps1's answer, when a test replaces it. */
let setAnswer: ((host: string) => unknown) | undefined;
/**
 * restart.ps1's answer, when a test replaces it: Windows failing the restart (the host stays up), or the
 * shutdown stopping the pipeline under the script (`restarted`: the fake restart happens first).
 */
let restartAnswer: { document: unknown; restarted: boolean } | undefined;
const progress: string[] = [];

const scriptOf = (path: string) => /([A-Za-z]+)\.ps1$/.exec(path)![1];

const core: OperationRunner = async (conn, call) => {
  const script = scriptOf(call.script);
  if (script === "boot" && unreachableProbes > 0) {
    unreachableProbes--;
    ran.push("boot:unreachable");
    throw new RdsError(ErrorCode.HostUnreachable, `starting pwsh for ${conn.host}: the host does not answer`, { host: conn.host });
  }
  ran.push(script);
  if (script === "set" && setAnswer) return { document: setAnswer(conn.host) as never, durationMs: 0, stderr: "" };
  if (script === "restart" && restartAnswer !== undefined) {
    if (restartAnswer.restarted) await runner.core(conn, call);
    return { document: restartAnswer.document as never, durationMs: 0, stderr: "" };
  }
  return runner.core(conn, call);
};

beforeAll(() => {
  process.env.RDS_RESTART_POLL_SECONDS = "0.05";
  setProgressSink((line) => progress.push(line));
  setOperationRunner(core, async () => {
    reconnects++;
  });
});
afterAll(() => {
  delete process.env.RDS_RESTART_POLL_SECONDS;
  setProgressSink(undefined);
  resetOperationRunner();
});
beforeEach(() => {
  runner = new FakeRunner();
  ran = [];
  reconnects = 0;
  unreachableProbes = 0;
  setAnswer = undefined;
  restartAnswer = undefined;
  progress.length = 0;
});

async function failureOf(p: Promise<unknown>): Promise<RdsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRdsError(err)) throw new Error(`expected an RdsError, got ${String(err)}`);
  return err;
}

test("a host without the role: RDS_SESSION_HOST_ROLE_MISSING before any change, saying what is missing and how to install it", async () => {
  runner.world.host(SH).config.sessionHostRole = false;
  const err = await failureOf(provider.create!(inputs()));
  expect(err.code).toBe(ErrorCode.SessionHostRoleMissing);
  expect(err.message).toContain(`configuring licensing on ${SH}: the host does not have the RD Session Host role`);
  expect(err.message).toContain("TerminalServerMode is 0");
  expect(err.message).toContain("Install-WindowsFeature RDS-RD-Server, then restart the host");
  expect(err.message).toContain("installRole: true");
  expect(err.message).toMatch(/\[RDS_SESSION_HOST_ROLE_MISSING\]$/);
  expect(ran).toEqual(["get"]);
  expect(runner.world.view(SH).sessionHost.licensingType).toBe(5);
});

test("installRole: installed, restarted, reconnected once, polled until back from a new boot, configured: one create", async () => {
  runner.world.host(SH).config.sessionHostRole = false;
  unreachableProbes = 2;
  const result = await provider.create!(inputs({ installRole: true }));
  expect(ran).toEqual(["get", "role", "restart", "boot:unreachable", "boot:unreachable", "boot", "get", "set", "get"]);
  expect(reconnects).toBe(1);
  expect(result.outs).toMatchObject({ installRole: true, sessionHostRole: true, effectiveMode: "perUser" });
  expect(runner.world.host(SH).config.restarts).toBe(1);

  // The restart's wait, in order (the fake role.ps1 streams no record: the install's own lines are
  // provider.test.ts's, from the real script).
  const label = `[rds] ${SH}: restarting to finish the RD Session Host role install: `;
  expect(progress.filter((l) => l.startsWith(label) && !l.includes("still running")).map((l) => l.slice(label.length))).toEqual([
    "started",
    "attempt 1: not back yet (RDS_HOST_UNREACHABLE)",
    "attempt 2: not back yet (RDS_HOST_UNREACHABLE)",
    expect.stringMatching(/^back after 3 attempts, reconnected \(a new session\) in /),
  ]);
});

test("installRole: a Restart-Computer that fails (RESTART_FAILED) stops the create at once, with no wait for a boot that never comes", async () => {
  runner.world.host(SH).config.sessionHostRole = false;
  restartAnswer = {
    document: { ok: false, error: { code: "RESTART_FAILED", message: "Restart-Computer failed: Privilege not held." } },
    restarted: false,
  };
  const err = await failureOf(provider.create!(inputs({ installRole: true })));
  expect(err.code).toBe(ErrorCode.ScriptError);
  expect(err.scriptCode).toBe("RESTART_FAILED");
  expect(err.message).toContain("Restart-Computer failed: Privilege not held.");
  expect(ran).toEqual(["get", "role", "restart"]);
  expect(reconnects).toBe(0);
});

test("installRole: another script error from restart.ps1 (the shutdown stopped its pipeline) is the restart under way: the host is polled", async () => {
  runner.world.host(SH).config.sessionHostRole = false;
  restartAnswer = { document: { ok: false, error: { code: "SCRIPT_ERROR", message: "The pipeline has been stopped." } }, restarted: true };
  const result = await provider.create!(inputs({ installRole: true }));
  expect(ran).toEqual(["get", "role", "restart", "boot", "get", "set", "get"]);
  expect(reconnects).toBe(1);
  expect(result.outs).toMatchObject({ sessionHostRole: true });
});

test("installRole on a host that has the role changes nothing but the licensing; sessionHostRole is read on refresh", async () => {
  const result = await provider.create!(inputs({ installRole: true }));
  expect(ran).toEqual(["get", "set", "get"]);
  expect(reconnects).toBe(0);
  expect(result.outs).toMatchObject({ sessionHostRole: true });
  runner.world.host(SH).config.sessionHostRole = false;
  const read = await provider.read!(result.id, result.outs);
  expect(read.props).toMatchObject({ sessionHostRole: false });
});

test("installRole with scope deployment is refused at check", async () => {
  const checked = await provider.check!({}, { ...inputs({ installRole: true }), scope: "deployment" });
  expect(checked.failures).toEqual([expect.objectContaining({ property: "installRole" })]);
  expect(checked.failures![0].reason).toMatch(/^RDS_VALIDATION: installRole installs the RD Session Host role/);
});

test("a setter's WBEM_E_INVALID_OPERATION with no policy source in either read passes through as RDS_WMI_ERROR with its code", async () => {
  setAnswer = () => ({
    ok: false,
    error: {
      code: "WMI_ERROR",
      message: "ChangeMode returned 0x80041016",
      method: "ChangeMode",
      className: "Win32_TerminalServiceSetting",
      returnValue: 0x80041016,
    },
  });
  const err = await failureOf(provider.create!(inputs()));
  expect(err.code).toBe(ErrorCode.Wmi);
  expect(err.returnValue).toBe(0x80041016);
  expect(err.message).toContain("WBEM_E_INVALID_OPERATION (0x80041016)");
  expect(err.message).not.toContain("Group Policy");
});
