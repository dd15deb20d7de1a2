/**
 * No file left in `$TMPDIR` by a killed pwsh. Without care, each killed pwsh (timeout, failed
 * connect, cancel) left PowerShell's Enter-PSHostProcess pipe and the .NET runtime's diagnostics
 * socket and debugger FIFOs there. The pool starts pwsh with .NET diagnostics off and, after a pwsh
 * exits, removes the pipe files named after its own pids. Shown here: the runtime's files are never
 * made, a really SIGKILLed pwsh leaves its pipe and the sweep removes exactly that, and 20 operation
 * timeouts through the runner leave the temp folder as it was.
 *
 * Real: pwsh processes (node-powershell, the dotnet-tool launcher and the real pwsh behind it),
 * Bootstrap.ps1, the simulator transport with the real emulator module, SIGKILL, the temp folder.
 * Stand-ins: the operation script is Sleep.ps1, which sleeps past a short operation timeout. The
 * pwsh processes this file starts get a temp folder of their own (`TMPDIR`), so files of pwsh
 * processes other test files start at the same time do not count.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
import { closeAll, configurePool, poolStats } from "../../provider/powershell/pool";
import { childPids, removeDotnetLeftovers } from "../../provider/powershell/pool/processes";
import { runOperation } from "../../provider/powershell/runner";
import { findPwsh } from "../../provider/powershell/executable";
import { fixture, rdsErrorOf, removeTempDirs, sim, tempDir, waitFor } from "./support";

jest.setTimeout(300_000);

// A pwsh per target (the simulator's shared workers are tested in sharedWorkers.test.ts).
configurePool({ simulatorWorkers: 0 });

const stateDir = tempDir("rds-leftovers-state");
/** The temp folder of every pwsh this file starts (the pool passes its environment on to pwsh). */
const pwshTmp = tempDir("rds-leftovers-tmp");
const savedTmpdir = process.env.TMPDIR;
process.env.TMPDIR = pwshTmp;

afterAll(async () => {
  await closeAll();
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  removeTempDirs();
});

/** Every entry under a folder, sub-folders included, with its kind: what "the folder as it was" means. */
function listing(dir: string): string[] {
  const entries: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const kind = entry.isDirectory() ? "dir" : entry.isSocket() ? "socket" : entry.isFIFO() ? "fifo" : "file";
    entries.push(`${path.relative(dir, path.join(entry.parentPath, entry.name))} (${kind})`);
  }
  return entries.sort();
}

const DIAGNOSTICS = /^(?:dotnet-diagnostic-|clr-debug-pipe-)/;
const HOST_PIPE = /^CoreFxPipe_PSHost\./;

describe("a killed pwsh leaves nothing in $TMPDIR", () => {
  it("runs pwsh with .NET diagnostics off: a warm pwsh makes no diagnostics socket or debugger FIFO", async () => {
    const out = await runOperation(sim("leftovers-warm", stateDir), {
      name: "test.sleep",
      script: fixture("Sleep"),
      args: { ms: 1 },
      result: z.object({ pid: z.number() }),
    });
    const names = fs.readdirSync(pwshTmp);
    // What the warm pwsh has made: PowerShell's host pipe, named after its pid, and no runtime file.
    expect(names.filter((name) => HOST_PIPE.test(name) && name.includes(`.${out.pid}.`))).toHaveLength(1);
    expect(names.filter((name) => DIAGNOSTICS.test(name))).toEqual([]);
    await closeAll();
    // A pwsh that exits normally removes its own pipe.
    expect(listing(pwshTmp)).toEqual([]);
  });

  it("removes the pipe a SIGKILLed pwsh left, and only the files of the pids it is given that are gone", async () => {
    const lookup = findPwsh();
    if (!lookup.found) throw new Error(lookup.reason);
    const own = tempDir("rds-leftovers-kill");
    const env = { ...process.env, TMPDIR: own, DOTNET_EnableDiagnostics: "0" };
    const launcher = spawn(lookup.path, ["-NoProfile", "-NonInteractive", "-Command", "Start-Sleep 60"], { env, stdio: "ignore" });
    const launcherPid = launcher.pid as number;
    const exited = new Promise<void>((resolve) => launcher.once("exit", () => resolve()));
    await waitFor("the pwsh to make its host pipe", () => fs.readdirSync(own).some((name) => HOST_PIPE.test(name)), 60_000);
    const pids = [launcherPid, ...childPids(launcherPid)];
    // Files that are not the pwsh's: a decoy of a pid that is not ours, a regular file with a pipe's name.
    const decoys = ["CoreFxPipe_PSHost.DEADBEEF.1.None.pwsh", `CoreFxPipe_PSHost.DEADBEEF.${launcherPid}.None.notes-txt`];
    for (const name of decoys) fs.writeFileSync(path.join(own, name), "");

    // While it runs, nothing of it is removed.
    expect(removeDotnetLeftovers(own, pids).sort()).toEqual([...pids].sort());
    expect(fs.readdirSync(own).filter((name) => HOST_PIPE.test(name))).toHaveLength(3);

    for (const pid of [...pids].reverse()) process.kill(pid, "SIGKILL");
    await exited;
    await waitFor("the real pwsh to be gone", () => removeDotnetLeftovers(own, pids).length === 0, 10_000);
    // SIGKILL left the pipe (the sweep found it), and the sweep removed that and nothing else.
    expect(fs.readdirSync(own).sort()).toEqual([...decoys].sort());
  });

  it("leaves the temp folder as it was after 20 operation timeouts", async () => {
    await closeAll();
    const before = listing(pwshTmp);
    const timeoutsBefore = poolStats().timeouts;
    const startedBefore = poolStats().started;
    for (let i = 0; i < 20; i++) {
      const err = await rdsErrorOf(
        runOperation(sim("leftovers-timeout", stateDir), {
          name: "test.slow",
          script: fixture("Sleep"),
          args: { ms: 60_000 },
          result: z.unknown(),
          timeoutMs: 300,
        }),
      );
      expect(err.code).toBe(ErrorCode.Timeout);
    }
    expect(poolStats().timeouts - timeoutsBefore).toBe(20);
    expect(poolStats().started - startedBefore).toBe(20);
    await closeAll();
    expect(listing(pwshTmp)).toEqual(before);
  });
});
