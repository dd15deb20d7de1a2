/**
 * The ssh transport against a real sshd: one warm session per target, reconnect after the server side
 * of the session is killed, typed connect errors with bounded, logged retries, and no secret anywhere
 * a secret must not be.
 *
 * Real: Debian's sshd started here on a free 127.0.0.1 port with its own host key (sshLab.ts), the
 * `rdstest` account, PowerShell SSH remoting from the runner's warm pwsh, pwsh 7 as the `powershell`
 * subsystem on the far side, the runner and its pool, the fixture scripts (test/fixtures/scripts),
 * shipped to the far side by the transport.
 * Stands in: Windows, by the WMI emulator on the far side (lab option `emulator: { stateDir }`).
 *
 * Cost: a pwsh start and an ssh login are most of this file's time, so the good sessions are two
 * shared targets (one per login method) that every test needing a working session reuses, counting
 * from where the test starts; the connect failures (each ends its pwsh, so each needs one) start
 * together, while the closed port's case sits in its backoff.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { ErrorCode, type RdsError } from "../../provider/errors";
import { onConnectLog, type ConnectLogEvent } from "../../provider/powershell/connectLog";
import { closeAll, onCommand, poolStats } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey, type SshConnection } from "../../provider/powershell/transport";
import { echoSchema, fixture, rdsErrorOf, sleepSchema, tempDir, removeTempDirs, waitFor } from "../powershell/support";
import { childPidsOf, isAlive, SshLab } from "./sshLab";

// This file's own temp folder, the TMPDIR of the pwsh processes it starts: "no file left behind" then
// counts only what this file's ssh clients made, whatever other test files run meanwhile.
// It stays reachable (0755) for the lab account, which reads the lab's files and writes the emulator's.
const ownTmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-ssh-test-tmp-"));
fs.chmodSync(ownTmp, 0o755);
const tmpBefore = process.env.TMPDIR;
process.env.TMPDIR = ownTmp;

const lab = new SshLab();
const commands: string[] = [];
const logs: ConnectLogEvent[] = [];
let stopCommands: () => void;
let stopLogs: () => void;

beforeAll(async () => {
  stopCommands = onCommand((command) => commands.push(command));
  stopLogs = onConnectLog((event) => logs.push(event));
  await lab.start();
}, 60_000);

afterAll(async () => {
  stopCommands();
  stopLogs();
  await closeAll();
  await lab.stop();
  removeTempDirs();
  if (tmpBefore === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = tmpBefore;
  fs.rmSync(ownTmp, { recursive: true, force: true });
});

const anything = z.unknown();
const echo = (c: SshConnection, args: Record<string, unknown> = {}) =>
  runOperation(c, { name: "test.echo", script: fixture("Echo"), args, result: echoSchema });

/** The error of a script that throws New-RdsScriptError NOT_ACTIVATED, as it reaches the caller. */
const notActivatedError = (c: SshConnection) =>
  rdsErrorOf(
    runOperation(c, {
      name: "t",
      script: fixture("ScriptError"),
      args: { code: "NOT_ACTIVATED", message: "activate first" },
      result: anything,
    }),
  );

/** A fresh lab target (its own emulator state directory, so its own pool key and session). */
function target(auth: "key" | "password", extra: Partial<SshConnection> = {}): SshConnection {
  const stateDir = tempDir("rds-ssh-test");
  return lab.connection("ls01.contoso.com", stateDir, auth, extra);
}

function logsFor(c: SshConnection): ConnectLogEvent[] {
  const key = targetKey(c);
  return logs.filter((e) => e.key === key);
}

/** The two working sessions of this file: key login and password login. */
const keyTarget = target("key");
const passwordTarget = target("password");

/** Starts an operation that must fail to connect; the test awaits its error later. */
function failingConnect(c: SshConnection): Promise<RdsError> {
  const error = rdsErrorOf(echo(c));
  error.catch(() => undefined); // awaited by its test; not an unhandled rejection meanwhile
  return error;
}

/** The refused login with the wrong password (connect errors, below), searched for secrets at the end. */
let wrongPasswordError: RdsError | undefined;

function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

describe("connect errors are typed, retried only when transient, and logged per attempt", () => {
  interface Case {
    c: SshConnection;
    error: Promise<RdsError>;
  }
  let strangerKey: Case;
  let wrongPassword: Case;
  let otherHostKey: Case;
  let unknownHostKey: Case & { knownHosts: string };
  let closedPort: Case & { port: number };
  let unresolvable: Case;
  let noSubsystem: Case;
  let noShell: Case;
  let passwordWarmup: Promise<unknown>;
  const start = (c: SshConnection): Case => ({ c, error: failingConnect(c) });

  beforeAll(async () => {
    const port = await freePort();
    closedPort = { ...start(target("key", { port, connectAttempts: 3 })), port };
    strangerKey = start(target("key", { privateKey: lab.strangerKey }));
    // The real password with a suffix: a leak of the wrong one would show the real one too (see "secrets").
    wrongPassword = start(target("password", { password: `${lab.password}-wrong` }));
    otherHostKey = start(target("key", { hostKey: lab.otherHostKey }));
    const knownHosts = path.join(tempDir("rds-ssh-known"), "known_hosts");
    fs.writeFileSync(knownHosts, "");
    unknownHostKey = { ...start(target("key", { hostKey: undefined, knownHostsFile: knownHosts })), knownHosts };
    unresolvable = start(target("key", { address: "no-such-host.invalid" }));
    noSubsystem = start(target("key", { subsystem: "no-such-subsystem" }));
    noShell = start(target("key", { shell: "/opt/no-such-dir/pwsh" }));
    // The password session's first login too (its test counts connects of its own target only).
    passwordWarmup = echo(passwordTarget, { step: "warm-up" });
    passwordWarmup.catch(() => undefined); // awaited in afterAll
  });

  // The key session's test counts every pwsh start and login from its own start: nothing may still be connecting.
  afterAll(async () => {
    const cases = [strangerKey, wrongPassword, otherHostKey, unknownHostKey, closedPort, unresolvable, noSubsystem, noShell];
    await Promise.allSettled([...cases.map((x) => x.error), passwordWarmup]);
  });

  test("a key the account does not accept: RDS_AUTH_REFUSED, one attempt", async () => {
    const err = await strangerKey.error;
    expect(err.code).toBe(ErrorCode.AuthRefused);
    expect(err.message).toContain("connecting to ls01.contoso.com over ssh rdstest@127.0.0.1:");
    expect(err.message).toContain("the target refused the login of rdstest");
    expect(err.message).toContain("Permission denied");
    expect(logsFor(strangerKey.c).map((e) => e.event)).toEqual(["attempt", "failed"]);
    expect(logsFor(strangerKey.c)[1].message).toContain("(RDS_AUTH_REFUSED, not retried)");
  });

  test("a wrong password: RDS_AUTH_REFUSED", async () => {
    const err = await wrongPassword.error;
    wrongPasswordError = err;
    expect(err.code).toBe(ErrorCode.AuthRefused);
    expect(err.message).not.toContain(`${lab.password}-wrong`);
    expect(poolStats().connectFailures[targetKey(wrongPassword.c)]).toBe(1);
  });

  test("a host key other than the pinned one: RDS_HOST_KEY_CHANGED", async () => {
    const err = await otherHostKey.error;
    expect(err.code).toBe(ErrorCode.HostKeyChanged);
    expect(err.message).toContain("is not the one known for it");
  });

  test("a host key that is not known at all (empty known_hosts, nothing pinned): RDS_HOST_KEY_UNKNOWN", async () => {
    const err = await unknownHostKey.error;
    expect(err.code).toBe(ErrorCode.HostKeyUnknown);
    expect(err.message).toContain("pin it with hostKey");
    // Strict checking: nothing was added to the file.
    expect(fs.readFileSync(unknownHostKey.knownHosts, "utf8")).toBe("");
  });

  test("a port nothing listens on: RDS_PORT_CLOSED after the configured attempts, each logged, with backoff", async () => {
    const err = await closedPort.error;
    const closed = closedPort.port;
    expect(err.code).toBe(ErrorCode.PortClosed);
    expect(err.message).toContain(`nothing accepts connections on 127.0.0.1:${closed}`);
    const events = logsFor(closedPort.c);
    expect(events.map((e) => e.event)).toEqual(["attempt", "retry", "attempt", "retry", "attempt", "failed"]);
    expect(events.filter((e) => e.event === "retry").map((e) => e.delayMs)).toEqual([1000, 2000]);
    expect(events[1].message).toBe(
      `connecting to ls01.contoso.com over ssh rdstest@127.0.0.1:${closed} (key) failed on attempt 1 of 3 (RDS_PORT_CLOSED); retrying in 1 s`,
    );
    expect(events[5].message).toContain("(RDS_PORT_CLOSED, no attempts left)");
  });

  test("a name that does not resolve: RDS_NAME_NOT_RESOLVED, not retried", async () => {
    const err = await unresolvable.error;
    expect(err.code).toBe(ErrorCode.NameNotResolved);
    expect(err.message).toContain("the name no-such-host.invalid does not resolve");
    expect(logsFor(unresolvable.c).map((e) => e.event)).toEqual(["attempt", "failed"]);
  });

  test("sshd without the PowerShell subsystem: RDS_REMOTING_NOT_ENABLED", async () => {
    const err = await noSubsystem.error;
    expect(err.code).toBe(ErrorCode.RemotingNotEnabled);
    expect(err.message).toContain('has no "no-such-subsystem" subsystem');
  });

  test("the exec channel's shell missing on the target: RDS_REMOTING_NOT_ENABLED naming it, not retried", async () => {
    const err = await noShell.error;
    expect(err.code).toBe(ErrorCode.RemotingNotEnabled);
    expect(err.message).toContain('cannot start "/opt/no-such-dir/pwsh": install PowerShell 7 on the target');
    expect(logsFor(noShell.c).map((e) => e.event)).toEqual(["attempt", "failed"]);
  });
});

describe("one warm session per target", () => {
  test("20 operations over one ssh target open one session (pool stats, the far side's pid, sshd's log)", async () => {
    const c = keyTarget;
    const key = targetKey(c);
    const startedBefore = poolStats().started;
    const loginsBefore = lab.acceptedLogins().length;
    const pids = new Set<number>();
    const t0 = Date.now();
    const first = await echo(c, { i: 0 });
    const firstMs = Date.now() - t0;
    pids.add(first.pid);
    const t1 = Date.now();
    for (let i = 1; i < 20; i++) {
      const out = await echo(c, { i, text: `it's "quoted" $(x) \`n ${i}` });
      expect(out.envelope.args.i).toBe(i);
      expect(out.envelope.host).toBe("ls01.contoso.com");
      pids.add(out.pid);
    }
    const warmMs = (Date.now() - t1) / 19;
    // One far-side pwsh served all 20 (the pid Echo.ps1 reports is the remote process's).
    expect(pids.size).toBe(1);
    expect([...pids][0]).not.toBe(process.pid);
    expect(poolStats().connects[key]).toBe(1);
    expect(poolStats().invocations[key]).toBe(20);
    expect(poolStats().started - startedBefore).toBe(1);
    expect(lab.acceptedLogins().length - loginsBefore).toBe(1);
    expect(lab.acceptedLogins().at(-1)).toContain("Accepted publickey for rdstest");
    // The measure, for the report: printed, not asserted (the machine is shared).
    process.stdout.write(
      `ssh: first operation ${firstMs} ms (pwsh start + connect + shipping), then ${warmMs.toFixed(1)} ms per operation\n`,
    );
  });

  test("when the sshd process serving the session is killed between operations, the next operation reconnects and succeeds", async () => {
    const c = passwordTarget;
    const key = targetKey(c);
    const before = await echo(c, { step: "before" });
    const serving = lab.sshdServing(before.pid);
    expect(serving).toHaveLength(2); // sshd: rdstest@notty, sshd: rdstest [priv]
    for (const pid of serving) killIfRunning(pid); // killing one may end the other first
    await waitFor("the killed sshd processes and the far-side pwsh to be gone", () => ![...serving, before.pid].some(isAlive), 15_000);

    const after = await echo(c, { step: "after" });
    expect(after.envelope.args).toEqual({ step: "after" });
    expect(after.pid).not.toBe(before.pid);
    expect(poolStats().connects[key]).toBe(2);
    const phases = logsFor(c)
      .filter((e) => e.event === "connected")
      .map((e) => e.phase);
    expect(phases).toEqual(["connect", "reconnect"]);
    // Still one warm pwsh on our side: the session was reopened in it.
    expect(poolStats().sessions.filter((s) => s.key === key)).toHaveLength(1);
    const more = await echo(c, { step: "more" });
    expect(more.pid).toBe(after.pid);
  });

  test("a reconnect uses the settings of the connection that asked: another resource's name for the same endpoint and trust shares the session and reconnects as itself", async () => {
    const c = passwordTarget;
    const asker: SshConnection = { ...c, host: "ls01-alias.contoso.com" };
    expect(targetKey(asker)).toBe(targetKey(c)); // the name is not part of the key: one session
    const before = await echo(c, { step: "before" });
    const serving = lab.sshdServing(before.pid);
    for (const pid of serving) killIfRunning(pid);
    await waitFor("the killed sshd processes and the far-side pwsh to be gone", () => ![...serving, before.pid].some(isAlive), 15_000);
    const reconnectsBefore = logsFor(c).filter((e) => e.event === "connected" && e.phase === "reconnect").length;

    const after = await echo(asker, { step: "after" });
    expect(after.envelope.host).toBe("ls01-alias.contoso.com");
    const reconnects = logsFor(c).filter((e) => e.event === "connected" && e.phase === "reconnect");
    expect(reconnects).toHaveLength(reconnectsBefore + 1);
    expect(reconnects.at(-1)!.host).toBe("ls01-alias.contoso.com");
  });

  test("when the connection drops while an operation runs, it fails with RDS_CONNECTION_LOST (it may have run) and the next one reconnects", async () => {
    const c = keyTarget;
    const key = targetKey(c);
    const warm = await echo(c);
    const connectsBefore = poolStats().connects[key];
    const serving = lab.sshdServing(warm.pid);
    expect(serving).toHaveLength(2);
    // Kill once the script has begun on the far side (it writes "begin 1" to a file of this target's
    // state directory, which the lab account owns, before it sleeps).
    const begun = path.join(c.emulator!.stateDir, "sleep.log");
    const running = rdsErrorOf(
      runOperation(c, { name: "test.sleep", script: fixture("Sleep"), args: { ms: 4000, id: 1, file: begun }, result: sleepSchema }),
    );
    await waitFor(
      "the operation to start on the far side",
      () => fs.existsSync(begun) && fs.readFileSync(begun, "utf8").includes("begin 1"),
      20_000,
      20,
    );
    for (const pid of serving) killIfRunning(pid); // killing one may end the other first
    const err = await running;
    expect(err.code).toBe(ErrorCode.ConnectionLost);
    expect(err.message).toContain(
      "running test.sleep on ls01.contoso.com: the connection to the target dropped while the operation was running",
    );
    expect(poolStats().connects[key]).toBe(connectsBefore + 1);
    const next = await echo(c, { step: "next" });
    expect(next.pid).not.toBe(warm.pid);
  });
});

describe("the subsystem channel (PowerShell remoting over ssh from a local pwsh)", () => {
  test('channel: "subsystem" runs operations in one session of the powershell subsystem, results and typed errors intact', async () => {
    const c = target("key", { channel: "subsystem" });
    const key = targetKey(c);
    const first = await echo(c, { i: 1 });
    const second = await echo(c, { i: 2, text: `it's "quoted" $(x)` });
    expect(second.envelope.args).toEqual({ i: 2, text: `it's "quoted" $(x)` });
    expect(second.pid).toBe(first.pid); // one far-side pwsh
    expect(poolStats().connects[key]).toBe(1);
    // A local pwsh holds the PSSession: the pool's session has a local pwsh of its own.
    expect(poolStats().sessions.find((s) => s.key === key)?.pwshPid).toBeDefined();
    const typed = await notActivatedError(c);
    expect(typed.code).toBe(ErrorCode.NotActivated);
    expect(commands).toContain(`Import-RdsModule -Path '${path.resolve("provider/powershell/transports/RdsRemoting.psm1")}'`);
  });
});

describe("results and errors cross the session intact", () => {
  const c = keyTarget;

  test("New-RdsScriptError keeps its code, method, class and return value", async () => {
    const wmi = await rdsErrorOf(
      runOperation(c, {
        name: "licenseServer.activate",
        script: fixture("ScriptError"),
        args: { code: "WMI_ERROR", message: "m", method: "ActivateServer", className: "Win32_TSLicenseServer", returnValue: -2147217400 },
        result: anything,
      }),
    );
    expect(wmi.code).toBe(ErrorCode.Wmi);
    expect(wmi.returnValue).toBe(2147749896);
    expect(wmi.wmiName).toBe("WBEM_E_INVALID_PARAMETER");
    expect(wmi.method).toBe("ActivateServer");
    expect(wmi.className).toBe("Win32_TSLicenseServer");
    expect(wmi.message).toContain(
      "running licenseServer.activate on ls01.contoso.com: Win32_TSLicenseServer.ActivateServer returned WBEM_E_INVALID_PARAMETER (0x80041008)",
    );
    expect(wmi.message).toContain("(at ScriptError.ps1:9)");

    const typed = await notActivatedError(c);
    expect(typed.code).toBe(ErrorCode.NotActivated);
    expect(typed.scriptCode).toBe("NOT_ACTIVATED");
    expect(typed.message).toBe("running t on ls01.contoso.com: activate first");
  });

  test("other exceptions, stray output and missing results are reported as on a local pwsh", async () => {
    const thrown = await rdsErrorOf(runOperation(c, { name: "t", script: fixture("Throw"), args: {}, result: anything }));
    expect(thrown.code).toBe(ErrorCode.ScriptError);
    expect(thrown.message).toMatch(/\(at Throw\.ps1:\d+\)$/);
    const stray = await rdsErrorOf(runOperation(c, { name: "t", script: fixture("StrayOutput"), args: {}, result: anything }));
    expect(stray.code).toBe(ErrorCode.InvalidResult);
    expect(stray.message).toContain("left 1 object(s) on the pipeline besides its result (System.Int32)");
    const none = await rdsErrorOf(runOperation(c, { name: "t", script: fixture("NoResult"), args: {}, result: anything }));
    expect(none.code).toBe(ErrorCode.InvalidResult);
    expect(none.message).toContain("emitted 0 results");
  });

  test("a script that dot-sources companions from $PSScriptRoot finds them on the far side", async () => {
    const dir = tempDir("rds-ssh-companions");
    fs.writeFileSync(path.join(dir, "Helper.Common.ps1"), "function Get-Answer { 'from the companion: ' + $PSScriptRoot }\n");
    fs.writeFileSync(
      path.join(dir, "UsesCompanion.ps1"),
      "param([Parameter(Mandatory)][string]$Envelope)\n$in = ConvertFrom-RdsEnvelope $Envelope\n. (Join-Path $PSScriptRoot 'Helper.Common.ps1')\nWrite-RdsResult (Get-Answer)\n",
    );
    const out = await runOperation(c, { name: "t", script: path.join(dir, "UsesCompanion.ps1"), args: {}, result: z.string() });
    // The far side runs its own copy, in the per-user scripts folder named by the content hash.
    expect(out).toMatch(/^from the companion: \/home\/rdstest\/\.local\/share\/pulumi-rds-licensing\/scripts\/[0-9a-f]{24}$/);
    // A changed file is shipped again (a new folder), not served stale.
    fs.writeFileSync(path.join(dir, "Helper.Common.ps1"), "function Get-Answer { 'changed' }\n");
    await expect(runOperation(c, { name: "t", script: path.join(dir, "UsesCompanion.ps1"), args: {}, result: z.string() })).resolves.toBe(
      "changed",
    );
  });
});

describe("secrets", () => {
  test("the password and the private key never reach a command, a log line, an error, ssh's command line or a file left behind", async () => {
    const secrets = [lab.password, ...lab.clientKey.split("\n").filter((line) => line.length > 40)];
    // Both working sessions are warm (a password login and a key login), with their ssh clients running.
    await echo(passwordTarget);
    await echo(keyTarget);
    // The refused login of the connect errors above (made here when they were filtered out).
    const wrong = wrongPasswordError ?? (await rdsErrorOf(echo(target("password", { password: `${lab.password}-wrong` }))));
    expect(wrong.code).toBe(ErrorCode.AuthRefused);

    // The ssh clients: options on the command line, no secret. On the exec channel (these sessions)
    // the session's own process is the client's watchdog; a subsystem session's pwsh starts the
    // watchdog as a child. Either way the client is the watchdog's child.
    const sshCommandLines: string[] = [];
    for (const session of poolStats().sessions) {
      const root = session.pwshPid ?? session.pid;
      const children = root === undefined ? [] : childPidsOf(root);
      for (const pid of [...children, ...children.flatMap(childPidsOf)]) {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        if (path.basename(argv[0]) === "ssh") sshCommandLines.push(argv.join(" "));
      }
    }
    expect(sshCommandLines.length).toBeGreaterThanOrEqual(2);
    for (const line of sshCommandLines) expect(line).toContain("StrictHostKeyChecking=yes");

    const everything = [
      ...commands,
      ...logs.map((e) => JSON.stringify(e)),
      wrong.message,
      String(wrong.stderr ?? ""),
      ...sshCommandLines,
    ].join("\n");
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(everything).not.toContain(`${lab.password}-wrong`);
    // Only fixed command forms reached a pwsh: the exec channel's name hex hashes, run ids and our
    // script file names; the envelope and the files travel as data lines, never logged as commands.
    const hash = "'[0-9a-f]{24}'";
    const runId = "'[0-9a-f]{32}'";
    const execForms = [
      "\\. \\(\\[scriptblock\\]::Create\\(\\[System\\.Text\\.Encoding\\]::UTF8\\.GetString\\(\\[Convert\\]::FromBase64String\\(\\[Console\\]::In\\.ReadLine\\(\\)\\)\\)\\)\\); Initialize-RdsExecSide",
      "Find-RdsExecMissingBundle",
      `Install-RdsExecBundle -Hash ${hash}`,
      `Import-RdsExecSide -BootstrapHash ${hash}( -EmulatorHash ${hash})?`,
      `Invoke-RdsExecOperation -Hash ${hash} -Leaf '[A-Za-z.]+\\.ps1' -RunId ${runId} -AnsweredRunId '([0-9a-f]{32})?'`,
      `Test-RdsExecRunStarted -RunId ${runId}`,
    ];
    // The one subsystem-channel connection of this file (the missing subsystem) runs a local pwsh.
    const subsystemForms = [
      "\\. '[^']+Bootstrap\\.ps1'; Write-RdsSessionInfo",
      "Import-RdsModule -Path '[^']+'",
      "Invoke-RdsOperation -ScriptPath '[^']+' -EnvelopePath '[^']+'",
    ];
    execForms.push(...subsystemForms);
    const fixedForm = new RegExp(`^(${execForms.join("|")})$`);
    expect(commands.some((command) => command.startsWith("Invoke-RdsExecOperation "))).toBe(true);
    for (const command of commands) expect(command).toMatch(fixedForm);
    // The key copy, the pinned known_hosts and the askpass helper lived only while ssh started, in
    // this file's temp folder (the pinned known_hosts on the ssh command line says where).
    expect(sshCommandLines.some((line) => line.includes(`UserKnownHostsFile=${path.join(ownTmp, "rds-remote-")}`))).toBe(true);
    const leftovers = fs.readdirSync(ownTmp).filter((name) => name.startsWith("rds-remote-"));
    expect(leftovers).toEqual([]);
  });
});

/** SIGKILL `pid`, unless it has already exited (ESRCH); any other failure is thrown. */
function killIfRunning(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}
