/**
 * runOperation() end to end.
 *
 * Real: pwsh 7 (node-powershell keeps it warm), Bootstrap.ps1, RdsCommon.psm1, the envelope files,
 * the simulator transport with the real emulator module (its init selects the host).
 * Stand-ins: the operation scripts are tiny fixtures (test/fixtures/scripts, and a gate script the
 * envelope test writes) that echo, throw, break the one-result rule, or fake a WMI failure; WmiReturnValue.ps1 defines a stand-in Invoke-CimMethod
 * in its own pwsh (its own target) to drive Invoke-RdsWmiMethod; CimException.ps1 defines a type
 * named CimException because Microsoft.Management.Infrastructure is absent on Linux.
 *
 * One warm pwsh ("runner-main") serves every test that does not need a pwsh of its own; the ones that
 * do: the WMI stand-in and the invoker (they change their pwsh for good: they share one, in order) and
 * the command-text test (it counts what a fresh pwsh is sent). No envelope left after a timeout: pool.test.ts (a real pwsh
 * killed after reading it) and pool.fast.test.ts (killed before). The pure pieces (quoting, parsing,
 * error mapping, the connection schema): units.test.ts; the runner seam: runnerSeam.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
import { closeAll, configurePool, onCommand, poolStats } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey } from "../../provider/powershell/transport";
import { echoSchema, fixture, rdsErrorOf, removeTempDirs, sim, tempDir, waitFor } from "./support";

// These tests are about a pwsh per target (what the remote transports always get): the simulator's
// shared workers are off here and tested in sharedWorkers.test.ts.
configurePool({ simulatorWorkers: 0 });

const stateDir = tempDir("rds-runner-test");
const main = sim("runner-main", stateDir);
const anything = z.unknown();

afterAll(async () => {
  await closeAll();
  removeTempDirs();
});

describe("round trip", () => {
  it("delivers the envelope to the script and returns its validated result", async () => {
    const args = { text: "plain", n: 42, flag: true, nothing: null, list: [1, "two", { three: 3 }], nested: { deep: { deeper: "x" } } };
    const out = await runOperation(main, { name: "test.echo", script: fixture("Echo"), args, result: echoSchema });
    expect(out.envelope).toEqual({ operation: "test.echo", host: "runner-main", args });
    expect(out.pid).toBeGreaterThan(0);
  });

  it("reuses one warm pwsh for every call on a target", async () => {
    const echo = (i: number) => runOperation(main, { name: "test.echo", script: fixture("Echo"), args: { i }, result: echoSchema });
    const warm = (await echo(0)).pid; // warm from the test above (run alone: started here)
    const startedBefore = poolStats().started;
    const invocationsBefore = poolStats().invocations[targetKey(main)];
    const pids = new Set<number>();
    for (let i = 1; i <= 10; i++) pids.add((await echo(i)).pid);
    expect(poolStats().started).toBe(startedBefore);
    expect([...pids]).toEqual([warm]);
    expect(poolStats().invocations[targetKey(main)]).toBe(invocationsBefore + 10);
  });

  it("returns null, arrays and scalars as results, and dates as the strings they were", async () => {
    const run = (value: unknown) =>
      runOperation(main, { name: "test.value", script: fixture("ValueResult"), args: { value }, result: anything });
    await expect(run(null)).resolves.toBeNull();
    await expect(run([1, 2, 3])).resolves.toEqual([1, 2, 3]);
    await expect(run([])).resolves.toEqual([]);
    await expect(run(["only"])).resolves.toEqual(["only"]);
    await expect(run("2024-01-01T00:00:00Z")).resolves.toBe("2024-01-01T00:00:00Z");
    await expect(run(2147749896)).resolves.toBe(2147749896);
    await expect(run({ a: { b: [true, false] } })).resolves.toEqual({ a: { b: [true, false] } });
  });

  it("keeps Write-Host, warnings, verbose, progress and console writes from corrupting the result", async () => {
    const out = await runOperation(main, {
      name: "test.noise",
      script: fixture("Noise"),
      args: { value: "clean" },
      result: z.object({ value: z.string() }),
    });
    expect(out).toEqual({ value: "clean" });
  });

  it("finds a script whose path holds quotes, curly quotes, $() and brackets", async () => {
    const dir = path.join(tempDir("rds-runner-paths"), "it's ‘curly’ $(Get-Date) [1] `tick` dir");
    fs.mkdirSync(dir);
    const script = path.join(dir, "Echo it's.ps1");
    fs.copyFileSync(fixture("Echo"), script);
    const out = await runOperation(main, { name: "test.path", script, args: { ok: 1 }, result: echoSchema });
    expect(out.envelope.args).toEqual({ ok: 1 });
  });
});

describe("the one-result rule", () => {
  it("rejects two results", async () => {
    const err = await rdsErrorOf(runOperation(main, { name: "test.two", script: fixture("TwoResults"), args: {}, result: anything }));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.scriptCode).toBe("RESULT_COUNT");
    expect(err.message).toBe("running test.two on runner-main: the script emitted 2 results; exactly one Write-RdsResult is required");
  });

  it("rejects no result", async () => {
    const err = await rdsErrorOf(runOperation(main, { name: "test.none", script: fixture("NoResult"), args: {}, result: anything }));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.scriptCode).toBe("RESULT_COUNT");
    expect(err.message).toContain("emitted 0 results");
  });

  it("rejects stray pipeline output next to the result", async () => {
    const err = await rdsErrorOf(runOperation(main, { name: "test.stray", script: fixture("StrayOutput"), args: {}, result: anything }));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.scriptCode).toBe("STRAY_OUTPUT");
    expect(err.message).toContain("System.Int32");
  });

  it("contains a `break` outside any loop (no result, and the session still works)", async () => {
    const err = await rdsErrorOf(runOperation(main, { name: "test.break", script: fixture("Break"), args: {}, result: anything }));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.scriptCode).toBe("RESULT_COUNT");
    const out = await runOperation(main, { name: "test.echo", script: fixture("Echo"), args: {}, result: echoSchema });
    expect(out.envelope.operation).toBe("test.echo");
  });

  it("names the failing field when the result does not match the schema, without its value", async () => {
    const err = await rdsErrorOf(
      runOperation(main, {
        name: "test.shape",
        script: fixture("ValueResult"),
        args: { value: { activationStatus: "S3cret-Value-77", items: [{ id: 1 }, { id: "two" }] } },
        result: z.object({ activationStatus: z.number(), items: z.array(z.object({ id: z.number() })) }),
      }),
    );
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.message).toContain("result.activationStatus");
    expect(err.message).toContain("result.items[1].id");
    expect(err.message).not.toContain("S3cret-Value-77");
    expect(err.host).toBe("runner-main");
    expect(err.operation).toBe("test.shape");
  });
});

describe("script failures", () => {
  it("turns a thrown exception into RDS_SCRIPT_ERROR with host, operation, duration and position", async () => {
    const err = await rdsErrorOf(runOperation(main, { name: "test.throw", script: fixture("Throw"), args: {}, result: anything }));
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.scriptCode).toBe("SCRIPT_EXCEPTION");
    expect(err.message).toBe("running test.throw on runner-main: the fixture threw on purpose (at Throw.ps1:4)");
    expect(err.host).toBe("runner-main");
    expect(err.operation).toBe("test.throw");
    expect(typeof err.durationMs).toBe("number");
  });

  it("stops on a non-terminating Write-Error ($ErrorActionPreference = 'Stop')", async () => {
    const err = await rdsErrorOf(
      runOperation(main, { name: "test.writeError", script: fixture("WriteError"), args: {}, result: anything }),
    );
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toContain("a non-terminating error");
    expect(err.message).toContain("(at WriteError.ps1:3)");
  });

  it.each([
    ["NOT_ACTIVATED", ErrorCode.NotActivated],
    ["RDS_GROUP_POLICY_CONFLICT", ErrorCode.GroupPolicyConflict],
    ["NOT_FOUND", ErrorCode.NotFound],
    ["CLEARINGHOUSE_UNREACHABLE", ErrorCode.ClearinghouseUnreachable],
  ])("maps New-RdsScriptError -Code %s to %s", async (code, expected) => {
    const err = await rdsErrorOf(
      runOperation(main, {
        name: "test.scriptError",
        script: fixture("ScriptError"),
        args: { code, message: "the cause" },
        result: anything,
      }),
    );
    expect(err.code).toBe(expected);
    expect(err.scriptCode).toBe(code);
    expect(err.message).toBe("running test.scriptError on runner-main: the cause");
  });

  it("keeps an unknown script code as RDS_SCRIPT_ERROR with scriptCode", async () => {
    const err = await rdsErrorOf(
      runOperation(main, {
        name: "test.scriptError",
        script: fixture("ScriptError"),
        args: { code: "SOMETHING_ELSE", message: "odd" },
        result: anything,
      }),
    );
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.scriptCode).toBe("SOMETHING_ELSE");
    expect(err.message).toContain("SOMETHING_ELSE: odd");
  });

  it("maps a WMI_ERROR script error to RDS_WMI_ERROR with the unsigned code, its name, method and class", async () => {
    const err = await rdsErrorOf(
      runOperation(main, {
        name: "licenseServer.activate",
        script: fixture("ScriptError"),
        args: { code: "WMI_ERROR", message: "m", method: "ActivateServer", className: "Win32_TSLicenseServer", returnValue: -2147217400 },
        result: anything,
      }),
    );
    expect(err.code).toBe(ErrorCode.Wmi);
    expect(err.returnValue).toBe(2147749896);
    expect(err.wmiName).toBe("WBEM_E_INVALID_PARAMETER");
    expect(err.method).toBe("ActivateServer");
    expect(err.className).toBe("Win32_TSLicenseServer");
    expect(err.message).toContain(
      "running licenseServer.activate on runner-main: Win32_TSLicenseServer.ActivateServer returned WBEM_E_INVALID_PARAMETER (0x80041008)",
    );
  });

  it.each([
    ["0x80041003", ErrorCode.AccessDenied, 0x80041003, "WBEM_E_ACCESS_DENIED"],
    ["0x80041010", ErrorCode.ClassNotReady, 0x80041010, "WBEM_E_INVALID_CLASS"],
    ["0x8004100C", ErrorCode.Wmi, 0x8004100c, "WBEM_E_NOT_SUPPORTED"],
  ])("maps a COMException with HRESULT %s to %s", async (_label, expected, hresult, name) => {
    const err = await rdsErrorOf(
      runOperation(main, { name: "test.com", script: fixture("ComException"), args: { hresult: hresult | 0 }, result: anything }),
    );
    expect(err.code).toBe(expected);
    expect(err.returnValue).toBe(hresult);
    expect(err.wmiName).toBe(name);
    expect(err.scriptCode).toBe("SCRIPT_EXCEPTION");
    expect(err.message).toContain("stand-in COM failure");
  });

  it("maps a COMException wrapped in a MethodInvocationException by its inner HRESULT", async () => {
    const err = await rdsErrorOf(
      runOperation(main, {
        name: "test.wrapped",
        script: fixture("WrappedComException"),
        args: { hresult: 0x80041010 | 0 },
        result: anything,
      }),
    );
    expect(err.code).toBe(ErrorCode.ClassNotReady);
    expect(err.returnValue).toBe(0x80041010);
  });

  it("keeps a COMException with a non-WBEM HRESULT as RDS_SCRIPT_ERROR naming the HRESULT", async () => {
    const err = await rdsErrorOf(
      runOperation(main, { name: "test.com", script: fixture("ComException"), args: { hresult: 0x80070005 | 0 }, result: anything }),
    );
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toContain("[HRESULT 0x80070005]");
    expect(err.returnValue).toBeUndefined();
  });

  it.each([
    [{ statusCode: 2 }, ErrorCode.AccessDenied, 0x80041003],
    [{ statusCode: 1, errorCode: 0x80041010 }, ErrorCode.ClassNotReady, 0x80041010],
    [{ statusCode: 4 }, ErrorCode.Wmi, 0x80041008],
  ])("maps a CimException %j to %s", async (args, expected, returnValue) => {
    const err = await rdsErrorOf(runOperation(main, { name: "test.cim", script: fixture("CimException"), args, result: anything }));
    expect(err.code).toBe(expected);
    expect(err.returnValue).toBe(returnValue);
  });
});

// The WMI stand-in replaces Invoke-CimMethod globally in its pwsh, and the invoker test routes every
// later operation of its pwsh through a serializing invoker: neither may share runner-main. They share
// one pwsh of their own, the invoker test last (it counts the invoker's calls from its own first call;
// the WMI tests must run before operations go through the invoker).
const standIns = sim("runner-standins", stateDir);

describe("Invoke-RdsWmiMethod", () => {
  const wmi = standIns;
  const run = (args: Record<string, unknown>) =>
    runOperation(wmi, {
      name: "licenseServer.activate",
      script: fixture("WmiReturnValue"),
      args,
      result: z.object({ returnValue: z.number(), called: z.string() }),
    });

  it("returns the method result when ReturnValue is 0", async () => {
    await expect(run({ returnValue: 0 })).resolves.toEqual({ returnValue: 0, called: "Win32_TSLicenseServer.ActivateServer" });
  });

  it("turns a non-zero ReturnValue into RDS_WMI_ERROR", async () => {
    const err = await rdsErrorOf(run({ returnValue: 0x80041008 }));
    expect(err.code).toBe(ErrorCode.Wmi);
    expect(err.returnValue).toBe(0x80041008);
    expect(err.wmiName).toBe("WBEM_E_INVALID_PARAMETER");
    expect(err.method).toBe("ActivateServer");
    expect(err.className).toBe("Win32_TSLicenseServer");
    expect(err.scriptCode).toBe("WMI_ERROR");
  });

  it("maps ReturnValue 0x80041003 to RDS_ACCESS_DENIED", async () => {
    const err = await rdsErrorOf(run({ returnValue: 0x80041003 }));
    expect(err.code).toBe(ErrorCode.AccessDenied);
  });

  it("turns an exception with a WBEM HRESULT into the same error, with method and class", async () => {
    const err = await rdsErrorOf(run({ throwHResult: 0x80041010 | 0 }));
    expect(err.code).toBe(ErrorCode.ClassNotReady);
    expect(err.returnValue).toBe(0x80041010);
    expect(err.method).toBe("ActivateServer");
    expect(err.className).toBe("Win32_TSLicenseServer");
    expect(err.scriptCode).toBe("WMI_ERROR");
  });

  it("lets other exceptions through unchanged", async () => {
    const err = await rdsErrorOf(run({ throwHResult: 0x80070005 | 0 }));
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toContain("stand-in WMI failure");
  });
});

describe("Set-RdsOperationInvoker (how remote transports will run scripts)", () => {
  it("runs operations through the invoker and accepts results that crossed the remoting serializer", async () => {
    const remoteStyle = standIns;
    const set = { name: "test.invoker", script: fixture("UseSerializingInvoker"), args: {}, result: z.number() };
    await expect(runOperation(remoteStyle, set)).resolves.toBe(0);
    const args = { text: 'it\'s "quoted" $(x) `n', list: [1, "two"], nested: { deep: { deeper: [true, null] } } };
    const out = await runOperation(remoteStyle, { name: "test.echo", script: fixture("Echo"), args, result: echoSchema });
    expect(out.envelope.args).toEqual(args);
    await expect(runOperation(remoteStyle, set)).resolves.toBe(2);
  });
});

describe("validation before anything runs", () => {
  it.each([
    [{ transport: "simulator", host: "" }, "connection.host"],
    [{ transport: "simulator", host: "a\nb" }, "connection.host"],
    [{ transport: "simulator", host: "x".repeat(254) }, "connection.host"],
    [{ transport: "telnet", host: "h" }, "connection.transport"],
    [{ transport: "simulator", host: "h", password: "nope" }, "connection"],
  ])("rejects the connection %j", async (connection, field) => {
    const before = poolStats().started;
    const err = await rdsErrorOf(
      runOperation(connection as never, { name: "test.echo", script: fixture("Echo"), args: {}, result: anything }),
    );
    expect(err.code).toBe(ErrorCode.Validation);
    expect(err.message).toContain(field);
    expect(err.message).not.toContain("nope");
    expect(poolStats().started).toBe(before);
  });

  it("rejects a relative script path, arguments that are not JSON, a bad timeout", async () => {
    const echo = { name: "test.echo", script: fixture("Echo"), args: {}, result: anything };
    expect((await rdsErrorOf(runOperation(main, { ...echo, script: "Echo.ps1" }))).code).toBe(ErrorCode.Validation);
    expect((await rdsErrorOf(runOperation(main, { ...echo, args: { big: BigInt(1) } }))).code).toBe(ErrorCode.Validation);
    expect((await rdsErrorOf(runOperation(main, { ...echo, timeoutMs: 0 }))).code).toBe(ErrorCode.Validation);
  });

  it("reports a missing script as RDS_SCRIPT_ERROR", async () => {
    const err = await rdsErrorOf(
      runOperation(main, { name: "test.missing", script: path.join(stateDir, "nope.ps1"), args: {}, result: anything }),
    );
    expect(err.code).toBe(ErrorCode.ScriptError);
    expect(err.message).toContain("does not exist");
  });
});

describe("nothing but paths reaches pwsh", () => {
  it("sends only fixed commands; secrets, host names and state dirs never appear in command text", async () => {
    const secret = "P@ss'w0rd\"$(Get-Secret)`n;|&>%";
    const hostName = "secret-host-Ω-'quoted'";
    const privateStateDir = path.join(tempDir("rds-runner-private"), "state dir 'with' $(quotes)");
    const commands: string[] = [];
    const stop = onCommand((command) => commands.push(command));
    try {
      const conn = sim(hostName, privateStateDir);
      const out = await runOperation(conn, {
        name: "test.secret",
        script: fixture("Echo"),
        args: { password: secret, licenseCode: "ABCDE-12345-FGHIJ-67890-KLMNO", nested: { also: secret } },
        result: echoSchema,
      });
      expect(out.envelope.args.password).toBe(secret);
      expect(out.envelope.host).toBe(hostName);
      await rdsErrorOf(runOperation(conn, { name: "test.throw", script: fixture("Throw"), args: { password: secret }, result: anything }));
    } finally {
      stop();
    }
    // A fresh pwsh got: the bootstrap, the emulator import, the init operation; then two operations.
    expect(commands.length).toBe(5);
    const quoted = "'(?:[^'\\u2018-\\u201b]|'')*'";
    const allowed = [
      new RegExp(`^\\. ${quoted}; Write-RdsSessionInfo$`),
      new RegExp(`^Import-RdsModule -Path ${quoted}$`),
      new RegExp(`^Invoke-RdsOperation -ScriptPath ${quoted} -EnvelopePath ${quoted}$`),
    ];
    for (const command of commands) {
      expect(allowed.some((pattern) => pattern.test(command))).toBe(true);
      for (const forbidden of [secret, "P@ss", "ABCDE-12345", hostName, "secret-host", privateStateDir, "state dir"]) {
        expect(command).not.toContain(forbidden);
      }
    }
  });

  it("writes each envelope to a fresh 0600 file in a 0700 directory, deleted by the bootstrap before the script runs", async () => {
    await runOperation(main, { name: "test.echo", script: fixture("Echo"), args: {}, result: echoSchema }); // warm
    const seen: string[] = [];
    const modes: number[] = [];
    const stop = onCommand((command) => {
      const match = /-EnvelopePath '((?:[^']|'')*)'$/.exec(command);
      if (match === null) return;
      const file = match[1].replace(/''/g, "'");
      seen.push(file);
      modes.push(fs.statSync(file).mode & 0o777, fs.statSync(path.dirname(file)).mode & 0o777);
    });
    // A script that says it has begun, then waits for the test to open its gate: the test looks at the
    // envelope file while the script certainly runs.
    const dir = tempDir("rds-runner-envelope");
    const script = path.join(dir, "Gate.ps1");
    fs.writeFileSync(
      script,
      [
        "param([Parameter(Mandatory)][string]$Envelope)",
        "$in = ConvertFrom-RdsEnvelope $Envelope",
        "[System.IO.File]::AppendAllText($in.args['log'], \"begin`n\")",
        "$deadline = [DateTime]::UtcNow.AddSeconds(60)",
        "while (-not [System.IO.File]::Exists($in.args['gate'])) {",
        "  if ([DateTime]::UtcNow -gt $deadline) { throw 'the gate never opened' }",
        "  Start-Sleep -Milliseconds 10",
        "}",
        "Write-RdsResult ([ordered]@{ opened = $true })",
      ].join("\n"),
    );
    const log = path.join(dir, "log.txt");
    const gate = path.join(dir, "gate");
    try {
      const running = runOperation(main, { name: "test.gate", script, args: { log, gate }, result: z.object({ opened: z.literal(true) }) });
      const settled = running.then(
        () => undefined,
        (err: unknown) => err,
      );
      // Once the script has begun, its envelope is already gone.
      await waitFor("the script to begin", () => fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("begin"), 60_000, 20);
      expect(seen.length).toBe(1);
      expect(fs.existsSync(seen[0])).toBe(false);
      fs.writeFileSync(gate, "");
      expect(await settled).toBeUndefined();
      await rdsErrorOf(runOperation(main, { name: "test.throw", script: fixture("Throw"), args: {}, result: anything }));
    } finally {
      stop();
    }
    expect(modes).toEqual([0o600, 0o700, 0o600, 0o700]);
    expect(seen.length).toBe(2);
    expect(new Set(seen).size).toBe(2);
    for (const file of seen) expect(fs.existsSync(file)).toBe(false);
  });
});
