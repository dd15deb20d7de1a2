/**
 * pwsh's startup profile (provider/powershell/pool/startupProfile.ts, startupCrash.ts): the pwsh the
 * provider starts use a cache folder of the provider's in which no startup profile can be written, so
 * pwsh processes exiting together cannot corrupt one (PowerShell/PowerShell#26528); and a pwsh that
 * crashes at start gets an error that names the known cause and its fix.
 *
 * Real: pwsh through the pool and the simulator transport (its environment, the cache folder it
 * reports, what it leaves there), Bootstrap.ps1, Echo.ps1; a process that really dies of SIGSEGV at
 * start, and the pool's start step and error. Stand-ins: the home folder (HOME points at a temp
 * folder, so this file never touches the machine's own pwsh cache); the crashing "pwsh" is a shell
 * script that kills itself with SIGSEGV, as a pwsh with a corrupt profile dies (the corruption itself
 * comes from a race in the .NET runtime this file does not reproduce).
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
import { closeAll, configurePool } from "../../provider/powershell/pool";
import { STARTUP_PROFILE_MODES, pwshCacheHome, startupProfilePath } from "../../provider/powershell/pool/startupProfile";
import { runOperation } from "../../provider/powershell/runner";
import { fixture, rdsErrorOf, removeTempDirs, sim, tempDir } from "./support";

jest.setTimeout(120_000);

configurePool({ simulatorWorkers: 0 });

const home = tempDir("rds-startup-profile-home");
const stateDir = tempDir("rds-startup-profile-state");
const saved = { HOME: process.env.HOME, RDS_PWSH: process.env.RDS_PWSH };
process.env.HOME = home;

afterAll(async () => {
  await closeAll();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  removeTempDirs();
});

const cacheHome = path.join(home, ".pulumi-rds-licensing", "pwsh-cache");
const powershellCache = path.join(cacheHome, "powershell");

describe("the provider's pwsh cache folder", () => {
  it("is made with every startup profile path a read-only folder; a file found there (a corrupt profile) is replaced", () => {
    const other = tempDir("rds-startup-profile-other");
    const dir = path.join(other, ".pulumi-rds-licensing", "pwsh-cache", "powershell");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(startupProfilePath(dir, "NonInteractive"), "not a profile");
    expect(pwshCacheHome(other)).toBe(path.dirname(dir));
    expect(pwshCacheHome(other)).toBe(path.dirname(dir)); // again: nothing to change
    for (const mode of STARTUP_PROFILE_MODES) {
      const stat = fs.lstatSync(startupProfilePath(dir, mode));
      expect([mode, stat.isDirectory(), stat.mode & 0o777]).toEqual([mode, true, 0o555]);
    }
    expect(fs.readdirSync(startupProfilePath(dir, "NonInteractive"))).toEqual([]);
  });

  it("is what a real pwsh of the pool uses, and that pwsh writes no startup profile there", async () => {
    // The cache folder pwsh itself reports (PowerShell's documented XDG cache type), then its exit.
    const probe = path.join(tempDir("rds-startup-profile-probe"), "Probe.ps1");
    fs.writeFileSync(
      probe,
      "param([string]$Envelope)\n" +
        "Write-RdsResult ([ordered]@{ xdg = $env:XDG_CACHE_HOME; cache = [System.Management.Automation.Platform]::SelectProductNameForDirectory('CACHE') })\n",
    );
    const reported = await runOperation(sim("profile-host", stateDir), {
      name: "test.probe",
      script: probe,
      args: {},
      result: z.object({ xdg: z.string(), cache: z.string() }),
    });
    expect(reported).toEqual({ xdg: cacheHome, cache: powershellCache });
    await closeAll();
    for (const mode of STARTUP_PROFILE_MODES) {
      expect(fs.lstatSync(startupProfilePath(powershellCache, mode)).isDirectory()).toBe(true);
      expect(fs.readdirSync(startupProfilePath(powershellCache, mode))).toEqual([]);
    }
    expect(fs.existsSync(path.join(home, ".cache", "powershell"))).toBe(false);
  });
});

describe("a pwsh that crashes at start", () => {
  it("fails with RDS_HOST_UNREACHABLE naming the corrupt startup profile as the known cause, and the file to delete", async () => {
    const bin = tempDir("rds-startup-crash-bin");
    const crashing = path.join(bin, "pwsh");
    fs.writeFileSync(crashing, "#!/bin/sh\nkill -SEGV $$\n", { mode: 0o755 });
    process.env.RDS_PWSH = crashing;
    try {
      const err = await rdsErrorOf(
        runOperation(sim("crash-host", stateDir), { name: "test.echo", script: fixture("Echo"), args: {}, result: z.unknown() }),
      );
      expect(err.code).toBe(ErrorCode.HostUnreachable);
      expect(err.message).toMatch(
        /^starting pwsh for crash-host: pwsh exited while starting \(signal SIGSEGV\); pwsh crashed \(SIGSEGV\) before it answered; /,
      );
      expect(err.message).toContain(
        "delete StartupProfileData-NonInteractive and StartupProfileData-SSHServerMode from its PowerShell cache folder",
      );
    } finally {
      process.env.RDS_PWSH = saved.RDS_PWSH;
      if (saved.RDS_PWSH === undefined) delete process.env.RDS_PWSH;
    }
  });
});
