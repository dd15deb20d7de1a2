/**
 * The cache folder of the pwsh processes the provider starts on Linux and macOS (`XDG_CACHE_HOME`),
 * a folder in which pwsh's startup profiles cannot be written.
 *
 * Why: pwsh keeps a .NET multicore-JIT profile per start mode in its cache folder
 * (`$XDG_CACHE_HOME/powershell`, by default `~/.cache/powershell`: `StartupProfileData-NonInteractive`,
 * `-Interactive`, `-SSHServerMode`), reads it at every start and rewrites it, in place, at every exit.
 * pwsh processes of one account that exit together can leave it corrupt, and every later pwsh of that
 * account then dies at start (SIGSEGV or SIGABRT) until someone deletes the file
 * (PowerShell/PowerShell#26528 and dotnet/runtime#121977, both open). The pool starts and closes
 * several pwsh at once (the simulator's workers, a session per target), so with the default folder it
 * would race on the user's own profile and could break every pwsh of that account, theirs included.
 *
 * So its pwsh use `~/.pulumi-rds-licensing/pwsh-cache`, whose profile paths are empty read-only
 * folders: pwsh starts without a profile and never writes one (the profile only shortens start-up on
 * idle cores by compiling ahead on another one; measured here, a start without it costs the same CPU
 * time). The rest of pwsh's cache (the module analysis cache) lives there and is kept between runs,
 * like the journal beside it.
 *
 * Windows: pwsh's cache folder is under `%LOCALAPPDATA%`, which holds far more than PowerShell's and
 * is not moved; the crash's error names the file to delete (startupCrash.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { userDataDir } from "../../paths";

/** pwsh's start modes, each with its own profile file (ConsoleHost: StartProfileOptimization). */
export const STARTUP_PROFILE_MODES = ["NonInteractive", "Interactive", "SSHServerMode"] as const;

/** The profile file of a start mode in a pwsh cache folder (`$XDG_CACHE_HOME/powershell`). */
export function startupProfilePath(powershellCacheDir: string, mode: (typeof STARTUP_PROFILE_MODES)[number]): string {
  return path.join(powershellCacheDir, `StartupProfileData-${mode}`);
}

/**
 * The `XDG_CACHE_HOME` for the provider's pwsh, made ready: every profile path a folder (a file found
 * there, perhaps corrupt, is removed). `undefined` when it cannot be made (a read-only home): pwsh
 * then keeps its default folder, as without this. `home`: `$HOME`, which pwsh itself reads for its default.
 */
export function pwshCacheHome(home: string = process.env.HOME ?? os.homedir()): string | undefined {
  const cacheHome = path.join(userDataDir(home), "pwsh-cache");
  const powershellCacheDir = path.join(cacheHome, "powershell");
  try {
    // Made before the read-only folders in it, with the default mode: pwsh writes its other caches here.
    fs.mkdirSync(powershellCacheDir, { recursive: true });
    for (const mode of STARTUP_PROFILE_MODES) {
      const profile = startupProfilePath(powershellCacheDir, mode);
      if (fs.lstatSync(profile, { throwIfNoEntry: false })?.isDirectory()) continue;
      fs.rmSync(profile, { force: true });
      try {
        fs.mkdirSync(profile, { mode: 0o555 });
      } catch (error) {
        // Another provider process made it first: the same folder.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !fs.lstatSync(profile).isDirectory()) throw error;
      }
    }
    return cacheHome;
  } catch {
    return undefined;
  }
}

/** What a pwsh the provider starts gets in its environment for this: `XDG_CACHE_HOME`, off Windows, when it could be made. */
export function pwshCacheEnvironment(): { XDG_CACHE_HOME?: string } {
  const cacheHome = process.platform === "win32" ? undefined : pwshCacheHome();
  return cacheHome === undefined ? {} : { XDG_CACHE_HOME: cacheHome };
}
