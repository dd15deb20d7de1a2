/**
 * The project-local PowerShell: PowerShell 7 installed as a .NET tool into `<project>/.tools/pwsh/`
 * (`dotnet tool install PowerShell --version 7.6.9 --tool-path <project>/.tools/pwsh`). Nothing global
 * changes: no ~/.dotnet/tools entry, no PATH edit, no profile; deleting the folder undoes it.
 *
 * `npm run demo` installs it there when pwsh is found nowhere and `dotnet` is on PATH, and `npm test`'s
 * preparation (test/prepare.sh, which reads the folder and the version from this file) does the same;
 * the runner's lookup (executable.ts) then finds it. A Pulumi program can have its own: the lookup also
 * looks in the folder the program runs from.
 *
 * The version is named exactly: a .NET tool install without `--version` takes the newest PowerShell,
 * which may need a newer .NET runtime than the machine's SDK.
 */
import * as path from "path";

/** The PowerShell release the project installs (demo, npm test, CI). */
export const PWSH_VERSION = "7.6.9";

/** The tool folder, relative to a project root (gitignored). */
export const LOCAL_PWSH_DIR = ".tools/pwsh";

/** The tool folder under a project root. */
export function localPwshFolder(root: string): string {
  return path.join(root, ...LOCAL_PWSH_DIR.split("/"));
}

/** The pwsh executable `dotnet tool install --tool-path` puts in the tool folder. */
export function localPwshExecutable(root: string, platform: NodeJS.Platform = process.platform): string {
  return path.join(localPwshFolder(root), platform === "win32" ? "pwsh.exe" : "pwsh");
}

/** The arguments of `dotnet` that install it under a project root. */
export function localPwshInstallArgs(root: string): string[] {
  return ["tool", "install", "PowerShell", "--version", PWSH_VERSION, "--tool-path", localPwshFolder(root)];
}
