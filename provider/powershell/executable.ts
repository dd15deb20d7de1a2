/**
 * Finding pwsh, in this order (the first executable file wins):
 *  1. `$RDS_PWSH` when set (and nothing else: a wrong RDS_PWSH is an error, not a fallback);
 *  2. `pwsh` on PATH;
 *  3. `~/.dotnet/tools/pwsh` (where `dotnet tool install --global PowerShell` puts it);
 *  4. the project-local tool folder `.tools/pwsh/` (localPwsh.ts) under this package's root: where
 *     `npm run demo` and `npm test` install PowerShell on a machine without it (the package root is the
 *     repository for them, whatever folder a test or the provider host runs in);
 *  5. the same folder under the process's working directory: the Pulumi program's folder (the engine
 *     starts the program and the provider host there), so a program can carry its own PowerShell.
 * The global places come first: a PowerShell the admin installed is the one they expect to run.
 * Looked up each time a pwsh starts, so a changed environment is honoured without restarting Node.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../paths";
import { LOCAL_PWSH_DIR, PWSH_VERSION, localPwshExecutable } from "./localPwsh";

/** How to get PowerShell 7, quoted in every "pwsh not found" error. */
export const PWSH_INSTALL_HINT =
  `install PowerShell 7 with \`dotnet tool install --global PowerShell --version ${PWSH_VERSION}\` and put ~/.dotnet/tools on PATH, ` +
  `or with no global change into the program's folder: \`dotnet tool install PowerShell --version ${PWSH_VERSION} --tool-path ${LOCAL_PWSH_DIR}\` ` +
  "(or set RDS_PWSH to the pwsh executable)";

/**
 * The outcome of a lookup. `unavailable`: the shell cannot exist on this machine (Windows PowerShell
 * off Windows); the pool reports RDS_TRANSPORT_UNAVAILABLE instead of an install hint.
 */
export type PwshLookup = { found: true; path: string } | { found: false; reason: string; unavailable?: boolean };

function isExecutableFile(candidate: string): boolean {
  try {
    const stat = fs.statSync(candidate);
    if (!stat.isFile()) return false;
    if (process.platform === "win32") return true;
    fs.accessSync(candidate, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The roots whose `.tools/pwsh/` the lookup tries (steps 4 and 5 above), without duplicates. */
export function localPwshRoots(): string[] {
  return [...new Set([packageRoot(), process.cwd()])];
}

/** Locates pwsh without starting it. `localRoots`: where to look for the project-local folder. */
export function findPwsh(env: NodeJS.ProcessEnv = process.env, localRoots: readonly string[] = localPwshRoots()): PwshLookup {
  const exe = process.platform === "win32" ? "pwsh.exe" : "pwsh";
  const configured = env.RDS_PWSH;
  if (configured !== undefined && configured.length > 0) {
    const resolved = path.resolve(configured);
    if (isExecutableFile(resolved)) return { found: true, path: resolved };
    return { found: false, reason: `RDS_PWSH is set to ${configured}, which is not an executable file` };
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir.length === 0) continue;
    const candidate = path.join(dir, exe);
    if (isExecutableFile(candidate)) return { found: true, path: candidate };
  }
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
  const dotnetTool = path.join(home, ".dotnet", "tools", exe);
  if (isExecutableFile(dotnetTool)) return { found: true, path: dotnetTool };
  const local = localRoots.map((root) => localPwshExecutable(root));
  const found = local.find(isExecutableFile);
  if (found !== undefined) return { found: true, path: found };
  return {
    found: false,
    reason: `pwsh was not found on PATH nor at ${dotnetTool} nor in the project-local tool folder ${LOCAL_PWSH_DIR} (${local.join(" or ")})`,
  };
}

/** Locates Windows PowerShell 5.1 (`powershell.exe`; Windows only) for `local` connections with `shell: "powershell"`. */
export function findWindowsPowerShell(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): PwshLookup {
  if (platform !== "win32") {
    return {
      found: false,
      unavailable: true,
      reason: 'Windows PowerShell (powershell.exe) exists only on Windows: use shell "pwsh" (PowerShell 7) on this machine',
    };
  }
  const systemRoot = env.SystemRoot ?? env.SYSTEMROOT ?? "C:\\Windows";
  const candidate = path.win32.join(systemRoot, "System32", "WindowsPowerShell", "v1.0", "powershell.exe");
  if (isExecutableFile(candidate)) return { found: true, path: candidate };
  return { found: false, reason: `Windows PowerShell was not found at ${candidate}` };
}
