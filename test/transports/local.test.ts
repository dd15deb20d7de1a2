/**
 * The local transport: scripts run in a warm local shell, on the machine that runs Pulumi.
 *
 * Real: pwsh 7, the runner and its pool, the fixture scripts, and (lab option `emulator`) the WMI
 * emulator; without it, the real cmdlets of this Linux machine, which has no CIM. Stands in: Windows
 * only where the lab option is set.
 */
import { ErrorCode } from "../../provider/errors";
import { providerFile } from "../../provider/paths";
import { closeAll, poolStats } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey, type LocalConnection } from "../../provider/powershell/transport";
import { getResultSchema } from "../../provider/resources/licenseServer/schema";
import { echoSchema, fixture, rdsErrorOf, removeTempDirs, tempDir } from "../powershell/support";

afterAll(async () => {
  await closeAll();
  removeTempDirs();
});

test("runs operations in one warm local pwsh, the host name reaching scripts in the envelope", async () => {
  const c: LocalConnection = { transport: "local", host: "this-box.contoso.com" };
  const before = poolStats().started;
  const pids = new Set<number>();
  for (let i = 0; i < 5; i++) {
    const out = await runOperation(c, { name: "test.echo", script: fixture("Echo"), args: { i }, result: echoSchema });
    expect(out.envelope).toEqual({ operation: "test.echo", host: "this-box.contoso.com", args: { i } });
    pids.add(out.pid);
  }
  expect(pids.size).toBe(1);
  expect(poolStats().started - before).toBe(1);
  expect(poolStats().invocations[targetKey(c)]).toBe(5);
  expect(poolStats().connects[targetKey(c)]).toBeUndefined(); // nothing to connect to
});

test("without the emulator the real cmdlets run: on Linux there is no CIM, a typed script error", async () => {
  const c: LocalConnection = { transport: "local", host: "this-box.contoso.com" };
  const err = await rdsErrorOf(
    runOperation(c, {
      name: "licenseServer.get",
      script: providerFile("resources/licenseServer/get.ps1"),
      args: {},
      result: getResultSchema,
    }),
  );
  expect(err.code).toBe(ErrorCode.ScriptError);
  expect(err.message).toMatch(/^running licenseServer\.get on this-box\.contoso\.com: /);
  expect(err.message).toMatch(/Get-CimInstance|Get-WindowsFeature|Get-Service|not recognized/);
});

test("with the lab emulator, a resource script runs against the emulated host", async () => {
  const c: LocalConnection = { transport: "local", host: "ls-local.contoso.com", emulator: { stateDir: tempDir("rds-local-lab") } };
  const state = await runOperation(c, {
    name: "licenseServer.get",
    script: providerFile("resources/licenseServer/get.ps1"),
    args: {},
    result: getResultSchema,
  });
  expect(state).toMatchObject({ roleInstalled: false });
});

test('shell "powershell" (Windows PowerShell 5.1) is refused off Windows before anything starts', async () => {
  const before = poolStats().started;
  const err = await rdsErrorOf(
    runOperation(
      { transport: "local", host: "ls01", shell: "powershell" },
      { name: "test.echo", script: fixture("Echo"), args: {}, result: echoSchema },
    ),
  );
  expect(err.code).toBe(ErrorCode.TransportUnavailable);
  expect(err.message).toBe(
    'starting a shell for ls01: Windows PowerShell (powershell.exe) exists only on Windows: use shell "pwsh" (PowerShell 7) on this machine',
  );
  expect(poolStats().started).toBe(before);
});
